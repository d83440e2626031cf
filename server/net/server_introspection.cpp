#include "net/server_introspection.h"

#include <chrono>

#include "net/metrics.h"
#include "net/process_stats.h"
#include "net/server.h"
#include "util/wall_clock.h"

namespace zk {

ServerIntrospection::ServerIntrospection(Server& server)
    : server_(server),
      wallMinusSteadyMs_(wallMs() - std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count()) {}

ServerStats ServerIntrospection::stats(StatsExtras extras) const {
  const RequestProcessor& processor = *server_.processor_;
  const ProcessorStats& p = processor.stats();
  ServerStats s;
  s.lastZxid = processor.lastZxid();
  s.uptimeMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() -
               server_.startedAtMs_;
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
  s.aliveConnections = static_cast<std::int64_t>(server_.connections_.size());
  s.quotaByNamespace = processor.tree().quotaByNamespace();
  s.quotaExceededByNamespace = processor.quotaRefusals();
  if (server_.limits_.largeRequests)
    s.largeRequestsRejected = server_.limits_.largeRequests->rejected();
  s.globalSessions = static_cast<std::int64_t>(processor.sessions().size());
  s.authFailedCount = server_.tlsShared_.authFailures;
  s.unsuccessfulHandshakes = server_.tlsShared_.unsuccessfulHandshakes;
  s.tlsHandshakesExceeded = server_.tlsShared_.handshakesExceeded;
  if (server_.transport_) {
    s.quorumTlsHandshakes = server_.transport_->tlsCounters().handshakes;
    s.quorumUnsuccessfulHandshakes = server_.transport_->tlsCounters().failedHandshakes;
    s.quorumSaslAuthenticated = server_.transport_->saslCounters().authenticated;
    s.quorumSaslFailed = server_.transport_->saslCounters().failed;
  }
  if (extras.fileDescriptors) {
    s.openFileDescriptors = openFileDescriptorCount();
    s.maxFileDescriptors = maxFileDescriptorCount();
  }
  if (extras.directorySizes) {
    s.dataDirSize = versionDirectorySize(server_.config_.dataDir);
    s.logDirSize = versionDirectorySize(server_.config_.dataLogDir);
  }
  const RequestFigures& figures = server_.figures_;
  s.readLatency = figures.readLatency.exact();
  s.updateLatency = figures.updateLatency.exact();
  s.fsyncTime = figures.fsyncTime.exact();
  s.lastSnapshotZxid = server_.lastSnapshot_.zxid;
  s.lastSnapshotTimeSec = server_.lastSnapshot_.timeSec;
  if (server_.peer_) server_.addQuorumStats(s);
  return s;
}

std::vector<ConnectionStats> ServerIntrospection::connections() const {
  std::vector<ConnectionStats> out;
  for (const auto& [raw, weak] : server_.connections_) {
    auto connection = weak.lock();
    if (!connection) continue;
    ConnectionStats c;
    c.remote = "/" + connection->remoteEndpoint();
    c.sessionId = connection->sessionId();
    c.timeout = connection->sessionTimeoutMs();
    c.received = connection->packetsReceived();
    c.sent = connection->packetsSent();
    c.queued = static_cast<std::int64_t>(connection->inflightRequests());
    c.establishedMs = connection->establishedAtMs() + wallMinusSteadyMs_;
    c.secure = connection->secure();
    out.push_back(std::move(c));
  }
  return out;
}

SessionDump ServerIntrospection::sessions() const {
  SessionDump dump;
  const RequestProcessor& processor = *server_.processor_;
  for (const auto& [id, entry] : processor.sessions().all())
    dump.expiryBuckets[entry.bucket].push_back(id);
  for (auto session : processor.tree().sessionsWithEphemerals()) {
    const auto* paths = processor.tree().ephemeralPaths(session);
    dump.ephemerals[session] = {paths->begin(), paths->end()};
  }
  return dump;
}

std::map<std::int64_t, std::vector<std::string>> ServerIntrospection::watchesBySession() const {
  return server_.processor_->watches().pathsBySession();
}

std::map<std::string, std::vector<std::int64_t>> ServerIntrospection::watchesByPath() const {
  return server_.processor_->watches().sessionsByPath();
}

bool ServerIntrospection::serving() const {
  return server_.serving_ || server_.readOnly_;
}

bool ServerIntrospection::readOnly() const {
  return server_.readOnly_;
}

void ServerIntrospection::resetStats() {
  server_.processor_->resetStats();
}

void ServerIntrospection::resetConnectionStats() {
  for (const auto& [raw, weak] : server_.connections_)
    if (auto connection = weak.lock()) connection->resetStats();
}

}  // namespace zk
