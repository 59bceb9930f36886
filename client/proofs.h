// Verifying what the log serves: receipts by inclusion proofs, checkpoints
// by their signature and by consistency proofs against a trusted state
// (docs/API.md, "Verifying receipts"; the format is docs/FORMAT.md section
// 13). Hashing, proofs and notes are verifier/chain/'s.
//
//   client::LogVerifier v(client.get(), {key}, std::move(*state), "state.txt");
//   absl::StatusOr<client::VerifiedReceipt> ok =
//       v.VerifyReceipt(receipt, client::StoredCategory(event));
//
// Errors: InvalidArgument "no trusted log verifier key" when no key is
// given (fail closed: nothing verifies without one); DataLoss when the
// receipt, a signature or a proof does not verify; FailedPrecondition
// "inconsistent with trusted state at size N" when the server shows a
// checkpoint that is not an extension of the trusted one (smaller, the same
// size with another root, or without a valid consistency proof). Neither is
// worth a retry. With a witness policy (SetWitnessPolicy), a checkpoint
// cosigned by fewer witnesses than its quorum is Unauthenticated "below
// witness quorum: ..." (chain::IsBelowQuorum): not trusted yet, worth a
// retry once the witnesses have cosigned; a forged cosignature is DataLoss.
// A checkpoint that carries no signature line by a trusted key (name and key
// id) is Unauthenticated "signed by no trusted key" (IsSignedByNoTrustedKey):
// not trusted, nothing wrong shown; after a key rotation, a rotation
// statement from a trusted key (AddRotationStatement) leads to its key.
// Other errors are the server's (client.h).
//
// Thread safety: TrustedState and LogVerifier are not thread-safe.
#ifndef INDELIBLE_CLIENT_PROOFS_H_
#define INDELIBLE_CLIENT_PROOFS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/client.h"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/chain/note.h"
#include "verifier/chain/witness_policy.h"

namespace indelible::client {

// The category a record of `event` is stored with and committed in its leaf:
// the event's, or "access" (the daemon's default) when it has none.
std::string StoredCategory(const v1::Event& event);

// The newest checkpoint verified for one tenant.
struct TrustedCheckpoint {
  std::string note;                // the signed note, as served
  chain::CheckpointV2 checkpoint;  // its text, parsed
  // Optional: chain::CompactRange::hashes() of the tree at checkpoint.size,
  // which lets an auditor resume a check from here (indelible-verify check
  // --remote). Empty when unknown.
  std::vector<chain::Digest> frontier;
};

// A log key trusted because a key rotation statement (docs/FORMAT.md
// section 14) from a trusted key leads to it.
struct LearnedKey {
  chain::NoteVerifierKey key;  // the statement's new key
  std::string statement;       // the signed statement, as given
};

// A trusted state: per tenant, the newest checkpoint verified, and the keys
// learned from rotation statements. As a file (docs/API.md):
//
//   indelible trusted state v1\n                   v2 if it has key lines
//   key <verifier key> <base64(statement)>\n      v2 only, before the
//                                                 checkpoints
//   checkpoint <base64(signed note)>\n            one per tenant
//   frontier <base64(hash)> <base64(hash)> ...\n  optional, after its
//                                                 checkpoint
//
// A state without learned keys is written as v1, which older readers
// read.
class TrustedState {
 public:
  // Parses the file text (v1 or v2). DataLoss naming the line if malformed
  // (the note text must be a v2 checkpoint, one per tenant; a frontier must
  // have one hash per set bit of the size and fold to the checkpoint's
  // root; a key line's statement must verify (chain::VerifyKeyRotation) and
  // name that key as its new key). Parsing trusts no key: LogVerifier
  // follows the statements again from the keys it is given.
  static absl::StatusOr<TrustedState> Parse(std::string_view text);
  // Reads and parses `path`; a missing file is the empty state.
  static absl::StatusOr<TrustedState> Load(const std::string& path);
  std::string Serialize() const;
  // Writes `path` atomically: a temporary file beside it, fsync, rename,
  // fsync of the directory.
  absl::Status Save(const std::string& path) const;

  // Null if the tenant has no trusted checkpoint.
  const TrustedCheckpoint* Find(std::string_view tenant) const;
  // Replaces the tenant's entry (c.checkpoint.tenant).
  void Put(TrustedCheckpoint c);
  bool empty() const { return tenants_.empty(); }

  // The learned keys, in the order they were learned.
  const std::vector<LearnedKey>& learned_keys() const { return learned_; }
  // Adds `k` unless a key with its name and public key is there already.
  // REQUIRES: k.statement verifies and names k.key as its new key.
  void AddLearnedKey(LearnedKey k);

