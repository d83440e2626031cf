// The ensemble member's driver (see quorum_driver.h): each Zab action is carried out here, in
// the order the Peer emitted it, against the transport, the disk and the pipeline.

#include "net/quorum_driver.h"

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <fstream>
#include <sstream>

#include "config/dynamic_config.h"
#include "jute/reader.h"
#include "jute/writer.h"
#include "net/committed_txn.h"
#include "net/membership.h"
#include "net/metrics.h"
#include "net/quorum_transport.h"
#include "storage/epoch_files.h"
#include "storage/file_util.h"
#include "storage/recovery.h"
#include "storage/snapshot.h"
#include "storage/snapshot_stream.h"
#include "storage/txn_log.h"
#include "util/fail_stop.h"
#include "util/wall_clock.h"

namespace zk {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// The leader's pipeline builds each txn for the zxid Zab names, and hands it to Zab to log and
// propose under that zxid: Zab is the ensemble's only source of zxids.
class ZabSink : public TxnSink {
 public:
  // kick(size) runs after each proposal with the size of the proposed txn.
  ZabSink(zab::Peer& peer, Logger& log, std::function<void(std::size_t)> kick,
          std::function<void(std::string)> fail)
      : peer_(peer), log_(log), kick_(std::move(kick)), fail_(std::move(fail)) {}
  std::optional<std::int64_t> nextZxid() const override { return peer_.nextZxid(); }
  void append(const Txn& txn) override {
    std::string bytes = encodeTxn(txn);
    std::size_t size = bytes.size();
    const auto* config = std::get_if<SetDataTxn>(&txn.body);
    std::optional<std::int64_t> zxid;
    if (txn.header.type == static_cast<std::int32_t>(OpCode::kReconfig) && config != nullptr) {
      zxid = peer_.proposeReconfig(std::move(bytes),
                                   membersOf(parseDynamicConfig(config->data.value_or(""))));
    } else {
      zxid = peer_.propose(std::move(bytes));
    }
    kick_(size);
    if (zxid == txn.header.zxid) return;
    if (zxid) {
      // The log now holds a txn whose header names another zxid than its place: our history
      // is no longer the one we propose.
      failStop(log_, "zab",
               "txn built for zxid " + hex(txn.header.zxid) + " was proposed as " + hex(*zxid));
    }
    // Not proposed. A leader that stepped down (its zxid counter rolled over) drops its clients
    // as its new state arrives; anything else leaves the pipeline waiting on a txn Zab never
    // took, and only a fresh pipeline gets out of that.
    if (peer_.state() != zab::ServerState::Leading) return;
    fail_("Zab refused to propose txn " + hex(txn.header.zxid));
  }

 private:
  zab::Peer& peer_;
  Logger& log_;
  std::function<void(std::size_t)> kick_;
  std::function<void(std::string)> fail_;
};

// A learner's writes travel as REQUEST packets: sessionId, cxid, type, then the request body.
class ZabForwarder : public RequestForwarder {
 public:
  ZabForwarder(zab::Peer& peer, std::function<void()> kick) : peer_(peer), kick_(std::move(kick)) {}
  void forward(std::int64_t sessionId, std::int32_t cxid, std::int32_t type, std::string body,
               const std::vector<Id>& authIds) override {
    jute::Writer out;
    out.writeLong(sessionId);
    out.writeInt(cxid);
    out.writeInt(type);
    std::string data = out.take() + body;
    peer_.forwardRequest(std::move(data), authIds);
    kick_();
  }
  // As ZooKeeper's Learner.validateSession writes it: zxid -1, long sessionId, int timeout.
  bool revalidate(std::int64_t sessionId, std::int32_t timeoutMs) override {
    jute::Writer out;
    out.writeLong(sessionId);
    out.writeInt(timeoutMs);
    bool sent =
        peer_.sendRaw(peer_.leader(), zab::makePacket(zab::PacketType::Revalidate, -1, out.take()));
    kick_();
    return sent;
  }

