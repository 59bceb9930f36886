#include "daemon/security/redaction.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/key_file.h"
#include "verifier/chain/text.h"

namespace indelible {
namespace {

using chain::ToAbsl;

constexpr size_t kMaxPseudonymKeyBytes = 4096;
constexpr size_t kPseudonymBytes = 16;
constexpr std::string_view kPseudonymTag{"indelible/v1/pseudonym\0", 23};
constexpr std::string_view kMetadataPrefix = "metadata.";

enum class Field : uint8_t {
  kActorId,
  kActorType,
  kActorIp,
  kResourceType,
  kResourceId,
  kReason,
  kSource,
  kOutcome,
  kMetadata,
};

struct FieldName {
  std::string_view name;
  Field field;
};

constexpr FieldName kFields[] = {
    {"actor.id", Field::kActorId},           {"actor.type", Field::kActorType},
    {"actor.ip", Field::kActorIp},           {"resource.type", Field::kResourceType},
    {"resource.id", Field::kResourceId},     {"reason", Field::kReason},
    {"source", Field::kSource},              {"outcome", Field::kOutcome},
};

// Fields a rule may never address.
constexpr std::string_view kFixedFields[] = {"tenant", "event_id", "action",
                                             "occurred_at_ns", "category"};

bool ParseField(std::string_view name, Field* field, std::string* metadata_key) {
  if (name.starts_with(kMetadataPrefix)) {
    *field = Field::kMetadata;
    metadata_key->assign(name.substr(kMetadataPrefix.size()));
    return true;
  }
  for (const FieldName& f : kFields) {
    if (f.name == name) {
      *field = f.field;
      return true;
    }
  }
  return false;
}

std::string* FieldOf(chain::EventFields* e, Field f) {
  switch (f) {
    case Field::kActorId: return &e->actor_id;
    case Field::kActorType: return &e->actor_type;
    case Field::kActorIp: return &e->actor_ip;
    case Field::kResourceType: return &e->resource_type;
    case Field::kResourceId: return &e->resource_id;
    case Field::kReason: return &e->reason;
    case Field::kSource: return &e->source;
    case Field::kOutcome: return &e->outcome;
    case Field::kMetadata: break;
  }
  std::abort();
}

constexpr size_t kDropSlot = 0;
constexpr size_t kMaskSlot = 1;
constexpr size_t kPseudonymSlot = 2;
constexpr size_t kSecretSlot = 3;

}  // namespace

absl::StatusOr<RuleAction> ParseRuleAction(std::string_view name) {
  if (name == "drop") return RuleAction::kDrop;
  if (name == "mask") return RuleAction::kMask;
  if (name == "pseudonymize") return RuleAction::kPseudonymize;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown action \"", ToAbsl(name), "\" (want drop, mask or pseudonymize)"));
}

std::string_view RuleActionName(RuleAction action) {
  switch (action) {
    case RuleAction::kDrop: return "drop";
    case RuleAction::kMask: return "mask";
    case RuleAction::kPseudonymize: return "pseudonymize";
  }
  return "?";
}

