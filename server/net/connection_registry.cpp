#include "net/connection_registry.h"

namespace zk {

bool ConnectionRegistry::admit(const std::string& ip) {
  int& count = perAddress_[ip];
  bool tooMany = (maxPerAddress_ > 0 && count >= maxPerAddress_) ||
                 (maxTotal_ > 0 && static_cast<int>(connections_.size()) >= maxTotal_);
  if (tooMany) {
    log_.warn("net",
              "too many connections from " + ip + " - max is " + std::to_string(maxPerAddress_));
    if (count == 0) perAddress_.erase(ip);
    return false;
  }
  ++count;
  return true;
}

void ConnectionRegistry::track(const std::shared_ptr<Connection>& connection) {
  connections_.emplace(connection.get(), connection);
}

void ConnectionRegistry::forget(Connection& closed, const std::string& ip) {
  connections_.erase(&closed);
  if (--perAddress_[ip] <= 0) perAddress_.erase(ip);
}

void ConnectionRegistry::closeAll(std::string_view why) {
  // A copy: a connection that closes at once erases its own entry.
  auto open = connections_;
  for (auto& [raw, weak] : open)
    if (auto connection = weak.lock()) connection->close(why);
}

void ConnectionRegistry::forEach(const std::function<void(Connection&)>& visit) const {
  for (const auto& [raw, weak] : connections_)
    if (auto connection = weak.lock()) visit(*connection);
}

}  // namespace zk
