#include "daemon/write/ingest.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "verifier/chain/canonical_event.h"
#include "verifier/store/layout.h"

namespace indelible {
namespace {

constexpr uint64_t kNow = 1700000000000000000ull;

v1::Event Valid() {
  v1::Event e;
  e.set_tenant("acme");
  e.set_event_id("e-1");
  e.set_occurred_at_ns(kNow - 1000);
  e.mutable_actor()->set_id("alice");
  e.mutable_actor()->set_ip("203.0.113.7");
  e.set_action("customer.read");
  e.set_reason("ticket\nT-1");
  auto* m = e.add_metadata();
  m->set_key("k");
  m->set_value("v");
  return e;
}

absl::Status FixedSalt(chain::Salt* s) {
  s->fill(7);
  return absl::OkStatus();
}

absl::Status Prepare(const v1::Event& e, PreparedEvent* out = nullptr,
                     IngestLimits limits = {}) {
  PreparedEvent tmp;
  return PrepareEvent(e, limits, kNow, FixedSalt, "event", out ? out : &tmp);
}

// Expects InvalidArgument whose message starts with `field_path`.
void ExpectInvalid(const v1::Event& e, const std::string& field_path,
                   IngestLimits limits = {}) {
  absl::Status s = Prepare(e, nullptr, limits);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(std::string(s.message()).rfind(field_path, 0), 0u)
      << "message \"" << s.message() << "\" should start with " << field_path;
}

TEST(Ingest, ValidEventPrepares) {
  PreparedEvent p;
  ASSERT_TRUE(Prepare(Valid(), &p).ok());
  EXPECT_EQ(p.tenant, "acme");
  EXPECT_EQ(p.event_id, "e-1");
  std::string_view salt, ce;
  ASSERT_TRUE(store::DecodeBody(p.body, &salt, &ce));
  EXPECT_EQ(p.category, "access");
  EXPECT_EQ(salt, std::string(16, '\x07'));
  EXPECT_EQ(p.body_digest, chain::BodyDigest(salt, ce));
  auto f = chain::DecodeCanonicalEvent(ce);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->category, "access");  // defaulted
  EXPECT_EQ(f->occurred_at_ns, kNow - 1000);
}

TEST(Ingest, ZeroOccurredAtBecomesNow) {
  v1::Event e = Valid();
  e.set_occurred_at_ns(0);
  PreparedEvent p;
  ASSERT_TRUE(Prepare(e, &p).ok());
  std::string_view salt, ce;
  ASSERT_TRUE(store::DecodeBody(p.body, &salt, &ce));
  auto f = chain::DecodeCanonicalEvent(ce);
  EXPECT_EQ(f->occurred_at_ns, kNow);
}

TEST(Ingest, MissingRequiredFields) {
  v1::Event e = Valid();
  e.clear_tenant();
  ExpectInvalid(e, "event.tenant: required");
  e = Valid();
  e.clear_event_id();
  ExpectInvalid(e, "event.event_id: required");
  e = Valid();
  e.mutable_actor()->clear_id();
  ExpectInvalid(e, "event.actor.id: required");
  e = Valid();
  e.clear_action();
  ExpectInvalid(e, "event.action: required");
}

TEST(Ingest, MalformedTenant) {
  for (const char* t : {"ACME", "-x", "a b", "a/b"}) {
    v1::Event e = Valid();
    e.set_tenant(t);
    ExpectInvalid(e, "event.tenant:");
  }
  v1::Event e = Valid();
  e.set_tenant(std::string(64, 'a'));
  ExpectInvalid(e, "event.tenant:");
}

TEST(Ingest, FieldSizeLimits) {
  v1::Event e = Valid();
  e.set_event_id(std::string(129, 'x'));
  ExpectInvalid(e, "event.event_id: too long");
  e = Valid();
  e.set_reason(std::string(4097, 'x'));
  ExpectInvalid(e, "event.reason: too long");
  e = Valid();
  e.mutable_resource()->set_id(std::string(1025, 'x'));
  ExpectInvalid(e, "event.resource.id: too long");
}

TEST(Ingest, TotalSizeLimit) {
  IngestLimits small;
  small.max_event_bytes = 200;
  v1::Event e = Valid();
  e.set_reason(std::string(150, 'x'));
  ExpectInvalid(e, "event: event too large", small);
}

TEST(Ingest, InvalidUtf8NamesField) {
  v1::Event e = Valid();
  e.set_action(std::string("read\xff", 5));
  ExpectInvalid(e, "event.action: invalid UTF-8");
  e = Valid();
  e.mutable_metadata(0)->set_value(std::string("\xc3\x28", 2));
  ExpectInvalid(e, "event.metadata[0].value: invalid UTF-8");
}

TEST(Ingest, ControlCharacters) {
  v1::Event e = Valid();
  e.mutable_actor()->set_id("al\nice");
  ExpectInvalid(e, "event.actor.id: control characters");
  e = Valid();
  e.set_action(std::string("a\0b", 3));
  ExpectInvalid(e, "event.action: control characters");
  e = Valid();
  e.set_event_id("x\xc2\x85y");  // U+0085, a C1 control
  ExpectInvalid(e, "event.event_id: control characters");
  // Newlines and tabs are fine in the free-text reason.
  e = Valid();
  e.set_reason("line 1\n\tline 2");
  EXPECT_TRUE(Prepare(e).ok());
}

// Long printable ASCII is checked a word at a time: a bad byte must be
// found in every byte lane of every word, and at the tail.
TEST(Ingest, BadByteFoundAtEveryPosition) {
  const std::string base(37, 'a');
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"\x01", "control characters"}, {"\x1f", "control characters"},
      {"\x7f", "control characters"}, {"\n", "control characters"},
      {"\xc2\x85", "control characters"}, {"\xff", "invalid UTF-8"},
      {"\xc3\x28", "invalid UTF-8"}, {"\xed\xa0\x80", "invalid UTF-8"},
  };
  for (const auto& [bytes, want] : bad) {
    for (size_t pos = 0; pos <= base.size(); ++pos) {
      v1::Event e = Valid();
      std::string v = base;
      v.insert(pos, bytes);
      e.mutable_resource()->set_id(v);
      SCOPED_TRACE(::testing::Message() << "pos " << pos);
      ExpectInvalid(e, "event.resource.id: " + want);
    }
  }
  // Every printable byte, and valid multi-byte text after a long ASCII run.
  std::string printable;
  for (int c = 0x20; c < 0x7f; ++c) printable.push_back(static_cast<char>(c));
  v1::Event e = Valid();
  e.mutable_resource()->set_id(printable + "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
  EXPECT_TRUE(Prepare(e).ok());
}

