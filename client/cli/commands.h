// The subcommands of `indelible`, each a function from parsed flags to an
// exit code (exit_codes.h). cli.cc owns the command line; these own the
// talking to the server and the printing. Results go to `out`, diagnostics
// ("indelible: error: ...") to `err`.
#ifndef INDELIBLE_CLIENT_CLI_COMMANDS_H_
#define INDELIBLE_CLIENT_CLI_COMMANDS_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client/client.h"

namespace indelible::cli {

struct AppendFlags {
  bool from_stdin = false;  // --stdin or the argument "-"
  bool json = false;        // single event: print the receipt as JSON
  size_t batch_size = 500;  // --stdin: events per AppendBatch call
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
  uint64_t from = 1;
  uint64_t limit = 0;  // 0: every record from `from` on
  bool json = false;
};

// Single mode: builds one event from the flags (generating an event_id if
// none is given) and prints its receipt.
// --stdin mode: reads JSON lines (event_json.h) from `in` and appends them in
// batches of `batch_size`, printing one receipt JSON line per event. Blank
// lines are skipped. At a malformed line, the events of the lines before it
// are sent and answered, then the line is reported by number and nothing
// from it on is sent (kExitRejected). A batch the server rejects is reported
// with its first and last line numbers; nothing after it is sent.
int RunAppend(client::Client& client, const AppendFlags& flags,
              std::istream& in, std::ostream& out, std::ostream& err);

int RunHead(client::Client& client, const HeadFlags& flags, std::ostream& out,
            std::ostream& err);

// Pages through ReadRecords until `limit` records (or all) are printed.
int RunRead(client::Client& client, const ReadFlags& flags, std::ostream& out,
            std::ostream& err);

}  // namespace indelible::cli

#endif  // INDELIBLE_CLIENT_CLI_COMMANDS_H_
