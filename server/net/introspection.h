#pragma once
// What the running server shows to the four-letter words and the metrics endpoint: plain data,
// filled in by the server on its own thread. Units are milliseconds unless a name says otherwise.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tree/quota.h"

namespace zk {

// ZooKeeper's AvgMinMaxCounter: what is observed since start (or the last reset).
struct LatencyStats {
  std::int64_t count = 0;
  std::int64_t sum = 0;
  std::int64_t min = 0;  // 0 while count == 0
  std::int64_t max = 0;
  void record(std::int64_t v) {
    min = count == 0 ? v : std::min(min, v);
    max = count == 0 ? v : std::max(max, v);
    ++count;
    sum += v;
  }
};

// ZooKeeper's BufferStats: last, min and max size seen; -1 before the first.
struct SizeStats {
  std::int64_t last = -1;
  std::int64_t min = -1;
  std::int64_t max = -1;
  void record(std::int64_t v) {
    last = v;
    min = min < 0 ? v : std::min(min, v);
    max = std::max(max, v);
  }
};

struct ConnectionStats {
  std::string remote;          // "/127.0.0.1:51588", as Java prints a socket address
  std::int64_t sessionId = 0;  // 0: no session yet (details are then left out of `cons`)
  std::int32_t timeout = 0;    // negotiated session timeout
  std::int64_t queued = 0;     // requests received, not yet answered
  std::int64_t received = 0;   // packets
  std::int64_t sent = 0;
  std::int64_t lastCxid = -1;  // -1: none since the last reset (then omitted)
  std::int64_t lastZxid = -1;
  std::string lastOp = "NA";  // 4-letter op abbreviation, e.g. "GETD", "EXIS", "NA"
  std::int64_t lastLatencyMs = 0;
  std::int64_t minLatencyMs = 0;
  std::int64_t avgLatencyMs = 0;  // integer division, as ServerCnxn does
  std::int64_t maxLatencyMs = 0;
  std::int64_t establishedMs = 0;   // wall clock, epoch ms
  std::int64_t lastResponseMs = 0;  // wall clock, epoch ms; 0 after a reset
  std::int32_t interestOps = 1;     // Java NIO: 1 = read, 4 = write, 5 = both
  bool secure = false;              // TLS (zookube's addition to cons: ",secure=1")
};

// Leader-only figures (mntr prints them only on the leader).
struct LeaderStats {
  std::int64_t learners = 0;
  std::int64_t syncedFollowers = 0;
  std::int64_t syncedNonVotingFollowers = 0;
  std::int64_t syncedObservers = 0;
  std::int64_t pendingSyncs = 0;
  std::int64_t leaderUptimeMs = 0;
  SizeStats proposalSize;
};

// Follower-only figures: observers may sync from a follower in ZooKeeper (observer masters);
// zookube's observers always sync from the leader, so a follower reports 0.
struct FollowerStats {
  std::int64_t syncedObservers = 0;
};

struct ServerStats {
  std::string version;                     // empty: zookubeVersion()
  std::string serverState = "standalone";  // standalone | leader | follower | observer | ...
  std::string peerState;                   // quorum only, e.g. "following - broadcast"
  std::int64_t lastZxid = 0;
  std::int64_t uptimeMs = 0;
  LatencyStats requestLatency;  // srvr/stat "Latency min/avg/max", mntr zk_*_latency
  std::int64_t packetsReceived = 0;
  std::int64_t packetsSent = 0;
  std::int64_t outstandingRequests = 0;
  std::int64_t nodeCount = 0;
  std::int64_t watchCount = 0;
  std::int64_t ephemeralsCount = 0;
  std::int64_t approximateDataSize = 0;
  std::int64_t aliveConnections = 0;
  std::int64_t globalSessions = 0;
  std::int64_t localSessions = 0;
  std::int64_t openFileDescriptors = -1;  // -1: unknown
  std::int64_t maxFileDescriptors = -1;
  std::int64_t lastClientResponseSize = -1;
  std::int64_t minClientResponseSize = -1;
  std::int64_t maxClientResponseSize = -1;
  std::int64_t authFailedCount = 0;
  std::int64_t largeRequestsRejected = 0;  // closed for the large request budget
  // ZooKeeper's per-namespace quota gauges and its quota_exceeded_error_per_namespace counter.
  std::map<std::string, quota::NamespaceQuota, std::less<>> quotaByNamespace;
  std::map<std::string, std::int64_t, std::less<>> quotaExceededByNamespace;
  std::int64_t unsuccessfulHandshakes = 0;  // TLS handshakes failed or timed out
  std::int64_t tlsHandshakesExceeded = 0;   // refused over outstandingHandshake.limit
  std::int64_t dataDirSize = 0;             // bytes in the snapshot directory
  std::int64_t logDirSize = 0;              // bytes in the txn log directory
  std::int64_t quorumSize = 0;              // voting members; 0 standalone
  std::int64_t leaderId = -1;               // quorum only: the sid this member follows or is
  std::int64_t lastSnapshotZxid = -1;       // the snapshot last written or loaded; -1: none
  std::int64_t lastSnapshotTimeSec = -1;    // when (wall clock, epoch seconds)
  LatencyStats fsyncTime;                   // mntr zk_*_fsynctime
  LatencyStats readLatency;                 // mntr zk_*_readlatency
  LatencyStats updateLatency;               // mntr zk_*_updatelatency
  LatencyStats electionTime;                // quorum only: mntr zk_*_election_time
  std::optional<LeaderStats> leader;
  std::optional<FollowerStats> follower;
  // TLS between members (zookube's: ZooKeeper counts none): links secured, and those refused.
  std::int64_t quorumTlsHandshakes = 0;
  std::int64_t quorumUnsuccessfulHandshakes = 0;
  std::int64_t quorumSaslAuthenticated = 0;  // quorum SASL exchanges, either side (zookube's own)
  std::int64_t quorumSaslFailed = 0;
};

// The `dump` command's data.
struct SessionDump {
  // Session expiry buckets: wall-clock expiry time (epoch ms) -> session ids.
  std::map<std::int64_t, std::vector<std::int64_t>> expiryBuckets;
  // Session id -> its ephemeral node paths.
  std::map<std::int64_t, std::vector<std::string>> ephemerals;
};

// What stats() measures beyond the event loop's own counters. Each costs a directory scan that
// grows with the open connections or the data directories, so only the readers that show the
// figure ask for it; without, the fields keep their defaults.
struct StatsExtras {
  bool fileDescriptors = false;  // openFileDescriptors, maxFileDescriptors (mntr)
  bool directorySizes = false;   // dataDirSize, logDirSize (dirs, conf)
};

class Introspection {
 public:
  virtual ~Introspection() = default;
  virtual ServerStats stats(StatsExtras extras) const = 0;
  virtual std::vector<ConnectionStats> connections() const = 0;
  virtual SessionDump sessions() const = 0;
  // Data watches only, as ZooKeeper's wchc/wchp/wchs report them.
  virtual std::map<std::int64_t, std::vector<std::string>> watchesBySession() const = 0;
  virtual std::map<std::string, std::vector<std::int64_t>> watchesByPath() const = 0;
  virtual void resetStats() = 0;            // srst: latency and packet counters
  virtual void resetConnectionStats() = 0;  // crst: every connection's counters
  virtual bool readOnly() const = 0;
  // false while the server is starting or syncing: most commands then answer
  // "This ZooKeeper instance is not currently serving requests".
  virtual bool serving() const = 0;
};

}  // namespace zk