absl::Status ValidateFieldRule(const FieldRule& rule) {
  if (rule.field.empty()) return absl::InvalidArgumentError("field: required");
  for (std::string_view fixed : kFixedFields) {
    if (rule.field == fixed) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field: ", ToAbsl(fixed),
          " cannot be rewritten by ingest rules (it identifies the record, "
          "keeps retries idempotent or selects its retention)"));
    }
  }
  Field field;
  std::string key;
  if (!ParseField(rule.field, &field, &key)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field: unknown field \"", rule.field,
        "\" (want actor.id, actor.type, actor.ip, resource.type, resource.id, "
        "reason, source, outcome or metadata.<key>)"));
  }
  if (field == Field::kMetadata && key.empty()) {
    return absl::InvalidArgumentError("field: metadata.<key> needs a key");
  }
  if (field == Field::kActorId && rule.action == RuleAction::kDrop) {
    return absl::InvalidArgumentError(
        "action: actor.id is required and cannot be dropped (mask or "
        "pseudonymize it)");
  }
  if (rule.keep_last != 0 && rule.action != RuleAction::kMask) {
    return absl::InvalidArgumentError("keep_last: only for action mask");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadPseudonymKeyFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("pseudonym key file ", path, ": ", std::strerror(errno)));
  }
  struct stat st;
  absl::Status status;
  if (fstat(fd, &st) != 0) {
    status = absl::FailedPreconditionError(
        absl::StrCat("pseudonym key file ", path, ": ", std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    status = absl::FailedPreconditionError(
        absl::StrCat("pseudonym key file ", path, ": not a regular file"));
  } else if (const std::string problem =
                 chain::SecretModeProblem(st.st_uid, st.st_gid, st.st_mode);
             !problem.empty()) {
    status = absl::FailedPreconditionError(absl::StrFormat(
        "pseudonym key file %s has mode %04o: %s (chmod 600 %s)", path,
        st.st_mode & 07777, problem, path));
  } else if (static_cast<size_t>(st.st_size) < kMinPseudonymKeyBytes ||
             static_cast<size_t>(st.st_size) > kMaxPseudonymKeyBytes) {
    status = absl::FailedPreconditionError(absl::StrFormat(
        "pseudonym key file %s holds %d bytes: want %d to %d random bytes "
        "(openssl rand -out %s 32)",
        path, st.st_size, kMinPseudonymKeyBytes, kMaxPseudonymKeyBytes, path));
  }
  std::string key;
  if (status.ok()) {
    key.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < key.size()) {
      const ssize_t n = read(fd, key.data() + got, key.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got != key.size()) {
      OPENSSL_cleanse(key.data(), key.size());
      status = absl::FailedPreconditionError(
          absl::StrCat("pseudonym key file ", path, ": short read"));
    }
  }
  close(fd);
  if (!status.ok()) return status;
  return key;
}

struct PseudonymKey::Ctx {
  EVP_MAC_CTX* keyed = nullptr;  // initialised with the key; only duplicated
};

PseudonymKey::PseudonymKey(std::string_view key) : ctx_(new Ctx) {
  // Fetched once: an implicit fetch per call costs more than the MAC.
  static EVP_MAC* const mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (m == nullptr) std::abort();  // OpenSSL without HMAC: unusable.
    return m;
  }();
  ctx_->keyed = EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  if (ctx_->keyed == nullptr ||
      EVP_MAC_init(ctx_->keyed, reinterpret_cast<const unsigned char*>(key.data()),
                   key.size(), params) != 1) {
    std::abort();
  }
}

PseudonymKey::~PseudonymKey() {
  EVP_MAC_CTX_free(ctx_->keyed);
  delete ctx_;
}

std::string PseudonymKey::Pseudonym(std::string_view tenant,
                                    std::string_view value) const {
  EVP_MAC_CTX* c = EVP_MAC_CTX_dup(ctx_->keyed);
  if (c == nullptr) std::abort();
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  const auto update = [c](std::string_view s) {
    if (EVP_MAC_update(c, reinterpret_cast<const unsigned char*>(s.data()),
                       s.size()) != 1) {
      std::abort();
    }
  };
  update(kPseudonymTag);
  update(tenant);
  update(std::string_view("\0", 1));
  update(value);
  if (EVP_MAC_final(c, out, &len, sizeof(out)) != 1 || len != chain::kDigestSize) {
    std::abort();
  }
  EVP_MAC_CTX_free(c);
  return absl::StrCat(
      "hmac:", chain::ToHex({reinterpret_cast<const char*>(out), kPseudonymBytes}));
}

std::string MaskKeepLast(std::string_view value, size_t keep_last) {
  size_t code_points = 0;
  for (char c : value) code_points += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  const size_t keep = keep_last >= code_points ? 0 : keep_last;
  // Byte offset where the last `keep` code points start.
  size_t start = value.size();
  for (size_t kept = 0; kept < keep;) {
    --start;
    kept += (static_cast<unsigned char>(value[start]) & 0xc0) != 0x80;
  }
  std::string out(code_points - keep, '*');
  out.append(value.substr(start));
  return out;
}

struct IngestRules::Compiled {
  struct Rule {
    Field field;
    std::string metadata_key;
    RuleAction action;
    uint32_t keep_last;
  };
  bool detect_secrets = true;
  const PseudonymKey* key = nullptr;
  std::vector<Rule> rules;
  uint32_t fields_with_rule = 0;  // bit per Field
  std::vector<std::string> metadata_with_rule;

  bool HasRule(Field f) const {
    return (fields_with_rule & (1u << static_cast<unsigned>(f))) != 0;
  }
};

IngestRules::~IngestRules() = default;

