// The results of a load run, as text for people or JSON for scripts
// (tools/run_benchmarks.sh reads the JSON).
#ifndef INDELIBLE_TOOLS_LOADGEN_REPORT_H_
#define INDELIBLE_TOOLS_LOADGEN_REPORT_H_

#include <string>

#include "nlohmann/json.hpp"
#include "tools/loadgen/run_stats.h"
#include "tools/loadgen/verify.h"
#include "tools/loadgen/workload.h"

namespace indelible::tools {

struct RunReport {
  const LoadOptions* options;
  size_t event_bytes = 0;  // actual serialized size of one event
  const RunStats* stats;
  VerifyResult verify;
};

std::string ModeName(Mode m);
nlohmann::json ToJson(const RunReport& r);
std::string ToText(const RunReport& r);

}  // namespace indelible::tools

#endif  // INDELIBLE_TOOLS_LOADGEN_REPORT_H_
