// indelible-signer's entry point: flags, configuration, the key, the state
// and the Unix-socket server (docs/OPERATIONS.md, "The signer").
// Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad flags or config.
#ifndef INDELIBLE_SIGNER_SIGNER_MAIN_H_
#define INDELIBLE_SIGNER_SIGNER_MAIN_H_

namespace indelible::signer {

int SignerMain(int argc, char** argv);

}  // namespace indelible::signer

#endif  // INDELIBLE_SIGNER_SIGNER_MAIN_H_
