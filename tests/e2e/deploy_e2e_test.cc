// deploy/kubernetes/indelibled.yaml as a cluster would run it, as far as one
// machine can: the manifest is parsed, its ConfigMap becomes the daemon's
// config (ports 0, files in a temporary directory, the secrets mode 0440 as
// an fsGroup mount makes them), and its probe commands and metrics scrape
// run against that daemon. Also what the kubelet would get wrong: probe
// timeouts, liveness on readiness, subPath config mounts, a :latest image.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/stat.h>

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
  YAML::Node config;     // the ConfigMap's indelibled.yaml, parsed
  YAML::Node pod;        // the StatefulSet's pod template
  YAML::Node container;  // its indelibled container
};

Manifest Load() {
  Manifest m;
  for (const YAML::Node& doc :
       YAML::LoadAllFromFile(SourceDir() + "/deploy/kubernetes/indelibled.yaml")) {
    const std::string kind = doc["kind"].as<std::string>();
    if (kind == "ConfigMap") {
      m.config = YAML::Load(doc["data"]["indelibled.yaml"].as<std::string>());
    } else if (kind == "StatefulSet") {
      m.pod = doc["spec"]["template"];
      m.container = m.pod["spec"]["containers"][0];
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
  ASSERT_EQ(RunCommand({"/usr/bin/openssl", "genpkey", "-algorithm", "ed25519", "-out",
                        dir.Sub("signing-key.pem")})
                .exit_code,
            0);
  for (const char* f : {"tls/server.pem", "tls/server.key", "tls/ca.pem", "signing-key.pem"}) {
    ASSERT_EQ(chmod(dir.Sub(f).c_str(), 0440), 0) << f;
  }

  YAML::Node config = YAML::Clone(m.config);
  const std::string local_host = HostOf(config["local_listen"].as<std::string>());
  const int manifest_local_port = PortOf(config["local_listen"].as<std::string>());
  config["local_listen"] = local_host + ":0";
  config["metrics_listen"] = HostOf(config["metrics_listen"].as<std::string>()) + ":0";
  config["tls"]["cert_file"] = dir.Sub("tls/server.pem");
  config["tls"]["key_file"] = dir.Sub("tls/server.key");
  config["tls"]["client_ca_file"] = dir.Sub("tls/ca.pem");
  config["signing_key_file"] = dir.Sub("signing-key.pem");
  config["data_dir"] = dir.Sub("data");
  YAML::Emitter yaml;
  yaml << config;
  std::ofstream(dir.Sub("indelibled.yaml")) << yaml.c_str() << "\n";

  auto d = DaemonProcess::Start(
      {.data_dir = dir.Sub("data"), .extra_args = {"--config", dir.Sub("indelibled.yaml")}});
  ASSERT_TRUE(d.ok()) << d.status();
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
