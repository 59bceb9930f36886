// The auth section: tokens, role bindings and the persons behind principals.
#include <algorithm>
#include <map>

#include "daemon/governance/config_yaml.h"
#include "verifier/chain/hash.h"

namespace indelible {
namespace config_yaml {
namespace {

bool IsHexSha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::Status ParsePrincipalName(const YAML::Node& n, const std::string& path,
                                std::set<std::string>* known, std::string* out) {
  RETURN_IF_ERROR(Read(n, path, "principal", known, out));
  if (out->empty() || out->size() > 256 ||
      out->find_first_of(" \t\n\r") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", path, "principal: required, 1-256 characters, no spaces"));
  }
  return absl::OkStatus();
}

// Reads the optional `person` of a token or binding entry for `principal`
// into a->persons; every entry of one principal must name the same person.
absl::Status ParsePerson(const YAML::Node& n, const std::string& path,
                         std::set<std::string>* known, const std::string& principal,
                         std::map<std::string, std::string>* where, AuthConfig* a) {
  known->insert("person");
  if (!n["person"]) return absl::OkStatus();
  std::string person;
  RETURN_IF_ERROR(Read(n, path, "person", known, &person));
  if (person.empty() || person.size() > 256 ||
      person.find_first_of(" \t\n\r") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: ", path, "person: 1-256 characters, no spaces"));
  }
  auto [it, inserted] = a->persons.emplace(principal, person);
  if (!inserted && it->second != person) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: ", path, "person: principal \"", principal, "\" is person \"",
        it->second, "\" at ", (*where)[principal], "person"));
  }
  where->emplace(principal, path);
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseAuth(const YAML::Node& n, AuthConfig* a) {
  std::set<std::string> k;
  std::map<std::string, std::string> person_paths;  // principal -> first entry
  const std::string p = "auth.";
  RETURN_IF_ERROR(Read(n, p, "enabled", &k, &a->enabled));
  a->record_reads = a->enabled;  // the default follows the mode
  RETURN_IF_ERROR(Read(n, p, "require_read_reason", &k, &a->require_read_reason));
  RETURN_IF_ERROR(Read(n, p, "record_reads", &k, &a->record_reads));
  RETURN_IF_ERROR(Read(n, p, "two_person_rule", &k, &a->two_person_rule));
  RETURN_IF_ERROR(ReadDuration(n, p, "approval_window", &k, &a->approval_window_seconds));
  k.insert("tokens");
  if (const YAML::Node tokens = n["tokens"]) {
    if (!tokens.IsSequence()) {
      return absl::InvalidArgumentError("config: auth.tokens must be a list");
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string tp = absl::StrCat(p, "tokens[", i, "].");
      if (!tokens[i].IsMap()) {
        return absl::InvalidArgumentError(absl::StrCat("config: ", tp, " must be a mapping"));
      }
      std::set<std::string> tk;
      AuthConfig::Token t;
      RETURN_IF_ERROR(ParsePrincipalName(tokens[i], tp, &tk, &t.principal));
      RETURN_IF_ERROR(ParsePerson(tokens[i], tp, &tk, t.principal, &person_paths, a));
      RETURN_IF_ERROR(Read(tokens[i], tp, "sha256", &tk, &t.sha256_hex));
      if (!IsHexSha256(t.sha256_hex)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "config: ", tp, "sha256: want the token's SHA-256 as 64 lower-case hex "
            "digits (indelible token new prints it); never the token itself"));
      }
      RETURN_IF_ERROR(CheckUnknown(tokens[i], tp, tk));
      a->tokens.push_back(std::move(t));
    }
  }
  k.insert("bindings");
  if (const YAML::Node bindings = n["bindings"]) {
    if (!bindings.IsSequence()) {
      return absl::InvalidArgumentError("config: auth.bindings must be a list");
    }
    for (size_t i = 0; i < bindings.size(); ++i) {
      const std::string bp = absl::StrCat(p, "bindings[", i, "].");
      if (!bindings[i].IsMap()) {
        return absl::InvalidArgumentError(absl::StrCat("config: ", bp, " must be a mapping"));
      }
      std::set<std::string> bk;
      AuthConfig::Binding b;
      RETURN_IF_ERROR(ParsePrincipalName(bindings[i], bp, &bk, &b.principal));
      RETURN_IF_ERROR(ParsePerson(bindings[i], bp, &bk, b.principal, &person_paths, a));
      std::vector<std::string> roles;
      RETURN_IF_ERROR(Read(bindings[i], bp, "roles", &bk, &roles));
      RETURN_IF_ERROR(Read(bindings[i], bp, "tenants", &bk, &b.tenants));
      if (roles.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("config: ", bp, "roles: required"));
      }
      for (const auto& r : roles) {
        auto role = ParseRole(r);
        if (!role.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("config: ", bp, "roles: ", role.status().message()));
        }
        b.roles |= *role;
      }
      if (b.tenants.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("config: ", bp, "tenants: required (tenant ids or \"*\")"));
      }
      for (const auto& t : b.tenants) {
        if (t != kAnyTenant && !chain::IsValidTenantId(t)) {
          return absl::InvalidArgumentError(
              absl::StrCat("config: ", bp, "tenants: \"", t, "\" is not a tenant id"));
        }
      }
      RETURN_IF_ERROR(CheckUnknown(bindings[i], bp, bk));
      a->bindings.push_back(std::move(b));
    }
  }
  return CheckUnknown(n, p, k);
}

}  // namespace config_yaml
}  // namespace indelible
