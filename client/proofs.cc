#include "client/proofs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"

namespace indelible::client {
namespace {

constexpr char kStateHeader[] = "indelible trusted state v1";
constexpr char kStateHeaderV2[] = "indelible trusted state v2";
constexpr char kNoTrustedKeyPayload[] = "indelible.client/signed-by-no-trusted-key";

bool SameKey(const chain::NoteVerifierKey& a, const chain::NoteVerifierKey& b) {
  return a.name == b.name && a.public_key == b.public_key;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

// The checkpoint text of a signed note, its signature not checked.
absl::StatusOr<chain::CheckpointV2> ParseNoteText(std::string_view note) {
  absl::StatusOr<chain::SplitNoteResult> split = chain::SplitNote(note);
  if (!split.ok()) return split.status();
  return chain::ParseCheckpointV2Text(split->text);
}

absl::Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("write: ", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status SyncDir(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("open ", dir, ": ", std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return absl::InternalError(absl::StrCat("fsync ", dir, ": ", std::strerror(e)));
  return absl::OkStatus();
}

}  // namespace

std::string StoredCategory(const v1::Event& event) {
  return event.category().empty() ? "access" : event.category();
}

absl::StatusOr<TrustedState> TrustedState::Parse(std::string_view text) {
  TrustedState state;
  std::vector<std::string> lines = Split(text, '\n');
  if (lines.empty() || (lines.front() != kStateHeader && lines.front() != kStateHeaderV2)) {
    return absl::DataLossError(absl::StrCat("trusted state: line 1 is not \"", kStateHeader,
                                            "\" or \"", kStateHeaderV2, "\""));
  }
  const bool v2 = lines.front() == kStateHeaderV2;
  if (!text.empty() && text.back() == '\n') lines.pop_back();
  TrustedCheckpoint* last = nullptr;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto bad = [&](const std::string& why) {
      return absl::DataLossError(
          absl::StrCat("trusted state: line ", i + 1, ": ", why));
    };
    std::vector<std::string> words = Split(lines[i], ' ');
    if (words[0] == "key" && words.size() == 3 && v2 && state.tenants_.empty()) {
      LearnedKey k;
      absl::StatusOr<chain::NoteVerifierKey> key = chain::ParseNoteVerifierKey(words[1]);
      if (!key.ok()) return bad(absl::StrCat("key: ", key.status().message()));
      k.key = *std::move(key);
      if (!chain::Base64Decode(words[2], &k.statement)) return bad("key: bad base64");
      absl::StatusOr<chain::KeyRotation> r = chain::VerifyKeyRotation(k.statement);
      if (!r.ok()) return bad(std::string(r.status().message()));
      if (!SameKey(r->new_key, k.key)) {
        return bad(absl::StrCat("key: the statement's new key is ",
                                chain::NoteVerifierKeyString(r->new_key)));
      }
      state.AddLearnedKey(std::move(k));
    } else if (words[0] == "checkpoint" && words.size() == 2) {
      TrustedCheckpoint c;
      if (!chain::Base64Decode(words[1], &c.note)) return bad("bad base64");
      absl::StatusOr<chain::CheckpointV2> cp = ParseNoteText(c.note);
      if (!cp.ok()) return bad(std::string(cp.status().message()));
      c.checkpoint = *std::move(cp);
      if (state.Find(c.checkpoint.tenant) != nullptr) {
        return bad(absl::StrCat("a second checkpoint of tenant \"",
                                c.checkpoint.tenant, "\""));
      }
      const std::string tenant = c.checkpoint.tenant;
      state.tenants_[tenant] = std::move(c);
      last = &state.tenants_[tenant];
    } else if (words[0] == "frontier" && last != nullptr &&
               last->frontier.empty()) {
      std::vector<chain::Digest> hashes;
      for (size_t w = 1; w < words.size(); ++w) {
        std::string bytes;
        chain::Digest d;
        if (!chain::Base64Decode(words[w], &bytes) ||
            !chain::DigestFromBytes(bytes, &d)) {
          return bad("frontier: not a base64 32-byte hash");
        }
        hashes.push_back(d);
      }
      absl::StatusOr<chain::CompactRange> range = chain::CompactRange::FromHashes(
          last->checkpoint.size, hashes);
      if (!range.ok()) return bad(std::string(range.status().message()));
      if (range->Root() != last->checkpoint.root) {
        return bad("frontier does not fold to the checkpoint's root");
      }
      last->frontier = std::move(hashes);
    } else {
      return bad(v2 ? "expected \"key <verifier key> <base64>\" (before the "
                      "checkpoints), \"checkpoint <base64>\" or, once after one, "
                      "\"frontier <base64>...\""
                    : "expected \"checkpoint <base64>\" or, once after one, "
                      "\"frontier <base64>...\"");
    }
  }
  return state;
}

absl::StatusOr<TrustedState> TrustedState::Load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return TrustedState{};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  absl::StatusOr<TrustedState> s = Parse(buf.str());
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": ", s.status().message()));
  }
  return s;
}

