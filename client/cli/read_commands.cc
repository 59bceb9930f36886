#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/output_json.h"
#include "client/cli/time_text.h"
#include "verifier/chain/hash.h"

namespace indelible::cli {
namespace {

namespace v1 = ::indelible::v1;

constexpr size_t kShortHash = 12;  // hex digits of entry_hash in the table

std::string Or(const std::string& s, const char* fallback) {
  return s.empty() ? fallback : s;
}

void PrintTableHeader(std::ostream& out) {
  out << absl::StrFormat("%-8s %-30s %-20s %-24s %-28s %-10s %s\n", "SEQ",
                         "RECEIVED_AT", "ACTOR", "ACTION", "RESOURCE",
                         "OUTCOME", "ENTRY_HASH");
}

void PrintTableRow(std::ostream& out, const v1::Record& r) {
  std::string actor = "(pruned)", action = "-", resource = "-", outcome = "-";
  if (!r.pruned() && r.has_event()) {
    const v1::Event& e = r.event();
    actor = Or(e.actor().id(), "-");
    action = Or(e.action(), "-");
    if (!e.resource().type().empty() || !e.resource().id().empty()) {
      resource = absl::StrCat(e.resource().type(), "/", e.resource().id());
    }
    outcome = Or(e.outcome(), "-");
  }
  out << absl::StrFormat("%-8d %-30s %-20s %-24s %-28s %-10s %s\n", r.seq(),
                         FormatTimestamp(r.received_at_ns()), actor, action,
                         resource, outcome,
                         chain::ToHex(r.entry_hash()).substr(0, kShortHash));
}

}  // namespace

int RunHead(client::Client& client, const HeadFlags& flags, std::ostream& out,
            std::ostream& err) {
  absl::StatusOr<v1::GetHeadResponse> h = client.GetHead(flags.tenant);
  if (!h.ok()) return ReportError(err, "head", h.status());
  if (flags.json) {
    out << JsonLine(HeadToJson(*h)) << "\n";
  } else {
    out << "tenant:      " << h->tenant() << "\n"
        << "seq:         " << h->seq() << "\n"
        << "head_hash:   " << chain::ToHex(h->head_hash()) << "\n"
        << "received_at: "
        << (h->seq() == 0 ? std::string("-")
                          : FormatTimestamp(h->received_at_ns()))
        << "\n";
  }
  out.flush();
  return kExitOk;
}

int RunRead(client::Client& client, const ReadFlags& flags, std::ostream& out,
            std::ostream& err) {
  uint64_t next = flags.from == 0 ? 1 : flags.from;
  uint64_t remaining = flags.limit;  // meaningful only when limit != 0
  bool header_printed = flags.json;  // the table header waits for success
  auto header = [&] {
    if (!header_printed) PrintTableHeader(out);
    header_printed = true;
  };
  // The server caps each call, so page until a call returns nothing (or the
  // limit is reached). Records must come in increasing seq order from `next`;
  // anything else would make paging loop or skip. Without a limit, read up
  // to the head as it was at the start: a daemon that records reads appends
  // one record per call, which would otherwise always leave a next page.
  if (flags.limit == 0) {
    absl::StatusOr<v1::GetHeadResponse> head = client.GetHead(flags.tenant);
    if (!head.ok()) return ReportError(err, "read", head.status());
    if (head->seq() < next) {
      header();
      out.flush();
      return kExitOk;
    }
    remaining = head->seq() - next + 1;
  }
  for (;;) {
    uint64_t got = 0;
    absl::Status bad_order;
    absl::Status s = client.ReadRecords(
        flags.tenant, next, remaining, [&](const v1::Record& r) {
          if (r.seq() < next) {
            bad_order = absl::DataLossError(absl::StrCat(
                "server sent seq ", r.seq(), " when ", next, " was next"));
            return false;
          }
          if (flags.json) {
            out << JsonLine(RecordToJson(r)) << "\n";
          } else {
            header();
            PrintTableRow(out, r);
          }
          next = r.seq() + 1;
          ++got;
          return --remaining > 0;
        });
    out.flush();
    if (!s.ok()) return ReportError(err, "read", s);
    if (!bad_order.ok()) return ReportError(err, "read", bad_order);
    if (got == 0 || remaining == 0) {
      header();
      out.flush();
      return kExitOk;
    }
  }
}

}  // namespace indelible::cli
