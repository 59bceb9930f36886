// indelible-witness: the command (flags, config, servers, signals). The
// entry point is a library function so that main.cc stays one line.
//
// Exit codes: 0 clean shutdown (SIGTERM/SIGINT) or keygen done; 1 cannot
// run (key unreadable or loosely protected, state directory locked or
// damaged, port in use, TLS files unusable); 2 usage or configuration error
// (the message names the field).
#ifndef INDELIBLE_WITNESS_WITNESS_MAIN_H_
#define INDELIBLE_WITNESS_WITNESS_MAIN_H_

namespace indelible::witness {

inline constexpr char kWitnessVersion[] = "0.1.0";

int WitnessMain(int argc, char** argv);

}  // namespace indelible::witness

#endif  // INDELIBLE_WITNESS_WITNESS_MAIN_H_
