// indelibled's main: flags and config file, logging, signals; then one
// Daemon (daemon.h) until SIGTERM/SIGINT, reloading on SIGHUP. main.cc only
// calls this.
//
// Exit codes: 0 after a clean shutdown; 1 when the daemon cannot run
// (data directory locked or damaged, port in use); 2 on a usage or
// configuration error.
#ifndef INDELIBLE_DAEMON_DAEMON_MAIN_H_
#define INDELIBLE_DAEMON_DAEMON_MAIN_H_

namespace indelible {

int DaemonMain(int argc, char** argv);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_DAEMON_MAIN_H_
