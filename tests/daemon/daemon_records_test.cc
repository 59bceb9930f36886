// The daemon's own records are built as chain fields (daemon_records.h): the
// bytes stored must be those of the wire events they were built as before.
#include "daemon/governance/daemon_records.h"

#include <string>

#include "daemon/write/ingest.h"
#include "daemon/api/service.h"
#include "gtest/gtest.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/tenant_id.h"

namespace indelible {
namespace {

constexpr uint64_t kNow = 1700000000000000000ull;

absl::Status FixedSalt(chain::Salt* s) {
  s->fill(9);
  return absl::OkStatus();
}

Principal Alice() { return {"alice", "token", "ipv4:127.0.0.1:5000", "Alice A."}; }

// A read record as the daemon built it as a wire event.
v1::Event WireReadRecord(const std::string& event_id, const std::string& reason) {
  v1::Event e;
  e.set_tenant("acme");
  e.set_event_id(event_id);
  e.mutable_actor()->set_id("alice");
  e.mutable_actor()->set_type("principal");
  e.set_action("records.read");
  e.set_source("indelibled");
  e.set_category(kAccessCategory);
  for (const auto& [k, v] : {std::pair<std::string, std::string>{"auth_method", "token"},
                             {"peer", "ipv4:127.0.0.1:5000"}}) {
    auto* m = e.add_metadata();
    m->set_key(k);
    m->set_value(v);
  }
  e.mutable_resource()->set_type("chain");
  e.mutable_resource()->set_id("seq 1..10");
  e.set_reason(reason);
  e.set_outcome("allowed");
  auto* m = e.add_metadata();
  m->set_key("from_seq");
  m->set_value("1");
  return e;
}

chain::EventFields FieldsReadRecord(const std::string& reason) {
  auto f = DaemonRecordFields("acme", "indelible-read-", Alice(), "records.read",
                              kAccessCategory);
  EXPECT_TRUE(f.ok()) << f.status();
  f->resource_type = "chain";
  f->resource_id = "seq 1..10";
  f->reason = reason;
  f->outcome = "allowed";
  f->metadata.emplace_back("from_seq", "1");
  return *f;
}

TEST(DaemonRecordTest, FieldsHaveAFreshEventIdWithThePrefix) {
  auto a = DaemonRecordFields("acme", "indelible-read-", Alice(), "records.read",
                              kAccessCategory);
  auto b = DaemonRecordFields("acme", "indelible-read-", Alice(), "records.read",
                              kAccessCategory);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->event_id.rfind("indelible-read-", 0), 0u);
  EXPECT_EQ(a->event_id.size(), std::string("indelible-read-").size() + 32);
  EXPECT_NE(a->event_id, b->event_id);
  EXPECT_EQ(a->occurred_at_ns, 0u);
}

TEST(DaemonRecordTest, StoredBytesMatchTheWireEventsOnes) {
  chain::EventFields f = FieldsReadRecord("ticket T-1\nsecond line");
  const v1::Event wire = WireReadRecord(f.event_id, f.reason);
  PreparedEvent old_way;
  PreparedEvent new_way;
  ASSERT_TRUE(PrepareEvent(wire, {}, kNow, FixedSalt, "reason", &old_way).ok());
  ASSERT_TRUE(PrepareFields(f, {}, kNow, FixedSalt, "reason", &new_way).ok());
  EXPECT_EQ(new_way.body, old_way.body);
  EXPECT_EQ(new_way.body_digest, old_way.body_digest);
  EXPECT_EQ(new_way.tenant, old_way.tenant);
  EXPECT_EQ(new_way.event_id, old_way.event_id);
  EXPECT_EQ(new_way.category, old_way.category);
  EXPECT_EQ(new_way.occurred_at_defaulted, old_way.occurred_at_defaulted);
  EXPECT_TRUE(new_way.occurred_at_defaulted);
}

TEST(DaemonRecordTest, CallerTextIsCheckedAsBefore) {
  chain::EventFields f = FieldsReadRecord("bad\x01reason");
  PreparedEvent old_way;
  PreparedEvent new_way;
  const absl::Status old_s = PrepareEvent(WireReadRecord(f.event_id, f.reason), {}, kNow,
                                          FixedSalt, "reason", &old_way);
  const absl::Status new_s = PrepareFields(f, {}, kNow, FixedSalt, "reason", &new_way);
  EXPECT_EQ(new_s, old_s);
  EXPECT_EQ(new_s.message(), "reason.reason: control characters not allowed");
}

TEST(TenantIdTest, OneErrorTextForEveryCaller) {
  EXPECT_TRUE(chain::CheckTenantId("acme").ok());
  EXPECT_EQ(chain::CheckTenantId("").message(), "tenant: required");
  EXPECT_EQ(chain::CheckTenantId("Acme").message(),
            "tenant: must match [a-z0-9][a-z0-9._-]{0,62}");
  EXPECT_EQ(chain::CheckTenantId("", "events[2].tenant").message(),
            "events[2].tenant: required");
  EXPECT_EQ(chain::CheckTenantId("Acme").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace indelible