absl::StatusOr<std::unique_ptr<IngestRules>> IngestRules::Create(
    const IngestRulesConfig& config) {
  std::unique_ptr<IngestRules> r(new IngestRules());
  std::map<std::string, const PseudonymKey*> by_path;
  const TenantRulesConfig& d = config.defaults;

  auto compile = [&](const TenantRulesConfig& t, const std::string& section)
      -> absl::StatusOr<std::unique_ptr<Compiled>> {
    auto c = std::make_unique<Compiled>();
    c->detect_secrets = t.detect_secrets.value_or(d.detect_secrets.value_or(true));
    const std::optional<std::string>& key_file =
        t.pseudonym_key_file ? t.pseudonym_key_file : d.pseudonym_key_file;
    if (key_file) {
      auto it = by_path.find(*key_file);
      if (it == by_path.end()) {
        auto bytes = ReadPseudonymKeyFile(*key_file);
        if (!bytes.ok()) return bytes.status();
        r->keys_.push_back(std::make_unique<PseudonymKey>(*bytes));
        OPENSSL_cleanse(bytes->data(), bytes->size());
        it = by_path.emplace(*key_file, r->keys_.back().get()).first;
      }
      c->key = it->second;
    }
    const std::vector<FieldRule> none;
    const std::vector<FieldRule>& rules = t.rules ? *t.rules : d.rules ? *d.rules : none;
    for (size_t i = 0; i < rules.size(); ++i) {
      const FieldRule& fr = rules[i];
      const std::string where = absl::StrCat(section, ".rules[", i, "]: ");
      if (auto s = ValidateFieldRule(fr); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where, s.message()));
      }
      Compiled::Rule rule{Field::kMetadata, "", fr.action, fr.keep_last};
      ParseField(fr.field, &rule.field, &rule.metadata_key);
      if (rule.action == RuleAction::kPseudonymize && c->key == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, "pseudonymize needs pseudonym_key_file (in ", section,
            " or ingest_rules.default)"));
      }
      const bool seen =
          rule.field == Field::kMetadata
              ? absl::c_linear_search(c->metadata_with_rule, rule.metadata_key)
              : c->HasRule(rule.field);
      if (seen) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "field: ", fr.field, " already has a rule"));
      }
      if (rule.field == Field::kMetadata) {
        c->metadata_with_rule.push_back(rule.metadata_key);
      } else {
        c->fields_with_rule |= 1u << static_cast<unsigned>(rule.field);
      }
      c->rules.push_back(std::move(rule));
    }
    return c;
  };

  auto def = compile(d, "ingest_rules.default");
  if (!def.ok()) return def.status();
  r->default_ = *std::move(def);
  for (const auto& [tenant, t] : config.tenants) {
    auto c = compile(t, "ingest_rules.tenants." + tenant);
    if (!c.ok()) return c.status();
    r->tenants_.emplace(tenant, *std::move(c));
  }
  return r;
}

const IngestRules::Compiled& IngestRules::For(std::string_view tenant) const {
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? *default_ : *it->second;
}

std::string_view IngestRules::CounterName(size_t slot) {
  if (slot < kSecretSlot) return RuleActionName(static_cast<RuleAction>(slot));
  return SecretKindName(static_cast<SecretKind>(slot - kSecretSlot));
}

void IngestRules::Apply(chain::EventFields* e) const {
  const Compiled& c = For(e->tenant);
  std::array<uint32_t, kCounters> n{};
  const auto rewrite = [&](const Compiled::Rule& rule, std::string* v) {
    if (v->empty()) return;
    switch (rule.action) {
      case RuleAction::kDrop:
        v->clear();
        ++n[kDropSlot];
        break;
      case RuleAction::kMask:
        *v = MaskKeepLast(*v, rule.keep_last);
        ++n[kMaskSlot];
        break;
      case RuleAction::kPseudonymize:
        *v = c.key->Pseudonym(e->tenant, *v);
        ++n[kPseudonymSlot];
        break;
    }
  };
  for (const Compiled::Rule& rule : c.rules) {
    if (rule.field != Field::kMetadata) {
      rewrite(rule, FieldOf(e, rule.field));
      continue;
    }
    auto& md = e->metadata;
    for (auto it = md.begin(); it != md.end();) {
      if (it->first != rule.metadata_key) {
        ++it;
      } else if (rule.action == RuleAction::kDrop) {
        it = md.erase(it);
        ++n[kDropSlot];
      } else {
        rewrite(rule, &it->second);
        ++it;
      }
    }
  }
  if (c.detect_secrets) {
    SecretCounts found{};
    // Not scanned: tenant, event_id, category (restricted character sets or
    // never rewritten) and actor.ip (a validated address).
    static constexpr Field kScanned[] = {Field::kActorId,      Field::kActorType,
                                         Field::kResourceType, Field::kResourceId,
                                         Field::kReason,       Field::kSource,
                                         Field::kOutcome};
    for (Field f : kScanned) {
      if (!c.HasRule(f)) RedactSecrets(FieldOf(e, f), &found);
    }
    RedactSecrets(&e->action, &found);
    for (auto& [k, v] : e->metadata) {
      if (c.metadata_with_rule.empty() ||
          !absl::c_linear_search(c.metadata_with_rule, k)) {
        RedactSecrets(&v, &found);
      }
    }
    for (size_t i = 0; i < kSecretKinds; ++i) n[kSecretSlot + i] = found[i];
  }
  for (size_t i = 0; i < kCounters; ++i) {
    if (n[i] != 0) counts_[i].fetch_add(n[i], std::memory_order_relaxed);
  }
}

}  // namespace indelible