std::string TrustedState::Serialize() const {
  std::string out = absl::StrCat(learned_.empty() ? kStateHeader : kStateHeaderV2, "\n");
  for (const LearnedKey& k : learned_) {
    absl::StrAppend(&out, "key ", chain::NoteVerifierKeyString(k.key), " ",
                    chain::Base64Encode(k.statement), "\n");
  }
  for (const auto& [tenant, c] : tenants_) {
    absl::StrAppend(&out, "checkpoint ", chain::Base64Encode(c.note), "\n");
    if (!c.frontier.empty()) {
      out += "frontier";
      for (const chain::Digest& d : c.frontier) {
        absl::StrAppend(&out, " ", chain::Base64Encode(chain::AsBytes(d)));
      }
      out += "\n";
    }
  }
  return out;
}

absl::Status TrustedState::Save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  absl::Status s = WriteAll(fd, Serialize());
  if (s.ok() && ::fsync(fd) != 0) {
    s = absl::InternalError(absl::StrCat("fsync ", tmp, ": ", std::strerror(errno)));
  }
  ::close(fd);
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    s = absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path,
                                         ": ", std::strerror(errno)));
  }
  if (!s.ok()) {
    std::remove(tmp.c_str());
    return s;
  }
  return SyncDir(path);
}

const TrustedCheckpoint* TrustedState::Find(std::string_view tenant) const {
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? nullptr : &it->second;
}

void TrustedState::Put(TrustedCheckpoint c) {
  const std::string tenant = c.checkpoint.tenant;
  tenants_[tenant] = std::move(c);
}

void TrustedState::AddLearnedKey(LearnedKey k) {
  for (const LearnedKey& have : learned_) {
    if (SameKey(have.key, k.key)) return;
  }
  learned_.push_back(std::move(k));
}

absl::Status CheckSignedByTrustedKey(std::string_view note,
                                     const std::vector<chain::NoteVerifierKey>& keys) {
  absl::StatusOr<chain::SplitNoteResult> split = chain::SplitNote(note);
  if (!split.ok()) return split.status();
  std::string names;
  for (const chain::NoteSignature& sig : split->signatures) {
    for (const chain::NoteVerifierKey& k : keys) {
      if (sig.name == k.name && sig.key_id == k.key_id) return absl::OkStatus();
    }
    absl::StrAppend(&names, names.empty() ? "" : ", ", std::string(sig.name), " (key id ",
                    absl::Hex(sig.key_id, absl::kZeroPad8), ")");
  }
  absl::Status s = absl::UnauthenticatedError(absl::StrCat(
      "signed by no trusted key: its signatures are by ", names,
      "; if the log rotated its key, give the rotation statement from a trusted key"));
  s.SetPayload(kNoTrustedKeyPayload, absl::Cord("1"));
  return s;
}

bool IsSignedByNoTrustedKey(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnauthenticated &&
         status.GetPayload(kNoTrustedKeyPayload).has_value();
}

