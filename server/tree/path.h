#pragma once
// Znode path rules (ZooKeeper's PathUtils.validatePath) and the path order the data tree is
// kept in.

#include <optional>
#include <string>
#include <string_view>

namespace zk {

// Why `path` is not a valid znode path, or nullopt if it is. With allowSequentialSuffixPending
// the path is checked as ZooKeeper checks a sequential create: with a counter appended, so
// "/a/" (which becomes "/a/0000000001") is accepted.
std::optional<std::string> pathError(std::string_view path,
                                     bool allowSequentialSuffixPending = false);

// "/a/b" -> "/a", "/a" -> "/", "/" -> "/". Paths without a '/' yield "".
std::string_view parentOf(std::string_view path);
// "/a/b" -> "b", "/" -> "".
std::string_view baseName(std::string_view path);

// Orders paths component by component: '/' ranks below every other byte, so "/a/z" sorts
// before "/a-b" and a node's whole subtree follows it contiguously. A parent therefore always
// precedes its children, which lets a snapshot be written in chunks while writes go on.
struct PathLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

// The smallest key that sorts after every path in the subtree of `path` (exclusive end of a
// subtree scan under PathLess).
std::string subtreeEnd(std::string_view path);

}  // namespace zk
