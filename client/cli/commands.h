// The subcommands of `indelible`, each a function from parsed flags to an
// exit code (exit_codes.h). cli.cc owns the command line; these own the
// talking to the server (for keygen and purge, the files they write) and the
// printing.
// Results go to `out`, diagnostics ("indelible: error: ...") to `err`.
#ifndef INDELIBLE_CLIENT_CLI_COMMANDS_H_
#define INDELIBLE_CLIENT_CLI_COMMANDS_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client/admin_client.h"
#include "client/client.h"
#include "indelible/v1/indelible.pb.h"

namespace indelible::cli {

struct AppendFlags {
  bool from_stdin = false;  // --stdin or the argument "-"
  bool json = false;        // single event: print the receipt as JSON
  size_t batch_size = 500;  // --stdin: events per AppendBatch call
  int retries = 5;          // resends of a call client::IsRetryableAppendError
  // The event (single mode); `tenant` is also the default tenant of --stdin
  // lines that have none.
  std::string tenant, event_id, actor_id, actor_type, actor_ip, action,
      resource_type, resource_id, reason, outcome, source, category;
  std::optional<std::string> occurred_at;  // RFC 3339 or integer ns
  std::vector<std::string> meta;           // "key=value"
};

struct HeadFlags {
  std::string tenant;
  bool json = false;
};

struct ReadFlags {
  std::string tenant;
  std::string reason;  // recorded by a daemon with auth
  uint64_t from = 1;
  uint64_t limit = 0;  // 0: every record from `from` on
  bool json = false;
};

struct CheckpointFlags {
  std::string tenant;
  std::string reason;
  uint64_t min_seq = 0;           // 0: the newest checkpoint
  std::vector<std::string> keys;  // verifier-key strings; empty: no check
  bool json = false;
  bool v2 = false;              // a format v2 (tlog-checkpoint) checkpoint
  std::string consistent_with;  // a kept v2 note file; implies v2
};

struct VerifyReceiptFlags {
  std::string input;              // a file, or "-"/empty for stdin
  std::vector<std::string> keys;  // trusted log verifier keys
  // Key rotation statement files, followed from those keys (any order).
  std::vector<std::string> rotations;
  std::string state;              // trusted state file; empty: none
  std::chrono::milliseconds wait{0};  // how long to wait for a checkpoint
  bool json = false;
  // A witness policy (verifier/chain/witness_policy.h): --witness VKEY...
  // with --quorum K (0: all of them), or --witness-policy FILE.
  std::vector<std::string> witnesses;
  size_t quorum = 0;
  std::string witness_policy;
  // Accept a quorum that is no majority of the witnesses (split views).
  bool allow_minority_quorum = false;
};

struct ProveFlags {
  std::string tenant;
  uint64_t seq = 0;        // inclusion proof of this record ...
  uint64_t tree_size = 0;  // ... in this tree (0: newest checkpoint's)
  uint64_t old_size = 0;   // consistency proof from this size ...
  uint64_t new_size = 0;   // ... to this one (0: newest checkpoint's)
  bool json = false;
};

struct PublicKeyFlags {
  bool pem = false;
  bool json = false;
};

// `rotation-statement`: the key names default to the daemon's key_name.
struct RotationStatementFlags {
  std::string old_key, new_key, log_name;
  std::string old_key_name = "indelible", new_key_name = "indelible";
};

struct KeygenFlags {
  std::string out;  // the private key; the public PEM goes to out + ".pub"
  bool force = false;
};

// `admin ...`: every change names who asks and why (--actor, --reason), both
// required and non-empty (cli.cc checks), recorded in the tenant's chain.
struct RetentionSetFlags {
  std::string tenant, category, retention, actor, reason;
  bool json = false;
};

struct RetentionGetFlags {
  std::string tenant;
  std::vector<std::string> categories;  // empty: the server's choice
  bool json = false;
};

struct HoldFlags {
  std::string tenant, actor, reason;
  bool place = false;  // true: --place, false: --lift
  bool json = false;
};

struct PurgeFlags {
  std::string tenant, actor, reason;
  std::string out;  // the deletion certificate
  bool yes = false;
  bool json = false;
};

struct CompactFlags {
  bool json = false;
};

struct ApproveFlags {
  std::string request_id, actor, reason;
  bool json = false;
};

struct PendingFlags {
  std::string tenant;  // empty: every tenant the caller may see
  bool json = false;
};

// Prints a change that waits for a second admin (two-person rule) and
// returns kExitPending.
int ReportPending(const ::indelible::v1::PendingApproval& pending, bool json, std::ostream& out);

// `admin approve`: carries out a pending request as the second admin and
// prints what took effect (a purge's certificate goes to stdout).
int RunApprove(client::AdminClient& admin, const ApproveFlags& flags, std::ostream& out,
               std::ostream& err);

// `admin pending`: lists the requests waiting for approval.
int RunPending(client::AdminClient& admin, const PendingFlags& flags, std::ostream& out,
               std::ostream& err);

struct HealthFlags {
  std::string target;
  std::string service;  // "" = the whole daemon
  std::chrono::milliseconds deadline{10000};
  std::shared_ptr<grpc::ChannelCredentials> credentials;  // null: plaintext
  std::string bearer_token;
};

// `health`: prints SERVING, NOT_SERVING, ... and exits 0 only for SERVING
// (kExitNotServing otherwise, kExitUnavailable if nothing answers).
int RunHealth(const HealthFlags& flags, std::ostream& out, std::ostream& err);

// `token new`: prints a fresh random bearer token and the SHA-256 line for
// the daemon's auth.tokens. Talks to no server.
int RunTokenNew(const std::string& principal, std::ostream& out, std::ostream& err);

struct BackupFlags {
  std::string label;
  std::string reason;
  bool json = false;
};

struct RestoreFlags {
  std::string from;      // as given, to repeat in the pointer to the new command
  std::string data_dir;
  bool json = false;
};

// Single mode: builds one event from the flags (generating an event_id if
// none is given) and prints its receipt.
// --stdin mode: reads JSON lines (event_json.h) from `in` and appends them in
// batches of at most `batch_size` events and client::kMaxRequestBytes
// encoded bytes, printing one receipt JSON line per event. Blank
// lines are skipped. At a malformed line, the events of the lines before it
// are sent and answered, then the line is reported by number and nothing
// from it on is sent (kExitRejected); so is an event too large for any
// request. A batch the server rejects is reported
// with its first and last line numbers; nothing after it is sent.
// Both modes resend a call that failed with an error a retry may cure
// (client::IsRetryableAppendError: unavailable, deadline, busy) up to
// `retries` times with the same events, after a jittered exponential
// backoff (10 ms doubling to 1 s), and say so on `err`.
int RunAppend(client::Client& client, const AppendFlags& flags,
              std::istream& in, std::ostream& out, std::ostream& err);

int RunHead(client::Client& client, const HeadFlags& flags, std::ostream& out,
            std::ostream& err);

// Pages through ReadRecords until `limit` records (or all) are printed.
int RunRead(client::Client& client, const ReadFlags& flags, std::ostream& out,
            std::ostream& err);

// Fetches a checkpoint (newest, or the oldest at or after `min_seq`) and
// prints its signed note byte for byte as served, so the output can be kept
// as a file and given to `indelible-verify check --checkpoint`; with `json`,
// one object with the note and its fields (CheckpointToJson). Before anything
// is printed the note must parse, be of `tenant`, reach `min_seq` and agree
// with the fields the server sent beside it; with `keys` it must also carry a
// valid signature by one of them (chain::VerifyCheckpoint). A note that fails
// is reported as DATA_LOSS and the exit code is kExitRejected. A key that
// does not parse is a usage error, found before anything is sent.
int RunCheckpoint(client::Client& client, const CheckpointFlags& flags,
                  std::ostream& out, std::ostream& err);

// Prints the server's checkpoint key: the verifier-key string (one line),
// with `pem` the SubjectPublicKeyInfo PEM, with `json` every field
// (PublicKeyToJson). The fields must describe one key (the verifier key
// parses, and its name, id and public key are those of key_name, key_id_hex
// and the PEM); otherwise DATA_LOSS and kExitRejected.
// Format v2 `checkpoint --v2` and `checkpoint --consistent-with OLD`: the
// newest v2 checkpoint (or the oldest of at least min_seq leaves), its note
// printed as served (with `json`, its fields too). With `consistent_with`
// the keys are required (none: kExitRejected, nothing fetched), both notes
// must verify under them, and the new tree must extend the kept one by a
// consistency proof fetched from the server (client::CheckExtends);
// otherwise kExitNotVerified.
int RunCheckpointV2(client::Client& client, const CheckpointFlags& flags,
                    std::ostream& out, std::ostream& err);

// `verify-receipt`: reads receipt JSON objects (ReceiptFromJson; one per
// line, as `append --json` and `append --stdin` print them) and verifies
// each with client::LogVerifier. kExitOk if all verify; kExitNotVerified if
// one does not (or the server is inconsistent with the trusted state);
// kExitRejected without a key (nothing is read or fetched), for a
// checkpoint signed by no trusted key (client::IsSignedByNoTrustedKey; the
// --rotation statements are followed first), or if no checkpoint covers a
// receipt within `wait`; kExitUsage for input that is not a receipt, or a
// --rotation statement that does not verify or that no trusted key leads
// to.
int RunVerifyReceipt(client::Client& client, const VerifyReceiptFlags& flags,
                     std::istream& in, std::ostream& out, std::ostream& err);

// `prove`: prints an inclusion (seq) or consistency (old_size) proof as the
// proof file (client::FormatProofFile), or with `json` one object with the
// sizes and the hashes. The proof is not verified (verify-receipt and
// checkpoint --consistent-with do that).
int RunProve(client::Client& client, const ProveFlags& flags, std::ostream& out,
             std::ostream& err);

int RunPublicKey(client::Client& client, const PublicKeyFlags& flags,
                 std::ostream& out, std::ostream& err);

// Generates an Ed25519 key with chain::LoadSigningKey: the PKCS#8 PEM goes to
// `out` (mode 0600, created with O_EXCL), the public PEM to `out` + ".pub"
// (mode 0644, subject to the umask) and to `out`. Without `force`, if either
// file exists nothing is written (ALREADY_EXISTS, kExitRejected); with it,
// each is written beside its final name and renamed over it. Talks to no
// server.
int RunKeygen(const KeygenFlags& flags, std::ostream& out, std::ostream& err);

// Prints a key rotation statement (docs/FORMAT.md section 14) signed by the
// keys of the two private key files. Talks to no server.
int RunRotationStatement(const RotationStatementFlags& flags, std::ostream& out,
                         std::ostream& err);

// Sets a retention; prints the receipt of the recorded change and the
// retention it replaced (with `json`, RetentionChangeToJson).
int RunRetentionSet(client::AdminClient& admin, const RetentionSetFlags& flags,
                    std::ostream& out, std::ostream& err);

// Prints the retention of each category (a table, or RetentionToJson), the
// tenant's legal hold and its default retention.
int RunRetentionGet(client::AdminClient& admin, const RetentionGetFlags& flags,
                    std::ostream& out, std::ostream& err);

// Places or lifts a legal hold; prints the receipt of the recorded change.
int RunHold(client::AdminClient& admin, const HoldFlags& flags,
            std::ostream& out, std::ostream& err);

// Purges a tenant. Without `yes` nothing is sent (kExitUsage: the purge is
// irreversible). `out` is created (O_EXCL, mode 0644 less the umask) before
// the request is sent, so an existing file stops the purge (ALREADY_EXISTS,
// kExitRejected) and an unwritable place stops it too; if the purge fails the
// empty file is removed. On success the certificate is written to it byte
// for byte as received and synced, and the final seq, head and time are
// printed (with `json`, PurgeToJson). The note is then checked against the
// request and the fields sent beside it (a deletion certificate of `tenant`
// with those seq, head and time); one that disagrees is kept in the file but
// reported as DATA_LOSS, kExitRejected. If the file cannot be written after
// the purge, the certificate is printed to `out` instead and the exit code
// is kExitError.
int RunPurge(client::AdminClient& admin, const PurgeFlags& flags,
             std::ostream& out, std::ostream& err);

// Runs the retention compaction now and prints the daemon's counters.
int RunCompact(client::AdminClient& admin, const CompactFlags& flags,
               std::ostream& out, std::ostream& err);

// Asks the daemon for a backup (Admin.Backup) and prints where it went and
// the heads it holds (with `json`, BackupToJson).
int RunBackup(client::AdminClient& admin, const BackupFlags& flags,
              std::ostream& out, std::ostream& err);

// `restore` moved to `indelible-verify restore` (this command never opens a
// store, so it does not link RocksDB): says so, repeating the paths given,
// and returns kExitUsage.
int RunRestore(const RestoreFlags& flags, std::ostream& err);

}  // namespace indelible::cli

#endif  // INDELIBLE_CLIENT_CLI_COMMANDS_H_
