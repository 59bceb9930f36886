// What the `indelible` command prints as JSON (docs/CLI.md). Hashes are
// lower-case hex, salts and canonical event bytes standard base64, and 64-bit
// nanosecond times decimal strings (as in proto JSON: a double cannot hold
// them) next to an RFC 3339 rendering. An event is printed in the shape
// ParseEventJson reads, so `read --json | jq -c .event` can be appended again.
//
// Thread-safe: pure functions.
#ifndef INDELIBLE_CLIENT_CLI_OUTPUT_JSON_H_
#define INDELIBLE_CLIENT_CLI_OUTPUT_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"

#include "indelible/v1/indelible.pb.h"

namespace indelible::cli {

// {"tenant", "event_id", "occurred_at_ns", "actor": {"id", "type", "ip"},
//  "action", "resource": {"type", "id"}, "reason", "outcome", "source",
//  "category", "metadata": [{"key", "value"}]}; every field present.
nlohmann::ordered_json EventToJson(const indelible::v1::Event& event);

// {"tenant", "event_id", "seq", "received_at_ns", "received_at",
//  "entry_hash", "duplicate", "leaf_index", "body_digest", "prev_entry_hash",
//  "category"}. `event_id` is the one the receipt answers, `category` the
// one the event is stored with (client::StoredCategory): with the hashes it
// is what `verify-receipt` needs (ReceiptFromJson reads it back).
nlohmann::ordered_json ReceiptToJson(const indelible::v1::Receipt& receipt,
                                     const std::string& event_id,
                                     const std::string& category);

// The receipt and category of a ReceiptToJson object. InvalidArgument naming
// the field that is missing or malformed.
absl::Status ReceiptFromJson(const nlohmann::ordered_json& j,
                             indelible::v1::Receipt* receipt,
                             std::string* category);

// {"tenant", "seq", "received_at_ns", "received_at", "pruned", "salt",
//  "canonical_event", "body_digest", "entry_hash", "event"}; "event" is null
// for a pruned record.
nlohmann::ordered_json RecordToJson(const indelible::v1::Record& record);

// {"tenant", "seq", "head_hash", "received_at_ns", "received_at"};
// "received_at" is null while the tenant has no records.
nlohmann::ordered_json HeadToJson(const indelible::v1::GetHeadResponse& head);

// {"tenant", "seq", "head_hash", "timestamp_ns", "timestamp", "note"};
// "note" is the signed note exactly as served.
nlohmann::ordered_json CheckpointToJson(
    const indelible::v1::Checkpoint& checkpoint);

// {"key_name", "key_id_hex", "verifier_key", "public_key_pem"}.
nlohmann::ordered_json PublicKeyToJson(
    const indelible::v1::GetPublicKeyResponse& key);

// The receipt of a change the daemon recorded (admin commands): {"tenant",
//  "seq", "received_at_ns", "received_at", "entry_hash"}.
nlohmann::ordered_json AdminReceiptToJson(const indelible::v1::Receipt& r);

// {"tenant", "category", "retention", "previous_retention", "receipt"}; the
// first three as requested.
nlohmann::ordered_json RetentionChangeToJson(
    const std::string& tenant, const std::string& category,
    const std::string& retention,
    const indelible::v1::SetRetentionResponse& response);

// {"tenant", "legal_hold", "default_retention",
//  "entries": [{"category", "retention", "seconds"}]}.
nlohmann::ordered_json RetentionToJson(
    const std::string& tenant, const indelible::v1::GetRetentionResponse& r);

// {"tenant", "legal_hold", "receipt"}; legal_hold as it now is.
nlohmann::ordered_json LegalHoldChangeToJson(const std::string& tenant,
                                             bool hold,
                                             const indelible::v1::Receipt& r);

// {"tenant", "final_seq", "final_head_hash", "timestamp_ns", "timestamp",
//  "certificate_file"}.
nlohmann::ordered_json PurgeToJson(const std::string& tenant,
                                   const indelible::v1::PurgeTenantResponse& r,
                                   const std::string& certificate_file);

// {"bodies_dropped", "event_ids_dropped"}.
nlohmann::ordered_json CompactToJson(const indelible::v1::CompactResponse& r);

// {"path", "name", "created_at_ns", "created_at", "tenants": [{"tenant",
//  "seq", "head_hash", "received_at_ns", "checkpoint_seq"}], "files",
//  "size_bytes", "pruned": [names]}.
nlohmann::ordered_json BackupToJson(const indelible::v1::BackupResponse& r);

// One line of output: compact JSON, invalid UTF-8 replaced by U+FFFD.
std::string JsonLine(const nlohmann::ordered_json& j);

}  // namespace indelible::cli

#endif  // INDELIBLE_CLIENT_CLI_OUTPUT_JSON_H_
