#include "daemon/daemon_main.h"

int main(int argc, char** argv) { return indelible::DaemonMain(argc, argv); }