absl::Status CheckExtends(const chain::CheckpointV2& old,
                          const chain::CheckpointV2& newer,
                          const std::vector<chain::Digest>& proof) {
  auto inconsistent = [&](std::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint of size ", newer.size,
        " is inconsistent with trusted state at size ", old.size, ": ",
        std::string(why)));
  };
  if (old.origin() != newer.origin()) {
    return inconsistent(absl::StrCat("origin \"", newer.origin(),
                                     "\" is not \"", old.origin(), "\""));
  }
  if (newer.size < old.size) return inconsistent("the tree is smaller");
  if (newer.size == old.size) {
    if (newer.root != old.root) return inconsistent("same size, another root");
    return absl::OkStatus();
  }
  absl::Status s = chain::VerifyConsistency(old.size, newer.size, proof,
                                            old.root, newer.root);
  if (!s.ok()) {
    return inconsistent(absl::StrCat("consistency proof: ", s.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<chain::Digest>> ProofHashes(
    const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  std::vector<chain::Digest> out(static_cast<size_t>(hashes.size()));
  for (int i = 0; i < hashes.size(); ++i) {
    if (!chain::DigestFromBytes(hashes[i], &out[i])) {
      return absl::DataLossError(absl::StrCat(
          "proof hashes[", i, "] is ", hashes[i].size(), " bytes, not 32"));
    }
  }
  return out;
}

std::string FormatProofFile(const std::vector<chain::Digest>& proof) {
  std::string out;
  for (const chain::Digest& d : proof) {
    absl::StrAppend(&out, chain::Base64Encode(chain::AsBytes(d)), "\n");
  }
  return out;
}

absl::StatusOr<std::vector<chain::Digest>> ParseProofFile(std::string_view text) {
  std::vector<chain::Digest> out;
  if (text.empty()) return out;
  if (text.back() == '\n') text.remove_suffix(1);
  const std::vector<std::string> lines = Split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string bytes;
    chain::Digest d;
    if (!chain::Base64Decode(lines[i], &bytes) || !chain::DigestFromBytes(bytes, &d)) {
      return absl::DataLossError(absl::StrCat(
          "proof line ", i + 1, ": not the standard base64 of a 32-byte hash"));
    }
    out.push_back(d);
  }
  return out;
}

LogVerifier::LogVerifier(Client* client,
                         std::vector<chain::NoteVerifierKey> keys,
                         TrustedState state, std::string state_path)
    : client_(client),
      keys_(std::move(keys)),
      state_(std::move(state)),
      state_path_(std::move(state_path)) {
  // The state's learned keys, followed again from the keys given.
  std::vector<const LearnedKey*> pending;
  for (const LearnedKey& k : state_.learned_keys()) pending.push_back(&k);
  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      absl::StatusOr<chain::KeyRotation> r = chain::VerifyKeyRotation((*it)->statement);
      if (r.ok() && Trusts(r->old_key)) {
        if (!Trusts(r->new_key)) keys_.push_back(r->new_key);
        it = pending.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
  }
}

bool LogVerifier::Trusts(const chain::NoteVerifierKey& key) const {
  for (const chain::NoteVerifierKey& k : keys_) {
    if (SameKey(k, key)) return true;
  }
  return false;
}

bool LogVerifier::Follow(const chain::KeyRotation& r, std::string_view statement) {
  if (!Trusts(r.old_key)) return false;
  if (!Trusts(r.new_key)) {
    keys_.push_back(r.new_key);
    state_.AddLearnedKey({r.new_key, std::string(statement)});
  }
  return true;
}

absl::Status LogVerifier::SetWitnessPolicy(chain::WitnessPolicy policy, bool allow_minority) {
  if (absl::Status s = chain::ValidateWitnessPolicy(policy); !s.ok()) return s;
  if (policy.witnesses.empty() || policy.quorum == 0) {
    return absl::InvalidArgumentError("witness policy: no witness or a quorum of 0");
  }
  if (!allow_minority) {
    if (absl::Status s = chain::CheckMajorityQuorum(policy); !s.ok()) return s;
  }
  policy_ = std::move(policy);
  return absl::OkStatus();
}

absl::Status LogVerifier::AddRotationStatement(std::string_view statement) {
  return AddRotationStatements({std::string(statement)});
}

absl::Status LogVerifier::AddRotationStatements(const std::vector<std::string>& statements) {
  std::vector<std::pair<chain::KeyRotation, const std::string*>> pending;
  for (size_t i = 0; i < statements.size(); ++i) {
    absl::StatusOr<chain::KeyRotation> r = chain::VerifyKeyRotation(statements[i]);
    if (!r.ok()) {
      return absl::DataLossError(
          absl::StrCat("rotation statement ", i + 1, ": ", r.status().message()));
    }
    pending.emplace_back(*std::move(r), &statements[i]);
  }
  const size_t learned_before = state_.learned_keys().size();
  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      if (Follow(it->first, *it->second)) {
        it = pending.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
  }
  if (state_.learned_keys().size() != learned_before && !state_path_.empty()) {
    if (absl::Status s = state_.Save(state_path_); !s.ok()) return s;
  }
  if (!pending.empty()) {
    const chain::KeyRotation& r = pending.front().first;
    return absl::FailedPreconditionError(absl::StrCat(
        "rotation statement to ", chain::NoteVerifierKeyString(r.new_key), " is signed by ",
        chain::NoteVerifierKeyString(r.old_key), ", a key not trusted here"));
  }
  return absl::OkStatus();
}

absl::Status LogVerifier::CheckKeys() const {
  if (keys_.empty()) {
    return absl::InvalidArgumentError(
        "no trusted log verifier key: nothing can be verified without one");
  }
  return absl::OkStatus();
}

absl::StatusOr<chain::CheckpointV2> LogVerifier::Accept(
    std::string_view tenant, const v1::Checkpoint& served) {
  if (absl::Status s = CheckKeys(); !s.ok()) return s;
  if (absl::Status s = CheckSignedByTrustedKey(served.note(), keys_); !s.ok()) {
    absl::Status named(s.code(), absl::StrCat("checkpoint not verified: ", s.message()));
    if (IsSignedByNoTrustedKey(s)) named.SetPayload(kNoTrustedKeyPayload, absl::Cord("1"));
    return named;
  }
  absl::StatusOr<chain::CheckpointV2> cp =
      chain::VerifyCheckpointV2(served.note(), keys_);
  if (!cp.ok()) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint not verified under the trusted key: ", cp.status().message()));
  }
  if (cp->tenant != tenant) {
    return absl::DataLossError(absl::StrCat("the checkpoint is of tenant \"",
                                            cp->tenant, "\", not \"", std::string(tenant),
                                            "\""));
  }
  if (policy_.has_value()) {
    absl::StatusOr<chain::QuorumCheck> q = chain::CheckQuorum(served.note(), *policy_);
    if (!q.ok()) {
      return absl::DataLossError(
          absl::StrCat("checkpoint of size ", cp->size, ": ", q.status().message()));
    }
    if (absl::Status s = chain::QuorumStatus(*q); !s.ok()) return s;
  }
  const TrustedCheckpoint* trusted = state_.Find(tenant);
  if (trusted == nullptr) {
    state_.Put({served.note(), *cp, {}});
  } else {
    const chain::CheckpointV2& old = trusted->checkpoint;
    std::vector<chain::Digest> proof;
    if (old.size > 0 && cp->size > old.size) {
      absl::StatusOr<v1::GetConsistencyProofResponse> p =
          client_->GetConsistencyProof(tenant, old.size, cp->size);
      if (!p.ok()) return p.status();
      absl::StatusOr<std::vector<chain::Digest>> hashes = ProofHashes(p->hashes());
      if (!hashes.ok()) return hashes.status();
      proof = *std::move(hashes);
    }
    if (absl::Status s = CheckExtends(old, *cp, proof); !s.ok()) return s;
    if (cp->size == old.size) return cp;
    state_.Put({served.note(), *cp, {}});
  }
  if (!state_path_.empty()) {
    if (absl::Status s = state_.Save(state_path_); !s.ok()) return s;
  }
  return cp;
}

absl::StatusOr<chain::CheckpointV2> LogVerifier::Update(std::string_view tenant,
                                                        uint64_t min_size) {
  if (absl::Status s = CheckKeys(); !s.ok()) return s;
  absl::StatusOr<v1::Checkpoint> served = client_->GetCheckpointV2(tenant, min_size);
  if (!served.ok()) return served.status();
  absl::StatusOr<chain::CheckpointV2> cp = Accept(tenant, *served);
  if (cp.ok() && cp->size < min_size) {
    return absl::DataLossError(absl::StrCat("asked for a checkpoint of at least ",
                                            min_size, " leaves, got ", cp->size));
  }
  return cp;
}

absl::StatusOr<VerifiedReceipt> LogVerifier::VerifyReceipt(
    const v1::Receipt& receipt, std::string_view category) {
  if (absl::Status s = CheckKeys(); !s.ok()) return s;
  auto bad = [](std::string_view why) {
    return absl::DataLossError(absl::StrCat("receipt: ", std::string(why)));
  };
  chain::Digest entry, prev, body;
  if (!chain::IsValidTenantId(receipt.tenant())) return bad("tenant: malformed");
  if (receipt.seq() == 0) return bad("seq: must be at least 1");
  if (!chain::DigestFromBytes(receipt.entry_hash(), &entry)) {
    return bad("entry_hash: not 32 bytes");
  }
  if (!chain::DigestFromBytes(receipt.prev_entry_hash(), &prev)) {
    return bad("prev_entry_hash: not 32 bytes (a receipt of an older daemon?)");
  }
  if (!chain::DigestFromBytes(receipt.body_digest(), &body)) {
    return bad("body_digest: not 32 bytes (a receipt of an older daemon?)");
  }
  if (receipt.has_leaf_index() && receipt.leaf_index() != receipt.seq() - 1) {
    return bad(absl::StrCat("leaf_index ", receipt.leaf_index(),
                            " is not seq - 1"));
  }
  if (chain::EntryHash(receipt.tenant(), receipt.seq(),
                       receipt.received_at_ns(), prev, body) != entry) {
    return bad("entry_hash does not match the receipt's fields");
  }
  VerifiedReceipt v;
  v.leaf_hash = chain::LeafHash(entry, category);
  uint64_t min_size = receipt.seq();
  if (const TrustedCheckpoint* t = state_.Find(receipt.tenant())) {
    min_size = std::max(min_size, t->checkpoint.size);
  }
  absl::StatusOr<chain::CheckpointV2> cp = Update(receipt.tenant(), min_size);
  if (!cp.ok()) return cp.status();
  v.checkpoint = *std::move(cp);
  absl::StatusOr<v1::GetInclusionProofResponse> p = client_->GetInclusionProof(
      receipt.tenant(), receipt.seq(), v.checkpoint.size);
  if (!p.ok()) return p.status();
  absl::StatusOr<std::vector<chain::Digest>> hashes = ProofHashes(p->hashes());
  if (!hashes.ok()) return hashes.status();
  v.proof = *std::move(hashes);
  absl::Status s = chain::VerifyInclusion(receipt.seq() - 1, v.checkpoint.size,
                                          v.leaf_hash, v.proof, v.checkpoint.root);
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "receipt of seq ", receipt.seq(), " (category \"", std::string(category),
        "\") is not in the tree of size ", v.checkpoint.size, ": ", s.message()));
  }
  if (v.checkpoint.size == receipt.seq() && v.checkpoint.chain_head != entry) {
    return bad("the checkpoint at its seq names another chain head");
  }
  return v;
}

}  // namespace indelible::client
