// `admin approve`, `admin pending` and `token new`: the two-person rule and
// bearer tokens (docs/SECURITY.md).
#include <openssl/rand.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/commands.h"
#include "client/cli/exit_codes.h"
#include "client/cli/output_json.h"
#include "client/cli/time_text.h"
#include "nlohmann/json.hpp"
#include "verifier/chain/hash.h"

namespace indelible::cli {
namespace {

namespace v1 = ::indelible::v1;

nlohmann::ordered_json PendingToJson(const v1::PendingApproval& p) {
  nlohmann::ordered_json j;
  j["request_id"] = p.request_id();
  j["tenant"] = p.tenant();
  j["action"] = p.action();
  j["summary"] = p.summary();
  j["requested_by"] = p.requested_by();
  j["reason"] = p.reason();
  j["requested_at"] = FormatTimestamp(p.requested_at_ns());
  j["expires_at"] = FormatTimestamp(p.expires_at_ns());
  if (p.has_receipt()) j["receipt"] = AdminReceiptToJson(p.receipt());
  return j;
}

void PrintPending(const v1::PendingApproval& p, std::ostream& out) {
  out << "request_id:   " << p.request_id() << "\n"
      << "tenant:       " << p.tenant() << "\n"
      << "action:       " << p.action() << "\n"
      << "summary:      " << p.summary() << "\n"
      << "requested_by: " << p.requested_by() << "\n"
      << "reason:       " << p.reason() << "\n"
      << "expires_at:   " << FormatTimestamp(p.expires_at_ns()) << "\n";
}

}  // namespace

int ReportPending(const v1::PendingApproval& pending, bool json, std::ostream& out) {
  if (json) {
    nlohmann::ordered_json j;
    j["pending"] = PendingToJson(pending);
    out << JsonLine(j) << "\n";
  } else {
    out << "status:       waiting for a second admin (indelible admin approve "
        << "--request-id " << pending.request_id() << ")\n";
    PrintPending(pending, out);
  }
  out.flush();
  return kExitPending;
}

int RunApprove(client::AdminClient& admin, const ApproveFlags& flags, std::ostream& out,
               std::ostream& err) {
  absl::StatusOr<v1::ApproveResponse> r = admin.Approve(
      client::AdminContext{.actor = flags.actor, .reason = flags.reason}, flags.request_id);
  if (!r.ok()) return ReportError(err, "admin approve", r.status());
  const v1::Receipt* receipt = nullptr;
  if (r->has_set_retention()) receipt = &r->set_retention().receipt();
  if (r->has_set_legal_hold()) receipt = &r->set_legal_hold().receipt();
  if (flags.json) {
    nlohmann::ordered_json j;
    j["approved"] = PendingToJson(r->approved());
    if (receipt != nullptr) j["receipt"] = AdminReceiptToJson(*receipt);
    if (r->has_purge_tenant()) {
      j["final_seq"] = r->purge_tenant().final_seq();
      j["final_head_hash"] = chain::ToHex(r->purge_tenant().final_head_hash());
      j["certificate"] = r->purge_tenant().certificate();
    }
    out << JsonLine(j) << "\n";
  } else {
    out << "status:       approved and applied\n";
    PrintPending(r->approved(), out);
    if (receipt != nullptr) {
      out << "seq:          " << receipt->seq() << "\n"
          << "entry_hash:   " << chain::ToHex(receipt->entry_hash()) << "\n";
    }
    if (r->has_purge_tenant()) {
      out << "final_seq:    " << r->purge_tenant().final_seq() << "\n"
          << "final_head:   " << chain::ToHex(r->purge_tenant().final_head_hash()) << "\n"
          << "certificate (keep it; indelible-verify verify-certificate checks it):\n"
          << r->purge_tenant().certificate();
    }
  }
  out.flush();
  return kExitOk;
}

int RunPending(client::AdminClient& admin, const PendingFlags& flags, std::ostream& out,
               std::ostream& err) {
  absl::StatusOr<v1::ListPendingApprovalsResponse> r =
      admin.ListPendingApprovals(flags.tenant);
  if (!r.ok()) return ReportError(err, "admin pending", r.status());
  if (flags.json) {
    for (const auto& p : r->pending()) out << JsonLine(PendingToJson(p)) << "\n";
  } else if (r->pending().empty()) {
    out << "no pending requests\n";
  } else {
    out << absl::StrFormat("%-24s %-20s %-18s %-16s %s\n", "REQUEST_ID", "TENANT", "ACTION",
                           "REQUESTED_BY", "EXPIRES_AT");
    for (const auto& p : r->pending()) {
      out << absl::StrFormat("%-24s %-20s %-18s %-16s %s\n", p.request_id(), p.tenant(),
                             p.action(), p.requested_by(),
                             FormatTimestamp(p.expires_at_ns()));
    }
  }
  out.flush();
  return kExitOk;
}

int RunTokenNew(const std::string& principal, std::ostream& out, std::ostream& err) {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    return ReportError(err, "token new",
                       absl::InternalError("the random generator failed"));
  }
  std::string token;
  absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(raw), sizeof(raw)), &token);
  token = "idl_" + token;
  out << "token:  " << token << "\n"
      << "# Give the token to its holder (a file of mode 0600 for --token-file);\n"
      << "# put only this in the daemon's config, under auth.tokens:\n"
      << "- principal: " << principal << "\n"
      << "  sha256: " << chain::ToHex(chain::Sha256(token)) << "\n";
  out.flush();
  return kExitOk;
}

}  // namespace indelible::cli