 private:
  zab::Peer& peer_;
  std::function<void()> kick_;
};

// Snapshots above `zxid` hold txns the new leader does not have.
void removeSnapshotsAbove(const std::filesystem::path& dataDir, std::int64_t zxid) {
  for (const auto& file : storage::listSnapshots(dataDir / storage::kVersionDir)) {
    if (file.zxid > zxid) std::filesystem::remove(file.path);
  }
}

// Spooled SNAPs a previous run left behind: received, but never loaded.
void removeStaleSpools(const std::filesystem::path& versionDir, std::string_view prefix) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(versionDir, ec)) {
    if (entry.path().filename().string().starts_with(prefix))
      std::filesystem::remove(entry.path(), ec);
  }
}

// ZooKeeper's peer_state starts with the state in lower case: "following - broadcast".
std::string peerStateOf(zab::ServerState state, const char* phase) {
  std::string name = zab::serverStateName(state);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name + " - " + phase;
}

const char* roleName(zab::ServerState state) {
  switch (state) {
    case zab::ServerState::Leading:
      return "leader";
    case zab::ServerState::Following:
      return "follower";
    case zab::ServerState::Observing:
      return "observer";
    default:
      return "looking";
  }
}

// Runs a step that changes this member's log, tree or epochs. If it throws, what is on disk and
// in memory is no longer known to match the ensemble: the member fail-stops, naming the step.
template <class Step>
void orFailStop(Logger& log, std::string_view what, Step&& step) {
  try {
    step();
  } catch (const std::exception& e) {
    failStop(log, "zab", std::string(what) + ": " + e.what());
  }
}

std::map<std::int64_t, PeerAddress> addressesOf(
    const std::map<std::int64_t, ServerEntry>& servers) {
  std::map<std::int64_t, PeerAddress> addresses;
  for (const auto& [sid, entry] : servers)
    addresses[sid] = PeerAddress{entry.host, entry.quorumPort, entry.electionPort};
  return addresses;
}

// sslQuorum dials over TLS and takes only TLS; portUnification takes both on our ports, so a
// member can accept TLS before it dials it (the rolling migration's first step).
QuorumTlsPolicy quorumTlsPolicy(const ServerConfig& config, Logger& log) {
  QuorumTlsPolicy policy;
  if (!config.quorumTlsServed()) return policy;
  try {
    policy.contexts =
        std::make_shared<TlsContextSource>(config.quorumTls, config.sslQuorumReloadCertFiles);
  } catch (const TlsSetupError& e) {
    throw TlsSetupError(std::string("cannot set up the quorum's TLS: ") + e.what());
  }
  policy.dialTls = config.sslQuorum;
  policy.acceptPlain = !config.sslQuorum || config.quorumPortUnification;
  policy.hostnameVerification = config.quorumTls.hostnameVerification;
  policy.handshakeTimeoutMs = config.quorumTls.handshakeDetectionTimeoutMs;
  log.info("quorum",
           std::string("TLS between members: ") +
               (policy.dialTls ? "dialling over TLS" : "dialling in plaintext") +
               (policy.acceptPlain ? ", taking TLS and plaintext" : ", taking only TLS") +
               (config.sslQuorumReloadCertFiles ? ", stores reloaded when they change" : ""));
  return policy;
}

}  // namespace

// Switches to a configuration, from the leader at sync or from a committed reconfig: the
// membership records it, the transport dials its members and Zab counts its votes.
void QuorumDriver::adoptConfig(const DynamicConfig& next) {
  membership_.adopt(next);
  transport_->setPeers(addressesOf(next.servers));
  peer_->setConfigData(formatDynamicConfig(next));
  peer_->activate(membership_.viewOf(next), next.version);
  scheduleZabActions();
}

