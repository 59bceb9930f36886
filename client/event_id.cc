#include "client/event_id.h"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdint>

namespace indelible::client {

absl::StatusOr<std::string> NewEventId() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return NewEventIdAt(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()));
}

absl::StatusOr<std::string> NewEventIdAt(uint64_t unix_ms) {
  std::array<uint8_t, 16> b;
  if (RAND_bytes(b.data() + 6, 10) != 1) {
    return absl::InternalError("event id: RAND_bytes failed");
  }
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(unix_ms >> (40 - 8 * i));
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x70);  // version 7
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 9562 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
    id.push_back(kHex[b[i] >> 4]);
    id.push_back(kHex[b[i] & 0x0f]);
  }
  return id;
}

}  // namespace indelible::client
