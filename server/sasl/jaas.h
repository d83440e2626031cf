#pragma once
// A JAAS login configuration file (java.security.auth.login.config), as far as ZooKeeper's
// server reads one: named sections, each a list of login modules with a control flag and
// key=value options. Comments (// and /* */) are skipped; values may be quoted.

#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace zk::jaas {

class ParseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoginModule {
  std::string className;
  std::string flag;  // required, requisite, sufficient or optional
  std::map<std::string, std::string, std::less<>> options;
};

using Configuration = std::map<std::string, std::vector<LoginModule>, std::less<>>;

// Throws ParseError naming the line of the first thing that is not JAAS syntax.
Configuration parse(std::string_view text);
// The file's configuration; throws std::runtime_error naming a file it cannot read, ParseError
// for one that does not parse.
Configuration readFile(const std::filesystem::path& file);

}  // namespace zk::jaas
