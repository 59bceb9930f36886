#include <chrono>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/event_json.h"
#include "client/cli/exit_codes.h"
#include "client/cli/output_json.h"
#include "client/cli/time_text.h"
#include "client/backoff.h"
#include "client/event_id.h"
#include "client/proofs.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/text.h"
#include "wire/event_mapper.h"

namespace indelible::cli {
namespace {

namespace v1 = ::indelible::v1;

// Builds the single event from flags. InvalidArgument names the flag.
absl::StatusOr<v1::Event> EventFromFlags(const AppendFlags& f) {
  if (f.tenant.empty())
    return absl::InvalidArgumentError("--tenant is required");
  if (f.actor_id.empty()) {
    return absl::InvalidArgumentError("--actor-id is required");
  }
  if (f.action.empty())
    return absl::InvalidArgumentError("--action is required");
  chain::EventFields fields;
  fields.tenant = f.tenant;
  fields.event_id = f.event_id;
  fields.actor_id = f.actor_id;
  fields.actor_type = f.actor_type;
  fields.actor_ip = f.actor_ip;
  fields.action = f.action;
  fields.resource_type = f.resource_type;
  fields.resource_id = f.resource_id;
  fields.reason = f.reason;
  fields.outcome = f.outcome;
  fields.source = f.source;
  fields.category = f.category;
  if (f.occurred_at.has_value()) {
    absl::StatusOr<uint64_t> ns = ParseTimestamp(*f.occurred_at);
    if (!ns.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--occurred-at: ", ns.status().message()));
    }
    fields.occurred_at_ns = *ns;
  }
  std::set<std::string> keys;
  for (const std::string& kv : f.meta) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--meta wants key=value, got \"", kv, "\""));
    }
    std::string key = kv.substr(0, eq);
    if (!keys.insert(key).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--meta: duplicate key \"", key, "\""));
    }
    fields.metadata.emplace_back(std::move(key), kv.substr(eq + 1));
  }
  return EventToProto(fields);
}

absl::Status EnsureEventId(v1::Event* e) {
  if (!e->event_id().empty()) return absl::OkStatus();
  absl::StatusOr<std::string> id = client::NewEventId();
  if (!id.ok()) return id.status();
  e->set_event_id(*std::move(id));
  return absl::OkStatus();
}

// Calls `send` until it succeeds, fails with an error a retry cannot cure,
// or `retries` resends are spent. The events keep their ids, so a resend of
// a call whose answer was lost is answered with the first receipts
// (duplicate), never stored twice. Each resend is announced on `err`.
template <typename Send>
auto SendWithRetries(int retries, std::string_view what, std::ostream& err,
                     Send send) -> decltype(send()) {
  const client::BackoffPolicy policy;  // 10 ms doubling to 1 s, jittered
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int retry = 0;; ++retry) {
    auto r = send();
    if (r.ok() || retry >= retries ||
        !client::IsRetryableAppendError(r.status())) {
      return r;
    }
    const std::chrono::microseconds delay =
        client::BackoffDelay(policy, retry, unit(rng));
    err << "indelible: " << what << ": "
        << absl::StatusCodeToString(r.status().code()) << ": "
        << r.status().message() << "; resending in " << delay.count() / 1000
        << " ms (" << retry + 1 << " of " << retries << ")\n";
    err.flush();
    std::this_thread::sleep_for(delay);
  }
}

int AppendOne(client::Client& client, const AppendFlags& flags,
              std::ostream& out, std::ostream& err) {
  absl::StatusOr<v1::Event> event = EventFromFlags(flags);
  if (!event.ok()) return UsageError(err, chain::ToStd(event.status().message()));
  if (absl::Status s = EnsureEventId(&*event); !s.ok()) {
    return ReportError(err, "", s);
  }
  absl::StatusOr<v1::Receipt> r = SendWithRetries(
      flags.retries, "append", err, [&] { return client.Append(*event); });
  if (!r.ok()) return ReportError(err, "append", r.status());
  if (flags.json) {
    out << JsonLine(ReceiptToJson(*r, event->event_id(),
                                      client::StoredCategory(*event))) << "\n";
  } else {
    out << "tenant:      " << r->tenant() << "\n"
        << "event_id:    " << event->event_id() << "\n"
        << "seq:         " << r->seq() << "\n"
        << "received_at: " << FormatTimestamp(r->received_at_ns()) << "\n"
        << "entry_hash:  " << chain::ToHex(r->entry_hash()) << "\n"
        << "duplicate:   " << (r->duplicate() ? "true" : "false") << "\n";
  }
  out.flush();
  return kExitOk;
}

