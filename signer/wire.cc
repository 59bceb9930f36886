#include "signer/wire.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace indelible::signer {

std::string DeletionRequestText(const std::vector<std::string>& approvers,
                                std::string_view request) {
  std::string out;
  for (const auto& a : approvers) out.append("approver ").append(a).append("\n");
  out.append(request);
  return out;
}
namespace {

absl::Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("signer socket: write: ", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status ReadAll(int fd, char* out, size_t n) {
  while (n > 0) {
    const ssize_t r = read(fd, out, n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      return absl::UnavailableError(absl::StrCat(
          "signer socket: read: ",
          errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : std::strerror(errno)));
    }
    if (r == 0) return absl::UnavailableError("signer socket: closed by the peer");
    out += r;
    n -= static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFrame(int fd, std::string_view payload) {
  if (payload.size() > kMaxFrameBytes) {
    return absl::InvalidArgumentError("signer frame: too large");
  }
  const uint32_t n = static_cast<uint32_t>(payload.size());
  std::string frame = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
  frame.append(payload);
  return WriteAll(fd, frame);
}

absl::StatusOr<std::string> ReadFrame(int fd) {
  unsigned char len[4];
  if (auto s = ReadAll(fd, reinterpret_cast<char*>(len), 4); !s.ok()) return s;
  const uint32_t n = (uint32_t{len[0]} << 24) | (uint32_t{len[1]} << 16) |
                     (uint32_t{len[2]} << 8) | uint32_t{len[3]};
  if (n > kMaxFrameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("signer frame: ", n, " bytes announced, at most ", kMaxFrameBytes));
  }
  std::string payload(n, '\0');
  if (auto s = ReadAll(fd, payload.data(), n); !s.ok()) return s;
  return payload;
}

absl::Status SplitHead(std::string_view payload, std::string* head, std::string* body) {
  const size_t nl = payload.find('\n');
  if (nl == std::string_view::npos) {
    return absl::InvalidArgumentError("signer frame: no newline after its first line");
  }
  *head = std::string(payload.substr(0, nl));
  *body = std::string(payload.substr(nl + 1));
  return absl::OkStatus();
}

absl::StatusOr<WireAnswer> Call(const std::string& socket_path, std::string_view method,
                                std::string_view body, std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("signer_socket: path too long");
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", std::strerror(errno)));
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  absl::StatusOr<WireAnswer> result;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    result = absl::UnavailableError(
        absl::StrCat("cannot connect to the signer at ", socket_path, ": ", std::strerror(errno)));
  } else if (auto s = WriteFrame(fd, std::string(method) + "\n" + std::string(body)); !s.ok()) {
    result = s;
  } else if (auto payload = ReadFrame(fd); !payload.ok()) {
    result = payload.status();
  } else {
    std::string head, rest;
    WireAnswer a;
    const size_t sp = payload->find(' ');
    if (!SplitHead(*payload, &head, &rest).ok() || sp == std::string::npos ||
        !absl::SimpleAtoi(head.substr(0, head.find(' ')), &a.status)) {
      result = absl::UnavailableError("signer socket: malformed answer");
    } else {
      a.content_type = head.substr(head.find(' ') + 1);
      a.body = std::move(rest);
      result = std::move(a);
    }
  }
  close(fd);
  return result;
}

}  // namespace indelible::signer
