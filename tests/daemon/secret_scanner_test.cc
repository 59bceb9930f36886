#include "daemon/security/secret_scanner.h"

#include "gtest/gtest.h"

namespace indelible {
namespace {

std::string Redact(std::string s, SecretCounts* counts = nullptr) {
  SecretCounts local{};
  RedactSecrets(&s, counts ? counts : &local);
  return s;
}

uint32_t CountOf(const SecretCounts& c, SecretKind k) {
  return c[static_cast<size_t>(k)];
}

TEST(SecretScanner, LeavesOrdinaryTextAlone) {
  for (const std::string s :
       {"", "support ticket T-1", "Bearer authentication is used here",
        "time=12:30 user=alice", "tokens=5", "AKIA", "akia1234567890abcdef",
        "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----",
        "https://example.com/a?b=c&d=e", "naïve café ☕"}) {
    SecretCounts c{};
    std::string v = s;
    EXPECT_FALSE(RedactSecrets(&v, &c)) << s;
    EXPECT_EQ(v, s);
  }
}

TEST(SecretScanner, BearerTokenKeepsTheScheme) {
  SecretCounts c{};
  EXPECT_EQ(Redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc_-+/== next",
                   &c),
            "Authorization: Bearer [REDACTED:bearer_token] next");
  EXPECT_EQ(CountOf(c, SecretKind::kBearerToken), 1u);
  EXPECT_EQ(Redact("bearer\tabcdefghijklmnop1234"), "bearer\t[REDACTED:bearer_token]");
  EXPECT_EQ(Redact("BEARER abcdefghijklmnop1234"), "BEARER [REDACTED:bearer_token]");
  // Too short to tell from prose; inside a word is not the scheme.
  EXPECT_EQ(Redact("Bearer short"), "Bearer short");
  EXPECT_EQ(Redact("xBearer abcdefghijklmnop1234"), "xBearer abcdefghijklmnop1234");
}

TEST(SecretScanner, AwsAccessKeyIdOnlyAsAWholeWord) {
  SecretCounts c{};
  EXPECT_EQ(Redact("key AKIAIOSFODNN7EXAMPLE used", &c),
            "key [REDACTED:aws_access_key_id] used");
  EXPECT_EQ(CountOf(c, SecretKind::kAwsAccessKeyId), 1u);
  EXPECT_EQ(Redact("ASIAIOSFODNN7EXAMPLE"), "[REDACTED:aws_access_key_id]");
  EXPECT_EQ(Redact("(AKIAIOSFODNN7EXAMPLE)"), "([REDACTED:aws_access_key_id])");
  EXPECT_EQ(Redact("XAKIAIOSFODNN7EXAMPLE"), "XAKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(Redact("AKIAIOSFODNN7EXAMPLE1"), "AKIAIOSFODNN7EXAMPLE1");   // 21 chars
  EXPECT_EQ(Redact("AKIAiosfodnn7example"), "AKIAiosfodnn7example");     // lower case
  EXPECT_EQ(Redact("AKIAIOSFODNN7EXAMPL"), "AKIAIOSFODNN7EXAMPL");       // 19 chars
}

TEST(SecretScanner, PrivateKeyBlockIsReplacedWhole) {
  const std::string pem =
      "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7v+/x==\nAbc=\n"
      "-----END RSA PRIVATE KEY-----";
  SecretCounts c{};
  EXPECT_EQ(Redact("before\n" + pem + "\nafter", &c), "before\n[REDACTED:private_key]\nafter");
  EXPECT_EQ(CountOf(c, SecretKind::kPrivateKey), 1u);
  EXPECT_EQ(Redact("-----BEGIN PRIVATE KEY-----\nMC4CAQ\n-----END PRIVATE KEY-----x"),
            "[REDACTED:private_key]x");
  EXPECT_EQ(Redact("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn"),  // cut off
            "[REDACTED:private_key]");
  // Two blocks, two markers.
  EXPECT_EQ(Redact(pem + " and " + pem),
            "[REDACTED:private_key] and [REDACTED:private_key]");
}

TEST(SecretScanner, KeyValuePairsRedactOnlyTheValue) {
  SecretCounts c{};
  EXPECT_EQ(Redact("user=bob&password=hunter2&x=1", &c),
            "user=bob&password=[REDACTED:password]&x=1");
  EXPECT_EQ(CountOf(c, SecretKind::kPassword), 1u);
  EXPECT_EQ(Redact("db_passwd=s3cr3t; next"), "db_passwd=[REDACTED:password]; next");
  EXPECT_EQ(Redact("PASSWORD = p4ss word"), "PASSWORD = [REDACTED:password] word");
  EXPECT_EQ(Redact("client_secret=abc"), "client_secret=[REDACTED:secret]");
  EXPECT_EQ(Redact("access_token=abc.def"), "access_token=[REDACTED:token]");
  EXPECT_EQ(Redact("x-auth-token: abc"), "x-auth-token: [REDACTED:token]");
  EXPECT_EQ(Redact("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "aws_secret_access_key=[REDACTED:aws_secret_access_key]");
  // JSON and quoted values: up to the closing quote, spaces included.
  EXPECT_EQ(Redact(R"({"user":"bob","password":"a b\"c"})"),
            R"({"user":"bob","password":"[REDACTED:password]"})");
  EXPECT_EQ(Redact("secret='two words' rest"), "secret='[REDACTED:secret]' rest");
  // No value, nothing to redact.
  EXPECT_EQ(Redact("password= "), "password= ");
  EXPECT_EQ(Redact("password="), "password=");
}

TEST(SecretScanner, ValuesRunToTheDelimiterThroughUtf8) {
  EXPECT_EQ(Redact("password=pässwörd☕ ok"), "password=[REDACTED:password] ok");
  EXPECT_EQ(Redact("token=日本語"), "token=[REDACTED:token]");
}

TEST(SecretScanner, OverlapsMergeAndSeveralKindsCount) {
  SecretCounts c{};
  EXPECT_EQ(Redact("token=Bearer abcdefghijklmnop1234 AKIAIOSFODNN7EXAMPLE", &c),
            "token=[REDACTED:token] [REDACTED:bearer_token] [REDACTED:aws_access_key_id]");
  EXPECT_EQ(CountOf(c, SecretKind::kToken), 1u);
  EXPECT_EQ(CountOf(c, SecretKind::kBearerToken), 1u);
  EXPECT_EQ(CountOf(c, SecretKind::kAwsAccessKeyId), 1u);
  // A key=value inside a private key block is part of the block.
  SecretCounts c2{};
  EXPECT_EQ(Redact("-----BEGIN EC PRIVATE KEY-----\nxtoken=abc\n-----END EC PRIVATE KEY-----",
                   &c2),
            "[REDACTED:private_key]");
  EXPECT_EQ(CountOf(c2, SecretKind::kPrivateKey), 1u);
  EXPECT_EQ(CountOf(c2, SecretKind::kToken), 0u);
}

// Values are first searched 16 bytes at a time for the bytes a secret must
// hold, then byte by byte: each kind is found wherever it sits, in a block,
// across two, or in the tail.
TEST(SecretScanner, EachKindIsFoundAtEveryOffset) {
  const struct {
    std::string secret;
    std::string redacted;
  } kCases[] = {
      {"-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----", "[REDACTED:private_key]"},
      // Tokens without a 'b' or 'B': the scheme's first byte alone is the trigger.
      {"Bearer 0123456789cdefghijkl", "Bearer [REDACTED:bearer_token]"},
      {"bearer 0123456789cdefghijkl", "bearer [REDACTED:bearer_token]"},
      {"BEARER 0123456789cdefghijkl", "BEARER [REDACTED:bearer_token]"},
      {"AKIAIOSFODNN7EXAMPLE", "[REDACTED:aws_access_key_id]"},
      {"passwd=hunter2", "passwd=[REDACTED:password]"},
      {"secret: s3", "secret: [REDACTED:secret]"},
  };
  for (const auto& c : kCases) {
    for (size_t before = 0; before <= 40; ++before) {
      for (size_t after : {0, 1, 15, 16, 17}) {
        const std::string pad_before(before, 'r'), pad_after = " " + std::string(after, 'r');
        const std::string value = pad_before + " " + c.secret + pad_after;
        EXPECT_EQ(Redact(value), pad_before + " " + c.redacted + pad_after)
            << before << " " << after << " " << c.secret;
      }
    }
  }
  // Each byte a detector waits for, alone in a long value, is no secret.
  for (char b : {'-', 'B', 'b', 'A', '=', ':'}) {
    for (size_t at = 0; at < 40; ++at) {
      std::string v(40, 'r');
      v[at] = b;
      EXPECT_EQ(Redact(v), v);
    }
  }
}

TEST(SecretScanner, KindNames) {
  EXPECT_EQ(SecretKindName(SecretKind::kBearerToken), "bearer_token");
  EXPECT_EQ(SecretKindName(SecretKind::kToken), "token");
}

}  // namespace
}  // namespace indelible
