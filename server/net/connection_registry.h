#pragma once
// The open client connections: admission against maxClientCnxns (per address) and maxCnxns
// (in all), and the one place that can reach every connection, to close or inspect them.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/connection.h"
#include "util/log.h"

namespace zk {

class ConnectionRegistry {
 public:
  // Limits <= 0 mean none.
  ConnectionRegistry(int maxPerAddress, int maxTotal, Logger& log)
      : maxPerAddress_(maxPerAddress), maxTotal_(maxTotal), log_(log) {}

  // Counts a new connection from `ip` in, or refuses it (logged) when over a limit.
  bool admit(const std::string& ip);
  // Tracks an admitted connection until forget() is called for it.
  void track(const std::shared_ptr<Connection>& connection);
  // A tracked connection from `ip` closed.
  void forget(Connection& closed, const std::string& ip);
  // Closes every open connection; each forgets itself as it closes.
  void closeAll(std::string_view why);

  std::size_t size() const { return connections_.size(); }
  void forEach(const std::function<void(Connection&)>& visit) const;

 private:
  int maxPerAddress_;
  int maxTotal_;
  Logger& log_;
  // Weak: a connection lives as long as its socket operations, not as long as the registry.
  std::map<Connection*, std::weak_ptr<Connection>> connections_;
  std::unordered_map<std::string, int> perAddress_;
};

}  // namespace zk
