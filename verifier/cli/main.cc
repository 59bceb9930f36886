#include "verifier/cli/verify_main.h"

int main(int argc, char** argv) { return indelible::verify::Main(argc, argv); }
