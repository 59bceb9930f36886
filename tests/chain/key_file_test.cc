// The mode rule for secret files (docs/SECURITY.md, "Key files"), and the
// signing key loader applying it to real files: group read is allowed when
// the file belongs to the reader and its group is the reader's (Kubernetes
// mounts secrets root:<fsGroup> 0440), never for another group.
#include "verifier/chain/key_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace indelible::chain {
namespace {

constexpr uid_t kDaemon = 10001;
constexpr gid_t kFsGroup = 10001;
constexpr gid_t kOther = 20002;
const std::vector<gid_t> kGroups = {kFsGroup};

TEST(SecretModeProblem, OwnerOnlyModesAreAccepted) {
  for (mode_t mode : {0400, 0600}) {
    EXPECT_EQ(SecretModeProblem(kDaemon, kOther, mode, kDaemon, kGroups), "") << mode;
    EXPECT_EQ(SecretModeProblem(0, kOther, mode, kDaemon, kGroups), "") << mode;
  }
}

TEST(SecretModeProblem, GroupReadIsAcceptedForTheReadersOwnGroup) {
  // A Kubernetes secret with fsGroup: root:<fsGroup> 0440.
  EXPECT_EQ(SecretModeProblem(0, kFsGroup, 0440, kDaemon, kGroups), "");
  EXPECT_EQ(SecretModeProblem(kDaemon, kFsGroup, 0640, kDaemon, kGroups), "");
}

TEST(SecretModeProblem, GroupReadForAnotherGroupIsRefused) {
  const std::string p = SecretModeProblem(0, kOther, 0440, kDaemon, kGroups);
  EXPECT_NE(p.find("gid 20002"), std::string::npos) << p;
  EXPECT_NE(SecretModeProblem(kDaemon, kOther, 0640, kDaemon, kGroups), "");
}

TEST(SecretModeProblem, GroupReadOnAnotherUsersFileIsRefused) {
  const std::string p = SecretModeProblem(30003, kFsGroup, 0440, kDaemon, kGroups);
  EXPECT_NE(p.find("uid 30003"), std::string::npos) << p;
}

TEST(SecretModeProblem, GroupWriteOrExecuteAndOthersAreRefused) {
  for (mode_t mode : {0460, 0660, 0650, 0444, 0404, 0602, 0601, 0644}) {
    EXPECT_NE(SecretModeProblem(0, kFsGroup, mode, kDaemon, kGroups), "") << std::oct << mode;
  }
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/key-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/signing-key.pem";
    auto key = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok());
    std::ofstream(path_) << key->PrivateKeyPem();
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  absl::Status Load() {
    bool created = false;
    return LoadSigningKey(path_, false, &created).status();
  }
  std::string dir_, path_;
};

TEST_F(KeyFileTest, GroupReadableKeyOfOurGroupLoads) {
  ASSERT_EQ(chown(path_.c_str(), geteuid(), getegid()), 0);
  ASSERT_EQ(chmod(path_.c_str(), 0440), 0);
  EXPECT_TRUE(Load().ok()) << Load();
  EXPECT_TRUE(CheckPrivateFile(path_, "tls key").ok());
}

TEST_F(KeyFileTest, GroupReadableKeyOfAnotherGroupIsRefused) {
  // A group this process is not in (changing a file's group to it needs
  // CAP_CHOWN, which the test runner has).
  std::vector<gid_t> groups(static_cast<size_t>(getgroups(0, nullptr)) + 1);
  groups.resize(static_cast<size_t>(getgroups(static_cast<int>(groups.size()), groups.data())));
  groups.push_back(getegid());
  gid_t other = 54321;
  while (std::find(groups.begin(), groups.end(), other) != groups.end()) ++other;
  ASSERT_EQ(chown(path_.c_str(), geteuid(), other), 0) << "needs CAP_CHOWN";
  ASSERT_EQ(chmod(path_.c_str(), 0440), 0);
  const absl::Status s = Load();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("mode 0440"), std::string::npos) << s;
  EXPECT_NE(s.message().find("gid " + std::to_string(other)), std::string::npos) << s;
  EXPECT_EQ(CheckPrivateFile(path_, "tls key").code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(KeyFileTest, WorldReadableKeyIsRefused) {
  ASSERT_EQ(chmod(path_.c_str(), 0444), 0);
  EXPECT_EQ(Load().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace indelible::chain
