#include "net/dynamic_config_files.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "storage/file_util.h"
#include "util/log.h"

namespace zk {
namespace {

bool isMembershipLine(std::string_view line) {
  auto eq = line.find('=');
  std::string_view key = line.substr(0, eq);
  while (!key.empty() && (key.front() == ' ' || key.front() == '\t')) key.remove_prefix(1);
  return key.starts_with("server.") || key.starts_with("group.") || key.starts_with("weight.") ||
         key.starts_with("dynamicConfigFile");
}

}  // namespace

std::filesystem::path writeDynamicConfigFiles(const std::filesystem::path& zooCfg,
                                              const DynamicConfig& config) {
  std::string version = hex(config.version);
  if (version.starts_with("0x")) version = version.substr(2);
  auto dynamic = zooCfg;
  dynamic += ".dynamic." + version;
  storage::writeFileAtomically(dynamic, formatDynamicConfigFile(config));

  std::ifstream in(zooCfg);
  if (!in) throw std::runtime_error("cannot read " + zooCfg.string());
  std::stringstream original;
  original << in.rdbuf();
  auto backup = zooCfg;
  backup += ".bak";
  if (!std::filesystem::exists(backup)) storage::writeFileAtomically(backup, original.str());
  std::string rewritten;
  std::string line;
  while (std::getline(original, line)) {
    if (!isMembershipLine(line)) rewritten += line + "\n";
  }
  rewritten += "dynamicConfigFile=" + dynamic.string() + "\n";
  storage::writeFileAtomically(zooCfg, rewritten);
  return dynamic;
}

}  // namespace zk
