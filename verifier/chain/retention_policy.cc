#include "verifier/chain/retention_policy.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "verifier/chain/text.h"

namespace indelible::chain {
namespace {

bool IsCategoryName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

}  // namespace

bool IsNeverPruned(std::string_view category) {
  return category.substr(0, 10) == "indelible.";
}

uint64_t RetentionPolicy::Seconds(std::string_view category) const {
  auto it = categories.find(category);
  return it == categories.end() ? default_seconds : it->second;
}

uint64_t RetentionPolicy::ShortestSeconds() const {
  uint64_t s = default_seconds;
  for (const auto& [name, v] : categories) s = std::min(s, v);
  return s;
}

bool RetentionPolicy::operator==(const RetentionPolicy& o) const {
  return tenant == o.tenant && default_seconds == o.default_seconds &&
         min_seconds == o.min_seconds && max_seconds == o.max_seconds &&
         legal_hold == o.legal_hold && categories == o.categories;
}

std::string FormatRetentionPolicy(const RetentionPolicy& p) {
  std::string out = absl::StrCat(ToAbsl(kPolicyTag), "\ntenant ", p.tenant, "\ndefault ",
                                 p.default_seconds, "\nmin ", p.min_seconds, "\nmax ",
                                 p.max_seconds, "\nlegal_hold ",
                                 p.legal_hold ? "true" : "false", "\n");
  for (const auto& [name, seconds] : p.categories) {
    if (!IsCategoryName(name) || IsNeverPruned(name)) continue;
    absl::StrAppend(&out, "category ", name, " ", seconds, "\n");
  }
  return out;
}

absl::StatusOr<RetentionPolicy> ParseRetentionPolicy(std::string_view text) {
  auto bad = [](size_t line, std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("retention policy line ", line, ": ", ToAbsl(why)));
  };
  if (text.empty() || text.back() != '\n') return bad(0, "must end with a newline");
  std::vector<std::string_view> lines = Split(text.substr(0, text.size() - 1), '\n');
  if (lines.size() < 6) return bad(lines.size() + 1, "missing (want at least 6 lines)");
  if (lines[0] != kPolicyTag) return bad(1, "want indelible/v1/retention-policy");
  RetentionPolicy p;
  auto field = [&](size_t i, std::string_view name, std::string_view* value) {
    std::string_view l = lines[i];
    if (l.size() <= name.size() || l.substr(0, name.size()) != name ||
        l[name.size()] != ' ') {
      return false;
    }
    *value = l.substr(name.size() + 1);
    return true;
  };
  std::string_view v;
  if (!field(1, "tenant", &v) || v.empty()) return bad(2, "want tenant <tenant>");
  p.tenant = std::string(v);
  const std::pair<std::string_view, uint64_t*> numbers[] = {
      {"default", &p.default_seconds}, {"min", &p.min_seconds}, {"max", &p.max_seconds}};
  for (size_t i = 0; i < 3; ++i) {
    if (!field(2 + i, numbers[i].first, &v) || !ParseDecimal(v, numbers[i].second)) {
      return bad(3 + i, absl::StrCat("want ", ToAbsl(numbers[i].first), " <seconds>"));
    }
  }
  if (!field(5, "legal_hold", &v) || (v != "true" && v != "false")) {
    return bad(6, "want legal_hold true or false");
  }
  p.legal_hold = v == "true";
  for (size_t i = 6; i < lines.size(); ++i) {
    std::string_view rest;
    const size_t sp = lines[i].rfind(' ');
    uint64_t seconds = 0;
    if (!field(i, "category", &rest) || sp == std::string_view::npos ||
        !ParseDecimal(lines[i].substr(sp + 1), &seconds)) {
      return bad(i + 1, "want category <name> <seconds>");
    }
    std::string_view name = rest.substr(0, rest.rfind(' '));
    if (!IsCategoryName(name) || IsNeverPruned(name)) {
      return bad(i + 1, "not a category a policy can name");
    }
    if (!p.categories.empty() && p.categories.rbegin()->first >= name) {
      return bad(i + 1, "categories must be unique and ascending");
    }
    p.categories.emplace(std::string(name), seconds);
  }
  if (FormatRetentionPolicy(p) != text) return bad(0, "not in canonical form");
  return p;
}

}  // namespace indelible::chain
