// Parsing of "server.N" membership lines (ZooKeeper's QuorumPeer.QuorumServer syntax).

#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/zoo_config.h"

namespace zk {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    std::size_t at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

// "host:a:b" or "[v6::addr]:a:b" -> {host, "a", "b"}; brackets are removed from the host.
std::vector<std::string_view> hostAndPorts(std::string_view s) {
  if (!s.starts_with('[')) return split(s, ':');
  std::size_t close = s.find(']');
  if (close == std::string_view::npos) throw std::invalid_argument("missing ']' in IPv6 address");
  std::vector<std::string_view> parts{s.substr(1, close - 1)};
  std::string_view rest = s.substr(close + 1);
  if (rest.empty()) return parts;
  if (!rest.starts_with(':')) throw std::invalid_argument("expected ':' after ']'");
  for (auto p : split(rest.substr(1), ':')) parts.push_back(p);
  return parts;
}

std::uint16_t port(std::string_view s, std::string_view what) {
  s = trimmed(s);
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
    throw std::invalid_argument(std::string(what) + " '" + std::string(s) + "' is not a number");
  }
  if (v < 1 || v > 65535) {
    throw std::invalid_argument(std::string(what) + " " + std::to_string(v) +
                                " is out of range 1..65535");
  }
  return static_cast<std::uint16_t>(v);
}

PeerRole role(std::string_view s) {
  std::string lower;
  for (char c : trimmed(s)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "participant") return PeerRole::kParticipant;
  if (lower == "observer") return PeerRole::kObserver;
  throw std::invalid_argument("unknown role '" + std::string(s) +
                              "' (expected participant or observer)");
}

void parseClientPart(std::string_view part, ServerEntry& entry) {
  auto parts = hostAndPorts(trimmed(part));
  if (parts.size() > 2) throw std::invalid_argument("client part must be [host:]port");
  entry.clientHost = parts.size() == 2 ? std::string(trimmed(parts[0])) : "0.0.0.0";
  entry.clientPort = port(parts.back(), "client port");
}

std::string bracketed(const std::string& host) {
  return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

}  // namespace

ServerEntry parseServerEntry(std::int64_t id, std::string_view value) {
  constexpr std::string_view kForm =
      "expected host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]";
  ServerEntry entry;
  entry.id = id;
  auto sections = split(trimmed(value), ';');
  if (sections.size() > 2) throw std::invalid_argument(std::string(kForm));
  if (sections[0].find('|') != std::string_view::npos) {
    throw std::invalid_argument("multiple addresses ('|') are not supported");
  }
  auto parts = hostAndPorts(trimmed(sections[0]));
  if (parts.size() < 3 || parts.size() > 4) throw std::invalid_argument(std::string(kForm));
  entry.host = std::string(trimmed(parts[0]));
  if (entry.host.empty()) throw std::invalid_argument("empty host");
  entry.quorumPort = port(parts[1], "quorum port");
  entry.electionPort = port(parts[2], "election port");
  if (entry.quorumPort == entry.electionPort) {
    throw std::invalid_argument("quorum and election port must be different");
  }
  if (parts.size() == 4) entry.role = role(parts[3]);
  if (sections.size() == 2) parseClientPart(sections[1], entry);
  return entry;
}

std::string formatServerEntry(const ServerEntry& e) {
  std::string out = bracketed(e.host) + ":" + std::to_string(e.quorumPort) + ":" +
                    std::to_string(e.electionPort) +
                    (e.role == PeerRole::kObserver ? ":observer" : ":participant");
  if (e.clientPort != 0) {
    out += ";" + bracketed(e.clientHost) + ":" + std::to_string(e.clientPort);
  }
  return out;
}

}  // namespace zk
