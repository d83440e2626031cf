#pragma once
// The ensemble member's one adapter between the pure Zab state machine (zab::Peer), the
// transaction log and the request pipeline. Votes, packets, ticks and fsync completions go
// into the Peer from here; the actions it emits are carried out here, strictly in order,
// against the sockets (QuorumTransport), the disk and the pipeline. The zxid of every proposal
// is the one the pipeline prepared; the Peer only checks it (ZabSink), so a mismatch is a bug
// that stops the member rather than a second counter to reconcile.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/zoo_config.h"
#include "net/asio.h"
#include "net/connection_registry.h"
#include "net/introspection.h"
#include "net/membership.h"
#include "net/metrics.h"
#include "net/output_batch.h"
#include "net/pipeline_slot.h"
#include "net/quorum_transport.h"
#include "net/snapshot_schedule.h"
#include "net/snapshot_sync.h"
#include "tree/data_tree.h"
#include "util/log.h"
#include "zab/peer.h"

namespace zk {

// What the driver needs of the transaction log, which the composition root owns.
class QuorumLog {
 public:
  virtual ~QuorumLog() = default;
  // Hands a proposal to the log; false once the log has failed.
  virtual bool appendProposal(std::int64_t zxid, std::string bytes) = 0;
  // Why appendProposal refused: the writer's own failure (file, call, errno) when it failed.
  virtual std::string refusalReason() const = 0;
  // Everything handed over is made durable; nothing more is taken until reopenLog().
  virtual void stopLog() = 0;
  // A new writer, after TRUNC or SNAP replaced the files under the old one.
  virtual void reopenLog() = 0;
};

// What the four-letter words and metrics show of the ensemble side.
class QuorumView {
 public:
  virtual ~QuorumView() = default;
  virtual void addStats(ServerStats& stats) const = 0;
  // In sync with a leader (or read-only): client sessions are taken.
  virtual bool serving() const = 0;
  virtual bool readOnly() const = 0;
};

class QuorumDriver : public QuorumView {
 public:
  // The server's parts the driver works on; each outlives the driver.
  struct Parts {
    asio::io_context& io;
    Logger& log;
    ServerConfig& config;  // its servers and version follow the membership (`conf`)
    DataTree& tree;
    PipelineSlot& pipeline;
    ConnectionRegistry& connections;
    SnapshotSchedule& snapshots;
    RequestFigures& figures;
    OutputBatch& replies;
    QuorumLog& txnLog;
    std::int64_t snapshotZxid;  // of the snapshot recovery started from
  };

  // Chooses the membership, binds the quorum ports and starts looking for a leader; the
  // pipeline is rebuilt as a learner's until one is found.
  explicit QuorumDriver(const Parts& parts);
  ~QuorumDriver() override;
  QuorumDriver(const QuorumDriver&) = delete;
  QuorumDriver& operator=(const QuorumDriver&) = delete;

  // The log made every txn up to `zxid` durable.
  void onPersisted(std::int64_t zxid);
  // The server's tick: read-only mode once looking for too long.
  void tick();
  void stop();

  void addStats(ServerStats& stats) const override;
  bool serving() const override { return serving_ || readOnly_; }
  bool readOnly() const override { return readOnly_; }

 private:
  zab::PersistedState loadZabState();
  QuorumTransport::Handlers transportHandlers();
  void scheduleZabTick();
  void scheduleZabActions();
  void runZabActions();
  void execute(zab::Action& action);
  void onStateChanged(const zab::act::StateChanged& change);
  void noteElectionTime(zab::ServerState next);
  void maybeEnterReadOnly();
  void adoptConfig(const DynamicConfig& next);
  void rebuildProcessor(PipelineRole role, const std::map<std::int64_t, std::int32_t>& sessions);
  void deliver(std::int64_t zxid, const std::string& bytes);
  void truncateLog(std::int64_t zxid);
  void loadSnapshot(std::int64_t zxid, const std::filesystem::path& spooled);
  // TRUNC (when the tree holds what was cut) and SNAP reload the tree on another thread.
  enum class LoadKind { kSnap, kTrunc };
  void startLoad(LoadKind kind, std::int64_t zxid);
  void finishLoad();
  void reportSessionTouches();
  void onLearnerRequest(const zab::act::LearnerRequest& request);
  void onOtherPacket(const zab::act::OtherPacket& other);
  void answerRevalidation(std::int64_t learnerSid, std::int64_t sessionId);

  asio::io_context& io_;
  Logger& log_;
  ServerConfig& config_;
  DataTree& tree_;
  PipelineSlot& pipeline_;
  ConnectionRegistry& connections_;
  SnapshotSchedule& snapshots_;
  RequestFigures& figures_;
  OutputBatch& outputBatch_;
  QuorumLog& txnLog_;
  std::int64_t snapshotZxid_;

  Membership membership_;
  bool serving_ = false;
  bool stopped_ = false;
  std::unique_ptr<zab::Peer> peer_;
  std::unique_ptr<QuorumTransport> transport_;
  std::unique_ptr<SnapshotSends> snapshotSends_;  // leader: SNAP streams in progress
  std::unique_ptr<TxnSink> sink_;                 // the leader's pipeline proposes through it
  std::unique_ptr<RequestForwarder> forwarder_;   // a learner's pipeline forwards through it
  // Learner: a tree being loaded off the event loop after a SNAP or TRUNC; the Zab actions
  // after it wait (but for PING answers, so the leader keeps hearing from us).
  std::optional<SnapshotLoad> snapshotLoad_;
  LoadKind loadKind_ = LoadKind::kSnap;
  std::int64_t snapshotLoadZxid_ = 0;
  std::deque<zab::Action> waitingForLoad_;
  asio::steady_timer zabTick_;
  bool zabActionsPosted_ = false;
  zab::act::StateChanged zabState_{zab::ServerState::Looking, -1, 0, false};
  std::map<std::int64_t, std::int64_t> sessionTouchedAt_;  // learner: id -> wall ms
  std::int64_t roleSinceMs_ = 0;
  std::int64_t lookingSinceMs_ = 0;  // steady clock
  bool readOnly_ = false;  // readonlymode.enabled and no quorum: serving read-only sessions
  std::map<std::int64_t, std::int32_t> sessionsBeforeReadOnly_;
  SizeStats proposalSizes_;  // leader: of the txns it proposed this term
};

}  // namespace zk
