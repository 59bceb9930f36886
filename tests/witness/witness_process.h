// One real indelible-witness process for end-to-end tests, started with
// --config and --port-file (127.0.0.1 port 0 in the config); waits on its
// port files, never on fixed sleeps.
#ifndef INDELIBLE_TESTS_WITNESS_WITNESS_PROCESS_H_
#define INDELIBLE_TESTS_WITNESS_WITNESS_PROCESS_H_

#include <sys/types.h>

#include <string>

#include "gtest/gtest.h"

namespace indelible::witness::testing {

class WitnessProcess {
 public:
  // The config's metrics_listen must be set: Start waits for both ports.
  WitnessProcess(std::string config, std::string port_file, std::string log)
      : config_(std::move(config)), port_file_(std::move(port_file)), log_(std::move(log)) {}
  ~WitnessProcess() { Kill(); }

  // Starts the process and waits (at most 30 s) for its port files.
  ::testing::AssertionResult Start();
  // SIGTERM; the exit code (-1 if killed by a signal).
  int Stop();
  void Kill();
  int Wait();
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  std::string Log() const;

 private:
  const std::string config_, port_file_, log_;
  pid_t pid_ = -1;
  int port_ = 0, metrics_port_ = 0;
};

}  // namespace indelible::witness::testing

#endif  // INDELIBLE_TESTS_WITNESS_WITNESS_PROCESS_H_
