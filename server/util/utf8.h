#pragma once
// UTF-8 as Java reads it. ZooKeeper holds every path and name as a Java String, decoded from
// the bytes on the wire or on disk with malformed sequences replaced by U+FFFD; zookube keeps the
// bytes, and converts them the same way where it prints them as JSON (the AdminServer), so its
// answers are valid JSON and say what ZooKeeper's would.

#include <cstddef>
#include <string>
#include <string_view>

namespace zk {

// The length of the well-formed UTF-8 sequence at the start of `text` (1 to 4), 0 if there is
// none: no overlong forms, UTF-16 surrogates or code points past U+10FFFF.
std::size_t utf8SequenceLength(std::string_view text);

// `text` with every maximal ill-formed subpart (Unicode's rule, which Java's decoder follows)
// replaced by U+FFFD; well-formed text comes back unchanged.
std::string withMalformedUtf8Replaced(std::string_view text);

}  // namespace zk