QuorumDriver::QuorumDriver(const Parts& parts)
    : io_(parts.io),
      log_(parts.log),
      config_(parts.config),
      tree_(parts.tree),
      pipeline_(parts.pipeline),
      connections_(parts.connections),
      snapshots_(parts.snapshots),
      figures_(parts.figures),
      outputBatch_(parts.replies),
      txnLog_(parts.txnLog),
      snapshotZxid_(parts.snapshotZxid),
      membership_(parts.config, parts.tree, parts.log),
      zabTick_(parts.io) {
  membership_.chooseStarting(snapshotZxid_);
  zab::PeerConfig peerConfig;
  peerConfig.mySid = config_.serverId;
  peerConfig.members = membership_.viewOf(membership_.committed());
  peerConfig.configVersion = membership_.committed().version;
  peerConfig.configData = formatDynamicConfig(membership_.committed());
  peerConfig.reconfigOf = [this](const std::string& txnBytes) {
    return membership_.reconfigIn(txnBytes);
  };
  peerConfig.withVersion = [](const std::string& data, std::int64_t version) {
    DynamicConfig config = parseDynamicConfig(data);
    config.version = version;
    return formatDynamicConfig(config);
  };
  auto addresses = addressesOf(config_.servers);
  peerConfig.tickTimeMs = config_.tickTime;
  peerConfig.initLimit = config_.initLimit;
  peerConfig.syncLimit = config_.syncLimit;
  peer_ = std::make_unique<zab::Peer>(peerConfig, loadZabState(), steadyMs());
  lookingSinceMs_ = steadyMs();

  const std::string spoolPrefix = "snapshot.from-leader.tmp";
  removeStaleSpools(config_.dataDir / storage::kVersionDir, spoolPrefix);
  transport_ = std::make_unique<QuorumTransport>(
      io_, log_, config_.serverId, addresses, config_.dataDir / storage::kVersionDir / spoolPrefix,
      quorumTlsPolicy(config_, log_), quorumSaslPolicy(config_, log_), transportHandlers());
  transport_->listen(config_.quorumListenOnAllIPs);
  snapshotSends_ =
      std::make_unique<SnapshotSends>(io_, log_, *transport_, tree_, [this](std::int64_t sid) {
        peer_->onSnapshotProgress(sid);
        scheduleZabActions();
      });

  auto kick = [this] { scheduleZabActions(); };
  auto proposed = [this](std::size_t size) {
    proposalSizes_.record(static_cast<std::int64_t>(size));
    scheduleZabActions();
  };
  sink_ = std::make_unique<ZabSink>(*peer_, log_, proposed, [this](const std::string& why) {
    log_.error("zab", why + "; dropping clients to resynchronise");
    asio::post(io_, [this] {
      connections_.closeAll("internal inconsistency");
      rebuildProcessor(pipeline_->role(), pipeline_.sessions());
    });
  });
  forwarder_ = std::make_unique<ZabForwarder>(*peer_, kick);
  serving_ = false;
  rebuildProcessor(PipelineRole::kLearner, pipeline_.sessions());
  log_.info("zab", "member " + std::to_string(config_.serverId) + " of " +
                       std::to_string(config_.servers.size()) + ": looking for a leader");
  scheduleZabTick();
  scheduleZabActions();
}

// What arrives from the other members goes into the Peer; its answers are run on the next turn.
QuorumTransport::Handlers QuorumDriver::transportHandlers() {
  QuorumTransport::Handlers handlers;
  handlers.onVote = [this](std::int64_t from, const zab::Notification& vote) {
    peer_->onVote(from, vote);
    scheduleZabActions();
  };
  handlers.onPacket = [this](std::int64_t from, const zab::QuorumPacket& packet) {
    peer_->onPacket(from, packet);
    scheduleZabActions();
  };
  handlers.onConnected = [this](std::int64_t sid) {
    peer_->onConnected(sid);
    scheduleZabActions();
  };
  handlers.onDisconnected = [this](std::int64_t sid) {
    peer_->onDisconnected(sid);
    scheduleZabActions();
  };
  handlers.onElectionLink = [this](std::int64_t sid, bool up) {
    peer_->onReachable(sid, up);
    scheduleZabActions();
  };
  handlers.onSnapshotProgress = [this](std::int64_t sid) {
    peer_->onSnapshotProgress(sid);
    scheduleZabActions();
  };
  return handlers;
}

