// The fixed-width and length-prefixed primitives (verifier/chain/coding.h)
// and the store's value decoders built on them (verifier/store/layout.h),
// rows of bodies (BodyRun) among them: no read past the input, and decode
// -> encode gives back the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "verifier/chain/coding.h"
#include "verifier/store/layout.h"

namespace {

using namespace indelible;

// Reads the input as a sequence of primitives chosen by a selector byte,
// re-encoding each; the re-encoding must equal the bytes consumed.
void Primitives(std::string_view in) {
  while (!in.empty()) {
    const char op = in[0];
    in.remove_prefix(1);
    const std::string_view before = in;
    std::string out;
    switch (op % 3) {
      case 0: {
        uint32_t v;
        if (!chain::GetU32(&in, &v)) return;
        chain::PutU32(&out, v);
        break;
      }
      case 1: {
        uint64_t v;
        if (!chain::GetU64(&in, &v)) return;
        chain::PutU64(&out, v);
        break;
      }
      default: {
        std::string_view s;
        if (!chain::GetStr(&in, &s)) return;
        FUZZ_CHECK(s.data() >= before.data() &&
                   s.data() + s.size() <= before.data() + before.size());
        chain::PutStr(&out, s);
        break;
      }
    }
    FUZZ_CHECK(before.size() - in.size() == out.size());
    FUZZ_CHECK(before.substr(0, out.size()) == out);
  }
}

void StoreValues(std::string_view v) {
  store::Skeleton skeleton;
  if (store::DecodeSkeleton(v, &skeleton)) {
    FUZZ_CHECK(store::EncodeSkeleton(skeleton) == v);
  }
  store::Head head;
  if (store::DecodeHead(v, &head)) FUZZ_CHECK(store::EncodeHead(head) == v);
  uint64_t received_at_ns;
  std::string_view salt, ce;
  if (store::DecodeBody(v, &received_at_ns, &salt, &ce)) {
    chain::Salt s;
    FUZZ_CHECK(chain::SaltFromBytes(salt, &s));
    FUZZ_CHECK(store::EncodeBody(received_at_ns, s, ce) == v);
  }
  uint64_t seq;
  std::string_view category;
  if (store::DecodeEventIdValue(v, &seq, &received_at_ns, &category)) {
    FUZZ_CHECK(store::EncodeEventIdValue(seq, received_at_ns, category) == v);
  }
  std::string_view tenant;
  if (store::ParseSeqKey(v, &tenant, &seq)) {
    FUZZ_CHECK(store::SeqKey(tenant, seq) == v);
  }
}

// A row of bodies (store::BodyRun), the key's seq taken from the input's
// first 8 bytes: every body lies inside the row, seqs rise from the key's,
// and the bodies re-encoded followed by the undecoded rest give back the row.
void BodyRuns(std::string_view in) {
  if (in.size() < 8) return;
  const uint64_t key_seq = chain::DecodeU64(in.data());
  const std::string_view row = in.substr(8);
  store::BodyRun run(key_seq, row);
  std::string again;
  uint64_t seq, min = key_seq;
  bool any = false, last_max = false;
  std::string_view body;
  while (run.Next(&seq, &body)) {
    FUZZ_CHECK(!last_max);  // nothing follows a seq of 2^64 - 1
    FUZZ_CHECK(seq >= min);
    FUZZ_CHECK(body.data() >= row.data() && body.data() + body.size() <= row.data() + row.size());
    store::AppendToBodyRun(&again, seq, body);
    min = seq + 1;
    last_max = seq == UINT64_MAX;
    any = true;
  }
  FUZZ_CHECK(run.malformed() || run.rest().empty());
  if (any && !last_max) FUZZ_CHECK(run.next_min_seq() == min);
  again.append(run.rest());
  FUZZ_CHECK(again == row);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Primitives(in);
  StoreValues(in);
  BodyRuns(in);
  return 0;
}
