// Ingest rules: per-tenant redaction of an event's validated fields before
// its canonical bytes are built (docs/SECURITY.md, "Ingest rules").
//
// A rule drops a field or metadata entry, masks it (keeps the last N code
// points) or replaces it by an HMAC-SHA-256 pseudonym under the tenant's
// key. The built-in secret detectors (secret_scanner.h) then redact
// credentials in the fields no rule touched. tenant, event_id, action,
// occurred_at and category are never addressed by a rule: they identify the
// record, make retries idempotent and select its retention; of them only
// action is scanned by the detectors.
//
// Keys never appear in logs or errors: errors name the key file, not its
// contents.
#ifndef INDELIBLE_DAEMON_SECURITY_REDACTION_H_
#define INDELIBLE_DAEMON_SECURITY_REDACTION_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/security/secret_scanner.h"
#include "verifier/chain/event.h"

namespace indelible {

enum class RuleAction : uint8_t { kDrop, kMask, kPseudonymize };

// "drop", "mask", "pseudonymize"; InvalidArgument on anything else.
absl::StatusOr<RuleAction> ParseRuleAction(std::string_view name);
std::string_view RuleActionName(RuleAction action);

// One rule as configured.
struct FieldRule {
  // actor.id, actor.type, actor.ip, resource.type, resource.id, reason,
  // source, outcome, or metadata.<key>.
  std::string field;
  RuleAction action = RuleAction::kDrop;
  uint32_t keep_last = 0;  // kMask only
};

// Checks `rule` on its own: a known field, an action it allows (actor.id
// cannot be dropped: it is required), keep_last only with mask.
// InvalidArgument; the message names the problem, not the rule's position.
absl::Status ValidateFieldRule(const FieldRule& rule);

// One tenant's rules as configured. An unset member falls back to the
// `default` section; a tenant's `rules` list replaces the default list.
struct TenantRulesConfig {
  std::optional<bool> detect_secrets;           // default: true
  std::optional<std::string> pseudonym_key_file;
  std::optional<std::vector<FieldRule>> rules;
};

struct IngestRulesConfig {
  TenantRulesConfig defaults;
  std::map<std::string, TenantRulesConfig> tenants;
};

// Minimum size of a pseudonym key file, in bytes.
inline constexpr size_t kMinPseudonymKeyBytes = 32;

// Reads a pseudonym key: the file's bytes, all of them. FailedPrecondition
// naming the file if it is missing, not a regular file, accessible by group
// or others, shorter than kMinPseudonymKeyBytes or larger than 4 KiB.
absl::StatusOr<std::string> ReadPseudonymKeyFile(const std::string& path);

// HMAC-SHA-256 under one key. Thread-safe after construction.
class PseudonymKey {
 public:
  // REQUIRES: key.size() >= 1. Aborts if OpenSSL lacks HMAC-SHA-256.
  explicit PseudonymKey(std::string_view key);
  ~PseudonymKey();
  PseudonymKey(const PseudonymKey&) = delete;
  PseudonymKey& operator=(const PseudonymKey&) = delete;

  // "hmac:" + hex of the first 16 bytes of HMAC-SHA-256(key,
  // "indelible/v1/pseudonym" || 0x00 || tenant || 0x00 || value). The field
  // is not part of the input, so one value correlates across fields.
  std::string Pseudonym(std::string_view tenant, std::string_view value) const;

 private:
  struct Ctx;
  Ctx* ctx_;
};

// The first (n - keep_last) code points of `value` replaced by '*', where n
// is its length in code points; a value of at most keep_last code points is
// masked entirely, so a mask never passes a whole value through.
// REQUIRES: valid UTF-8 (ingest validated it).
std::string MaskKeepLast(std::string_view value, size_t keep_last);

// The compiled rules of every tenant. Thread-safe.
class IngestRules {
 public:
  // Counter slots: one per rule action, then one per secret kind.
  static constexpr size_t kCounters = 3 + kSecretKinds;

  // Loads the pseudonym keys the rules need. FailedPrecondition naming the
  // key file if one cannot be used (see ReadPseudonymKeyFile).
  static absl::StatusOr<std::unique_ptr<IngestRules>> Create(
      const IngestRulesConfig& config);
  ~IngestRules();

  // Applies the rules of fields->tenant. Empty values stay empty.
  void Apply(chain::EventFields* fields) const;

  // Values redacted since start, by slot; CounterName(slot) is the metric
  // label: "drop", "mask", "pseudonymize", then the secret kinds.
  uint64_t Count(size_t slot) const {
    return counts_[slot].load(std::memory_order_relaxed);
  }
  static std::string_view CounterName(size_t slot);

  // Tenants with a section of their own.
  size_t tenant_sections() const { return tenants_.size(); }

 private:
  struct Compiled;
  IngestRules() = default;
  const Compiled& For(std::string_view tenant) const;

  std::unique_ptr<Compiled> default_;
  std::map<std::string, std::unique_ptr<Compiled>, std::less<>> tenants_;
  std::vector<std::unique_ptr<PseudonymKey>> keys_;
  mutable std::array<std::atomic<uint64_t>, kCounters> counts_{};
};

}  // namespace indelible

#endif  // INDELIBLE_DAEMON_SECURITY_REDACTION_H_
