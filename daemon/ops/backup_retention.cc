#include "daemon/ops/backup_retention.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace indelible {
namespace {

constexpr char kNameTimeFormat[] = "%Y%m%dT%H%M%SZ";
constexpr size_t kNameTimeSize = 16;  // 20261201T190501Z
constexpr uint64_t kNanosPerDay = 86400ull * 1000000000ull;

}  // namespace

std::string BackupName(uint64_t now_ns, std::string_view label) {
  const absl::Time t = absl::FromUnixNanos(static_cast<int64_t>(now_ns));
  std::string name = absl::FormatTime(kNameTimeFormat, t, absl::UTCTimeZone());
  if (!label.empty()) absl::StrAppend(&name, "-", std::string(label));
  return name;
}

std::optional<uint64_t> ParseBackupTime(std::string_view name) {
  if (name.size() < kNameTimeSize) return std::nullopt;
  if (name.size() > kNameTimeSize && name[kNameTimeSize] != '-') return std::nullopt;
  const std::string_view stamp = name.substr(0, kNameTimeSize);
  for (size_t i = 0; i < kNameTimeSize; ++i) {
    const bool digit = stamp[i] >= '0' && stamp[i] <= '9';
    if (i == 8 ? stamp[i] != 'T' : i == 15 ? stamp[i] != 'Z' : !digit) {
      return std::nullopt;
    }
  }
  // Fixed-width fields (absl::ParseTime's %Y would take all eight digits).
  auto num = [&stamp](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (stamp[i] - '0');
    return v;
  };
  const absl::CivilSecond c(num(0, 4), num(4, 2), num(6, 2), num(9, 2), num(11, 2),
                            num(13, 2));
  // CivilSecond normalises (month 13 is January of the next year): refuse
  // what it had to change.
  if (c.year() != num(0, 4) || c.month() != num(4, 2) || c.day() != num(6, 2) ||
      c.hour() != num(9, 2) || c.minute() != num(11, 2) || c.second() != num(13, 2)) {
    return std::nullopt;
  }
  const absl::Time t = absl::FromCivil(c, absl::UTCTimeZone());
  const int64_t ns = absl::ToUnixNanos(t);
  if (ns < 0) return std::nullopt;
  return static_cast<uint64_t>(ns);
}

bool IsValidBackupLabel(std::string_view label) {
  return label.size() <= 64 &&
         std::all_of(label.begin(), label.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
         });
}

std::vector<std::string> SelectBackupsToPrune(std::vector<BackupEntry> backups,
                                              uint64_t now_ns,
                                              const BackupRetention& retention,
                                              std::string_view keep) {
  // Newest first.
  std::sort(backups.begin(), backups.end(), [](const BackupEntry& a, const BackupEntry& b) {
    if (a.time_ns != b.time_ns) return a.time_ns > b.time_ns;
    return a.name > b.name;
  });
  std::vector<std::string> out;
  for (size_t i = 1; i < backups.size(); ++i) {
    const BackupEntry& b = backups[i];
    if (b.name == keep) continue;
    const bool too_many = retention.keep_count > 0 && i >= retention.keep_count;
    const bool too_old = retention.keep_days > 0 &&
                         now_ns > b.time_ns &&
                         now_ns - b.time_ns > retention.keep_days * kNanosPerDay;
    if (too_many || too_old) out.push_back(b.name);
  }
  return out;
}

}  // namespace indelible
