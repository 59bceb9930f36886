// FUZZ_CHECK: a property a fuzz target asserts. On failure it names the
// property and aborts, so libFuzzer records the input as a crash.
#ifndef INDELIBLE_TESTS_FUZZ_FUZZ_CHECK_H_
#define INDELIBLE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                            \
  do {                                                              \
    if (!(cond)) {                                                  \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n",        \
                   __FILE__, __LINE__, #cond);                      \
      std::abort();                                                 \
    }                                                               \
  } while (0)

#endif  // INDELIBLE_TESTS_FUZZ_FUZZ_CHECK_H_
