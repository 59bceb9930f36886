#include "client/cli/cli.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/admin_client.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/time_text.h"
#include "client/client.h"
#include "client/credentials.h"
#include "verifier/chain/text.h"

namespace indelible::cli {
namespace {

struct GlobalFlags {
  std::string target = kDefaultTarget;
  std::string timeout = "10s";
  client::TlsFiles tls;
  bool tls_on = false;
  std::string token_file;
};

// Channel credentials and bearer token from the global flags.
struct Credentials {
  std::shared_ptr<grpc::ChannelCredentials> channel;  // null: plaintext
  std::string token;
};

absl::StatusOr<Credentials> LoadCredentials(const GlobalFlags& g) {
  Credentials c;
  if (g.tls_on || !g.tls.ca_file.empty() || !g.tls.cert_file.empty()) {
    auto creds = client::TlsCredentials(g.tls);
    if (!creds.ok()) return creds.status();
    c.channel = *creds;
  }
  if (!g.token_file.empty()) {
    auto token = client::ReadTokenFile(g.token_file);
    if (!token.ok()) return token.status();
    c.token = *token;
  }
  return c;
}

struct AppendOptions {
  std::string input;  // the positional argument: only "-" is accepted
  std::string occurred_at;
  CLI::Option* occurred_at_opt = nullptr;
  std::vector<CLI::Option*> event_opts;  // flags that describe one event
};

CLI::App* AddAppend(CLI::App& app, AppendFlags* f, AppendOptions* o) {
  CLI::App* cmd = app.add_subcommand(
      "append",
      "Append one event built from flags, or JSON lines from stdin "
      "(--stdin or '-'), and print the receipts");
  cmd->add_option("input", o->input, "'-' reads JSON lines from stdin");
  cmd->add_flag("--stdin", f->from_stdin,
                "Read one JSON event per line from stdin (docs/CLI.md)");
  cmd->add_flag("--json", f->json, "Print the receipt as JSON");
  cmd->add_option("--batch-size", f->batch_size,
                  "Most events per AppendBatch call with --stdin (fewer to keep a "
                  "call under the daemon's 16 MiB message limit)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  cmd->add_option("--retries", f->retries,
                  "Resends of a call that failed unavailable, past its "
                  "deadline or busy, with the same event ids (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 20));
  cmd->add_option("--tenant", f->tenant,
                  "Tenant id (with --stdin: for lines without one)");
  auto ev = [&](const char* name, std::string* dst, const char* help) {
    o->event_opts.push_back(cmd->add_option(name, *dst, help));
  };
  ev("--event-id", &f->event_id, "Idempotency key (default: a new UUIDv7)");
  ev("--actor-id", &f->actor_id, "Who acted (required)");
  ev("--actor-type", &f->actor_type, "e.g. user, service");
  ev("--actor-ip", &f->actor_ip, "IPv4 or IPv6 address of the actor");
  ev("--action", &f->action, "What was done, e.g. customer.read (required)");
  ev("--resource-type", &f->resource_type, "Type of the resource acted on");
  ev("--resource-id", &f->resource_id, "Id of the resource acted on");
  ev("--reason", &f->reason, "Why");
  ev("--outcome", &f->outcome, "e.g. allowed, denied, success");
  ev("--source", &f->source, "Emitting service");
  ev("--category", &f->category, "Retention class (server default: access)");
  o->occurred_at_opt = cmd->add_option(
      "--occurred-at", o->occurred_at,
      "When it happened: RFC 3339 or integer ns (default: server's now)");
  o->event_opts.push_back(o->occurred_at_opt);
  o->event_opts.push_back(
      cmd->add_option("--meta", f->meta, "Metadata key=value (repeatable)")
          ->allow_extra_args(false));
  return cmd;
}

CLI::App* AddHead(CLI::App& app, HeadFlags* f) {
  CLI::App* cmd =
      app.add_subcommand("head", "Print the newest record of a tenant's chain");
  cmd->add_option("--tenant", f->tenant, "Tenant id")->required();
  cmd->add_flag("--json", f->json, "Print JSON");
  return cmd;
}

CLI::App* AddRead(CLI::App& app, ReadFlags* f) {
  CLI::App* cmd =
      app.add_subcommand("read", "Print a tenant's records in seq order");
  cmd->add_option("--tenant", f->tenant, "Tenant id")->required();
  cmd->add_option("--from", f->from, "First seq")->capture_default_str();
  cmd->add_option("--limit", f->limit, "Most records to print (0: all)")
      ->capture_default_str();
  cmd->add_flag("--json", f->json,
                "One JSON object per record, with every field");
  cmd->add_option("--reason", f->reason,
                  "Why you read (recorded in the tenant's chain; required by a "
                  "daemon with auth enabled)");
  return cmd;
}

CLI::App* AddCheckpoint(CLI::App& app, CheckpointFlags* f) {
  CLI::App* cmd = app.add_subcommand(
      "checkpoint",
      "Print a signed checkpoint of a tenant's chain, as served (save it for "
      "indelible-verify check --checkpoint)");
  cmd->add_option("--tenant", f->tenant, "Tenant id")->required();
  cmd->add_option("--min-seq", f->min_seq,
                  "The oldest checkpoint at or after this seq (0: the newest)")
      ->capture_default_str();
  cmd->add_option("--key", f->keys,
                  "Verifier key (name+id+key, from 'indelible public-key'); "
                  "fail unless the note is signed by it (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--json", f->json, "Print the note and its fields as JSON");
  cmd->add_option("--reason", f->reason,
                  "Why you fetch it (recorded like read --reason)");
  cmd->add_flag("--v2", f->v2,
                "A format v2 checkpoint of the tenant's Merkle tree "
                "(tlog-checkpoint); --min-seq is then a tree size");
  cmd->add_option("--consistent-with", f->consistent_with,
                  "A kept v2 checkpoint (note file): verify that the new one "
                  "extends it, by a consistency proof (needs --key; exit 1 if "
                  "not)");
  cmd->add_option("--verifier-key", f->keys, "Same as --key")
      ->allow_extra_args(false);
  return cmd;
}

CLI::App* AddVerifyReceipt(CLI::App& app, VerifyReceiptFlags* f,
                           std::string* wait) {
  CLI::App* cmd = app.add_subcommand(
      "verify-receipt",
      "Verify receipts (the JSON 'append --json' prints, one per line) by an "
      "inclusion proof in a checkpoint signed by the trusted key (and, with "
      "a witness policy, cosigned by its quorum). Exit 0: verified, 1: not "
      "verified, 3: no trusted key, a checkpoint signed by no trusted key, "
      "no checkpoint yet, or the checkpoint below the witness quorum");
  cmd->add_option("input", f->input, "Receipt file ('-' or none: stdin)");
  cmd->add_option("--verifier-key,--key", f->keys,
                  "Trusted log verifier key (name+id+key; repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--rotation", f->rotations,
                  "A key rotation statement file (docs/FORMAT.md section 14) from a "
                  "trusted key: its new key is trusted too (repeatable, any order)")
      ->allow_extra_args(false);
  cmd->add_option("--state", f->state,
                  "Trusted state file: every newer checkpoint must extend it "
                  "(created if missing, updated atomically)");
  cmd->add_option("--wait", *wait,
                  "Wait up to this long for a checkpoint covering the receipt "
                  "(the daemon signs periodically), e.g. 30s")
      ->capture_default_str();
  cmd->add_flag("--json", f->json, "One JSON object per receipt");
  cmd->add_option("--witness", f->witnesses,
                  "A trusted witness's verifier key (name+id+base64); repeat "
                  "for each witness");
  cmd->add_option("--quorum", f->quorum,
                  "How many distinct --witness must have cosigned the checkpoint "
                  "(default: all of them)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--witness-policy", f->witness_policy,
                  "A witness policy file (docs/WITNESS.md) instead of --witness "
                  "and --quorum");
  cmd->add_flag("--allow-minority-quorum", f->allow_minority_quorum,
                "Accept a quorum of at most half the witnesses (refused by default, "
                "exit 2: two views of one size could each reach it)");
  return cmd;
}

CLI::App* AddProve(CLI::App& app, ProveFlags* f) {
  CLI::App* cmd = app.add_subcommand(
      "prove",
      "Print an inclusion proof (--seq) or a consistency proof (--old-size) "
      "of a tenant's Merkle tree: one base64 hash per line (docs/VERIFY.md)");
  cmd->add_option("--tenant", f->tenant, "Tenant id")->required();
  cmd->add_option("--seq", f->seq, "Inclusion proof of this record");
  cmd->add_option("--tree-size", f->tree_size,
                  "In the tree of this size (default: the newest checkpoint's)");
  cmd->add_option("--old-size", f->old_size, "Consistency proof from this size");
  cmd->add_option("--new-size", f->new_size,
                  "To this size (default: the newest checkpoint's)");
  cmd->add_flag("--json", f->json, "Print the sizes and hashes as JSON");
  return cmd;
}

CLI::App* AddPublicKey(CLI::App& app, PublicKeyFlags* f) {
  CLI::App* cmd = app.add_subcommand(
      "public-key",
      "Print the server's checkpoint key as a verifier-key string");
  CLI::Option* pem =
      cmd->add_flag("--pem", f->pem, "Print the public key PEM instead");
  cmd->add_flag("--json", f->json, "Print every field as JSON")->excludes(pem);
  return cmd;
}

CLI::App* AddKeygen(CLI::App& app, KeygenFlags* f) {
  CLI::App* cmd = app.add_subcommand(
      "keygen",
      "Generate an Ed25519 signing key into FILE (mode 0600) and FILE.pub, "
      "and print the public key PEM (no server needed)");
  cmd->add_option("--out", f->out, "Private key file (PKCS#8 PEM)")->required();
  cmd->add_flag("--force", f->force, "Replace FILE and FILE.pub if they exist");
  return cmd;
}

CLI::App* AddRotationStatement(CLI::App& app, RotationStatementFlags* f) {
  CLI::App* cmd = app.add_subcommand(
      "rotation-statement",
      "Print the statement that hands the daemon's signing from --old-key to --new-key, "
      "signed by both (docs/OPERATIONS.md; no server needed)");
  cmd->add_option("--old-key", f->old_key, "The key the daemon signs with now (PKCS#8 PEM)")
      ->required();
  cmd->add_option("--new-key", f->new_key, "The key it is to sign with (PKCS#8 PEM)")
      ->required();
  cmd->add_option("--log-name", f->log_name,
                  "The daemon's log_name (indelible.local when it has none)")
      ->required();
  cmd->add_option("--old-key-name", f->old_key_name, "key_name the old key signed under")
      ->capture_default_str();
  cmd->add_option("--new-key-name", f->new_key_name, "key_name the new key signs under")
      ->capture_default_str();
  return cmd;
}

CLI::App* AddBackup(CLI::App& app, BackupFlags* f) {
  CLI::App* cmd = app.add_subcommand(
      "backup",
      "Have the daemon take a consistent backup into its backup.dir while it "
      "keeps serving, and print where it went (default --timeout 5m)");
  cmd->add_option("--label", f->label,
                  "Appended to the backup's name: [a-z0-9._-], at most 64");
  cmd->add_option("--reason", f->reason,
                  "Why: recorded with the backup in every tenant's chain (required "
                  "when the daemon requires read reasons)");
  cmd->add_flag("--json", f->json, "Print JSON");
  return cmd;
}

CLI::App* AddRestore(CLI::App& app, RestoreFlags* f) {
  CLI::App* cmd = app.add_subcommand(
      "restore", "Moved: run indelible-verify restore --from BACKUP --data-dir NEW_DIR");
  cmd->add_option("--from", f->from, "Backup directory");
  cmd->add_option("--data-dir", f->data_dir, "Data directory to create");
  cmd->add_flag("--json", f->json, "Print JSON");
  return cmd;
}

struct AdminFlags {
  RetentionSetFlags retention_set;
  RetentionGetFlags retention_get;
  HoldFlags hold;
  bool lift = false;
  PurgeFlags purge;
  CompactFlags compact;
  ApproveFlags approve;
  PendingFlags pending;
};

struct AdminCommands {
  CLI::App* admin = nullptr;
  CLI::App* retention_set = nullptr;
  CLI::App* retention_get = nullptr;
  CLI::App* hold = nullptr;
  CLI::App* purge = nullptr;
  CLI::App* compact = nullptr;
  CLI::App* approve = nullptr;
  CLI::App* pending = nullptr;
};

// --actor and --reason, recorded in the tenant's chain. --actor is required
// by a daemon without auth; with auth the daemon records the authenticated
// principal (and a different --actor beside it).
void AddWho(CLI::App* cmd, std::string* actor, std::string* reason) {
  cmd->add_option("--actor", *actor,
                  "Who asks (recorded in the tenant's chain; required unless the "
                  "daemon authenticates you)");
  cmd->add_option("--reason", *reason,
                  "Why, e.g. a ticket (required; recorded in the tenant's "
                  "chain)")
      ->required();
}

AdminCommands AddAdmin(CLI::App& app, AdminFlags* f) {
  AdminCommands c;
  c.admin = app.add_subcommand(
      "admin",
      "Retention, legal hold, tenant purge and compaction (Admin service; "
      "default --timeout 5m)");
  c.admin->require_subcommand(1);

  CLI::App* retention = c.admin->add_subcommand(
      "retention", "Set or show how long a tenant's records keep their bodies");
  retention->require_subcommand(1);
  c.retention_set = retention->add_subcommand(
      "set",
      "Set the retention of one category of a tenant (recorded in its "
      "chain)");
  RetentionSetFlags& rs = f->retention_set;
  c.retention_set->add_option("--tenant", rs.tenant, "Tenant id")->required();
  c.retention_set
      ->add_option("--category", rs.category, "Category, e.g. access, trace")
      ->required();
  c.retention_set
      ->add_option("--retention", rs.retention,
                   "How long, e.g. 30d, 24h (within the daemon's min and max)")
      ->required();
  AddWho(c.retention_set, &rs.actor, &rs.reason);
  c.retention_set->add_flag("--json", rs.json, "Print JSON");

  c.retention_get = retention->add_subcommand(
      "get", "Show a tenant's retention per category, legal hold and default");
  RetentionGetFlags& rg = f->retention_get;
  c.retention_get->add_option("--tenant", rg.tenant, "Tenant id")->required();
  c.retention_get
      ->add_option("--category", rg.categories,
                   "Only this category (repeatable; default: the configured "
                   "ones and the tenant's overrides)")
      ->allow_extra_args(false);
  c.retention_get->add_flag("--json", rg.json, "Print JSON");

  c.hold = c.admin->add_subcommand(
      "hold", "Place or lift a legal hold: no pruning and no purge while held");
  c.hold->add_option("--tenant", f->hold.tenant, "Tenant id")->required();
  CLI::Option* place =
      c.hold->add_flag("--place", f->hold.place, "Place the hold");
  c.hold->add_flag("--lift", f->lift, "Lift the hold")->excludes(place);
  AddWho(c.hold, &f->hold.actor, &f->hold.reason);
  c.hold->add_flag("--json", f->hold.json, "Print JSON");

  c.purge = c.admin->add_subcommand(
      "purge",
      "Delete every record of a tenant, irreversibly, and save the signed "
      "deletion certificate");
  PurgeFlags& p = f->purge;
  c.purge->add_option("--tenant", p.tenant, "Tenant id")->required();
  AddWho(c.purge, &p.actor, &p.reason);
  c.purge
      ->add_option("--out", p.out,
                   "Certificate file to create (must not exist)")
      ->required();
  c.purge->add_flag("--yes", p.yes, "Confirm: the purge cannot be undone");
  c.purge->add_flag("--json", p.json, "Print JSON");

  c.compact = c.admin->add_subcommand(
      "compact", "Run the retention compaction now and print its counters");
  c.compact->add_flag("--json", f->compact.json, "Print JSON");

  c.approve = c.admin->add_subcommand(
      "approve",
      "Approve another admin's pending purge, retention cut or hold lift "
      "(two-person rule); it takes effect now");
  c.approve->add_option("--request-id", f->approve.request_id, "From 'admin pending'")
      ->required();
  AddWho(c.approve, &f->approve.actor, &f->approve.reason);
  c.approve->add_flag("--json", f->approve.json, "Print JSON");

  c.pending = c.admin->add_subcommand(
      "pending", "List the requests waiting for a second admin");
  c.pending->add_option("--tenant", f->pending.tenant,
                        "Only this tenant (default: every tenant you may see)");
  c.pending->add_flag("--json", f->pending.json, "One JSON object per request");
  return c;
}

// Checks the admin flags CLI11 cannot express. Empty if fine.
std::string CheckAdmin(AdminFlags* f, const AdminCommands& c) {
  auto who = [](const char* cmd, const std::string& actor,
                const std::string& reason) -> std::string {
    (void)actor;  // the daemon decides whether it needs one
    if (reason.empty()) {
      return absl::StrCat(cmd, ": --reason must not be empty");
    }
    return "";
  };
  if (c.retention_set->parsed()) {
    return who("admin retention set", f->retention_set.actor,
               f->retention_set.reason);
  }
  if (c.hold->parsed()) {
    if (f->hold.place == f->lift) {
      return "admin hold: pass --place or --lift";
    }
    return who("admin hold", f->hold.actor, f->hold.reason);
  }
  if (c.purge->parsed()) {
    if (f->purge.out.empty()) return "admin purge: --out must not be empty";
    return who("admin purge", f->purge.actor, f->purge.reason);
  }
  if (c.approve->parsed()) {
    if (f->approve.request_id.empty()) return "admin approve: --request-id must not be empty";
    return who("admin approve", f->approve.actor, f->approve.reason);
  }
  return "";
}

// Checks the append flags CLI11 cannot express. Empty if fine.
std::string CheckAppend(AppendFlags* f, const AppendOptions& o) {
  if (!o.input.empty()) {
    if (o.input != "-") {
      return absl::StrCat("append: unexpected argument \"", o.input,
                          "\" (only '-' for stdin)");
    }
    f->from_stdin = true;
  }
  if (f->from_stdin) {
    for (const CLI::Option* opt : o.event_opts) {
      if (opt->count() > 0) {
        return absl::StrCat("append: ", opt->get_name(),
                            " cannot be combined with --stdin");
      }
    }
    if (f->json) return "append: --stdin always prints JSON lines; drop --json";
  }
  if (o.occurred_at_opt->count() > 0) f->occurred_at = o.occurred_at;
  return "";
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::istream& in,
           std::ostream& out, std::ostream& err) {
  CLI::App app{"indelible: append to and read from an Indelible audit log"};
  app.name("indelible");
  app.require_subcommand(1);
  app.fallthrough();  // global flags also work after the subcommand
  app.set_version_flag("--version", "indelible 0.1.0");

  GlobalFlags g;
  if (const char* env = std::getenv(kTargetEnv); env != nullptr && *env) {
    g.target = env;
  }
  app.add_option("--target", g.target,
                 absl::StrCat("Server address HOST:PORT (default: $",
                              kTargetEnv, ", else ", kDefaultTarget, ")"));
  app.add_flag("--tls", g.tls_on,
               "Use TLS (trusting the system CAs unless --tls-ca is given)");
  app.add_option("--tls-ca", g.tls.ca_file, "PEM CA bundle that signed the server's certificate");
  app.add_option("--tls-cert", g.tls.cert_file, "Client certificate for mutual TLS (PEM)");
  app.add_option("--tls-key", g.tls.key_file, "Its private key (PEM, mode 0600)");
  if (const char* env = std::getenv("INDELIBLE_TOKEN_FILE"); env != nullptr && *env) {
    g.token_file = env;
  }
  app.add_option("--token-file", g.token_file,
                 "File (mode 0600) holding a bearer token (default: "
                 "$INDELIBLE_TOKEN_FILE); never pass a token on the command line");
  CLI::Option* timeout_opt =
      app.add_option("--timeout", g.timeout,
                     "Deadline of each call, e.g. 10s, 500ms (admin "
                     "commands: 5m)")
          ->capture_default_str();

  AppendFlags append_flags;
  AppendOptions append_opts;
  HeadFlags head_flags;
  ReadFlags read_flags;
  CLI::App* append = AddAppend(app, &append_flags, &append_opts);
  CLI::App* head = AddHead(app, &head_flags);
  CLI::App* read = AddRead(app, &read_flags);
  CheckpointFlags checkpoint_flags;
  PublicKeyFlags public_key_flags;
  KeygenFlags keygen_flags;
  CLI::App* checkpoint = AddCheckpoint(app, &checkpoint_flags);
  CLI::App* public_key = AddPublicKey(app, &public_key_flags);
  CLI::App* keygen = AddKeygen(app, &keygen_flags);
  RotationStatementFlags rotation_flags;
  CLI::App* rotation = AddRotationStatement(app, &rotation_flags);
  VerifyReceiptFlags verify_receipt_flags;
  std::string verify_wait = "0s";
  CLI::App* verify_receipt =
      AddVerifyReceipt(app, &verify_receipt_flags, &verify_wait);
  ProveFlags prove_flags;
  CLI::App* prove = AddProve(app, &prove_flags);
  AdminFlags admin_flags;
  AdminCommands admin = AddAdmin(app, &admin_flags);
  HealthFlags health_flags;
  CLI::App* health = app.add_subcommand(
      "health", "Print the daemon's gRPC health status; exit 0 only if SERVING (for probes)");
  health->add_option("--service", health_flags.service,
                     "Service name to ask about (default: the whole daemon)");
  CLI::App* token = app.add_subcommand("token", "Bearer tokens for a daemon with auth");
  token->require_subcommand(1);
  std::string token_principal;
  CLI::App* token_new = token->add_subcommand(
      "new", "Print a new random token and the config line holding its SHA-256");
  token_new->add_option("--principal", token_principal, "Whom the token identifies")
      ->required();
  BackupFlags backup_flags;
  RestoreFlags restore_flags;
  CLI::App* backup = AddBackup(app, &backup_flags);
  CLI::App* restore = AddRestore(app, &restore_flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    std::string hint = "indelible";
    for (std::vector<CLI::App*> subs = app.get_subcommands(); !subs.empty();
         subs = subs.front()->get_subcommands()) {
      hint = absl::StrCat(hint, " ", subs.front()->get_name());
    }
    return UsageError(
        err, absl::StrCat(e.what(), "\nRun '", hint, " --help' for usage."));
  }

  absl::StatusOr<std::chrono::milliseconds> timeout = ParseTimeout(g.timeout);
  if (!timeout.ok()) {
    return UsageError(err,
                      absl::StrCat("--timeout: ", timeout.status().message()));
  }
  if (append->parsed()) {
    if (std::string why = CheckAppend(&append_flags, append_opts);
        !why.empty()) {
      return UsageError(err, why);
    }
  }
  if (verify_receipt->parsed()) {
    if (verify_wait != "0s") {
      absl::StatusOr<std::chrono::milliseconds> w = ParseTimeout(verify_wait);
      if (!w.ok()) {
        return UsageError(err, absl::StrCat("--wait: ", w.status().message()));
      }
      verify_receipt_flags.wait = *w;
    }
  }
  if (keygen->parsed()) return RunKeygen(keygen_flags, out, err);
  if (rotation->parsed()) return RunRotationStatement(rotation_flags, out, err);
  if (restore->parsed()) return RunRestore(restore_flags, err);
  if (token_new->parsed()) return RunTokenNew(token_principal, out, err);
  absl::StatusOr<Credentials> creds = LoadCredentials(g);
  if (!creds.ok()) return UsageError(err, std::string(creds.status().message()));
  // The Admin service, with the global flags; admin calls keep their 5m
  // default deadline unless --timeout is given.
  auto connect_admin = [&]() {
    client::AdminClientOptions options;
    options.target = g.target;
    options.credentials = creds->channel;
    options.bearer_token = creds->token;
    if (timeout_opt->count() > 0) options.deadline = *timeout;
    return client::AdminClient::Connect(options);
  };
  if (health->parsed()) {
    health_flags.target = g.target;
    health_flags.deadline = *timeout;
    health_flags.credentials = creds->channel;
    health_flags.bearer_token = creds->token;
    return RunHealth(health_flags, out, err);
  }
  if (backup->parsed()) {
    absl::StatusOr<std::unique_ptr<client::AdminClient>> a = connect_admin();
    if (!a.ok()) return ReportError(err, "connect", a.status());
    return RunBackup(**a, backup_flags, out, err);
  }

  if (admin.admin->parsed()) {
    if (std::string why = CheckAdmin(&admin_flags, admin); !why.empty()) {
      return UsageError(err, why);
    }
    absl::StatusOr<std::unique_ptr<client::AdminClient>> a = connect_admin();
    if (!a.ok()) return ReportError(err, "connect", a.status());
    if (admin.retention_set->parsed()) {
      return RunRetentionSet(**a, admin_flags.retention_set, out, err);
    }
    if (admin.retention_get->parsed()) {
      return RunRetentionGet(**a, admin_flags.retention_get, out, err);
    }
    if (admin.hold->parsed()) return RunHold(**a, admin_flags.hold, out, err);
    if (admin.purge->parsed()) {
      return RunPurge(**a, admin_flags.purge, out, err);
    }
    if (admin.compact->parsed()) {
      return RunCompact(**a, admin_flags.compact, out, err);
    }
    if (admin.approve->parsed()) return RunApprove(**a, admin_flags.approve, out, err);
    if (admin.pending->parsed()) return RunPending(**a, admin_flags.pending, out, err);
    return UsageError(err,
                      "no admin command given; run 'indelible admin "
                      "--help'");
  }

  client::ClientOptions options;
  options.target = g.target;
  options.deadline = *timeout;
  options.credentials = creds->channel;
  options.bearer_token = creds->token;
  if (read->parsed()) options.read_reason = read_flags.reason;
  if (checkpoint->parsed()) options.read_reason = checkpoint_flags.reason;
  absl::StatusOr<std::unique_ptr<client::Client>> c =
      client::Client::Connect(options);
  if (!c.ok()) return ReportError(err, "connect", c.status());

  if (append->parsed()) return RunAppend(**c, append_flags, in, out, err);
  if (head->parsed()) return RunHead(**c, head_flags, out, err);
  if (read->parsed()) return RunRead(**c, read_flags, out, err);
  if (checkpoint->parsed()) {
    if (checkpoint_flags.v2 || !checkpoint_flags.consistent_with.empty()) {
      return RunCheckpointV2(**c, checkpoint_flags, out, err);
    }
    return RunCheckpoint(**c, checkpoint_flags, out, err);
  }
  if (verify_receipt->parsed()) {
    return RunVerifyReceipt(**c, verify_receipt_flags, in, out, err);
  }
  if (prove->parsed()) return RunProve(**c, prove_flags, out, err);
  if (public_key->parsed()) {
    return RunPublicKey(**c, public_key_flags, out, err);
  }
  return UsageError(err, "no command given; run 'indelible --help'");
}

}  // namespace indelible::cli
