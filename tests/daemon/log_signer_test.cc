// Where keys may live (daemon/trust/log_signer.h) and the signer_socket setting.
#include "daemon/trust/log_signer.h"

#include <filesystem>
#include <fstream>

#include "daemon/governance/config.h"
#include "gtest/gtest.h"

namespace indelible {
namespace {

namespace fs = std::filesystem;

TEST(DevelopmentKeyPath, BesideTheDataDirectory) {
  EXPECT_EQ(DevelopmentKeyPath("./data"), "data.signing-key.pem");
  EXPECT_EQ(DevelopmentKeyPath("/var/lib/indelible/"), "/var/lib/indelible.signing-key.pem");
  EXPECT_EQ(DevelopmentKeyPath("/tmp/x/data"), "/tmp/x/data.signing-key.pem");
}

TEST(CheckNoKeyInDataDir, RefusesAKeyInsideAndAnOldDevelopmentKey) {
  const fs::path root = fs::path(::testing::TempDir()) /
                        ("keys-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "data" / "sub");
  const std::string data = (root / "data").string();
  EXPECT_TRUE(CheckNoKeyInDataDir(DevelopmentKeyPath(data), data).ok());
  EXPECT_TRUE(CheckNoKeyInDataDir("", data).ok());
  auto inside = CheckNoKeyInDataDir((root / "data" / "sub" / "k.pem").string(), data);
  EXPECT_TRUE(absl::IsFailedPrecondition(inside)) << inside;
  EXPECT_NE(inside.message().find("signing_key_file"), std::string_view::npos) << inside;
  // Through a path that only resolves into the data directory.
  auto dotted = CheckNoKeyInDataDir((root / "data" / ".." / "data" / "k.pem").string(), data);
  EXPECT_TRUE(absl::IsFailedPrecondition(dotted)) << dotted;
  std::ofstream(root / "data" / "signing-key.pem") << "-----BEGIN PRIVATE KEY-----\n";
  auto legacy = CheckNoKeyInDataDir(DevelopmentKeyPath(data), data);
  EXPECT_TRUE(absl::IsFailedPrecondition(legacy)) << legacy;
  // The message says where to move it.
  EXPECT_NE(legacy.message().find("mv " + data + "/signing-key.pem " + DevelopmentKeyPath(data)),
            std::string_view::npos)
      << legacy;
  fs::remove_all(root);
}

TEST(SignerSocketConfig, ExcludesASigningKeyFile) {
  auto c = ParseConfig("signer_socket: /run/indelible-signer/signer.sock\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->signer_socket, "/run/indelible-signer/signer.sock");
  EXPECT_TRUE(ValidateConfig(*c).ok());
  c->signing_key_file = "/etc/indelible/signing-key.pem";
  auto s = ValidateConfig(*c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("signer_socket"), std::string_view::npos) << s;
}

}  // namespace
}  // namespace indelible