 private:
  std::map<std::string, TrustedCheckpoint, std::less<>> tenants_;
  std::vector<LearnedKey> learned_;
};

// OK if `note` carries a signature line by one of `keys` (name and key id;
// the signature itself is not checked here). Otherwise Unauthenticated
// "signed by no trusted key: ..." naming the note's keys, recognised by
// IsSignedByNoTrustedKey; DataLoss if the note is malformed.
absl::Status CheckSignedByTrustedKey(std::string_view note,
                                     const std::vector<chain::NoteVerifierKey>& keys);
bool IsSignedByNoTrustedKey(const absl::Status& status);

// OK if (newer.size, newer.root) extends (old.size, old.root) by `proof`
// (chain::VerifyConsistency; a tree of size 0 is extended by any). Else
// FailedPrecondition "checkpoint of size M is inconsistent with trusted
// state at size N: ..." (a smaller tree, or the same size with another
// root, or a proof that does not verify), or for another origin.
absl::Status CheckExtends(const chain::CheckpointV2& old,
                          const chain::CheckpointV2& newer,
                          const std::vector<chain::Digest>& proof);

// Proof hashes from the wire: DataLoss naming the index of one that is not
// 32 bytes.
absl::StatusOr<std::vector<chain::Digest>> ProofHashes(
    const google::protobuf::RepeatedPtrField<std::string>& hashes);

// A proof file (docs/VERIFY.md): one standard base64 hash per line, in
// proof order; no lines for an empty proof. `indelible prove` writes it,
// `indelible-verify` reads it.
std::string FormatProofFile(const std::vector<chain::Digest>& proof);
// DataLoss naming the line if one is not the base64 of 32 bytes. A final
// newline is optional; blank lines are not allowed.
absl::StatusOr<std::vector<chain::Digest>> ParseProofFile(std::string_view text);

// What a verified receipt was checked against.
struct VerifiedReceipt {
  chain::CheckpointV2 checkpoint;    // signed by a trusted key
  std::vector<chain::Digest> proof;  // inclusion of the receipt's leaf in it
  chain::Digest leaf_hash{};
};

class LogVerifier {
 public:
  // `client` must outlive this. `keys`: the trusted log verifier keys (out
  // of band, e.g. `indelible public-key` checked once). `state_path`: if not
  // empty, the state is saved there after every change. The state's learned
  // keys are followed again from `keys` (in any order); one that no trusted
  // key leads to stays in the state but is not trusted.
  LogVerifier(Client* client, std::vector<chain::NoteVerifierKey> keys,
              TrustedState state = {}, std::string state_path = "");

  // Follows a key rotation statement (docs/FORMAT.md section 14): if it
  // verifies (chain::VerifyKeyRotation) and its old key is trusted, its new
  // key is trusted from now on and kept in the state with the statement
  // (saved, with a state path). DataLoss if it does not verify;
  // FailedPrecondition "... a key not trusted here" if its old key is not
  // trusted (nothing changes). Following a key already trusted is OK.
  absl::Status AddRotationStatement(std::string_view statement);
  // The same for several statements in any order: each is followed once
  // its old key is trusted (given, or reached by another). DataLoss naming
  // the statement (1-based) if one does not verify; FailedPrecondition
  // naming the first that no trusted key leads to (the others are
  // followed).
  absl::Status AddRotationStatements(const std::vector<std::string>& statements);
  // The trusted keys: those given, then those learned.
  const std::vector<chain::NoteVerifierKey>& keys() const { return keys_; }

  // Verifies a served v2 checkpoint of `tenant`: the log's signature by a
  // trusted key, its origin's tenant, and against the trusted state (a
  // consistency proof fetched from the server when it is newer). On success
  // the state holds it if it is newer. Returns its parse.
  absl::StatusOr<chain::CheckpointV2> Accept(std::string_view tenant,
                                             const v1::Checkpoint& served);
  // Fetches the newest v2 checkpoint of `tenant` of at least `min_size`
  // leaves and accepts it.
  absl::StatusOr<chain::CheckpointV2> Update(std::string_view tenant,
                                             uint64_t min_size = 0);

  // Recomputes the receipt's entry hash from its fields (tenant, seq,
  // received_at_ns, prev_entry_hash, body_digest) and its leaf hash with
  // `category` (StoredCategory of the event sent), fetches a v2 checkpoint
  // covering it (at least its seq and the trusted size) and the inclusion
  // proof at that checkpoint's size, and verifies all of it. NotFound if no
  // checkpoint covers the receipt yet (the daemon signs periodically).
  absl::StatusOr<VerifiedReceipt> VerifyReceipt(const v1::Receipt& receipt,
                                                std::string_view category);

  // From now on a checkpoint is adopted only if it is also cosigned by the
  // policy's quorum of witnesses (chain/witness_policy.h). The trusted
  // state's checkpoints were adopted under the policy then in force and are
  // not checked again. InvalidArgument (and the policy unchanged) if it is
  // not valid (chain::ValidateWitnessPolicy), or if its quorum is no
  // majority (chain::CheckMajorityQuorum) unless `allow_minority`.
  absl::Status SetWitnessPolicy(chain::WitnessPolicy policy, bool allow_minority = false);

  const TrustedState& state() const { return state_; }

 private:
  absl::Status CheckKeys() const;
  bool Trusts(const chain::NoteVerifierKey& key) const;
  // Follows a statement already verified as `r`; false if its old key is
  // not trusted.
  bool Follow(const chain::KeyRotation& r, std::string_view statement);

  Client* const client_;
  std::vector<chain::NoteVerifierKey> keys_;
  TrustedState state_;
  const std::string state_path_;
  std::optional<chain::WitnessPolicy> policy_;
};

}  // namespace indelible::client

#endif  // INDELIBLE_CLIENT_PROOFS_H_
