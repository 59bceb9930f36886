#include "witness/witness_main.h"

int main(int argc, char** argv) { return indelible::witness::WitnessMain(argc, argv); }
