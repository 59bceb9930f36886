#include "daemon/governance/key_rotation.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/governance/daemon_records.h"
#include "spdlog/spdlog.h"
#include "verifier/chain/coding.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

bool SameKey(const chain::NoteVerifierKey& a, const chain::NoteVerifierKey& b) {
  return a.name == b.name && a.public_key == b.public_key;
}

// The keys a statement may rotate from: the new key of the newest cached
// statement; in a store without statements, every key of its history (one,
// unless it rotated before statements existed). `*count` is the number of
// cached statements.
absl::StatusOr<std::vector<chain::NoteVerifierKey>> CurrentKeys(Storage* storage,
                                                                uint64_t* count) {
  auto statements = storage->ScanMeta(kKeyRotationPrefix);
  if (!statements.ok()) return statements.status();
  *count = statements->size();
  if (!statements->empty()) {
    // Keys are u64 big-endian: the last row is the newest statement.
    auto r = chain::VerifyKeyRotation(statements->back().second);
    if (!r.ok()) {
      return absl::DataLossError(absl::StrCat("the store's newest key rotation statement: ",
                                              r.status().message()));
    }
    return std::vector<chain::NoteVerifierKey>{r->new_key};
  }
  auto rows = storage->ScanMeta(store::kSigningKeyPrefix);
  if (!rows.ok()) return rows.status();
  std::vector<chain::NoteVerifierKey> keys;
  for (const auto& [row, value] : *rows) {
    auto k = chain::ParseNoteVerifierKey(value);
    if (!k.ok()) {
      return absl::DataLossError(
          absl::StrCat("the store's key history: ", k.status().message()));
    }
    keys.push_back(*std::move(k));
  }
  return keys;
}

std::string Describe(const std::vector<chain::NoteVerifierKey>& keys) {
  std::vector<std::string> s;
  for (const auto& k : keys) s.push_back(chain::NoteVerifierKeyString(k));
  return absl::StrJoin(s, " or ");
}

chain::EventFields RotationEvent(const std::string& tenant, const chain::KeyRotation& r,
                                 const std::string& statement,
                                 const std::string& reason = "signing key rotation") {
  chain::EventFields e;
  e.tenant = tenant;
  e.actor_id = "operator";
  e.actor_type = "operator";
  e.action = kKeyRotateAction;
  e.category = kKeyCategory;
  e.source = "indelibled";
  e.resource_type = "signing_key";
  e.resource_id = chain::NoteVerifierKeyString(r.new_key);
  e.reason = reason;
  e.outcome = "applied";
  e.metadata = {{"new_key", chain::NoteVerifierKeyString(r.new_key)},
                {"old_key", chain::NoteVerifierKeyString(r.old_key)},
                {"statement", statement}};
  return e;
}

}  // namespace

absl::Status ApplyKeyRotation(const KeyRotationInputs& in) {
  uint64_t count = 0;
  auto current = CurrentKeys(in.storage, &count);
  if (!current.ok()) return current.status();
  const std::string mine = chain::NoteVerifierKeyString(in.key);
  const bool known = std::any_of(current->begin(), current->end(), [&](const auto& k) {
    return SameKey(k, in.key);
  });
  if (current->empty() || known) {
    if (!in.statement_file.empty()) {
      spdlog::info("event=key_rotation_statement_unused file={} message=\"the signing key "
                   "is already the store's current key\"", in.statement_file);
    }
    return absl::OkStatus();
  }
  const std::string how = absl::StrCat(
      "make one where the old key is kept (indelible rotation-statement --old-key OLD.pem "
      "--new-key NEW.pem --log-name ", in.log_name,
      ") and set key_rotation_statement_file to it (docs/OPERATIONS.md, 'Rotate the "
      "signing key')");
  if (in.statement_file.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signing key ", mine, " is not the store's current key ", Describe(*current),
        ": a key rotation statement signed by the current key is required; ", how));
  }
  std::ifstream f(in.statement_file, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key_rotation_statement_file: cannot read ", in.statement_file));
  }
  const std::string statement = ss.str();
  auto bad = [&](absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat(
        "key_rotation_statement_file ", in.statement_file, ": ", why, "; ", how));
  };
  auto r = chain::VerifyKeyRotation(statement);
  if (!r.ok()) return bad(r.status().message());
  if (!SameKey(r->new_key, in.key)) {
    return bad(absl::StrCat("it hands over to ", chain::NoteVerifierKeyString(r->new_key),
                            ", not to the configured signing key ", mine));
  }
  const bool from_current = std::any_of(current->begin(), current->end(), [&](const auto& k) {
    return SameKey(k, r->old_key);
  });
  if (!from_current) {
    return bad(absl::StrCat("it is signed by ", chain::NoteVerifierKeyString(r->old_key),
                            ", not by the store's current key ", Describe(*current)));
  }
  if (r->log_name != in.log_name) {
    return bad(absl::StrCat("it is for log ", r->log_name, ", this daemon is log_name ",
                            in.log_name));
  }
  // The records and the cached statement: one synced write.
  DaemonRecorder recorder(in.sequencer, in.storage, in.clock, in.limits);
  std::vector<chain::EventFields> events;
  for (const std::string& tenant : recorder.RecordableTenants(kKeyRotateAction)) {
    events.push_back(RotationEvent(tenant, *r, statement));
  }
  std::string row = kKeyRotationPrefix;
  chain::PutU64(&row, count + 1);
  Storage* storage = in.storage;
  auto receipts = recorder.Append(std::move(events), [storage, row, statement](
                                                         rocksdb::WriteBatch* b) {
    storage->PutMeta(b, row, statement);
  });
  if (!receipts.ok()) return receipts.status();
  spdlog::info("event=key_rotated old_key={} new_key={} tenants={}",
               chain::NoteVerifierKeyString(r->old_key), mine, receipts->size());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> CachedKeyRotations(Storage* storage) {
  auto rows = storage->ScanMeta(kKeyRotationPrefix);
  if (!rows.ok()) return rows.status();
  std::vector<std::string> statements;
  for (auto& [row, statement] : *rows) statements.push_back(std::move(statement));
  return statements;
}

std::function<absl::Status(const std::string& tenant)> KeyHistoryRecorder(
    const DaemonRecorder* recorder, std::vector<std::string> statements) {
  if (statements.empty()) return nullptr;
  return [recorder, statements = std::move(statements)](const std::string& tenant) {
    std::vector<chain::EventFields> events;
    for (const std::string& statement : statements) {
      auto r = chain::VerifyKeyRotation(statement);
      if (!r.ok()) {
        return absl::DataLossError(absl::StrCat("the store's key rotation statement: ",
                                                r.status().message()));
      }
      events.push_back(RotationEvent(tenant, *r, statement,
                                     "signing key history, before the tenant's first checkpoint"));
    }
    auto receipts = recorder->Append(std::move(events), nullptr);
    if (!receipts.ok()) return receipts.status();
    spdlog::info("event=key_history_recorded tenant={} statements={}", tenant,
                 receipts->size());
    return absl::OkStatus();
  };
}

}  // namespace indelible
