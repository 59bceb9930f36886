// Signed reports (verifier/report/report_check.h): CheckReport on any
// manifest and report bytes lists problems or returns an error status, never
// throws or crashes. The input is the manifest, a NUL byte, then the report;
// the manifest is signed here with the test key (which the check trusts), so
// the fuzzer reaches the manifest and row checks behind the signature.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_key.h"
#include "verifier/report/report_check.h"

namespace {

const std::string& Dir() {
  static const std::string* dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() /
                        "indelible-report-fuzz-XXXXXX").string();
    FUZZ_CHECK(mkdtemp(tmpl.data()) != nullptr);
    auto* d = new std::string(tmpl);
    std::atexit([] { std::filesystem::remove_all(Dir()); });
    return d;
  }();
  return *dir;
}

void Write(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  FUZZ_CHECK(out.good());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace indelible;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string_view manifest = in.substr(0, nul);
  const std::string_view report =
      nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);

  const chain::Ed25519PrivateKey& key = fuzz::TestSigner().private_key();
  report::ReportCheckOptions options;
  options.report_path = Dir() + "/report";
  options.manifest_path = Dir() + "/manifest.json";
  options.trusted_keys = {key.PublicKey()};
  Write(options.manifest_path, manifest);
  Write(options.manifest_path + ".sig", key.Sign(manifest));
  Write(options.report_path, report);

  auto result = report::CheckReport(options);
  if (result.ok() && result->problems.empty()) {
    FUZZ_CHECK(result->format == "csv" || result->format == "json");
  }
  return 0;
}
