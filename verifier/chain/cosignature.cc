#include "verifier/chain/cosignature.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "verifier/chain/coding.h"
#include "verifier/chain/text.h"
#include "verifier/chain/witness_policy.h"

namespace indelible::chain {
namespace {

constexpr std::string_view kHeader = "cosignature/v1\n";
// u64 timestamp followed by the 64-byte Ed25519 signature.
constexpr size_t kTimestampedSignatureSize = 8 + kEd25519SignatureSize;

// Witnesses are told apart by key: the cosignature/v1 message does not
// commit to the name, so one key listed under two names is one witness (a
// line copied under the other name would verify too).
bool SameKey(const CosignerKey& a, const CosignerKey& b) {
  return a.public_key == b.public_key;
}

}  // namespace

uint32_t CosignerKeyId(std::string_view name, std::string_view public_key) {
  return SignedNoteKeyId(name, kNoteSigCosignatureV1, public_key);
}

CosignerKey MakeCosignerKey(std::string name, std::string public_key) {
  CosignerKey k;
  k.key_id = CosignerKeyId(name, public_key);
  k.name = std::move(name);
  k.public_key = std::move(public_key);
  return k;
}

std::string CosignerKeyString(const CosignerKey& key) {
  return VerifierKeyString(key.name, key.key_id, kNoteSigCosignatureV1,
                           key.public_key);
}

absl::StatusOr<CosignerKey> ParseCosignerKey(std::string_view s) {
  std::string name, public_key;
  if (absl::Status st =
          ParseVerifierKeyString(s, kNoteSigCosignatureV1, &name, &public_key);
      !st.ok()) {
    return st;
  }
  return MakeCosignerKey(std::move(name), std::move(public_key));
}

std::string CosignedMessage(std::string_view body, uint64_t ts) {
  return absl::StrCat(ToAbsl(kHeader), "time ", ts, "\n", ToAbsl(body));
}

Cosigner::Cosigner(std::string name, Ed25519PrivateKey key)
    : private_key_(std::move(key)),
      key_(MakeCosignerKey(std::move(name), private_key_.PublicKey())) {}

std::string Cosigner::SignatureLine(std::string_view body, uint64_t ts) const {
  std::string id_sig;
  PutU32(&id_sig, key_.key_id);
  PutU64(&id_sig, ts);
  id_sig.append(private_key_.Sign(CosignedMessage(body, ts)));
  return absl::StrCat(ToAbsl(kNoteSignaturePrefix), key_.name, " ",
                      Base64Encode(id_sig), "\n");
}

absl::Status VerifyCosignature(const CosignerKey& key, std::string_view body,
                               const NoteSignature& sig, uint64_t* ts) {
  if (sig.name != key.name || sig.key_id != key.key_id) {
    return absl::DataLossError("cosignature: not by this witness");
  }
  if (sig.signature.size() != kTimestampedSignatureSize) {
    return absl::DataLossError(
        absl::StrCat("cosignature by ", key.name,
                     ": want 8-byte time and 64-byte signature"));
  }
  const uint64_t t = DecodeU64(sig.signature.data());
  if (t > kMaxCosignatureTime) {
    return absl::DataLossError(
        absl::StrCat("cosignature by ", key.name, ": time exceeds 2^63-1"));
  }
  if (!VerifyEd25519(key.public_key, CosignedMessage(body, t),
                     std::string_view(sig.signature).substr(8))
           .ok()) {
    return absl::DataLossError(
        absl::StrCat("cosignature by ", key.name, " does not verify"));
  }
  *ts = t;
  return absl::OkStatus();
}

absl::Status ValidateWitnessPolicy(const WitnessPolicy& policy) {
  size_t distinct = 0;
  for (size_t i = 0; i < policy.witnesses.size(); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) {
      seen = SameKey(policy.witnesses[i], policy.witnesses[j]);
    }
    if (!seen) ++distinct;
  }
  if (policy.quorum > distinct) {
    return absl::InvalidArgumentError(
        absl::StrCat("witness policy: quorum ", policy.quorum, " exceeds the ",
                     distinct, " distinct witnesses"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<WitnessCosignature>> VerifyCosignatures(
    std::string_view note, const WitnessPolicy& policy) {
  absl::StatusOr<QuorumCheck> check = CheckQuorum(note, policy);
  if (!check.ok()) return check.status();
  if (!check->met()) {
    return absl::DataLossError(absl::StrCat("checkpoint has cosignatures of ",
                                            check->cosigned.size(), " witnesses, ",
                                            policy.quorum, " required"));
  }
  return std::move(check->cosigned);
}

}  // namespace indelible::chain
