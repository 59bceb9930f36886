// The version of the daemon, as `indelibled --version` prints it and backup
// manifests record it.
#ifndef INDELIBLE_DAEMON_VERSION_H_
#define INDELIBLE_DAEMON_VERSION_H_

namespace indelible {

inline constexpr char kIndelibleVersion[] = "0.1.0";

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_VERSION_H_
