#pragma once
// The server's answers to four-letter words and the metrics endpoint, read off the live
// objects on the event loop thread.

#include "net/introspection.h"

namespace zk {

class Server;

class ServerIntrospection : public Introspection {
 public:
  explicit ServerIntrospection(Server& server);
  ServerStats stats(StatsExtras extras) const override;
  std::vector<ConnectionStats> connections() const override;
  SessionDump sessions() const override;
  std::map<std::int64_t, std::vector<std::string>> watchesBySession() const override;
  std::map<std::string, std::vector<std::int64_t>> watchesByPath() const override;
  void resetStats() override;
  void resetConnectionStats() override;
  bool readOnly() const override;
  bool serving() const override;

 private:
  Server& server_;
  // Connections record their start on the steady clock; `cons` prints it on the wall clock, as
  // ZooKeeper does. One offset for the whole run keeps a connection's `est` the same each time.
  const std::int64_t wallMinusSteadyMs_;
};

}  // namespace zk
