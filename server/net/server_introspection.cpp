#include "net/server_introspection.h"

#include <chrono>

#include "net/metrics.h"
#include "net/process_stats.h"
#include "util/wall_clock.h"

namespace zk {

ServerIntrospection::ServerIntrospection(Sources sources)
    : from_(sources),
      wallMinusSteadyMs_(wallMs() - std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count()) {}

ServerStats ServerIntrospection::stats(StatsExtras extras) const {
  const RequestProcessor& processor = from_.pipeline.get();
  const ProcessorStats& p = processor.stats();
  ServerStats s;
  s.lastZxid = processor.lastZxid();
  s.uptimeMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() -
               from_.startedAtMs;
  s.requestLatency = {p.requestsCompleted, p.latencyTotalMs,
                      std::max<std::int64_t>(0, p.latencyMinMs), p.latencyMaxMs};
  s.packetsReceived = p.packetsReceived;
  s.packetsSent = p.packetsSent;
  s.outstandingRequests = static_cast<std::int64_t>(processor.outstandingRequests());
  // ZooKeeper counts "/" and "" separately; match its znode_count.
  s.nodeCount = static_cast<std::int64_t>(processor.tree().nodeCount()) + 1;
  s.watchCount = static_cast<std::int64_t>(processor.watches().watchCount());
  std::int64_t ephemerals = 0;
  for (auto session : processor.tree().sessionsWithEphemerals())
    ephemerals += static_cast<std::int64_t>(processor.tree().ephemeralPaths(session)->size());
  s.ephemeralsCount = ephemerals;
  s.approximateDataSize = processor.tree().approximateDataSize();
  s.aliveConnections = static_cast<std::int64_t>(from_.connections.size());
  s.quotaByNamespace = processor.tree().quotaByNamespace();
  s.quotaExceededByNamespace = processor.quotaRefusals();
  if (from_.limits.largeRequests) s.largeRequestsRejected = from_.limits.largeRequests->rejected();
  s.globalSessions = static_cast<std::int64_t>(processor.sessions().size());
  s.authFailedCount = from_.tls.authFailures;
  s.unsuccessfulHandshakes = from_.tls.unsuccessfulHandshakes;
  s.tlsHandshakesExceeded = from_.tls.handshakesExceeded;
  if (extras.fileDescriptors) {
    s.openFileDescriptors = openFileDescriptorCount();
    s.maxFileDescriptors = maxFileDescriptorCount();
  }
  if (extras.directorySizes) {
    s.dataDirSize = versionDirectorySize(from_.config.dataDir);
    s.logDirSize = versionDirectorySize(from_.config.dataLogDir);
  }
  const RequestFigures& figures = from_.figures;
  s.readLatency = figures.readLatency.exact();
  s.updateLatency = figures.updateLatency.exact();
  s.fsyncTime = figures.fsyncTime.exact();
  s.lastSnapshotZxid = from_.snapshots.last().zxid;
  s.lastSnapshotTimeSec = from_.snapshots.last().timeSec;
  if (from_.quorum) from_.quorum->addStats(s);
  return s;
}

std::vector<ConnectionStats> ServerIntrospection::connections() const {
  std::vector<ConnectionStats> out;
  from_.connections.forEach(
      [&](const Connection& connection) { out.push_back(connection.stats(wallMinusSteadyMs_)); });
  return out;
}

SessionDump ServerIntrospection::sessions() const {
  SessionDump dump;
  const RequestProcessor& processor = from_.pipeline.get();
  for (const auto& [id, entry] : processor.sessions().all())
    dump.expiryBuckets[entry.bucket].push_back(id);
  for (auto session : processor.tree().sessionsWithEphemerals()) {
    const auto* paths = processor.tree().ephemeralPaths(session);
    dump.ephemerals[session] = {paths->begin(), paths->end()};
  }
  return dump;
}

std::map<std::int64_t, std::vector<std::string>> ServerIntrospection::watchesBySession() const {
  return from_.pipeline->watches().pathsBySession();
}

std::map<std::string, std::vector<std::int64_t>> ServerIntrospection::watchesByPath() const {
  return from_.pipeline->watches().sessionsByPath();
}

bool ServerIntrospection::serving() const {
  return !from_.quorum || from_.quorum->serving();
}

bool ServerIntrospection::readOnly() const {
  return from_.quorum && from_.quorum->readOnly();
}

void ServerIntrospection::resetStats() {
  from_.pipeline->resetStats();
}

void ServerIntrospection::resetConnectionStats() {
  from_.connections.forEach([](Connection& connection) { connection.resetStats(); });
}

}  // namespace zk
