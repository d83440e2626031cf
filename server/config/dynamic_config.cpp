#include "config/dynamic_config.h"

#include <charconv>
#include <stdexcept>
#include <vector>

#include "util/log.h"

namespace zk {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Splits on commas and newlines, dropping empty items.
std::vector<std::string_view> items(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    std::size_t at = s.find_first_of(",\n");
    std::string_view item = trim(s.substr(0, at));
    if (!item.empty()) out.push_back(item);
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

std::int64_t number(std::string_view s, int base, std::string_view what) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    throw std::invalid_argument(std::string(what) + " '" + std::string(s) + "' is not a number");
  return v;
}

// "server.N=spec" -> the entry.
ServerEntry serverItem(std::string_view item) {
  auto eq = item.find('=');
  std::string_view key = trim(item.substr(0, eq));
  if (eq == std::string_view::npos || !key.starts_with("server."))
    throw std::invalid_argument("expected server.N=host:quorumPort:electionPort..., got '" +
                                std::string(item) + "'");
  std::int64_t id = number(key.substr(7), 10, "server id");
  // As ZooKeeper, any positive id may name a member here (kazoo's tests have a reconfig add
  // server.999 and expect it refused for lack of auth, not for its id); only this server's
  // own myid is held to 1..255, where its session ids have room for it (zoo_config.cpp).
  if (id < 1) throw std::invalid_argument("server id " + std::to_string(id) + " must be positive");
  try {
    return parseServerEntry(id, trim(item.substr(eq + 1)));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(key) + ": " + e.what());
  }
}

}  // namespace

std::string formatDynamicConfigFile(const DynamicConfig& config) {
  std::string out;
  for (const auto& [id, entry] : config.servers)
    out += "server." + std::to_string(id) + "=" + formatServerEntry(entry) + "\n";
  return out;
}

std::string formatDynamicConfig(const DynamicConfig& config) {
  std::string version = hex(config.version);
  return formatDynamicConfigFile(config) +
         "version=" + (version.starts_with("0x") ? version.substr(2) : version);
}

DynamicConfig parseDynamicConfig(std::string_view text) {
  DynamicConfig config;
  int line = 0;
  for (std::string_view item : items(text)) {
    ++line;
    try {
      if (item.starts_with("version=")) {
        config.version = number(trim(item.substr(8)), 16, "version");
        continue;
      }
      ServerEntry entry = serverItem(item);
      config.servers[entry.id] = entry;
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("configuration entry " + std::to_string(line) + ": " + e.what());
    }
  }
  return config;
}

DynamicConfig applyReconfigRequest(const DynamicConfig& current, std::string_view joining,
                                   std::string_view leaving, std::string_view newMembers) {
  DynamicConfig next;
  if (!trim(newMembers).empty()) {
    if (!trim(joining).empty() || !trim(leaving).empty())
      throw std::invalid_argument("newMembers cannot be combined with joining or leaving");
    for (std::string_view item : items(newMembers)) {
      ServerEntry entry = serverItem(item);
      next.servers[entry.id] = entry;
    }
  } else {
    next = current;
    for (std::string_view item : items(leaving)) {
      std::int64_t id = number(item, 10, "leaving server id");
      if (next.servers.erase(id) == 0)
        throw std::invalid_argument("leaving server " + std::to_string(id) + " is not a member");
    }
    for (std::string_view item : items(joining)) {
      ServerEntry entry = serverItem(item);
      next.servers[entry.id] = entry;
    }
  }
  bool anyVoter = false;
  for (const auto& [id, entry] : next.servers) anyVoter |= entry.role == PeerRole::kParticipant;
  if (!anyVoter) throw std::invalid_argument("the new configuration has no voting member");
  if (next.servers == current.servers) throw std::invalid_argument("no change requested");
  return next;
}

}  // namespace zk
