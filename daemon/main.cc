#include "daemon/daemon_main.h"

#ifdef INDELIBLE_JEMALLOC
// jemalloc's settings, read when it initialises (MALLOC_CONF in the
// environment still overrides them). Two arenas for a daemon whose hot
// threads are a few (RPC, sequencer, committer, RocksDB's two background
// jobs), and freed pages returned after a second: this kept the peak RSS
// about 20 MiB lower than jemalloc's defaults at the same ingest rate
// (docs/PERFORMANCE.md).
extern "C" {
// NOLINTNEXTLINE: the name jemalloc looks up
const char* malloc_conf = "narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
#endif

int main(int argc, char** argv) { return indelible::DaemonMain(argc, argv); }
