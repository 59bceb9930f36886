#include "signer/signer_main.h"

int main(int argc, char** argv) { return indelible::signer::SignerMain(argc, argv); }
