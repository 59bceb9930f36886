// What the indelibled and indelible-witness processes set up the same way:
// logfmt logging, termination signals through a self-pipe, port files.
//
// Not thread-safe to set up: call SetUpLogging and InstallSignalHandlers
// once, from main, before starting other threads.
#ifndef INDELIBLE_COMMON_PROCESS_H_
#define INDELIBLE_COMMON_PROCESS_H_

#include <initializer_list>
#include <string>

#include "absl/status/status.h"

namespace indelible::process {

// Makes a stderr logger called `name` the default: logfmt, one event per
// line, key=value, UTC timestamps, at `level` (spdlog's names), flushed at
// info and above.
void SetUpLogging(const std::string& name, const std::string& level);

// Self-pipe: the handler may run on any thread (gRPC, RocksDB and httplib
// start their own), so it only writes the signal number to a pipe that the
// main thread reads in WaitForSignal; shutdown then runs in ordinary code.
// Handles each of `signals` that way.
absl::Status InstallSignalHandlers(std::initializer_list<int> signals);

// Blocks until one of the signals installed above arrives; returns its number.
// REQUIRES: InstallSignalHandlers succeeded.
int WaitForSignal();

// Writes `port` and a newline to `path` atomically (a temporary file, then
// a rename), so a reader never sees a partial number.
absl::Status WritePortFile(const std::string& path, int port);

}  // namespace indelible::process

#endif  // INDELIBLE_COMMON_PROCESS_H_
