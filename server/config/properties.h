#pragma once
// A reader for the java.util.Properties text format that zoo.cfg is written in, keeping the
// line each entry started on so that configuration errors can point at it.

#include <string>
#include <string_view>
#include <vector>

namespace zk {

struct Property {
  std::string key;
  std::string value;  // escapes resolved, surrounding whitespace trimmed (ZooKeeper trims too)
  int line = 0;       // 1-based line where the logical line starts
};

// Entries in file order; a key given twice appears twice (the caller decides that the last one
// wins, as Properties.load does). Never fails: every byte sequence is some set of entries.
std::vector<Property> parseProperties(std::string_view text);

}  // namespace zk
