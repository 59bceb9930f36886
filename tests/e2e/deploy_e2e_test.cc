// deploy/kubernetes/indelibled.yaml as a cluster would run it, as far as one
// machine can: the manifest is parsed, its ConfigMap becomes the daemon's
// config (ports 0, files in a temporary directory, the secrets mode 0440 as
// an fsGroup mount makes them), and its probe commands and metrics scrape
// run against that daemon. Also what the kubelet would get wrong: probe
// timeouts, liveness on readiness, subPath config mounts, a :latest image.
// The signing key is the signer sidecar's alone: the test runs the real
// indelible-signer from the manifest's signer.yaml, and the daemon signs
// through it. The production config and systemd unit use the signer too.
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/version.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/e2e/harness.h"
#include "yaml-cpp/yaml.h"

namespace indelible {
namespace {

using testing::BinPath;
using testing::DaemonProcess;
using testing::RunCommand;
using testing::TempDir;

std::string SourceDir() {
  // <source root>/tests/data -> the source root.
  const std::string data = INDELIBLE_TEST_DATA_DIR;
  return data.substr(0, data.rfind("/tests/data"));
}

struct Manifest {
  YAML::Node config;         // the ConfigMap's indelibled.yaml, parsed
  YAML::Node signer_config;  // the ConfigMap's signer.yaml, parsed
  YAML::Node pod;            // the StatefulSet's pod template
  YAML::Node container;      // its indelibled container
  YAML::Node signer;         // its indelible-signer sidecar
  YAML::Node claims;         // its volumeClaimTemplates
};

Manifest Load() {
  Manifest m;
  for (const YAML::Node& doc :
       YAML::LoadAllFromFile(SourceDir() + "/deploy/kubernetes/indelibled.yaml")) {
    const std::string kind = doc["kind"].as<std::string>();
    if (kind == "ConfigMap") {
      m.config = YAML::Load(doc["data"]["indelibled.yaml"].as<std::string>());
      m.signer_config = YAML::Load(doc["data"]["signer.yaml"].as<std::string>());
    } else if (kind == "StatefulSet") {
      m.pod = doc["spec"]["template"];
      m.container = m.pod["spec"]["containers"][0];
      m.signer = m.pod["spec"]["initContainers"][0];
      m.claims = doc["spec"]["volumeClaimTemplates"];
    }
  }
  return m;
}

std::vector<std::string> Argv(const YAML::Node& probe) {
  return probe["exec"]["command"].as<std::vector<std::string>>();
}

int PortOf(const std::string& host_port) {
  return std::stoi(host_port.substr(host_port.rfind(':') + 1));
}

std::string HostOf(const std::string& host_port) {
  return host_port.substr(0, host_port.rfind(':'));
}

// "--timeout 2s" in the command (as argv or inside a sh -c string), seconds.
int CommandTimeoutSeconds(const std::vector<std::string>& argv) {
  std::string joined;
  for (const auto& a : argv) joined += a + " ";
  const size_t at = joined.find("--timeout ");
  if (at == std::string::npos) return -1;
  return std::stoi(joined.substr(at + 10));
}

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

const char* const kProbes[] = {"startupProbe", "readinessProbe", "livenessProbe"};

// The names of the volumes `container` mounts, by mount path.
std::map<std::string, std::string> Mounts(const YAML::Node& container) {
  std::map<std::string, std::string> out;
  for (const YAML::Node& v : container["volumeMounts"]) {
    out[v["mountPath"].as<std::string>()] = v["name"].as<std::string>();
  }
  return out;
}

bool Mounted(const YAML::Node& container, const std::string& volume) {
  for (const auto& [path, name] : Mounts(container)) {
    if (name == volume) return true;
  }
  return false;
}

// The directory of a file path.
std::string DirOf(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Whether a process listens on the Unix socket `path`.
bool Accepts(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  path.copy(addr.sun_path, path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// One indelible-signer process; killed when destroyed.
class Signer {
 public:
  ~Signer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  // Starts it with `config` and waits (at most 30 s) for `socket`.
  ::testing::AssertionResult Start(const std::string& config, const std::string& socket,
                                   const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
      const std::string bin = BinPath("indelible-signer");
      execl(bin.c_str(), bin.c_str(), "--config", config.c_str(), nullptr);
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Accepts(socket)) return ::testing::AssertionSuccess();
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return ::testing::AssertionFailure() << "indelible-signer exited: " << testing::ReadFile(log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return ::testing::AssertionFailure() << "no socket: " << testing::ReadFile(log);
  }

 private:
  pid_t pid_ = -1;
};

// The manifest's signer sidecar, from its signer.yaml, with its key and
// state in `dir` and its socket at dir/signer.sock; the key mode 0440 as
// the Secret's fsGroup mount makes it.
::testing::AssertionResult StartSidecar(const Manifest& m, const TempDir& dir, Signer* signer) {
  if (RunCommand({BinPath("indelible-signer"), "keygen", "--out", dir.Sub("signing-key.pem")})
          .exit_code != 0 ||
      chmod(dir.Sub("signing-key.pem").c_str(), 0440) != 0) {
    return ::testing::AssertionFailure() << "cannot make the signer's key";
  }
  YAML::Node config = YAML::Clone(m.signer_config);
  config["socket"] = dir.Sub("signer.sock");
  config["state_dir"] = dir.Sub("signer-state");
  config["signing_key_file"] = dir.Sub("signing-key.pem");
  YAML::Emitter yaml;
  yaml << config;
  std::ofstream(dir.Sub("signer.yaml")) << yaml.c_str() << "\n";
  return signer->Start(dir.Sub("signer.yaml"), dir.Sub("signer.sock"), dir.Sub("signer.log"));
}

// The key is the signer sidecar's: its Secret and its state are mounted in
// the sidecar only, under another user; the daemon shares only the socket.
TEST(DeployE2E, TheSigningKeyIsTheSignerSidecars) {
  const Manifest m = Load();
  ASSERT_TRUE(m.signer.IsMap());
  EXPECT_EQ(m.signer["name"].as<std::string>(), "indelible-signer");
  EXPECT_EQ(m.signer["restartPolicy"].as<std::string>(), "Always");  // a native sidecar
  EXPECT_FALSE(m.config["signing_key_file"]);
  EXPECT_FALSE(m.config["key_name"]);  // the signer's
  const std::string socket = m.config["signer_socket"].as<std::string>();
  EXPECT_EQ(m.signer_config["socket"].as<std::string>(), socket);
  EXPECT_EQ(m.signer_config["log_name"].as<std::string>(), m.config["log_name"].as<std::string>());
  // The socket's directory is one volume in both containers.
  const auto daemon_mounts = Mounts(m.container), signer_mounts = Mounts(m.signer);
  ASSERT_EQ(daemon_mounts.count(DirOf(socket)), 1u);
  EXPECT_EQ(daemon_mounts.at(DirOf(socket)), signer_mounts.at(DirOf(socket)));
  // The key and the state: the signer's mounts only.
  const std::string key_dir = DirOf(m.signer_config["signing_key_file"].as<std::string>());
  const std::string state_dir = m.signer_config["state_dir"].as<std::string>();
  std::string key_volume, state_volume;
  for (const auto& [path, name] : signer_mounts) {
    if (key_dir.rfind(path, 0) == 0) key_volume = name;
    if (state_dir.rfind(path, 0) == 0) state_volume = name;
  }
  ASSERT_FALSE(key_volume.empty());
  ASSERT_FALSE(state_volume.empty());
  EXPECT_FALSE(Mounted(m.container, key_volume));
  EXPECT_FALSE(Mounted(m.container, state_volume));
  bool state_claimed = false;
  for (const YAML::Node& c : m.claims) {
    state_claimed = state_claimed || c["metadata"]["name"].as<std::string>() == state_volume;
  }
  EXPECT_TRUE(state_claimed) << "the signer's state must survive the pod";
  // Another user than the daemon's (the pod's).
  const int daemon_uid = m.pod["spec"]["securityContext"]["runAsUser"].as<int>();
  EXPECT_NE(m.signer["securityContext"]["runAsUser"].as<int>(), daemon_uid);

  // Outside Kubernetes: the production config and systemd unit use the
  // signer as well; signing_key_file stays a development choice.
  const YAML::Node prod = YAML::LoadFile(SourceDir() + "/deploy/indelibled.production.yaml");
  EXPECT_FALSE(prod["signing_key_file"]);
  EXPECT_EQ(prod["signer_socket"].as<std::string>(), "/run/indelible-signer/signer.sock");
  const std::string unit = testing::ReadFile(SourceDir() + "/deploy/systemd/indelibled.service");
  for (const char* line : {"\nRequires=indelible-signer.service\n",
                           "\nAfter=indelible-signer.service\n",
                           "\nSupplementaryGroups=indelible-signer\n"}) {
    EXPECT_NE(unit.find(line), std::string::npos) << line;
  }
}

TEST(DeployE2E, ProbesMountsAndImageAreWhatTheKubeletNeeds) {
  const Manifest m = Load();
  ASSERT_TRUE(m.config.IsMap());
  ASSERT_TRUE(m.container.IsMap());
  for (const char* name : kProbes) {
    SCOPED_TRACE(name);
    const YAML::Node p = m.container[name];
    ASSERT_TRUE(p.IsMap());
    const int timeout = p["timeoutSeconds"] ? p["timeoutSeconds"].as<int>() : 1;
    const int command_timeout = CommandTimeoutSeconds(Argv(p));
    ASSERT_GT(command_timeout, 0);
    EXPECT_GT(timeout, command_timeout);
  }
  // Liveness must not restart a daemon that answers NOT_SERVING.
  EXPECT_NE(Argv(m.container["livenessProbe"]), Argv(m.container["readinessProbe"]));

  // The config is a directory mount (a subPath mount never sees ConfigMap
  // updates), and --config points into it.
  const auto args = m.container["args"].as<std::vector<std::string>>();
  ASSERT_EQ(args.size(), 2u);
  ASSERT_EQ(args[0], "--config");
  bool config_mounted = false;
  for (const YAML::Node& v : m.container["volumeMounts"]) {
    EXPECT_FALSE(v["subPath"]) << v["name"].as<std::string>();
    if (v["name"].as<std::string>() == "config") {
      config_mounted = args[1] == v["mountPath"].as<std::string>() + "/indelibled.yaml";
    }
  }
  EXPECT_TRUE(config_mounted) << args[1];

  // The image is this release, never :latest.
  EXPECT_EQ(m.container["image"].as<std::string>(),
            std::string("indelible:") + kIndelibleVersion);

  // Prometheus scrapes the pod IP on the metrics port.
  const std::string metrics_listen = m.config["metrics_listen"].as<std::string>();
  EXPECT_EQ(HostOf(metrics_listen), "0.0.0.0");
  const YAML::Node ann = m.pod["metadata"]["annotations"];
  EXPECT_EQ(ann["prometheus.io/scrape"].as<std::string>(), "true");
  EXPECT_EQ(std::stoi(ann["prometheus.io/port"].as<std::string>()), PortOf(metrics_listen));
  bool port_named = false;
  for (const YAML::Node& p : m.container["ports"]) {
    if (p["name"].as<std::string>() == "metrics") {
      port_named = p["containerPort"].as<int>() == PortOf(metrics_listen);
    }
  }
  EXPECT_TRUE(port_named);
}

// The first IPv4 address that is not loopback: what a pod IP is to the
// scraper. Falls back to 127.0.0.1 on a machine with no other interface.
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  std::string out = "127.0.0.1";
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char buf[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf) != nullptr) {
      out = buf;
      break;
    }
  }
  freeifaddrs(list);
  return out;
}

TEST(DeployE2E, TheManifestsProbesAndScrapeWorkAgainstARealDaemon) {
  const Manifest m = Load();
  ASSERT_TRUE(m.config.IsMap());
  TempDir dir;
  // The secrets as the pod sees them: root:<fsGroup> 0440; here, this
  // process's own user and group.
  ASSERT_EQ(RunCommand({"/bin/bash", SourceDir() + "/deploy/tls/make-dev-certs.sh",
                        dir.Sub("tls"), "ops-admin-1"})
                .exit_code,
            0);
  for (const char* f : {"tls/server.pem", "tls/server.key", "tls/ca.pem"}) {
    ASSERT_EQ(chmod(dir.Sub(f).c_str(), 0440), 0) << f;
  }
  Signer signer;
  ASSERT_TRUE(StartSidecar(m, dir, &signer));

  YAML::Node config = YAML::Clone(m.config);
  const std::string local_host = HostOf(config["local_listen"].as<std::string>());
  const int manifest_local_port = PortOf(config["local_listen"].as<std::string>());
  config["local_listen"] = local_host + ":0";
  config["metrics_listen"] = HostOf(config["metrics_listen"].as<std::string>()) + ":0";
  config["tls"]["cert_file"] = dir.Sub("tls/server.pem");
  config["tls"]["key_file"] = dir.Sub("tls/server.key");
  config["tls"]["client_ca_file"] = dir.Sub("tls/ca.pem");
  config["signer_socket"] = dir.Sub("signer.sock");
  config["data_dir"] = dir.Sub("data");
  YAML::Emitter yaml;
  yaml << config;
  std::ofstream(dir.Sub("indelibled.yaml")) << yaml.c_str() << "\n";

  auto d = DaemonProcess::Start(
      {.data_dir = dir.Sub("data"), .extra_args = {"--config", dir.Sub("indelibled.yaml")}});
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_NE((*d)->Log().find("event=signer_connected"), std::string::npos) << (*d)->Log();
  auto read_port = [&](const std::string& suffix) {
    std::ifstream in(dir.Sub("data.port" + suffix));
    int port = 0;
    in >> port;
    return port;
  };
  const std::string local = local_host + ":" + std::to_string(read_port(".local"));
  const std::string manifest_local = local_host + ":" + std::to_string(manifest_local_port);

  // The probe commands, with this build's binary and the bound port.
  auto run_probe = [&](const char* name) {
    std::vector<std::string> argv = Argv(m.container[name]);
    for (std::string& a : argv) {
      ReplaceAll(&a, "/usr/local/bin/indelible", BinPath("indelible"));
      ReplaceAll(&a, manifest_local, local);
    }
    return RunCommand(argv, "", std::chrono::seconds(30));
  };
  for (const char* name : kProbes) {
    const auto r = run_probe(name);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.out << r.err;
  }

  // The scrape, on a non-loopback address of this machine (the pod IP).
  const YAML::Node ann = m.pod["metadata"]["annotations"];
  httplib::Client http(NonLoopbackAddress(), read_port(".metrics"));
  auto res = http.Get(ann["prometheus.io/path"].as<std::string>().c_str());
  ASSERT_TRUE(res) << NonLoopbackAddress();
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("indelible_appends_total"), std::string::npos);

  // A daemon that no longer answers fails every probe, liveness included.
  EXPECT_EQ((*d)->Stop(), 0);
  for (const char* name : kProbes) {
    const auto r = run_probe(name);
    EXPECT_NE(r.exit_code, 0) << name;
  }
}

}  // namespace
}  // namespace indelible
