#pragma once
// The standalone server: wires recovery, the transaction log, snapshots, the request
// pipeline, client connections, four-letter words and metrics onto one event loop.
// This is the composition root; the logic lives in the layers it connects.

#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/dynamic_config.h"
#include "config/zoo_config.h"
#include "net/asio.h"
#include "net/connection.h"
#include "net/connection_registry.h"
#include "net/introspection.h"
#include "net/metrics.h"
#include "net/pipeline_slot.h"
#include "net/snapshot_schedule.h"
#include "net/snapshot_sync.h"
#include "net/tls_context.h"
#include "pipeline/request_processor.h"
#include "tree/data_tree.h"
#include "util/log.h"
#include "zab/peer.h"

namespace zk {

namespace storage {
class TxnLogWriter;
}  // namespace storage
class ServerIntrospection;
namespace admin {
class AdminServer;
}
class QuorumTransport;

class Server {
 public:
  Server(ServerConfig config, Logger& log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Recovers the data directory and binds the ports; throws with a one-line reason.
  void start();
  // Serves until SIGTERM or SIGINT, then stops cleanly.
  void run();

 private:
  friend class ServerIntrospection;

  void recoverData();
  void openLog();
  void openLogWriter();
  struct ClientListener {
    explicit ClientListener(asio::io_context& io, bool secure)
        : acceptor(io), next(io), secure(secure) {}
    tcp::acceptor acceptor;
    tcp::socket next;    // the next connection, filled by async_accept
    tcp::endpoint from;  // its peer, from accept() itself: no getpeername
    bool secure;         // the secure client port: TLS only
  };
  void listen();
  void startAdminServer();
  void listenOn(ClientListener& listener, const std::string& address, std::uint16_t port);
  void accept(ClientListener& listener);
  void onAccepted(tcp::socket socket, const tcp::endpoint& remote, bool secure);
  ClientStream clientStream(tcp::socket socket, bool secure);
  void scheduleTick();
  void onTick();
  void purgeOldFiles();
  void stop(std::string_view why);
  std::optional<std::string> fourLetter(std::uint32_t code);
  ProcessorConfig processorConfigFor(PipelineRole role) const;
  std::map<std::int64_t, std::int32_t> currentSessions() const;

  // Ensemble glue (server_quorum.cpp): drives the Zab state machine with the network, the
  // disk and the pipeline.
  void startQuorum();
  zab::PersistedState loadZabState();
  void scheduleZabTick();
  void scheduleZabActions();
  void runZabActions();
  void execute(zab::Action& action);
  void onStateChanged(const zab::act::StateChanged& change);
  void noteElectionTime(zab::ServerState next);
  void maybeEnterReadOnly();
  void chooseStartingConfig();
  std::optional<DynamicConfig> configInTree() const;
  void publishActiveConfig(bool evenIfEqual);
  std::map<std::int64_t, ServerEntry> serversWithMe(const DynamicConfig& config) const;
  void adoptConfig(const DynamicConfig& next);
  zab::Members viewOf(const DynamicConfig& config) const;
  std::optional<zab::ConfigInfo> reconfigIn(const std::string& txnBytes) const;
  void onLeaderConfig(const std::string& text, bool fromElection);
  std::string planReconfig(const ReconfigRequest& request, std::int64_t zxid) const;
  void onConfigCommitted(const std::string& text);
  void addQuorumStats(ServerStats& stats) const;
  void rebuildProcessor(PipelineRole role, const std::map<std::int64_t, std::int32_t>& sessions);
  void deliver(std::int64_t zxid, const std::string& bytes);
  void truncateLog(std::int64_t zxid);
  void loadSnapshot(std::int64_t zxid, const std::filesystem::path& spooled);
  void finishSnapshotLoad();
  void sendSnapshot(std::int64_t to, std::int64_t zxid);
  void reloadFromDisk();
  void reportSessionTouches();
  void onLearnerRequest(const zab::act::LearnerRequest& request);
  void onOtherPacket(const zab::act::OtherPacket& other);
  void answerRevalidation(std::int64_t learnerSid, std::int64_t sessionId);

  ServerConfig config_;
  Logger& log_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer tick_;
  ClientListener plainListener_;
  ClientListener secureListener_;
  std::unique_ptr<TlsContextSource> tls_;  // null without a secure or unified client port
  ClientTlsShared tlsShared_;
  DataTree tree_;
  RequestFigures figures_;  // before txnLog_ and metrics_: both use it
  std::unique_ptr<storage::TxnLogWriter> txnLog_;
  std::unique_ptr<TxnSink> sink_;
  PipelineSlot pipeline_;  // outlives every connection, which reach the processor through it
  std::unique_ptr<ServerIntrospection> introspection_;
  std::unique_ptr<admin::AdminServer> adminServer_;  // null when admin.enableServer=false
  std::unique_ptr<Metrics> metrics_;
  ConnectionLimits limits_;
  ConnectionRegistry connections_;
  OutputBatch outputBatch_;  // holds connections only while a handler runs
  SnapshotSchedule snapshots_;

  std::map<std::int64_t, std::int32_t> recoveredSessions_;
  std::int64_t nextPurgeMs_ = 0;
  std::int64_t startedAtMs_ = 0;
  bool stopping_ = false;

  // Ensemble state; all null/false for a standalone server.
  bool serving_ = true;
  std::unique_ptr<zab::Peer> peer_;
  std::unique_ptr<QuorumTransport> transport_;
  std::unique_ptr<SnapshotSends> snapshotSends_;  // leader: SNAP streams in progress
  // Learner: a SNAP being loaded off the event loop; the Zab actions after it wait (but for
  // PING answers, so the leader keeps hearing from us).
  std::optional<SnapshotLoad> snapshotLoad_;
  std::int64_t snapshotLoadZxid_ = 0;
  std::deque<zab::Action> waitingForLoad_;
  std::unique_ptr<RequestForwarder> forwarder_;
  asio::steady_timer zabTick_;
  bool zabActionsPosted_ = false;
  zab::act::StateChanged zabState_{zab::ServerState::Looking, -1, 0, false};
  std::int64_t snapshotZxid_ = 0;                          // of the snapshot recovery started from
  std::map<std::int64_t, std::int64_t> sessionTouchedAt_;  // learner: id -> wall ms
  std::int64_t roleSinceMs_ = 0;
  std::int64_t lookingSinceMs_ = 0;     // steady clock
  DynamicConfig committedConfig_;       // the ensemble's membership as last known
  std::optional<ServerEntry> myEntry_;  // this server's own line in zoo.cfg
  bool joining_ = false;
  bool readOnly_ = false;  // readonlymode.enabled and no quorum: serving read-only sessions
  std::map<std::int64_t, std::int32_t>
      sessionsBeforeReadOnly_;  // not in the ensemble's membership yet: follows without a vote
  SizeStats proposalSizes_;     // leader: of the txns it proposed this term
};

}  // namespace zk
