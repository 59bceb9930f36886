#include "tools/loadgen/workload.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace indelible::tools {
namespace {

void FillFixed(v1::Event* e) {
  e->mutable_actor()->set_id("svc-loadgen@example.com");
  e->mutable_actor()->set_type("service");
  e->mutable_actor()->set_ip("10.1.2.3");
  e->set_action("customer.read");
  e->mutable_resource()->set_type("customer");
  e->mutable_resource()->set_id("cust-0001234567");
  e->set_outcome("allowed");
  e->set_source("indelible-loadgen");
  e->set_category("access");
}

}  // namespace

std::string NewRunId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::mt19937_64 rng((uint64_t{rd()} << 32) ^ rd());
  std::string id(8, 'a');
  for (char& c : id) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return id;
}

EventFactory::EventFactory(std::string run_id, int tenants, size_t event_bytes,
                           const std::string& tenant_prefix, IdFormat ids)
    : run_id_(std::move(run_id)), ids_(ids) {
  const std::string prefix =
      tenant_prefix.empty() ? absl::StrCat("lg-", run_id_) : tenant_prefix;
  for (int i = 0; i < tenants; ++i) {
    tenants_.push_back(absl::StrCat(prefix, "-", i));
  }
  // Size the filler with a representative tenant and id in place.
  v1::Event probe;
  FillFixed(&probe);
  probe.set_tenant(tenants_.back());
  probe.set_event_id(NewId(10000000));
  const size_t fixed = probe.ByteSizeLong();
  // A non-empty reason costs a tag and a length byte or two besides itself.
  const size_t overhead = 3;
  if (event_bytes > fixed + overhead) {
    reason_.assign(event_bytes - fixed - overhead, 'r');
  }
  probe.set_reason(reason_);
  event_bytes_ = probe.ByteSizeLong();
  probe.clear_tenant();
  probe.clear_event_id();
  fixed_tail_ = probe.SerializeAsString();
}

void EventFactory::Fill(v1::Event* event) const {
  event->Clear();
  FillFixed(event);
  event->set_reason(reason_);
}

void EventFactory::Renew(v1::Event* event) {
  const uint64_t n = next_.fetch_add(1, std::memory_order_relaxed);
  event->set_tenant(tenants_[n % tenants_.size()]);
  event->set_event_id(NewId(n));
}

namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Field `field` of wire type 2 (length-delimited) holding `value`.
void PutBytesField(uint32_t field, std::string_view value, std::string* out) {
  out->push_back(static_cast<char>(field << 3 | 2));
  PutVarint(value.size(), out);
  out->append(value);
}

}  // namespace

void EventFactory::AppendEncoded(std::string* out) {
  const uint64_t n = next_.fetch_add(1, std::memory_order_relaxed);
  const std::string& tenant = tenants_[n % tenants_.size()];
  const std::string id = NewId(n);
  const size_t event_size = 1 + VarintSize(tenant.size()) + tenant.size() + 1 +
                            VarintSize(id.size()) + id.size() + fixed_tail_.size();
  out->push_back(static_cast<char>(1 << 3 | 2));  // AppendBatchRequest.events
  PutVarint(event_size, out);
  PutBytesField(1, tenant, out);                  // Event.tenant
  PutBytesField(2, id, out);                      // Event.event_id
  out->append(fixed_tail_);
}

std::string EventFactory::NewId(uint64_t n) const {
  if (ids_ == IdFormat::kRunCounter) return absl::StrCat(run_id_, "-", n);
  // The same generator for both versions, so they cost the client the same;
  // a load generator's ids need only be unique (122 or 74 random bits).
  thread_local std::mt19937_64 rng((uint64_t{std::random_device{}()} << 32) ^
                                   std::random_device{}());
  uint64_t hi = rng();
  uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  if (ids_ == IdFormat::kUuid7) {
    const uint64_t ms = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    hi = (ms << 16) | 0x7000 | (hi & 0x0fff);
  } else {
    hi = (hi & ~uint64_t{0xf000}) | 0x4000;
  }
  char b[37];
  std::snprintf(b, sizeof(b), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return b;
}

}  // namespace indelible::tools
