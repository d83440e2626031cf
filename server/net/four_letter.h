#pragma once
// ZooKeeper's four-letter words: a client sends four ASCII bytes instead of a length prefix,
// the server writes one text reply and closes the connection. Replies match ZooKeeper 3.8
// byte for byte where the data allows (see four_letter.cpp for where zookube differs).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/zoo_config.h"
#include "net/introspection.h"

namespace zk {

// The command named by the first four bytes of a connection read as a big-endian int32 (the
// same read as a length prefix), or nullopt when they are not a four-letter word. Includes
// "telnet close" (0xfff4fffd, what telnet sends on Ctrl-C).
std::optional<std::string_view> fourLetterName(std::uint32_t first4bytes);

// "3.8.0-zookube-<version>": the ZooKeeper release whose protocol we speak first, because
// clients (kazoo's server_version) parse the leading digits to pick features.
std::string zookubeVersion();

// The reply to `cmd` (a name fourLetterName returned), including the whitelist check. After
// "stmk" ZooKeeper reads an 8-byte mask before replying: use setTraceMaskReply for that. An
// empty reply means: just close.
std::string runFourLetter(std::string_view cmd, Introspection& server, const ServerConfig& config);

// The reply to "stmk" once its 8-byte mask has been read (whitelist already checked).
std::string setTraceMaskReply(std::int64_t mask);

// Java's Double.toString for the values 4lw print (latency averages): "0.0", "3.6667".
std::string javaDouble(double value);
// ZooKeeper's AvgMinMaxCounter.getAvg: sum/count rounded half-up to 4 decimals, 0 when empty.
double averageOf(const LatencyStats& stats);

// One `mntr` figure: its key without the "zk_" prefix the text form adds. The AdminServer's
// `monitor` answers the same entries as JSON.
struct MonitorEntry {
  std::string key;
  std::variant<std::int64_t, double, std::string> value;
};
struct MonitorEntries {
  std::vector<MonitorEntry> entries;
  void put(std::string key, std::int64_t v) { entries.push_back({std::move(key), v}); }
  void put(std::string key, double v) { entries.push_back({std::move(key), v}); }
  void put(std::string key, std::string v) { entries.push_back({std::move(key), std::move(v)}); }
  // A summary as the default metrics provider dumps it: avg, min, max, cnt, sum.
  void summary(std::string_view name, const LatencyStats& stats);
};
std::vector<MonitorEntry> monitorEntries(Introspection& server);

// `envi`'s entries (key, value), in the order it prints them.
std::vector<std::pair<std::string, std::string>> environmentEntries(const std::string& version);

// The version the server reports: the stats' own, else zookubeVersion().
std::string versionOf(const ServerStats& stats);

}  // namespace zk
