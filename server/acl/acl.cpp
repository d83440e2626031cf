#include "acl/acl.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "protocol/errors.h"

namespace zk {
namespace {

// Java's Integer.parseInt: optional sign, then at least one decimal digit.
std::optional<int> parseJavaInt(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 9) return std::nullopt;
  int value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return negative ? -value : value;
}

// IPv4 parsed as ZooKeeper does (four dot-separated ints in 0..255), IPv6 via inet_pton
// (a "%scope" suffix is dropped). Empty when the text is neither.
std::vector<std::uint8_t> addressBytes(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    std::string v6(text.substr(0, text.find('%')));
    std::array<std::uint8_t, 16> buf{};
    if (inet_pton(AF_INET6, v6.c_str(), buf.data()) != 1) return {};
    return {buf.begin(), buf.end()};
  }
  std::vector<std::uint8_t> bytes;
  std::size_t start = 0;
  for (int part = 0; part < 4; ++part) {
    std::size_t dot = part < 3 ? text.find('.', start) : text.size();
    if (dot == std::string_view::npos) return {};
    auto value = parseJavaInt(text.substr(start, dot - start));
    if (!value || *value < 0 || *value > 255) return {};
    bytes.push_back(static_cast<std::uint8_t>(*value));
    start = dot + 1;
  }
  return bytes;
}

void maskTo(std::vector<std::uint8_t>& bytes, int bits) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    int keep = std::clamp(bits - static_cast<int>(i) * 8, 0, 8);
    bytes[i] &= static_cast<std::uint8_t>(0xFF00 >> keep);
  }
}

// "addr[/bits]" split into the address and a valid prefix length; nullopt if malformed.
std::optional<std::pair<std::vector<std::uint8_t>, int>> parseIpExpr(std::string_view expr) {
  auto slash = expr.find('/');
  auto bytes = addressBytes(expr.substr(0, slash));
  if (bytes.empty()) return std::nullopt;
  int maxBits = static_cast<int>(bytes.size()) * 8;
  int bits = maxBits;
  if (slash != std::string_view::npos) {
    auto parsed = parseJavaInt(expr.substr(slash + 1));
    if (!parsed || *parsed < 0 || *parsed > maxBits) return std::nullopt;
    bits = *parsed;
  }
  return std::make_pair(std::move(bytes), bits);
}

// Java's String.split(":") count: trailing empty pieces are dropped.
bool isUserColonHash(std::string_view id) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    auto colon = id.find(':', start);
    parts.push_back(id.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts.size() == 2;
}

std::string base64(const unsigned char* data, std::size_t len) {
  std::string out(4 * ((len + 2) / 3), '\0');
  int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

// As ZooKeeper's KerberosName parses a sasl id: "name[/host]@realm" with no further '/' or '@',
// or any name without '@'.
bool validKerberosName(std::string_view id) {
  std::size_t at = id.find('@');
  if (at == std::string_view::npos) return true;
  std::string_view realm = id.substr(at + 1);
  std::string_view name = id.substr(0, at);
  if (realm.find_first_of("/@") != std::string_view::npos) return false;
  std::size_t slash = name.find('/');
  return slash == std::string_view::npos ||
         name.substr(slash + 1).find('/') == std::string_view::npos;
}

bool idMatches(const Id& authId, const Id& aclId) {
  if (authId.scheme != aclId.scheme) return false;
  if (aclId.scheme == "ip") return ipMatches(authId.id, aclId.id);
  // SASLAuthenticationProvider: the SASL user "super" matches every sasl ACL.
  if (aclId.scheme == "sasl" && authId.id == "super") return true;
  return authId.id == aclId.id;  // digest, and the exact-id providers (sasl, x509)
}

}  // namespace

std::string digestFor(std::string_view userColonPassword) {
  unsigned char hash[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(userColonPassword.data()), userColonPassword.size(),
       hash);
  std::string_view user = userColonPassword.substr(0, userColonPassword.find(':'));
  return std::string(user) + ":" + base64(hash, sizeof hash);
}

bool ipMatches(std::string_view clientAddress, std::string_view aclExpr) {
  auto acl = parseIpExpr(aclExpr);
  if (!acl) return false;
  auto client = addressBytes(clientAddress);
  if (client.size() != acl->first.size()) return false;
  maskTo(acl->first, acl->second);
  maskTo(client, acl->second);
  return client == acl->first;
}

bool permitted(const AclList& acl, std::int32_t perm, std::span<const Id> authIds, bool superUser) {
  if (acl.empty() || superUser) return true;
  for (const auto& entry : acl) {
    if ((entry.perms & perm) == 0) continue;
    if (entry.id.scheme == "world" && entry.id.id == "anyone") return true;
    // "world" with another id, "auth" and "super" have no provider, so never match.
    if (entry.id.scheme == "world" || entry.id.scheme == "auth" || entry.id.scheme == "super") {
      continue;
    }
    for (const auto& authId : authIds) {
      if (idMatches(authId, entry.id)) return true;
    }
  }
  return false;
}

bool validId(std::string_view scheme, std::string_view id) {
  if (scheme == "world") return id == "anyone";
  if (scheme == "digest") return isUserColonHash(id);
  if (scheme == "ip") return parseIpExpr(id).has_value();
  // A distinguished name, as X500Principal would parse it: at least one type=value.
  if (scheme == "x509") return id.find('=') != std::string_view::npos && id.front() != '=';
  if (scheme == "sasl") return validKerberosName(id);
  return false;
}

AclList fixupAcl(const AclList& requested, std::span<const Id> authIds) {
  AclList unique;
  for (const auto& entry : requested) {
    if (std::find(unique.begin(), unique.end(), entry) == unique.end()) unique.push_back(entry);
  }
  if (unique.empty()) throw KeeperError{Err::kInvalidACL};
  AclList out;
  for (const auto& entry : unique) {
    if (entry.id.scheme == "auth") {
      // Only ids from providers that authenticate (not ip, and "super" has no provider).
      bool any = false;
      for (const auto& authId : authIds) {
        if (authId.scheme == "ip" || authId.scheme == "super") continue;
        out.push_back(ACL{entry.perms, authId});
        any = true;
      }
      if (!any) throw KeeperError{Err::kInvalidACL};
    } else if (validId(entry.id.scheme, entry.id.id)) {
      out.push_back(entry);
    } else {
      throw KeeperError{Err::kInvalidACL};
    }
  }
  return out;
}

}  // namespace zk
