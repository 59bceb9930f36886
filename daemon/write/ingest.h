// Ingest: turns an Event from the wire into a PreparedEvent for the
// sequencer: validation, normalisation, canonical bytes, salt, body digest.
// Runs on RPC threads, so the sequencer's threads only link and write.
//
// Validation errors are InvalidArgument with a message that starts with the
// offending field's path, e.g. "events[2].actor.id: required".
//
// Normalisation (documented in docs/API.md): occurred_at_ns = 0 becomes
// the daemon's receive time; an empty category becomes "access".
//
// The tenant's ingest rules (redaction.h) run after validation and before
// the canonical bytes are built: limits apply to the input, and the size of
// the whole event once more to what is stored.
//
// Thread-safe: pure functions of their arguments.
#ifndef INDELIBLE_DAEMON_WRITE_INGEST_H_
#define INDELIBLE_DAEMON_WRITE_INGEST_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "daemon/security/redaction.h"
#include "daemon/write/sequencer.h"
#include "indelible/v1/indelible.pb.h"
#include "verifier/chain/event.h"
#include "verifier/chain/hash.h"

namespace indelible {

// Size limits in bytes of UTF-8. Defaults are documented in docs/API.md
// and settable under `limits:` in the config file.
struct IngestLimits {
  size_t max_event_bytes = 64 * 1024;  // whole canonical event
  size_t max_event_id_bytes = 128;
  size_t max_actor_id_bytes = 256;
  size_t max_short_field_bytes = 128;  // actor.type, action, outcome, ...
  size_t max_resource_id_bytes = 1024;
  size_t max_reason_bytes = 4096;
  size_t max_metadata_entries = 64;
  size_t max_metadata_key_bytes = 128;
  size_t max_metadata_value_bytes = 4096;
  size_t max_batch_events = 1000;  // per AppendBatch request
  // occurred_at may lie at most this far ahead of the daemon's clock.
  uint64_t max_future_skew_ns = 24ull * 3600 * 1000000000;
};

using SaltSource = std::function<absl::Status(chain::Salt*)>;

// Validates `event`, normalises it, applies `rules` (if not null) and fills
// *out. `path` names the event in error messages ("event", "events[3]").
absl::Status PrepareEvent(const v1::Event& event, const IngestLimits& limits,
                          uint64_t now_ns, const SaltSource& salt_source,
                          std::string_view path, PreparedEvent* out,
                          const IngestRules* rules = nullptr);

// The same for an event already in fields (wire/event_mapper.h maps one
// from the wire): the daemon's own records are built so. Error messages
// name the fields by their wire paths.
absl::Status PrepareFields(chain::EventFields fields, const IngestLimits& limits,
                           uint64_t now_ns, const SaltSource& salt_source,
                           std::string_view path, PreparedEvent* out,
                           const IngestRules* rules = nullptr);

// Exposed for tests.
bool IsValidUtf8(std::string_view s);

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_WRITE_INGEST_H_
