#pragma once
// ACL evaluation and validation as ZooKeeper's checkACL, fixupACL and its default
// authentication providers (world, digest, ip) do it.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "protocol/records.h"

namespace zk {

// "user:password" -> "user:" + base64(sha1("user:password")), the id a digest ACL names
// (DigestAuthenticationProvider.generateDigest).
std::string digestFor(std::string_view userColonPassword);

// Whether a session holding `authIds` (always including its "ip" id) may do `perm` on a node
// with `acl`. An empty list allows everything; a super user is always allowed.
bool permitted(const AclList& acl, std::int32_t perm, std::span<const Id> authIds, bool superUser);

// The ACL a create or setACL stores: duplicates removed, "auth" expanded to the session's
// authenticated (non-ip) ids, every id validated. Throws KeeperError{Err::kInvalidACL}.
AclList fixupAcl(const AclList& requested, std::span<const Id> authIds);

// Whether `id` is well formed for `scheme` (world: "anyone"; digest: "user:hash";
// ip: an IPv4 or IPv6 address with an optional /prefix length).
bool validId(std::string_view scheme, std::string_view id);

// ip ACL matching: `clientAddress` against "addr" or "addr/bits".
bool ipMatches(std::string_view clientAddress, std::string_view aclExpr);

}  // namespace zk