QuorumDriver::~QuorumDriver() = default;

void QuorumDriver::onPersisted(std::int64_t zxid) {
  peer_->onPersisted(zxid);  // in an ensemble, durable is not yet committed
  scheduleZabActions();
}

void QuorumDriver::tick() {
  maybeEnterReadOnly();
}

void QuorumDriver::stop() {
  stopped_ = true;
  zabTick_.cancel();
  transport_->stop();
}

// What Zab needs from the disk: the epochs, and the newest logged txns so a leader can DIFF.
zab::PersistedState QuorumDriver::loadZabState() {
  zab::PersistedState state;
  state.appliedZxid = tree_.lastProcessedZxid();
  std::int64_t lastEpoch = tree_.lastProcessedZxid() >> 32;
  auto current = storage::readEpochFile(config_.dataDir, storage::kCurrentEpochFile);
  auto accepted = storage::readEpochFile(config_.dataDir, storage::kAcceptedEpochFile);
  state.currentEpoch = current.value_or(lastEpoch);
  state.acceptedEpoch = accepted.value_or(state.currentEpoch);
  if (!current) storage::writeEpochFile(config_.dataDir, storage::kCurrentEpochFile, lastEpoch);
  if (!accepted)
    storage::writeEpochFile(config_.dataDir, storage::kAcceptedEpochFile, state.acceptedEpoch);

  const std::size_t keep = 500;
  std::deque<zab::LoggedTxn> recent;
  state.logStartZxid = snapshotZxid_;
  storage::LogReadOptions options;
  options.log = [this](std::string_view line) { log_.warn("txnlog", line); };
  storage::readTxnLog(
      config_.dataLogDir / storage::kVersionDir, snapshotZxid_,
      [&](const Txn& txn) {
        recent.push_back({txn.header.zxid, encodeTxn(txn)});
        if (recent.size() > keep) {
          state.logStartZxid = recent.front().zxid;
          recent.pop_front();
        }
      },
      options);
  state.log.assign(recent.begin(), recent.end());
  return state;
}

void QuorumDriver::scheduleZabTick() {
  zabTick_.expires_after(std::chrono::milliseconds(50));
  zabTick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    if (pipeline_->role() == PipelineRole::kLearner) reportSessionTouches();
    if (snapshotLoad_ && snapshotLoad_->ready()) finishLoad();
    peer_->tick(steadyMs());
    runZabActions();
    scheduleZabTick();
  });
}

void QuorumDriver::scheduleZabActions() {
  if (zabActionsPosted_ || !peer_) return;
  zabActionsPosted_ = true;
  // Posted, never run inline: the caller may be the pipeline itself, mid-request.
  asio::post(io_, [this] {
    OutputBatch::Scope replies(outputBatch_);
    zabActionsPosted_ = false;
    runZabActions();
  });
}

void QuorumDriver::runZabActions() {
  if (stopped_) return;
  for (auto actions = peer_->takeActions(); !actions.empty(); actions = peer_->takeActions()) {
    for (auto& action : actions) {
      auto* send = std::get_if<zab::act::SendPacket>(&action);
      bool pingAnswer = send != nullptr && zab::isType(send->packet, zab::PacketType::Ping);
      if (snapshotLoad_ && !pingAnswer) {
        waitingForLoad_.push_back(std::move(action));
        continue;
      }
      execute(action);
    }
  }
}

