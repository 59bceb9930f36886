#include "tests/witness/witness_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "tests/e2e/harness.h"

extern char** environ;

namespace indelible::witness::testing {

using indelible::testing::BinPath;
using indelible::testing::ReadFile;

::testing::AssertionResult WitnessProcess::Start() {
  std::filesystem::remove(port_file_);
  std::filesystem::remove(port_file_ + ".metrics");
  const std::string bin = BinPath("indelible-witness");
  std::vector<std::string> argv = {bin, "--config", config_, "--port-file", port_file_};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  const int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return ::testing::AssertionFailure() << "cannot spawn " << bin;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return ::testing::AssertionFailure() << "exited during startup: " << ReadFile(log_);
    }
    const std::string p = ReadFile(port_file_), m = ReadFile(port_file_ + ".metrics");
    if (!p.empty() && p.back() == '\n' && !m.empty() && m.back() == '\n') {
      port_ = std::stoi(p);
      metrics_port_ = std::stoi(m);
      return ::testing::AssertionSuccess();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Kill();
  return ::testing::AssertionFailure() << "did not start: " << ReadFile(log_);
}

int WitnessProcess::Stop() {
  if (pid_ < 0) return -1;
  kill(pid_, SIGTERM);
  return Wait();
}

void WitnessProcess::Kill() {
  if (pid_ < 0) return;
  kill(pid_, SIGKILL);
  Wait();
}

int WitnessProcess::Wait() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string WitnessProcess::Log() const { return ReadFile(log_); }

}  // namespace indelible::witness::testing
