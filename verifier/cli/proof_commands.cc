#include "verifier/cli/proof_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "client/credentials.h"
#include "client/proofs.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/checkpoint_v2.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/key_rotation.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"
#include "verifier/check/key_rotations.h"
#include "verifier/check/policy_history.h"
#include "verifier/check/trusted_keys.h"
#include "verifier/cli/trust_flags.h"

namespace indelible::verify {
namespace {

using chain::ToStd;

int Fail(const std::string& cmd, const std::string& what, const absl::Status& s) {
  std::cerr << "indelible-verify " << cmd << ": " << what << (what.empty() ? "" : ": ")
            << ToStd(s.message()) << "\n";
  return kExitError;
}

int NoKey(const std::string& cmd) {
  std::cerr << "indelible-verify " << cmd
            << ": not verified: no trusted key (give the daemon's key with --key "
               "or --key-pem)\n";
  return kExitNoTrustedKey;
}

// Loads --key and --key-pem; sets *rc and returns false on a usage error.
bool LoadKeys(const std::string& cmd, const std::vector<std::string>& keys,
              const std::vector<std::string>& pems, check::TrustedKeys* trusted,
              int* rc) {
  for (const auto& k : keys) {
    if (auto s = trusted->AddVerifierKey(k); !s.ok()) {
      *rc = Fail(cmd, "--key " + k, s);
      return false;
    }
  }
  for (const auto& path : pems) {
    auto pem = ReadFile(path);
    if (!pem.ok()) {
      *rc = Fail(cmd, "--key-pem", pem.status());
      return false;
    }
    if (auto s = trusted->AddPublicKeyPem(*pem); !s.ok()) {
      *rc = Fail(cmd, "--key-pem " + path, s);
      return false;
    }
  }
  if (trusted->empty()) {
    *rc = NoKey(cmd);
    return false;
  }
  return true;
}

// Follows the --rotation statement files from the trusted keys (as `check`
// does); sets *rc and returns false on an input error (exit 2). Appends the
// statements to *statements if given.
bool LoadRotations(const std::string& cmd, const std::vector<std::string>& paths,
                   check::TrustedKeys* trusted, int* rc,
                   std::vector<std::string>* statements = nullptr) {
  std::vector<std::string> notes;
  for (const auto& path : paths) {
    auto note = ReadFile(path);
    if (!note.ok()) {
      *rc = Fail(cmd, "--rotation", note.status());
      return false;
    }
    notes.push_back(*std::move(note));
  }
  if (auto s = check::FollowSuppliedRotations(notes, trusted); !s.ok()) {
    *rc = Fail(cmd, "--rotation", s);
    return false;
  }
  if (statements != nullptr) statements->insert(statements->end(), notes.begin(), notes.end());
  return true;
}

// The checkpoint in `note`, signed by a trusted key and, with a witness
// policy, cosigned by its quorum. Signed by no trusted key:
// client::IsSignedByNoTrustedKey's status.
absl::StatusOr<chain::CheckpointV2> VerifyCheckpointNote(
    const check::TrustedKeys& trusted, std::string_view note,
    const std::optional<chain::WitnessPolicy>& policy = std::nullopt) {
  const std::vector<chain::NoteVerifierKey> keys = trusted.KeysFor(note);
  if (auto s = client::CheckSignedByTrustedKey(note, keys); !s.ok()) return s;
  return policy ? chain::VerifyWitnessedCheckpointV2(note, keys, *policy)
                : chain::VerifyCheckpointV2(note, keys);
}

// Not verified, as opposed to found wrong: below the witness quorum, or
// signed by no trusted key.
bool NotTrusted(const absl::Status& s) {
  return chain::IsBelowQuorum(s) || client::IsSignedByNoTrustedKey(s);
}

// The checkpoint in note file `path` (VerifyCheckpointNote). DataLoss naming the file
// if not; below quorum and signed by no trusted key keep their status
// (NotTrusted), prefixed likewise.
absl::StatusOr<chain::CheckpointV2> VerifyNoteFile(
    const check::TrustedKeys& trusted, const std::string& path,
    const std::optional<chain::WitnessPolicy>& policy = std::nullopt) {
  auto note = ReadFile(path);
  if (!note.ok()) return note.status();
  auto c = VerifyCheckpointNote(trusted, *note, policy);
  if (!c.ok()) {
    const bool keep = NotTrusted(c.status());
    absl::Status s(keep ? c.status().code() : absl::StatusCode::kDataLoss,
                   absl::StrCat(path, ": ", c.status().message()));
    c.status().ForEachPayload(
        [&s](absl::string_view url, const absl::Cord& payload) { s.SetPayload(url, payload); });
    return s;
  }
  return c;
}

// "NOT VERIFIED: <why>" and the exit code of a checkpoint or proof that did
// not verify: below the witness quorum or signed by no trusted key is not
// verified (3), anything else is a finding (1).
int NotVerified(const absl::Status& s) {
  std::cout << "NOT VERIFIED: " << ToStd(s.message()) << "\n";
  return NotTrusted(s) ? kExitNoTrustedKey : kExitFindings;
}

absl::StatusOr<std::vector<chain::Digest>> ReadProof(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return client::ParseProofFile(*text);
}

struct ConsistencyFlags {
  std::string old_note, new_note, proof;
  std::vector<std::string> keys, key_pems, rotations;
  WitnessFlags witness;
};

int RunConsistency(const ConsistencyFlags& f) {
  const std::string cmd = "consistency";
  check::TrustedKeys trusted;
  int rc = 0;
  auto policy = f.witness.Load();
  if (!policy.ok()) return Fail(cmd, "", policy.status());
  if (!LoadKeys(cmd, f.keys, f.key_pems, &trusted, &rc)) return rc;
  if (!LoadRotations(cmd, f.rotations, &trusted, &rc)) return rc;
  auto proof = ReadProof(f.proof);
  if (!proof.ok()) return Fail(cmd, "--proof " + f.proof, proof.status());
  // The kept checkpoint is the auditor's own; the newer one must meet the
  // witness policy.
  auto old = VerifyNoteFile(trusted, f.old_note);
  auto neu = old.ok() ? VerifyNoteFile(trusted, f.new_note, *policy) : old;
  absl::Status s = !old.ok() ? old.status()
                   : !neu.ok() ? neu.status()
                               : client::CheckExtends(*old, *neu, *proof);
  if (!s.ok()) {
    if (s.code() != absl::StatusCode::kDataLoss &&
        s.code() != absl::StatusCode::kFailedPrecondition && !NotTrusted(s)) {
      return Fail(cmd, "", s);
    }
    return NotVerified(s);
  }
  std::cout << "VERIFIED: " << neu->origin() << " at size " << neu->size
            << " extends size " << old->size << " (append-only)\n";
  return kExitVerified;
}

struct InclusionFlags {
  std::string checkpoint, proof, entry_hash, category;
  uint64_t seq = 0;
  std::vector<std::string> keys, key_pems, rotations;
  WitnessFlags witness;
};

int RunInclusion(const InclusionFlags& f) {
  const std::string cmd = "inclusion";
  check::TrustedKeys trusted;
  int rc = 0;
  auto policy = f.witness.Load();
  if (!policy.ok()) return Fail(cmd, "", policy.status());
  if (!LoadKeys(cmd, f.keys, f.key_pems, &trusted, &rc)) return rc;
  if (!LoadRotations(cmd, f.rotations, &trusted, &rc)) return rc;
  std::string bytes;
  chain::Digest entry;
  if (!chain::FromHex(f.entry_hash, &bytes) || !chain::DigestFromBytes(bytes, &entry)) {
    return Fail(cmd, "--entry-hash",
                absl::InvalidArgumentError("not 64 hex digits"));
  }
  if (f.seq == 0) {
    return Fail(cmd, "--seq", absl::InvalidArgumentError("must be at least 1"));
  }
  auto proof = ReadProof(f.proof);
  if (!proof.ok()) return Fail(cmd, "--proof " + f.proof, proof.status());
  auto cp = VerifyNoteFile(trusted, f.checkpoint, *policy);
  absl::Status s = cp.status();
  if (cp.ok()) {
    s = f.seq > cp->size
            ? absl::DataLossError(absl::StrCat("seq ", f.seq,
                                               " is beyond the checkpoint's size ", cp->size))
            : chain::VerifyInclusion(f.seq - 1, cp->size,
                                     chain::LeafHash(entry, f.category), *proof, cp->root);
  }
  if (!s.ok()) {
    if (s.code() != absl::StatusCode::kDataLoss && !NotTrusted(s)) {
      return Fail(cmd, "", s);
    }
    return NotVerified(s);
  }
  std::cout << "VERIFIED: seq " << f.seq << " is in " << cp->origin() << " at size "
            << cp->size << "\n";
  return kExitVerified;
}

// What a remote check found; the first finding stops it.
struct RemoteResult {
  uint64_t from = 1, to = 0;  // the records fetched
  uint64_t pruned = 0;        // of those, pruned: leaf from leaf_category
  uint64_t size = 0;
  chain::Digest root{}, head{};
  std::vector<std::string> findings;
  std::vector<std::string> notes;
};

// After the records did not fold to the served root: streams them again
// from `from` and looks each pruned record's leaf, recomputed from its
// served leaf_category, up in the served tree by an inclusion proof, adding
// a finding for each that is not there (a category the tree does not commit
// to). A second pass, so a clean check holds nothing per record.
// Whether the server refuses the tenant's head because it was purged
// (FAILED_PRECONDITION "... was purged ...", docs/RETENTION.md).
bool ServerSaysPurged(client::Client& c, const std::string& tenant) {
  auto head = c.GetHead(tenant);
  return !head.ok() && absl::IsFailedPrecondition(head.status()) &&
         absl::StrContains(head.status().message(), "was purged");
}

absl::Status NamePrunedLeaves(client::Client& c, const std::string& tenant, uint64_t from,
                              const chain::CheckpointV2& cp,
                              std::vector<std::string>* findings) {
  absl::Status failed;
  uint64_t next = from;
  while (next <= cp.size && failed.ok()) {
    const uint64_t before = next;
    absl::Status s = c.ReadRecords(tenant, next, cp.size - next + 1, [&](const v1::Record& r) {
      if (r.seq() != next) return false;  // the first pass named it
      ++next;
      chain::Digest entry;
      if (!r.pruned() || !r.has_leaf_category() ||
          !chain::DigestFromBytes(r.entry_hash(), &entry)) {
        return true;
      }
      auto p = c.GetInclusionProof(tenant, r.seq(), cp.size);
      if (!p.ok()) {
        failed = p.status();
        return false;
      }
      auto h = client::ProofHashes(p->hashes());
      if (!h.ok() || !chain::VerifyInclusion(r.seq() - 1, cp.size,
                                             chain::LeafHash(entry, r.leaf_category()), *h,
                                             cp.root)
                          .ok()) {
        findings->push_back(absl::StrCat(
            "seq ", r.seq(), " (pruned): the served leaf_category \"", r.leaf_category(),
            "\" gives a leaf that is not in the served checkpoint's tree"));
      }
      return true;
    });
    if (!s.ok()) return s;
    if (next == before) break;
  }
  return failed;
}

}  // namespace

std::pair<CLI::App*, Command> RegisterConsistencyCommand(CLI::App* app) {
  auto f = std::make_shared<ConsistencyFlags>();
  CLI::App* sub = app->add_subcommand(
      "consistency",
      "Verify offline that a newer v2 checkpoint extends a kept one "
      "(append-only), by a consistency proof file. Exit 0: yes, 1: no, 2: "
      "usage or I/O error, 3: no trusted key, a checkpoint signed by no "
      "trusted key, or the newer checkpoint below the witness quorum.");
  sub->add_option("--old", f->old_note, "The kept checkpoint (note file)")->required();
  sub->add_option("--new", f->new_note, "The newer checkpoint (note file)")->required();
  sub->add_option("--proof", f->proof,
                  "Consistency proof: one base64 hash per line ('indelible prove "
                  "--old-size')")
      ->required();
  sub->add_option("--key", f->keys, "The daemon's key as a verifier-key string");
  sub->add_option("--key-pem", f->key_pems, "The daemon's key as a PEM public key file");
  sub->add_option("--rotation", f->rotations,
                  "A key rotation statement (docs/FORMAT.md section 14) from a trusted "
                  "key: its new key is trusted too (repeatable)")
      ->check(CLI::ExistingFile);
  f->witness.Register(sub);
  return {sub, [f] { return RunConsistency(*f); }};
}

std::pair<CLI::App*, Command> RegisterInclusionCommand(CLI::App* app) {
  auto f = std::make_shared<InclusionFlags>();
  CLI::App* sub = app->add_subcommand(
      "inclusion",
      "Verify offline that a record is in a v2 checkpoint's tree, by an "
      "inclusion proof file. Exit 0: yes, 1: no, 2: usage or I/O error, 3: "
      "no trusted key, the checkpoint signed by no trusted key, or below the "
      "witness quorum.");
  sub->add_option("--checkpoint", f->checkpoint, "The checkpoint (note file)")->required();
  sub->add_option("--proof", f->proof,
                  "Inclusion proof: one base64 hash per line ('indelible prove --seq')")
      ->required();
  sub->add_option("--seq", f->seq, "The record's seq (leaf index seq - 1)")->required();
  sub->add_option("--entry-hash", f->entry_hash, "Its entry hash (hex)")->required();
  sub->add_option("--category", f->category, "Its category (e.g. access)")->required();
  sub->add_option("--key", f->keys, "The daemon's key as a verifier-key string");
  sub->add_option("--key-pem", f->key_pems, "The daemon's key as a PEM public key file");
  sub->add_option("--rotation", f->rotations,
                  "A key rotation statement (docs/FORMAT.md section 14) from a trusted "
                  "key: its new key is trusted too (repeatable)")
      ->check(CLI::ExistingFile);
  f->witness.Register(sub);
  return {sub, [f] { return RunInclusion(*f); }};
}

void RegisterRemoteFlags(CLI::App* sub, RemoteFlags* f) {
  sub->add_option("--remote", f->target,
                  "Check a tenant over the wire (HOST:PORT) instead of a data "
                  "directory; needs --tenant and a reader or auditor credential");
  sub->add_option("--state", f->state,
                  "With --remote: trusted state file to resume from (its "
                  "checkpoint and frontier) and to update when verified");
  sub->add_flag("--tls", f->tls, "With --remote: use TLS");
  sub->add_option("--tls-ca", f->tls_ca, "PEM CA bundle of the server's certificate");
  sub->add_option("--tls-cert", f->tls_cert, "Client certificate for mutual TLS");
  sub->add_option("--tls-key", f->tls_key, "Its private key");
  if (const char* env = std::getenv("INDELIBLE_TOKEN_FILE"); env != nullptr && *env) {
    f->token_file = env;
  }
  sub->add_option("--token-file", f->token_file,
                  "File holding a bearer token (default: $INDELIBLE_TOKEN_FILE)");
  sub->add_option("--reason", f->reason,
                  "Why you read (recorded in the tenant's chain by a daemon with auth)");
}

int RunRemoteCheck(const RemoteFlags& remote, const std::string& tenant,
                   const std::vector<std::string>& keys,
                   const std::vector<std::string>& key_pems,
                   const std::vector<std::string>& rotations,
                   const std::vector<std::string>& kept, bool json,
                   const std::optional<chain::WitnessPolicy>& policy) {
  const std::string cmd = "check --remote";
  if (!chain::IsValidTenantId(tenant)) {
    return Fail(cmd, "--tenant", absl::InvalidArgumentError("required, a valid tenant id"));
  }
  check::TrustedKeys trusted;
  int rc = 0;
  if (!LoadKeys(cmd, keys, key_pems, &trusted, &rc)) return rc;
  // Rotation statements followed, kept in the state when it is saved.
  std::vector<std::string> followed;
  if (!LoadRotations(cmd, rotations, &trusted, &rc, &followed)) return rc;

  client::ClientOptions options;
  options.target = remote.target;
  options.deadline = std::chrono::minutes(10);
  options.read_reason = remote.reason;
  if (remote.tls || !remote.tls_ca.empty() || !remote.tls_cert.empty()) {
    client::TlsFiles files;
    files.ca_file = remote.tls_ca;
    files.cert_file = remote.tls_cert;
    files.key_file = remote.tls_key;
    auto creds = client::TlsCredentials(files);
    if (!creds.ok()) return Fail(cmd, "TLS", creds.status());
    options.credentials = *creds;
  }
  if (!remote.token_file.empty()) {
    auto token = client::ReadTokenFile(remote.token_file);
    if (!token.ok()) return Fail(cmd, "--token-file", token.status());
    options.bearer_token = *token;
  }
  auto conn = client::Client::Connect(options);
  if (!conn.ok()) return Fail(cmd, "connect", conn.status());
  client::Client& c = **conn;

  client::TrustedState state;
  if (!remote.state.empty()) {
    auto s = client::TrustedState::Load(remote.state);
    if (!s.ok()) return Fail(cmd, "--state", s.status());
    state = *std::move(s);
  }
  // The state's learned keys, followed again from the trusted keys (in any
  // order); one that no trusted key leads to is not trusted.
  std::vector<std::string> pending;
  for (const client::LearnedKey& k : state.learned_keys()) pending.push_back(k.statement);
  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      if (check::FollowSuppliedRotations({*it}, &trusted).ok()) {
        it = pending.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
  }

  RemoteResult res;
  auto finding = [&](std::string what) { res.findings.push_back(std::move(what)); };
  // The served checkpoint, signed by a trusted key. One signed by no key
  // trusted yet is held against the records as its text says, and its
  // signature checked again after them: a rotation record in the chain may
  // lead to its key.
  auto served = c.GetCheckpointV2(tenant, 0);
  if (!served.ok()) return Fail(cmd, "GetCheckpoint", served.status());
  auto cp = VerifyCheckpointNote(trusted, served->note());
  const bool signature_pending = client::IsSignedByNoTrustedKey(cp.status());
  if (signature_pending) {
    auto split = chain::SplitNote(served->note());
    cp = split.ok() ? chain::ParseCheckpointV2Text(split->text)
                    : absl::StatusOr<chain::CheckpointV2>(split.status());
  }
  if (!cp.ok()) {
    finding(absl::StrCat("served checkpoint: ", cp.status().message()));
  } else if (cp->tenant != tenant) {
    finding(absl::StrCat("served checkpoint is of tenant \"", cp->tenant, "\""));
  }
  // With a witness policy the served checkpoint must also be cosigned by a
  // quorum; below it, the records are still checked against it, but nothing
  // is trusted (exit 3) and the state is not advanced.
  std::string below_quorum;
  std::optional<chain::QuorumCheck> quorum;
  if (policy && res.findings.empty()) {
    auto q = chain::CheckQuorum(served->note(), *policy);
    if (!q.ok()) {
      finding(absl::StrCat("served checkpoint: ", q.status().message()));
    } else {
      quorum = *q;
      if (auto s = chain::QuorumStatus(*q); !s.ok()) below_quorum = std::string(ToStd(s.message()));
    }
  }

  // Where to start: the state's frontier and chain head, else genesis.
  chain::CompactRange range;
  chain::Digest prev = chain::Genesis(tenant);
  std::vector<std::pair<std::string, chain::CheckpointV2>> olds;
  if (const client::TrustedCheckpoint* t = state.Find(tenant); t != nullptr) {
    auto sc = chain::VerifyCheckpointV2(t->note, trusted.KeysFor(t->note));
    if (!sc.ok()) {
      finding(absl::StrCat("--state checkpoint: ", sc.status().message()));
    } else {
      olds.emplace_back("--state checkpoint", *sc);
      if (!t->frontier.empty() || sc->size == 0) {
        auto r = chain::CompactRange::FromHashes(sc->size, t->frontier);
        if (!r.ok()) return Fail(cmd, "--state", r.status());
        range = *std::move(r);
        prev = sc->chain_head;
        res.from = sc->size + 1;
        res.notes.push_back(absl::StrCat("resumed after seq ", sc->size, " from ",
                                         remote.state));
      }
    }
  }
  for (const std::string& path : kept) {
    auto k = VerifyNoteFile(trusted, path);
    if (!k.ok()) {
      if (k.status().code() != absl::StatusCode::kDataLoss) {
        return Fail(cmd, "--checkpoint " + path, k.status());
      }
      finding(absl::StrCat("kept checkpoint ", k.status().message()));
    } else {
      olds.emplace_back("kept checkpoint " + path, *k);
    }
  }
  // Every kept checkpoint must be extended by the served one.
  for (const auto& [name, old] : olds) {
    if (!res.findings.empty()) break;
    std::vector<chain::Digest> proof;
    if (old.size > 0 && old.size < cp->size) {
      auto p = c.GetConsistencyProof(tenant, old.size, cp->size);
      if (!p.ok()) return Fail(cmd, "GetConsistencyProof", p.status());
      auto h = client::ProofHashes(p->hashes());
      if (!h.ok()) {
        finding(std::string(h.status().message()));
        break;
      }
      proof = *std::move(h);
    }
    if (auto s = client::CheckExtends(old, *cp, proof); !s.ok()) {
      finding(absl::StrCat(name, ": ", s.message()));
    } else {
      res.notes.push_back(absl::StrCat(name, " (size ", old.size,
                                       "): extended by the served checkpoint"));
    }
  }

  // Stream the records after the start up to the served size.
  bool unknown_leaf = false;
  // The retention policies recorded in the chain judge its pruned records
  // (docs/VERIFY.md, "Retention"): only with the whole chain at hand.
  check::PolicyHistory policies(tenant);
  uint64_t last_received_at = 0;
  if (res.findings.empty()) {
    res.size = cp->size;
    uint64_t next = res.from;
    while (next <= cp->size && res.findings.empty() && !unknown_leaf) {
      const uint64_t before = next;
      absl::Status s = c.ReadRecords(
          tenant, next, cp->size - next + 1, [&](const v1::Record& r) {
            if (r.seq() != next) {
              finding(absl::StrCat("expected seq ", next, ", the server sent ", r.seq()));
              return false;
            }
            chain::Digest body, entry;
            if (!chain::DigestFromBytes(r.body_digest(), &body) ||
                !chain::DigestFromBytes(r.entry_hash(), &entry)) {
              finding(absl::StrCat("seq ", next, ": malformed hashes"));
              return false;
            }
            if (!r.pruned() && chain::BodyDigest(r.salt(), r.canonical_event()) != body) {
              finding(absl::StrCat("seq ", next, ": body_digest does not match the body"));
              return false;
            }
            if (chain::EntryHash(tenant, r.seq(), r.received_at_ns(), prev, body) != entry) {
              finding(absl::StrCat("seq ", next, ": entry_hash does not link to seq ",
                                   next - 1));
              return false;
            }
            if (!r.pruned()) {
              if (std::string problem =
                      policies.AddRecord(r.seq(), r.received_at_ns(), r.canonical_event());
                  !problem.empty()) {
                finding(absl::StrCat("seq ", next, ": ", problem));
                return false;
              }
              // A key rotation record: its statement is followed from here on.
              std::string statement;
              if (std::string problem =
                      check::FollowKeyRotation(r.canonical_event(), &trusted, &statement);
                  !problem.empty()) {
                finding(absl::StrCat("seq ", next, ": ", problem));
                return false;
              }
              if (!statement.empty()) {
                followed.push_back(statement);
                res.notes.push_back(absl::StrCat("seq ", next, ": key rotation followed"));
              }
            }
            if (r.pruned()) {
              if (!r.has_leaf_category()) {
                // A server that keeps no category with its leaves.
                unknown_leaf = true;
                res.notes.push_back(absl::StrCat(
                    "seq ", next, " is pruned and the server sent no leaf_category: its "
                    "leaf cannot be recomputed; the tree is not verified"));
                return false;
              }
              range.Append(chain::LeafHash(entry, r.leaf_category()));
              policies.AddPruned(r.seq(), r.received_at_ns(), r.leaf_category());
              ++res.pruned;
            } else {
              range.Append(chain::LeafHash(
                  entry, r.event().category().empty() ? "access" : r.event().category()));
            }
            prev = entry;
            last_received_at = r.received_at_ns();
            ++next;
            return true;
          });
      if (!s.ok()) return Fail(cmd, "ReadRecords", s);
      if (next == before && res.findings.empty() && !unknown_leaf) {
        finding(absl::StrCat("the server sent no record ", next, " of ", cp->size));
      }
    }
    res.to = next - 1;
    if (res.findings.empty() && !unknown_leaf) {
      res.root = range.Root();
      res.head = prev;
      if (res.root != cp->root) {
        finding(absl::StrCat("recomputed root(", cp->size, ") ", chain::ToHex(res.root),
                             " is not the served checkpoint's ", chain::ToHex(cp->root)));
        if (res.pruned > 0) {
          if (auto s = NamePrunedLeaves(c, tenant, res.from, *cp, &res.findings); !s.ok()) {
            return Fail(cmd, "naming pruned leaves", s);
          }
        }
      } else if (prev != cp->chain_head) {
        finding(absl::StrCat("recomputed chain head at seq ", cp->size,
                             " is not the served checkpoint's"));
      } else if (res.from == 1 && res.pruned == res.to && ServerSaysPurged(c, tenant)) {
        // Every body is gone and the server says the tenant was purged: its
        // bodies were erased by the purge, which its deletion certificate
        // proves (verify-certificate), not pruned under a retention policy.
        res.notes.push_back(
            "tenant purged: every body was erased by the purge; retention not judged "
            "(check its deletion certificate with verify-certificate)");
      } else if (res.from == 1) {
        // A body could have gone until now: the later of this machine's
        // clock and the chain's newest time.
        const uint64_t now = std::max<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count(),
            last_received_at);
        for (const check::PolicyHistory::Early& e : policies.Finish(now)) {
          finding(absl::StrCat("seq ", e.seq, ": early_prune: ", e.detail));
        }
      } else if (res.pruned > 0) {
        res.notes.push_back(absl::StrCat(
            "retention not judged: resumed after seq ", res.from - 1,
            ", the policies recorded before it were not fetched"));
      }
    }
  }

