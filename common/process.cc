#include "common/process.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace indelible::process {
namespace {

int g_signal_pipe[2] = {-1, -1};

void OnTerminationSignal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &b, 1);
}

}  // namespace

void SetUpLogging(const std::string& name, const std::string& level) {
  auto logger = spdlog::stderr_logger_mt(name);
  logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%fZ level=%l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

absl::Status InstallSignalHandlers(std::initializer_list<int> signals) {
  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError("cannot create signal pipe");
  }
  struct sigaction sa = {};
  sa.sa_handler = OnTerminationSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : signals) {
    if (sigaction(sig, &sa, nullptr) != 0) {
      return absl::InternalError("cannot install signal handlers");
    }
  }
  return absl::OkStatus();
}

int WaitForSignal() {
  unsigned char b = 0;
  while (read(g_signal_pipe[0], &b, 1) != 1) {
    if (errno != EINTR) std::abort();
  }
  return b;
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) return absl::InternalError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError("cannot rename " + tmp + ": " + ec.message());
  return absl::OkStatus();
}

}  // namespace indelible::process
