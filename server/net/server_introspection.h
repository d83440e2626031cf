#pragma once
// The server's answers to four-letter words and the metrics endpoint, read off the live
// objects on the event loop thread.

#include <cstdint>

#include "config/zoo_config.h"
#include "net/connection.h"
#include "net/connection_registry.h"
#include "net/introspection.h"
#include "net/metrics.h"
#include "net/pipeline_slot.h"
#include "net/quorum_driver.h"
#include "net/snapshot_schedule.h"

namespace zk {

class ServerIntrospection : public Introspection {
 public:
  // The parts of the server it reads (and resets the counters of); each outlives it.
  struct Sources {
    const ServerConfig& config;
    const PipelineSlot& pipeline;
    ConnectionRegistry& connections;
    const ConnectionLimits& limits;
    const ClientTlsShared& tls;
    const RequestFigures& figures;
    const SnapshotSchedule& snapshots;
    const QuorumView* quorum;  // null for a standalone server
    std::int64_t startedAtMs;  // wall clock
  };
  explicit ServerIntrospection(Sources sources);
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
  Sources from_;
  // Connections record their start on the steady clock; `cons` prints it on the wall clock, as
  // ZooKeeper does. One offset for the whole run keeps a connection's `est` the same each time.
  const std::int64_t wallMinusSteadyMs_;
};

}  // namespace zk
