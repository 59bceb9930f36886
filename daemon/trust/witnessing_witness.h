// WitnessSender::Witness: one configured witness and its HTTP client, for
// the witnessing*.cc files (compiled with CPPHTTPLIB_OPENSSL_SUPPORT).
#ifndef INDELIBLE_DAEMON_TRUST_WITNESSING_WITNESS_H_
#define INDELIBLE_DAEMON_TRUST_WITNESSING_WITNESS_H_

#include <memory>

#include "daemon/governance/config.h"
#include "daemon/trust/witnessing.h"
#include "httplib.h"

namespace indelible {

struct WitnessSender::Witness {
  WitnessConfig config;
  WitnessUrl url;
  std::unique_ptr<httplib::Client> client;
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_TRUST_WITNESSING_WITNESS_H_