void QuorumDriver::execute(zab::Action& action) {
  std::visit(
      Overloaded{
          [&](zab::act::SendVote& a) { transport_->sendVote(a.to, a.vote); },
          [&](zab::act::SendPacket& a) { transport_->sendPacket(a.to, a.packet); },
          [&](zab::act::SendSnapshot& a) {
            snapshotSends_->start(a.to, a.zxid, pipeline_.sessions());
          },
          [&](zab::act::PersistTxn& a) {
            // Refused once the writer failed; its own fail-stop may not have run yet, so this
            // line names the writer's failure too.
            if (!txnLog_.appendProposal(a.zxid, std::move(a.bytes)))
              failStop(log_, "txnlog",
                       "cannot log proposal " + hex(a.zxid) + ": " + txnLog_.refusalReason());
          },
          [&](zab::act::PersistEpochs& a) {
            orFailStop(log_, "cannot persist the epochs", [&] {
              storage::writeEpochFile(config_.dataDir, storage::kAcceptedEpochFile,
                                      a.acceptedEpoch);
              storage::writeEpochFile(config_.dataDir, storage::kCurrentEpochFile, a.currentEpoch);
            });
          },
          [&](zab::act::TruncateLog& a) {
            orFailStop(log_, "TRUNC to " + hex(a.zxid) + " failed", [&] { truncateLog(a.zxid); });
          },
          [&](zab::act::LoadSnapshot& a) {
            orFailStop(log_, "SNAP at " + hex(a.zxid) + " failed",
                       [&] { loadSnapshot(a.zxid, a.bytes); });
          },
          [&](zab::act::Deliver& a) {
            orFailStop(log_, "cannot apply committed txn " + hex(a.zxid),
                       [&] { deliver(a.zxid, a.bytes); });
          },
          [&](zab::act::StateChanged& a) { onStateChanged(a); },
          [&](zab::act::LearnerRequest& a) { onLearnerRequest(a); },
          [&](zab::act::SessionTouches& a) {
            // A PING reply's data: (long sessionId, int timeout) repeated, as Learner.ping writes.
            std::vector<std::pair<std::int64_t, std::int32_t>> touched;
            jute::Reader in(a.data);
            while (in.remaining() >= 12) {
              auto id = in.readLong("sessionId");
              touched.emplace_back(id, in.readInt("timeout"));
            }
            if (!in.atEnd())
              log_.warn("zab", "ignoring " + std::to_string(in.remaining()) +
                                   " trailing bytes of session touches from member " +
                                   std::to_string(a.from));
            pipeline_->touchSessions(touched);
          },
          [&](zab::act::SyncDone& a) {
            if (a.forSid != config_.serverId) pipeline_->syncAnswered();
          },
          [&](zab::act::LeaderConfig& a) {
            if (auto next = membership_.fromLeader(a.data, a.fromElection)) adoptConfig(*next);
          },
          [&](zab::act::OtherPacket& a) { onOtherPacket(a); },
          [&](zab::act::Connect& a) { transport_->connectQuorum(a.sid); },
          [&](zab::act::Disconnect& a) { transport_->disconnectQuorum(a.sid); },
      },
      action);
}

void QuorumDriver::onStateChanged(const zab::act::StateChanged& change) {
  bool newTerm = change.state != zabState_.state || change.leader != zabState_.leader ||
                 change.epoch != zabState_.epoch;
  if (newTerm) {
    snapshotSends_->cancelAll();
    connections_.closeAll(std::string("member is now ") + roleName(change.state));
    if (readOnly_) {
      // Read-only sessions were this member's alone; the ensemble's sessions are as they were.
      readOnly_ = false;
      rebuildProcessor(PipelineRole::kLearner, sessionsBeforeReadOnly_);
      log_.info("zab", "leaving read-only mode");
    }
    auto role =
        change.state == zab::ServerState::Leading ? PipelineRole::kLeader : PipelineRole::kLearner;
    rebuildProcessor(role, pipeline_.sessions());
    if (role == PipelineRole::kLeader) pipeline_->startLeading();
    roleSinceMs_ = wallMs();
    if (role == PipelineRole::kLeader) proposalSizes_ = {};
  }
  noteElectionTime(change.state);
  bool inSync = change.serving && change.state != zab::ServerState::Looking;
  if (serving_ && !inSync && !newTerm) connections_.closeAll("member lost sync with its leader");
  serving_ = inSync;
  zabState_ = change;
  log_.info("zab", std::string(roleName(change.state)) +
                       (change.leader >= 0 ? " (leader " + std::to_string(change.leader) +
                                                 ", epoch " + std::to_string(change.epoch) + ")"
                                           : std::string()) +
                       (serving_ ? ", serving clients" : ", not serving clients"));
}