TEST(Ingest, MetadataRules) {
  v1::Event e = Valid();
  auto* m = e.add_metadata();
  m->set_key("k");
  m->set_value("again");
  ExpectInvalid(e, "event.metadata: duplicate key \"k\"");
  e = Valid();
  e.mutable_metadata(0)->clear_key();
  ExpectInvalid(e, "event.metadata[0].key: required");
  e = Valid();
  for (int i = 0; i < 64; ++i) {
    auto* x = e.add_metadata();
    x->set_key("m" + std::to_string(i));
  }
  ExpectInvalid(e, "event.metadata: too many entries");
}

TEST(Ingest, FutureOccurredAt) {
  v1::Event e = Valid();
  e.set_occurred_at_ns(kNow + 25ull * 3600 * 1000000000);
  ExpectInvalid(e, "event.occurred_at_ns:");
  e.set_occurred_at_ns(kNow + 3600ull * 1000000000);  // an hour of skew is ok
  EXPECT_TRUE(Prepare(e).ok());
}

TEST(Ingest, ActorIpAndCategory) {
  v1::Event e = Valid();
  e.mutable_actor()->set_ip("not-an-ip");
  ExpectInvalid(e, "event.actor.ip:");
  e.mutable_actor()->set_ip("2001:db8::1");
  EXPECT_TRUE(Prepare(e).ok());
  e.set_category("Access Logs");
  ExpectInvalid(e, "event.category:");
}

TEST(Utf8, Validator) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("GDPR — Ü"));
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));      // U+1F600
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));             // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));         // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));         // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));     // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));             // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));                 // lone continuation
}

}  // namespace
}  // namespace indelible
