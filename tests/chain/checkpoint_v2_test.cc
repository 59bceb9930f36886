#include "verifier/chain/checkpoint_v2.h"

#include "gtest/gtest.h"
#include "verifier/chain/checkpoint.h"
#include "verifier/chain/cosignature.h"
#include "verifier/chain/merkle.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

CheckpointV2 Sample() {
  CheckpointV2 c;
  c.log_name = "audit.example.com";
  c.tenant = "acme";
  c.size = 13;
  c.root = Sha256("root");
  c.chain_head = Sha256("head");
  c.timestamp_ns = 1700000001000000000ull;
  return c;
}

const std::string kRoot = Base64Encode(AsBytes(Sha256("root")));
const std::string kHead = Base64Encode(AsBytes(Sha256("head")));

std::string Text(std::string_view origin, std::string_view size,
                 std::string_view root, std::string_view rest) {
  return absl::StrCat(ToAbsl(origin), "\n", ToAbsl(size), "\n", ToAbsl(root), "\n",
                      ToAbsl(rest));
}

TEST(CheckpointV2, RoundTrip) {
  const std::string text = CheckpointV2Text(Sample());
  EXPECT_EQ(text,
            absl::StrCat("audit.example.com/acme\n13\n", kRoot, "\nchain ",
                         kHead, "\ntime 1700000001000000000\n"));
  auto parsed = ParseCheckpointV2Text(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, Sample());
  EXPECT_EQ(parsed->origin(), "audit.example.com/acme");
  // A log name may have slashes (a URL path); the tenant is after the last.
  CheckpointV2 c = Sample();
  c.log_name = "example.com/audit/eu";
  c.size = 0;
  c.root = EmptyRoot();
  parsed = ParseCheckpointV2Text(CheckpointV2Text(c));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, c);

  auto generic = ParseTlogCheckpoint(text);
  ASSERT_TRUE(generic.ok());
  EXPECT_EQ(generic->origin, "audit.example.com/acme");
  EXPECT_EQ(generic->size, 13u);
  EXPECT_EQ(
      generic->extensions,
      (std::vector<std::string>{"chain " + kHead, "time 1700000001000000000"}));
}

TEST(CheckpointV2, RejectsMalformed) {
  const std::string tail = absl::StrCat("chain ", kHead, "\ntime 5\n");
  EXPECT_TRUE(ParseCheckpointV2Text(Text("l/acme", "13", kRoot, tail)).ok());
  const std::vector<std::string> bad = {
      "",
      "\n",
      Text("l/acme", "013", kRoot, tail),  // leading zero
      Text("l/acme", "+13", kRoot, tail),
      Text("l/acme", "", kRoot, tail),
      Text("l/acme", "18446744073709551616", kRoot, tail),  // > 2^64-1
      Text("l/acme", "13", kRoot.substr(0, 43), tail),      // no padding
      Text("l/acme", "13", kRoot + "=", tail),
      Text("l/acme", "13", "!" + kRoot.substr(1), tail),
      Text("l/acme", "13", Base64Encode("short"), tail),
      Text("l/acme", "13", kRoot, "time 5\n"),  // chain line missing
      Text("l/acme", "13", kRoot, absl::StrCat("chain ", kHead, "\n")),
      Text("l/acme", "13", kRoot, absl::StrCat("time 5\nchain ", kHead, "\n")),
      Text("l/acme", "13", kRoot, absl::StrCat("chain ", kHead, "\ntime 05\n")),
      Text("l/acme", "13", kRoot, absl::StrCat("chain ", kHead, "\ntime 5 \n")),
      Text("l/acme", "13", kRoot, absl::StrCat("chain  ", kHead, "\ntime 5\n")),
      Text("l/acme", "13", kRoot,
           absl::StrCat("chain ", kRoot.substr(0, 40), "\ntime 5\n")),
      Text("l/acme", "13", kRoot, tail + "extra\n"),  // extra text
      Text("l/acme", "13", kRoot, tail + "\n"),
      Text("l/acme", "13", kRoot,
           tail.substr(0, tail.size() - 1)),  // no final \n
      Text("acme", "13", kRoot, tail),        // no log name
      Text("/acme", "13", kRoot, tail),
      Text("l/Acme", "13", kRoot, tail),  // invalid tenant
      Text("l/", "13", kRoot, tail),
      Text("a b/acme", "13", kRoot, tail),  // space in log name
      Text("a+b/acme", "13", kRoot, tail),
      Text("l//acme", "13", kRoot, tail),
      "indelible/v1/acme\n13\n" + kRoot + "\n5\n",  // a v1 checkpoint
  };
  for (const std::string& text : bad) {
    auto got = ParseCheckpointV2Text(text);
    EXPECT_FALSE(got.ok()) << text;
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss);
    }
  }
  // Nor does a v2 text pass the v1 parser.
  EXPECT_FALSE(ParseCheckpointText(CheckpointV2Text(Sample())).ok());
}

TEST(CheckpointV2, LogNames) {
  EXPECT_TRUE(IsValidLogName("audit.example.com"));
  EXPECT_TRUE(IsValidLogName("example.com:8443/audit"));
  EXPECT_FALSE(IsValidLogName(""));
  EXPECT_FALSE(IsValidLogName("a/"));
  EXPECT_FALSE(IsValidLogName("a\tb"));
  EXPECT_FALSE(IsValidLogName("caf\xc3\xa9"));
  EXPECT_FALSE(IsValidLogName(std::string(201, 'a')));
}

TEST(CheckpointV2, SignAndVerify) {
  NoteSigner log("audit.example.com", *Ed25519PrivateKey::Generate());
  NoteSigner other("audit.example.com", *Ed25519PrivateKey::Generate());
  const std::string note = log.Sign(CheckpointV2Text(Sample()));
  auto got = VerifyCheckpointV2(note, {log.verifier_key()});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Sample());
  EXPECT_FALSE(VerifyCheckpointV2(note, {other.verifier_key()}).ok());
  std::string tampered = note;
  tampered.replace(tampered.find("\n13\n"), 4, "\n14\n");
  EXPECT_EQ(VerifyCheckpointV2(tampered, {log.verifier_key()}).status().code(),
            absl::StatusCode::kDataLoss);
  // A valid signature on text that is not a v2 checkpoint.
  EXPECT_FALSE(
      VerifyCheckpointV2(log.Sign("hello\n"), {log.verifier_key()}).ok());
}

}  // namespace
}  // namespace indelible::chain