void QuorumDriver::addStats(ServerStats& s) const {
  const zab::Peer& peer = *peer_;
  s.serverState = readOnly_ ? "read-only" : roleName(zabState_.state);
  s.peerState = peerStateOf(zabState_.state, peer.phaseName());
  s.leaderId = zabState_.leader;
  s.lastZxid = std::max(s.lastZxid, peer.lastLoggedZxid());
  for (const auto& [sid, entry] : config_.servers)
    if (entry.role != PeerRole::kObserver) ++s.quorumSize;
  s.electionTime = figures_.electionTime.exact();
  s.quorumTlsHandshakes = transport_->tlsCounters().handshakes;
  s.quorumUnsuccessfulHandshakes = transport_->tlsCounters().failedHandshakes;
  s.quorumSaslAuthenticated = transport_->saslCounters().authenticated;
  s.quorumSaslFailed = transport_->saslCounters().failed;
  if (zabState_.state == zab::ServerState::Leading) {
    LeaderStats leader;
    leader.learners = static_cast<std::int64_t>(peer.learnerCount());
    leader.syncedFollowers = static_cast<std::int64_t>(peer.syncedFollowers());
    leader.syncedObservers = static_cast<std::int64_t>(peer.syncedObservers());
    leader.syncedNonVotingFollowers = static_cast<std::int64_t>(peer.syncedNonVotingFollowers());
    leader.pendingSyncs = static_cast<std::int64_t>(peer.pendingSyncs());
    leader.leaderUptimeMs = serving_ ? wallMs() - roleSinceMs_ : 0;
    leader.proposalSize = proposalSizes_;
    s.leader = leader;
  } else if (zabState_.state == zab::ServerState::Following) {
    s.follower = FollowerStats{};
  }
}

// ZooKeeper starts its read-only server once a member has looked for a leader for
// max(2 s, tickTime) without finding a quorum.
void QuorumDriver::maybeEnterReadOnly() {
  if (!config_.readOnlyModeEnabled || readOnly_ || serving_ ||
      zabState_.state != zab::ServerState::Looking)
    return;
  if (steadyMs() - lookingSinceMs_ < std::max<std::int64_t>(2000, config_.tickTime)) return;
  connections_.closeAll("entering read-only mode");
  sessionsBeforeReadOnly_ = pipeline_.sessions();
  readOnly_ = true;
  rebuildProcessor(PipelineRole::kReadOnly, sessionsBeforeReadOnly_);
  log_.info("zab", "no quorum: serving read-only clients (readonlymode.enabled)");
}

// ZooKeeper's election_time: from starting to look for a leader to knowing one.
void QuorumDriver::noteElectionTime(zab::ServerState next) {
  bool wasLooking = zabState_.state == zab::ServerState::Looking;
  if (next == zab::ServerState::Looking && !wasLooking) lookingSinceMs_ = steadyMs();
  if (next != zab::ServerState::Looking && wasLooking) {
    std::int64_t ms = steadyMs() - lookingSinceMs_;
    figures_.electionTime.record(ms);
  }
}

void QuorumDriver::rebuildProcessor(PipelineRole role,
                                    const std::map<std::int64_t, std::int32_t>& sessions) {
  PipelineLinks links;
  if (role == PipelineRole::kLearner) links.forwarder = forwarder_.get();
  links.txnLogged = [this](const Txn&) { snapshots_.countTxn(); };
  links.configCommitted = [this](const std::string& config) {
    if (auto next = membership_.committedNewer(config)) adoptConfig(*next);
  };
  links.requestAnswered = [this](bool read, std::int64_t ms) {
    (read ? figures_.readLatency : figures_.updateLatency).record(ms);
  };
  links.remoteSyncReady = [this](std::int64_t sid) {
    peer_->requestSync(sid);
    scheduleZabActions();
  };
  ProcessorConfig processorConfig = processorConfigOf(config_, role, log_);
  if (role == PipelineRole::kLeader && config_.reconfigEnabled) {
    processorConfig.planReconfig = [this](const ReconfigRequest& request, std::int64_t zxid) {
      return membership_.planReconfig(request, zxid, *peer_);
    };
  }
  pipeline_.rebuild(std::move(processorConfig), tree_, *sink_, std::move(links), sessions);
}