  // The served checkpoint's signature, under the keys the chain led to.
  std::string untrusted;
  if (signature_pending && res.findings.empty() && !unknown_leaf) {
    auto v = VerifyCheckpointNote(trusted, served->note());
    if (client::IsSignedByNoTrustedKey(v.status())) {
      untrusted = std::string(ToStd(v.status().message()));
      res.notes.push_back(absl::StrCat("served checkpoint: ", untrusted));
    } else if (!v.ok()) {
      finding(absl::StrCat("served checkpoint: ", v.status().message()));
    }
  }
  const bool verified =
      res.findings.empty() && !unknown_leaf && below_quorum.empty() && untrusted.empty();
  if (verified && !remote.state.empty()) {
    for (const std::string& statement : followed) {
      if (auto r = chain::VerifyKeyRotation(statement); r.ok()) {
        state.AddLearnedKey({r->new_key, statement});
      }
    }
    state.Put({served->note(), *cp, range.hashes()});
    if (auto s = state.Save(remote.state); !s.ok()) return Fail(cmd, "--state", s);
  }
  if (json) {
    nlohmann::ordered_json j;
    j["command"] = "check";
    j["remote"] = remote.target;
    j["tenant"] = tenant;
    j["verified"] = verified;
    j["records_from"] = res.from;
    j["records_to"] = res.to;
    j["records_pruned"] = res.pruned;
    j["tree_size"] = res.size;
    j["root_hash"] = chain::ToHex(res.root);
    j["findings"] = res.findings;
    j["notes"] = res.notes;
    if (quorum) {
      nlohmann::ordered_json names = nlohmann::ordered_json::array();
      for (const auto& w : quorum->cosigned) names.push_back(w.name);
      j["witnesses"] = {{"quorum", quorum->quorum},
                        {"cosigned", names},
                        {"missing", quorum->missing},
                        {"met", quorum->met()}};
    }
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "tenant " << tenant << " at " << remote.target << ": ";
    if (res.to >= res.from) {
      std::cout << "records " << res.from << ".." << res.to << " fetched (" << res.pruned
                << " pruned)\n";
    } else {
      std::cout << "no records fetched (nothing after seq " << res.from - 1 << ")\n";
    }
    for (const std::string& n : res.notes) std::cout << "  " << n << "\n";
    for (const std::string& f : res.findings) std::cout << "  FINDING: " << f << "\n";
    if (verified) {
      std::cout << "VERIFIED: chain and tree of " << res.size
                << " records; root " << chain::ToHex(res.root)
                << " equals the served checkpoint signed by a trusted key"
                << (quorum ? absl::StrCat(" and cosigned by ", quorum->cosigned.size(),
                                          " of the ", quorum->quorum, " witnesses required")
                           : "")
                << "\n";
    } else if (res.findings.empty() && !untrusted.empty()) {
      std::cout << "NOT VERIFIED: the served checkpoint is signed by no trusted key\n";
    } else if (res.findings.empty() && !below_quorum.empty()) {
      std::cout << "NOT VERIFIED: the served checkpoint is " << below_quorum << "\n";
    } else if (res.findings.empty()) {
      std::cout << "NOT VERIFIED: the tree could not be recomputed\n";
    } else {
      std::cout << "FINDINGS: " << res.findings.size() << "\n";
    }
  }
  if (!res.findings.empty()) return kExitFindings;
  return verified ? kExitVerified : kExitNoTrustedKey;
}

}  // namespace indelible::verify
