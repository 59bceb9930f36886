// The version of Indelible, as `indelibled --version` prints it and backup
// manifests record it.
#ifndef INDELIBLE_COMMON_VERSION_H_
#define INDELIBLE_COMMON_VERSION_H_

namespace indelible {

inline constexpr char kIndelibleVersion[] = "0.1.0";

}  // namespace indelible

#endif  // INDELIBLE_COMMON_VERSION_H_
