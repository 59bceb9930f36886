// The wire form of a sequencer Receipt, for every service that answers with
// one (appends, the append stream, admin actions).
#ifndef INDELIBLE_DAEMON_API_RECEIPT_PROTO_H_
#define INDELIBLE_DAEMON_API_RECEIPT_PROTO_H_

#include <string>

#include "daemon/write/sequencer.h"
#include "indelible/v1/indelible.pb.h"
#include "verifier/chain/hash.h"

namespace indelible {

inline void ToProto(const Receipt& r, v1::Receipt* out) {
  out->set_tenant(r.tenant);
  out->set_seq(r.seq);
  out->set_received_at_ns(r.received_at_ns);
  out->set_entry_hash(std::string(chain::AsBytes(r.entry_hash)));
  out->set_duplicate(r.duplicate);
  if (r.seq > 0) out->set_leaf_index(r.seq - 1);
  out->set_body_digest(std::string(chain::AsBytes(r.body_digest)));
  out->set_prev_entry_hash(std::string(chain::AsBytes(r.prev_entry_hash)));
}

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_API_RECEIPT_PROTO_H_
