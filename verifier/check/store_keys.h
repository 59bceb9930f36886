// The key history a daemon records in its own store (layout.h: default
// column family, "signing_key/" || key_id(4) -> verifier-key string).
//
// These keys are self-asserted: whoever can rewrite the checkpoints can
// rewrite this list too. Checking signatures against them catches damaged or
// naively forged checkpoints, not an attacker with the store in hand; only
// keys the auditor obtained independently (--key, --key-pem) do that. The
// check uses them only when no key was given, and says so.
#ifndef INDELIBLE_VERIFIER_CHECK_STORE_KEYS_H_
#define INDELIBLE_VERIFIER_CHECK_STORE_KEYS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "verifier/check/trusted_keys.h"
#include "verifier/store/reader.h"

namespace indelible::check {

struct StoreKeys {
  TrustedKeys keys;
  // Rows that are not a valid entry (undecodable key string, or a row key
  // whose id is not the key's), described for a kMalformed finding.
  std::vector<std::string> problems;
};

// An error only if the store cannot be read.
absl::StatusOr<StoreKeys> ReadStoreKeys(const store::Reader& reader);

}  // namespace indelible::check

#endif  // INDELIBLE_VERIFIER_CHECK_STORE_KEYS_H_