void QuorumDriver::deliver(std::int64_t zxid, const std::string& bytes) {
  if (zxid <= tree_.lastProcessedZxid()) return;  // recovery already replayed it
  if (pipeline_->firstPendingZxid() == zxid) {
    pipeline_->onDurable(zxid);  // the leader's own proposal, now committed
    return;
  }
  pipeline_->applyCommitted(decodeCommittedTxn(log_, zxid, bytes));
  if (pipeline_->role() == PipelineRole::kLearner) snapshots_.countTxn();
}

void QuorumDriver::onOtherPacket(const zab::act::OtherPacket& other) {
  if (other.packet.type != static_cast<std::int32_t>(zab::PacketType::Revalidate)) {
    log_.debug("zab", std::string("ignoring ") + zab::packetTypeName(other.packet.type) + " from " +
                          std::to_string(other.from));
    return;
  }
  try {
    jute::Reader in(other.packet.data);
    auto sessionId = in.readLong("sessionId");
    if (zabState_.state == zab::ServerState::Leading) {
      in.readInt("timeout");  // ZooKeeper's leader ignores it too: the session keeps its own
      answerRevalidation(other.from, sessionId);
      return;
    }
    bool valid = in.readBool("valid");
    // A ZooKeeper leader sends zxid -1. Its answer follows every proposal it had sent us
    // when it took the session over, so what we have logged is the boundary.
    std::int64_t boundary = other.packet.zxid > 0 ? other.packet.zxid : peer_->lastLoggedZxid();
    pipeline_->sessionRevalidated(sessionId, valid, boundary);
  } catch (const jute::DecodeError& e) {
    log_.warn("zab",
              "malformed REVALIDATE from member " + std::to_string(other.from) + ": " + e.what());
  }
}

// As ZooKeeper's LearnerHandler answers: long sessionId, bool valid. The zxid field, -1 in
// ZooKeeper, carries the boundary between the session's old and new owners here.
void QuorumDriver::answerRevalidation(std::int64_t learnerSid, std::int64_t sessionId) {
  auto result = pipeline_->revalidateSession(learnerSid, sessionId);
  jute::Writer out;
  out.writeLong(sessionId);
  out.writeBool(result.valid);
  peer_->sendRaw(learnerSid,
                 zab::makePacket(zab::PacketType::Revalidate, result.boundaryZxid, out.take()));
  scheduleZabActions();
}

void QuorumDriver::onLearnerRequest(const zab::act::LearnerRequest& request) {
  try {
    jute::Reader in(request.data);
    auto sessionId = in.readLong("sessionId");
    auto cxid = in.readInt("cxid");
    auto type = in.readInt("type");
    pipeline_->remoteRequest(request.from, sessionId, cxid, type, in.rest(), request.authinfo);
  } catch (const jute::DecodeError& e) {
    log_.warn("zab",
              "malformed REQUEST from member " + std::to_string(request.from) + ": " + e.what());
  }
}

void QuorumDriver::reportSessionTouches() {
  std::int64_t now = wallMs();
  for (const auto& [id, timeout] : pipeline_->takeTouchedSessions()) sessionTouchedAt_[id] = now;
  jute::Writer out;
  for (auto it = sessionTouchedAt_.begin(); it != sessionTouchedAt_.end();) {
    // Each touch is reported for one tick, so at least one leader PING carries it.
    if (now - it->second > config_.tickTime || !pipeline_->sessions().contains(it->first)) {
      it = sessionTouchedAt_.erase(it);
      continue;
    }
    out.writeLong(it->first);
    out.writeInt(pipeline_->sessions().timeoutOf(it->first));
    ++it;
  }
  peer_->setPingPayload(out.take());
}

