// spec.config through the server's zoo.cfg parser: the operator refuses exactly the values a
// member would exit on, with the member's own reason, before it renders anything.
#include <sstream>

#include "config/zoo_config.h"
#include "model/zk_cluster.h"

namespace zk::op {
namespace {

// What the check parses: a standalone server's minimum around the values, so that the parser
// runs every key's own rule and the rules that tie keys together (session timeouts and tickTime).
// The directory is never created: the parser only looks for a myid file in it.
std::string zooCfgText(const StringMap& config) {
  StringMap settings = zooCfgDefaults();
  for (const auto& [k, v] : config) {
    if (!isOperatorOwnedConfigKey(k)) settings[k] = v;
  }
  std::ostringstream out;
  out << "dataDir=/nonexistent/zookube-config-check\nclientPort=2181\n";
  for (const auto& [k, v] : settings) out << k << '=' << v << '\n';
  return out.str();
}

// The parser's message without its "<file>:<line>: " or "<file>: " prefix.
std::string reasonOf(const ConfigError& e, std::string_view source) {
  std::string_view text = e.what();
  if (text.starts_with(source)) {
    text.remove_prefix(source.size());
    text.remove_prefix(std::min(text.find(' '), text.size()));
    while (text.starts_with(' ')) text.remove_prefix(1);
  }
  return std::string(text);
}

}  // namespace

const StringMap& zooCfgDefaults() {
  static const StringMap defaults{{"tickTime", "2000"}, {"initLimit", "10"}, {"syncLimit", "5"}};
  return defaults;
}

std::vector<std::string> checkConfigValues(const StringMap& config) {
  std::vector<std::string> errors;
  auto check = [&](const StringMap& settings) {
    constexpr std::string_view kSource = "spec.config";
    try {
      parseConfig(zooCfgText(settings), std::string(kSource));
    } catch (const ConfigValueError& e) {
      errors.push_back("spec.config." + e.key() + ": " + e.reason());
    } catch (const ConfigError& e) {  // a rule over several keys; the reason names them
      errors.push_back("spec.config: " + reasonOf(e, kSource));
    }
  };
  // Each key alone first, so that every bad value is named, not only the first.
  for (const auto& [key, value] : config) {
    if (!isOperatorOwnedConfigKey(key)) check({{key, value}});
  }
  if (errors.empty()) check(config);
  return errors;
}

}  // namespace zk::op
