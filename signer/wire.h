// The signer's protocol on its Unix socket (docs/OPERATIONS.md, "The
// signer"): one request and one answer per connection, each a frame
//
//   u32(len) || payload            big-endian length, at most kMaxFrameBytes
//
// A request's payload is "<method>\n<body>", an answer's
// "<status> <content type>\n<body>" with an HTTP-like status. Methods:
//   key              body empty; 200 with the verifier key string
//   sign-checkpoint  body as Signer::Sign (signer.h)
//   sign-deletion    "approver <name>\n" lines (DeletionRequestText), then
//                    the same, also signing the deletion certificate
//
// Thread-safe: functions on file descriptors the caller owns.
#ifndef INDELIBLE_SIGNER_WIRE_H_
#define INDELIBLE_SIGNER_WIRE_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace indelible::signer {

inline constexpr size_t kMaxFrameBytes = 128 * 1024;
inline constexpr char kMethodKey[] = "key";
inline constexpr char kMethodSignCheckpoint[] = "sign-checkpoint";
inline constexpr char kMethodSignDeletion[] = "sign-deletion";

struct WireAnswer {
  int status = 0;
  std::string content_type;
  std::string body;
};

// The body of a sign-deletion request: one "approver <name>\n" line per
// approver, then `request` (the sign-checkpoint body).
std::string DeletionRequestText(const std::vector<std::string>& approvers,
                                std::string_view request);

// Writes one frame. Internal on I/O errors.
absl::Status WriteFrame(int fd, std::string_view payload);
// Reads one frame. InvalidArgument if it announces more than
// kMaxFrameBytes; Unavailable if the peer closes or the read times out.
absl::StatusOr<std::string> ReadFrame(int fd);

// Splits "<first line>\n<rest>". InvalidArgument without a newline.
absl::Status SplitHead(std::string_view payload, std::string* head, std::string* body);

// Connects to `socket_path`, sends (method, body), waits at most `timeout`
// and returns the answer. Unavailable if the signer cannot be reached or
// does not answer in time.
absl::StatusOr<WireAnswer> Call(const std::string& socket_path, std::string_view method,
                                std::string_view body, std::chrono::milliseconds timeout);

}  // namespace indelible::signer

#endif  // INDELIBLE_SIGNER_WIRE_H_