// Events read from stdin but not yet sent, with the lines they came from.
class StdinBatch {
 public:
  StdinBatch(client::Client& client, int retries, std::ostream& out,
             std::ostream& err)
      : client_(client), retries_(retries), out_(out), err_(err) {}

  void Add(v1::Event e, size_t line, size_t bytes) {
    if (events_.empty()) first_line_ = line;
    last_line_ = line;
    bytes_ += bytes;
    events_.push_back(std::move(e));
  }
  size_t size() const { return events_.size(); }
  size_t bytes() const { return bytes_; }

  // Sends and prints the receipts; an exit code other than kExitOk on error.
  int Send() {
    if (events_.empty()) return kExitOk;
    const std::string where =
        first_line_ == last_line_
            ? absl::StrCat("line ", first_line_)
            : absl::StrCat("lines ", first_line_, "-", last_line_);
    absl::StatusOr<std::vector<v1::Receipt>> r = SendWithRetries(
        retries_, where, err_, [&] { return client_.AppendBatch(events_); });
    if (!r.ok()) return ReportError(err_, where, r.status());
    for (size_t i = 0; i < r->size(); ++i) {
      out_ << JsonLine(ReceiptToJson((*r)[i], events_[i].event_id(),
                                     client::StoredCategory(events_[i]))) << "\n";
    }
    out_.flush();
    events_.clear();
    bytes_ = 0;
    return kExitOk;
  }

 private:
  client::Client& client_;
  const int retries_;
  std::ostream& out_;
  std::ostream& err_;
  std::vector<v1::Event> events_;
  size_t bytes_ = 0;  // the AppendBatch request's encoded size
  size_t first_line_ = 0;
  size_t last_line_ = 0;
};

bool IsBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

int AppendStdin(client::Client& client, const AppendFlags& flags,
                std::istream& in, std::ostream& out, std::ostream& err) {
  StdinBatch batch(client, flags.retries, out, err);
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (IsBlank(line)) continue;
    absl::StatusOr<v1::Event> e = ParseEventJson(line);
    if (e.ok() && e->tenant().empty()) {
      if (flags.tenant.empty()) {
        e = absl::InvalidArgumentError("tenant: required (or pass --tenant)");
      } else {
        e->set_tenant(flags.tenant);
      }
    }
    if (e.ok()) {
      if (absl::Status s = EnsureEventId(&*e); !s.ok()) e = s;
    }
    size_t bytes = 0;
    if (e.ok()) {
      bytes = client::EventRequestBytes(*e);
      if (absl::Status s = client::CheckEventFits(*e, bytes); !s.ok()) e = s;
    }
    if (!e.ok()) {
      // Everything before the bad line is sent; nothing from it on.
      if (int code = batch.Send(); code != kExitOk) return code;
      return ReportError(err, absl::StrCat("line ", line_no), e.status());
    }
    // A batch never grows past the largest request the daemon accepts.
    if (batch.bytes() + bytes > client::kMaxRequestBytes) {
      if (int code = batch.Send(); code != kExitOk) return code;
    }
    batch.Add(*std::move(e), line_no, bytes);
    if (batch.size() >= flags.batch_size) {
      if (int code = batch.Send(); code != kExitOk) return code;
    }
  }
  if (in.bad()) {
    return ReportError(err, "stdin", absl::DataLossError("read error"));
  }
  return batch.Send();
}

}  // namespace

int RunAppend(client::Client& client, const AppendFlags& flags,
              std::istream& in, std::ostream& out, std::ostream& err) {
  if (!flags.from_stdin) return AppendOne(client, flags, out, err);
  return AppendStdin(client, flags, in, out, err);
}

}  // namespace indelible::cli
