#include "verifier/check/store_keys.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "verifier/chain/coding.h"
#include "verifier/chain/hash.h"
#include "verifier/chain/note.h"
#include "verifier/chain/text.h"
#include "verifier/store/layout.h"

namespace indelible::check {

absl::StatusOr<StoreKeys> ReadStoreKeys(const store::Reader& reader) {
  StoreKeys out;
  const std::string_view prefix = store::kSigningKeyPrefix;
  auto rows = reader.NewRows("default", prefix);
  for (; rows->Valid(); rows->Next()) {
    std::string_view id = rows->key().substr(prefix.size());
    const std::string value(rows->value());
    auto key = chain::ParseNoteVerifierKey(value);
    if (!key.ok()) {
      out.problems.push_back(absl::StrCat(
          "key history row ", chain::ToHex(rows->key()), ": ",
          chain::ToAbsl(chain::ToStd(key.status().message()))));
      continue;
    }
    if (id.size() != 4 || chain::DecodeU32(id.data()) != key->key_id) {
      out.problems.push_back(absl::StrCat(
          "key history row ", chain::ToHex(rows->key()),
          " holds a key whose id is ", absl::StrFormat("%08x", key->key_id)));
      continue;
    }
    if (auto s = out.keys.AddVerifierKey(value); !s.ok()) return s;
  }
  if (auto s = rows->status(); !s.ok()) return s;
  return out;
}

}  // namespace indelible::check
