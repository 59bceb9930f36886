// Ingest rules on the hot path (docs/PERFORMANCE.md, "Ingest rules"):
//
//   PrepareEventRules/N/M    PrepareEvent of an event of about N bytes of
//                            prose; M = 0 no rules, 1 the default (secret
//                            detectors only), 2 detectors + drop, mask and
//                            two HMAC pseudonyms
//   RedactSecrets/N/S        the hand-written scanner over N bytes of prose,
//                            S = 1 with a bearer token and a password= pair
//   RegexSecrets/N           std::regex with equivalent patterns, for
//                            comparison (not used by the daemon)
//   Pseudonym                one HMAC-SHA-256 pseudonym
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <regex>
#include <string>

#include "benchmark/benchmark.h"
#include "daemon/write/ingest.h"
#include "daemon/security/redaction.h"
#include "daemon/security/secret_scanner.h"
#include "indelible/v1/indelible.pb.h"

namespace indelible {
namespace {

// Support-desk prose with the ':' and '=' that make the key=value detector
// look twice, but no secret.
std::string Prose(size_t bytes) {
  static const std::string kSentence =
      "Customer asked to update the billing address; identity verified by "
      "phone call-back at 14:32 UTC, ticket=CS-12345, queue: billing-eu. ";
  std::string out;
  while (out.size() < bytes) out += kSentence;
  out.resize(bytes);
  return out;
}

v1::Event MakeEvent(size_t bytes) {
  v1::Event e;
  e.set_tenant("acme");
  e.set_event_id("0190f3c2-6c1e-7cc3-9a1b-5d2f8e4b1a00");
  e.set_occurred_at_ns(1700000000123456789ull);
  e.mutable_actor()->set_id("svc-loadgen@example.com");
  e.mutable_actor()->set_type("service");
  e.mutable_actor()->set_ip("10.1.2.3");
  e.set_action("customer.read");
  e.mutable_resource()->set_type("customer");
  e.mutable_resource()->set_id("cust-0001234567");
  e.set_outcome("allowed");
  e.set_source("indelible-loadgen");
  e.set_category("access");
  for (const auto& [k, v] : {std::pair<std::string, std::string>{"request_id", "4b1a00"},
                             {"region", "eu-west-1"},
                             {"email", "alice@example.com"},
                             {"card", "4111111111111111"}}) {
    auto* m = e.add_metadata();
    m->set_key(k);
    m->set_value(v);
  }
  const size_t fixed = 260;
  e.set_reason(Prose(bytes > fixed ? bytes - fixed : 0));
  return e;
}

// A pseudonym key in a private temporary file, removed at exit.
const std::string& KeyFile() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/indelible-bench-key-XXXXXX";
    const int fd = mkstemp(tmpl);  // mode 0600
    if (fd < 0 || write(fd, "0123456789abcdef0123456789abcdef", 32) != 32) std::abort();
    close(fd);
    std::atexit([] { unlink(KeyFile().c_str()); });
    return std::string(tmpl);
  }();
  return path;
}

std::unique_ptr<IngestRules> Rules(int mode) {
  IngestRulesConfig cfg;
  if (mode == 2) {
    cfg.defaults.pseudonym_key_file = KeyFile();
    cfg.defaults.rules = std::vector<FieldRule>{
        {"actor.ip", RuleAction::kDrop, 0},
        {"actor.id", RuleAction::kPseudonymize, 0},
        {"metadata.email", RuleAction::kPseudonymize, 0},
        {"metadata.card", RuleAction::kMask, 4}};
  }
  auto r = IngestRules::Create(cfg);
  if (!r.ok()) std::abort();
  return *std::move(r);
}

void BM_PrepareEventRules(benchmark::State& state) {
  const v1::Event e = MakeEvent(state.range(0));
  const int mode = static_cast<int>(state.range(1));
  const std::unique_ptr<IngestRules> rules = mode == 0 ? nullptr : Rules(mode);
  const IngestLimits limits;
  const SaltSource salts = chain::RandomSalt;
  for (auto _ : state) {
    PreparedEvent out;
    if (!PrepareEvent(e, limits, 1700000000223456789ull, salts, "event", &out,
                      rules.get())
             .ok()) {
      std::abort();
    }
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_PrepareEventRules)->ArgsProduct({{512, 4096}, {0, 1, 2}});

void BM_RedactSecrets(benchmark::State& state) {
  std::string text = Prose(state.range(0));
  if (state.range(1) == 1) {
    text.replace(40, 45, "Bearer eyJhbGciOiJIUzI1NiJ9.abc password=x");
  }
  for (auto _ : state) {
    std::string v = text;
    SecretCounts counts{};
    benchmark::DoNotOptimize(RedactSecrets(&v, &counts));
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_RedactSecrets)
    ->Args({64, 0})
    ->Args({512, 0})
    ->Args({4096, 0})
    ->Args({512, 1})
    ->Args({4096, 1});

void BM_RegexSecrets(benchmark::State& state) {
  static const std::regex kPatterns[] = {
      std::regex(R"((Bearer|bearer|BEARER)[ \t]+[A-Za-z0-9\-._~+/]{16,}=*)",
                 std::regex::optimize),
      std::regex(R"(\b(AKIA|ASIA)[A-Z0-9]{16}\b)", std::regex::optimize),
      std::regex(R"(-----BEGIN [A-Z ]*PRIVATE KEY-----)", std::regex::optimize),
      std::regex(R"([A-Za-z0-9_.-]*(password|passwd|secret|token)["']?[ \t]*[=:])",
                 std::regex::optimize | std::regex::icase),
  };
  const std::string text = Prose(state.range(0));
  for (auto _ : state) {
    bool any = false;
    for (const std::regex& re : kPatterns) any |= std::regex_search(text, re);
    benchmark::DoNotOptimize(any);
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_RegexSecrets)->Arg(64)->Arg(512)->Arg(4096);

void BM_Pseudonym(benchmark::State& state) {
  const PseudonymKey key("0123456789abcdef0123456789abcdef");
  for (auto _ : state) {
    benchmark::DoNotOptimize(key.Pseudonym("acme", "alice@example.com"));
  }
}
BENCHMARK(BM_Pseudonym);

}  // namespace
}  // namespace indelible