void QuorumDriver::truncateLog(std::int64_t zxid) {
  log_.info("zab", "TRUNC to " + hex(zxid) + ": dropping txns the leader does not have");
  snapshots_.abandon();
  txnLog_.stopLog();
  storage::truncateTxnLog(config_.dataLogDir / storage::kVersionDir, zxid,
                          [this](std::string_view line) { log_.info("txnlog", line); });
  removeSnapshotsAbove(config_.dataDir, zxid);
  if (tree_.lastProcessedZxid() <= zxid) return txnLog_.reopenLog();
  // The tree holds what was cut: it is reloaded from snapshot + log on another thread, as a
  // SNAP is, so a large tree does not stop the pings.
  connections_.closeAll("member state reloaded");
  startLoad(LoadKind::kTrunc, zxid);
}

void QuorumDriver::startLoad(LoadKind kind, std::int64_t zxid) {
  loadKind_ = kind;
  snapshotLoadZxid_ = zxid;
  snapshotLoad_.emplace(config_.dataDir, config_.dataLogDir, log_);
}

// The transport spooled the stream to a file as it arrived; it becomes the newest snapshot,
// and is loaded on another thread while the event loop goes on answering the leader's pings.
void QuorumDriver::loadSnapshot(std::int64_t zxid, const std::filesystem::path& spooled) {
  log_.info("zab", "SNAP at " + hex(zxid) + " (" +
                       std::to_string(std::filesystem::file_size(spooled)) +
                       " bytes) from the leader");
  snapshots_.abandon();
  txnLog_.stopLog();
  auto versionDir = config_.dataDir / storage::kVersionDir;
  std::filesystem::rename(spooled,
                          versionDir / storage::zxidFileName(storage::kSnapshotPrefix, zxid));
  storage::fsyncDir(versionDir);
  storage::truncateTxnLog(config_.dataLogDir / storage::kVersionDir, zxid,
                          [this](std::string_view line) { log_.info("txnlog", line); });
  removeSnapshotsAbove(config_.dataDir, zxid);
  connections_.closeAll("member state reloaded");
  startLoad(LoadKind::kSnap, zxid);
}

void QuorumDriver::finishLoad() {
  std::int64_t zxid = snapshotLoadZxid_;
  bool snap = loadKind_ == LoadKind::kSnap;
  orFailStop(log_, (snap ? "SNAP at " : "TRUNC to ") + hex(zxid) + " failed", [&] {
    auto loaded = snapshotLoad_->take();
    snapshotLoad_.reset();
    connections_.closeAll("member state reloaded");
    tree_ = std::move(loaded.tree);
    snapshotZxid_ = std::max<std::int64_t>(0, loaded.recovered.snapshotZxid);
    if (!snap) snapshots_.noteLoaded(loaded.recovered.snapshotZxid);
    membership_.publishActive(false);
    rebuildProcessor(pipeline_->role(), loaded.recovered.sessions);
    log_.info("storage", std::string(snap ? "loaded " : "reloaded ") +
                             std::to_string(tree_.nodeCount()) + " znodes up to " +
                             hex(tree_.lastProcessedZxid()));
    txnLog_.reopenLog();
  });
  // The leader promised the state as of `zxid`; anything else here is another history.
  if (snap && tree_.lastProcessedZxid() != zxid)
    failStop(log_, "zab",
             "SNAP announced at " + hex(zxid) + " but the snapshot it sent loads at " +
                 hex(tree_.lastProcessedZxid()));
  while (!waitingForLoad_.empty() && !snapshotLoad_ && !stopped_) {
    zab::Action action = std::move(waitingForLoad_.front());
    waitingForLoad_.pop_front();
    execute(action);
  }
  runZabActions();
}

}  // namespace zk
