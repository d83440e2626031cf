// The ensemble half of the composition root: the pure Zab state machine gets votes, packets,
// ticks and fsync completions from here, and its actions are carried out here against the
// sockets, the disk and the request pipeline, strictly in the order it emits them.

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
#include "net/dynamic_config_files.h"
#include "net/metrics.h"
#include "net/quorum_transport.h"
#include "net/server.h"
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

zab::Members membersOf(const DynamicConfig& config) {
  zab::Members members;
  for (const auto& [sid, entry] : config.servers)
    members[sid] = entry.role == PeerRole::kObserver ? zab::Role::Observer : zab::Role::Participant;
  return members;
}

std::int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// The leader's pipeline hands each prepared txn to Zab, which gives it the same zxid.
class ZabSink : public TxnSink {
 public:
  // kick(size) runs after each proposal with the size of the proposed txn.
  ZabSink(zab::Peer& peer, std::function<void(std::size_t)> kick,
          std::function<void(std::string)> fail)
      : peer_(peer), kick_(std::move(kick)), fail_(std::move(fail)) {}
  void append(const Txn& txn) override {
    auto expected = peer_.nextZxid();
    if (!expected || *expected != txn.header.zxid) {
      fail_("pipeline prepared zxid " + hex(txn.header.zxid) + " but Zab expects " +
            (expected ? hex(*expected) : std::string("no proposal (not a serving leader)")));
      return;
    }
    std::string bytes = encodeTxn(txn);
    std::size_t size = bytes.size();
    const auto* config = std::get_if<SetDataTxn>(&txn.body);
    if (txn.header.type == static_cast<std::int32_t>(OpCode::kReconfig) && config != nullptr) {
      peer_.proposeReconfig(std::move(bytes),
                            membersOf(parseDynamicConfig(config->data.value_or(""))));
    } else {
      peer_.propose(std::move(bytes));
    }
    kick_(size);
  }

 private:
  zab::Peer& peer_;
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
  for (const auto& file :
       storage::listZxidFiles(dataDir / storage::kVersionDir, storage::kSnapshotPrefix)) {
    if (file.zxid > zxid) std::filesystem::remove(file.path);
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

// The membership to start with: zoo.cfg's (with its dynamic file, rewritten whenever a
// configuration becomes active), unless the snapshot holds a newer one. A newer one in the tree
// that only the log replay put there may be a reconfig that never committed: Zab treats it as
// pending (PeerConfig::reconfigOf) and commits or drops it with the rest of that history.
void Server::chooseStartingConfig() {
  DynamicConfig fromFile{config_.servers, config_.configVersion};
  if (fromFile.servers.contains(config_.serverId)) myEntry_ = fromFile.servers.at(config_.serverId);
  committedConfig_ = fromFile;
  if (auto fromData = configInTree(); fromData && fromData->version > fromFile.version) {
    if (fromData->version <= snapshotZxid_ && !fromData->servers.empty()) {
      log_.info("zab", "using the configuration committed at " + hex(fromData->version) +
                           " (in the snapshot) over zoo.cfg's");
      committedConfig_ = *fromData;
    } else {
      log_.info("zab", "the log holds configuration " + hex(fromData->version) +
                           ", not known to be committed: pending until the ensemble decides");
    }
  }
  publishActiveConfig(committedConfig_ == fromFile);
  joining_ = !committedConfig_.servers.contains(config_.serverId) && myEntry_.has_value();
  config_.servers = serversWithMe(committedConfig_);
  config_.configVersion = committedConfig_.version;
}

std::optional<DynamicConfig> Server::configInTree() const {
  const Node* node = tree_.find("/zookeeper/config");
  if (node == nullptr || node->data().empty()) return std::nullopt;
  try {
    return parseDynamicConfig(node->data());
  } catch (const std::invalid_argument& e) {
    log_.warn("zab", std::string("ignoring unreadable /zookeeper/config: ") + e.what());
    return std::nullopt;
  }
}

// /zookeeper/config shows the active configuration (ZooKeeper's initConfigInZKDatabase), also
// after a reload from a snapshot that predates it. A newer one that only the log replay put
// there stays as the log left it until the ensemble decides; an equal one is rewritten only at
// start, where zoo.cfg may have been edited without a new version.
void Server::publishActiveConfig(bool evenIfEqual) {
  auto inTree = configInTree();
  std::int64_t version = inTree ? inTree->version : -1;
  if (version < committedConfig_.version || (evenIfEqual && version == committedConfig_.version))
    tree_.setConfigNode(formatDynamicConfig(committedConfig_), committedConfig_.version);
}

// A server that is joining (zoo.cfg names it, the ensemble does not yet) keeps itself in its own
// view, so it follows the leader without a vote until a reconfig adds it.
std::map<std::int64_t, ServerEntry> Server::serversWithMe(const DynamicConfig& config) const {
  auto servers = config.servers;
  if (joining_ && myEntry_) servers.emplace(config_.serverId, *myEntry_);
  return servers;
}

// Our Zab view of a configuration: a server it leaves out but whose zoo.cfg names it follows
// without a vote (joining, or removed). Depends on the configuration alone, so the core can ask
// for the view of a reconfig that is not active yet.
zab::Members Server::viewOf(const DynamicConfig& config) const {
  zab::Members members = membersOf(config);
  if (myEntry_ && !members.contains(config_.serverId)) {
    members[config_.serverId] =
        myEntry_->role == PeerRole::kObserver ? zab::Role::Observer : zab::Role::NonVoting;
  }
  return members;
}

// The configuration a logged reconfig txn proposes; nullopt for every other txn.
std::optional<zab::ConfigInfo> Server::reconfigIn(const std::string& txnBytes) const {
  try {
    jute::Reader in(txnBytes);
    TxnHeader header = TxnHeader::read(in);
    if (header.type != static_cast<std::int32_t>(OpCode::kReconfig)) return std::nullopt;
    Txn txn = decodeTxn(txnBytes);
    const auto* set = std::get_if<SetDataTxn>(&txn.body);
    if (set == nullptr) return std::nullopt;
    DynamicConfig next = parseDynamicConfig(set->data.value_or(""));
    return zab::ConfigInfo{viewOf(next), formatDynamicConfig(next)};
  } catch (const std::exception& e) {
    log_.warn("zab", std::string("unreadable reconfig txn: ") + e.what());
    return std::nullopt;
  }
}

// Switches to a configuration, from the leader at sync or from a committed reconfig. One that
// leaves us out makes us a follower without a vote, as in ZooKeeper: joining until a reconfig
// adds us, or removed and still serving reads until the operator stops us.
void Server::adoptConfig(const DynamicConfig& next) {
  bool inNext = next.servers.contains(config_.serverId);
  joining_ = !inNext && myEntry_.has_value();
  bool changed = next.version != committedConfig_.version;
  committedConfig_ = next;
  config_.servers = serversWithMe(next);
  config_.configVersion = next.version;  // `conf` states the membership with its version
  if (changed && config_.reconfigEnabled && !config_.source.empty()) {
    try {
      auto file = writeDynamicConfigFiles(config_.source, next);
      log_.info("zab", "membership written to " + file.string());
    } catch (const std::exception& e) {
      log_.warn("zab", std::string(e.what()) + "; the data keeps the membership");
    }
  }
  publishActiveConfig(false);  // a configuration that came with NEWLEADER is in no txn
  transport_->setPeers(addressesOf(next.servers));
  peer_->setConfigData(formatDynamicConfig(next));
  peer_->activate(viewOf(next), next.version);
  log_.info("zab", "configuration " + hex(next.version) + " is active with " +
                       std::to_string(next.servers.size()) + " members" +
                       (inNext     ? std::string()
                        : joining_ ? ", this server joining without a vote"
                                   : ", this server no longer one: it stops serving"));
  scheduleZabActions();
}

void Server::onLeaderConfig(const std::string& text, bool fromElection) {
  try {
    DynamicConfig next = parseDynamicConfig(text);
    bool newer = next.version > committedConfig_.version ||
                 (!fromElection && next.version == committedConfig_.version);
    if (newer && !next.servers.empty()) adoptConfig(next);
  } catch (const std::invalid_argument& e) {
    log_.warn("zab", std::string("ignoring the leader's unreadable configuration: ") + e.what());
  }
}

std::string Server::planReconfig(const ReconfigRequest& request, std::int64_t zxid) const {
  if (peer_->reconfigInProgress()) throw KeeperError{Err::kReconfigInProgress};
  if (request.curConfigId != -1 && request.curConfigId != committedConfig_.version)
    throw KeeperError{Err::kBadVersion};
  DynamicConfig next;
  try {
    next = applyReconfigRequest(committedConfig_, request.joiningServers, request.leavingServers,
                                request.newMembers);
  } catch (const std::invalid_argument& e) {
    log_.warn("zab", std::string("refusing reconfig: ") + e.what());
    throw KeeperError{Err::kBadArguments};
  }
  std::size_t voters = 0;
  for (const auto& [sid, entry] : next.servers) voters += entry.role == PeerRole::kParticipant;
  if (voters == 1 && config_.standaloneEnabled) {
    // As ZooKeeper: one voter would be a standalone server, which standaloneEnabled forbids here.
    log_.warn("zab", "refusing reconfig to a single voter while standaloneEnabled=true");
    throw KeeperError{Err::kBadArguments};
  }
  if (!peer_->syncedQuorumOf(membersOf(next))) {
    log_.warn("zab", "refusing reconfig: a quorum of the new voters is not in sync with us");
    throw KeeperError{Err::kNewConfigNoQuorum};
  }
  next.version = zxid;
  return formatDynamicConfig(next);
}

// A committed reconfig was applied here: it is the membership from now on.
void Server::onConfigCommitted(const std::string& text) {
  try {
    DynamicConfig next = parseDynamicConfig(text);
    if (next.version > committedConfig_.version) adoptConfig(next);
  } catch (const std::invalid_argument& e) {
    // The tree holds it and the other members adopt it: this member would keep another one.
    failStop(log_, "zab", std::string("committed configuration is unreadable: ") + e.what());
  }
}

void Server::startQuorum() {
  chooseStartingConfig();
  zab::PeerConfig peerConfig;
  peerConfig.mySid = config_.serverId;
  peerConfig.members = viewOf(committedConfig_);
  peerConfig.configVersion = committedConfig_.version;
  peerConfig.configData = formatDynamicConfig(committedConfig_);
  peerConfig.reconfigOf = [this](const std::string& txnBytes) { return reconfigIn(txnBytes); };
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
  transport_ = std::make_unique<QuorumTransport>(
      io_, log_, config_.serverId, addresses,
      config_.dataDir / storage::kVersionDir / "snapshot.from-leader.tmp",
      quorumTlsPolicy(config_, log_), quorumSaslPolicy(config_, log_), std::move(handlers));
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
  sink_ = std::make_unique<ZabSink>(*peer_, proposed, [this](const std::string& why) {
    log_.error("zab", why + "; dropping clients to resynchronise");
    asio::post(io_, [this] {
      closeClients("internal inconsistency");
      rebuildProcessor(processor_->role(), currentSessions());
    });
  });
  forwarder_ = std::make_unique<ZabForwarder>(*peer_, kick);
  serving_ = false;
  rebuildProcessor(PipelineRole::kLearner, currentSessions());
  log_.info("zab", "member " + std::to_string(config_.serverId) + " of " +
                       std::to_string(config_.servers.size()) + ": looking for a leader");
  scheduleZabTick();
  scheduleZabActions();
}

// What Zab needs from the disk: the epochs, and the newest logged txns so a leader can DIFF.
zab::PersistedState Server::loadZabState() {
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

void Server::scheduleZabTick() {
  zabTick_.expires_after(std::chrono::milliseconds(50));
  zabTick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    if (processor_->role() == PipelineRole::kLearner) reportSessionTouches();
    if (snapshotLoad_ && snapshotLoad_->ready()) finishSnapshotLoad();
    peer_->tick(steadyMs());
    runZabActions();
    scheduleZabTick();
  });
}

void Server::scheduleZabActions() {
  if (zabActionsPosted_ || !peer_) return;
  zabActionsPosted_ = true;
  // Posted, never run inline: the caller may be the pipeline itself, mid-request.
  asio::post(io_, [this] {
    OutputBatch::Scope replies(outputBatch_);
    zabActionsPosted_ = false;
    runZabActions();
  });
}

void Server::runZabActions() {
  if (stopping_) return;
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

void Server::execute(zab::Action& action) {
  std::visit(
      Overloaded{
          [&](zab::act::SendVote& a) { transport_->sendVote(a.to, a.vote); },
          [&](zab::act::SendPacket& a) { transport_->sendPacket(a.to, a.packet); },
          [&](zab::act::SendSnapshot& a) { sendSnapshot(a.to, a.zxid); },
          [&](zab::act::PersistTxn& a) {
            // Refused only once the writer failed (its own fail-stop may not have run yet).
            if (!txnLog_->appendEncoded(a.zxid, std::move(a.bytes)))
              failStop(log_, "txnlog",
                       "cannot log proposal " + hex(a.zxid) + ": the transaction log has failed");
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
            processor_->touchSessions(touched);
          },
          [&](zab::act::SyncDone& a) {
            if (a.forSid != config_.serverId) processor_->syncAnswered();
          },
          [&](zab::act::LeaderConfig& a) { onLeaderConfig(a.data, a.fromElection); },
          [&](zab::act::OtherPacket& a) { onOtherPacket(a); },
          [&](zab::act::Connect& a) { transport_->connectQuorum(a.sid); },
          [&](zab::act::Disconnect& a) { transport_->disconnectQuorum(a.sid); },
      },
      action);
}

void Server::onStateChanged(const zab::act::StateChanged& change) {
  bool newTerm = change.state != zabState_.state || change.leader != zabState_.leader ||
                 change.epoch != zabState_.epoch;
  if (newTerm) {
    snapshotSends_->cancelAll();
    closeClients(std::string("member is now ") + roleName(change.state));
    if (readOnly_) {
      // Read-only sessions were this member's alone; the ensemble's sessions are as they were.
      readOnly_ = false;
      rebuildProcessor(PipelineRole::kLearner, sessionsBeforeReadOnly_);
      log_.info("zab", "leaving read-only mode");
    }
    auto role =
        change.state == zab::ServerState::Leading ? PipelineRole::kLeader : PipelineRole::kLearner;
    rebuildProcessor(role, currentSessions());
    if (role == PipelineRole::kLeader) processor_->startEpoch(change.epoch);
    roleSinceMs_ = wallMs();
    if (role == PipelineRole::kLeader) proposalSizes_ = {};
  }
  noteElectionTime(change.state);
  bool serving = change.serving && change.state != zab::ServerState::Looking;
  if (serving_ && !serving && !newTerm) closeClients("member lost sync with its leader");
  serving_ = serving;
  zabState_ = change;
  log_.info("zab", std::string(roleName(change.state)) +
                       (change.leader >= 0 ? " (leader " + std::to_string(change.leader) +
                                                 ", epoch " + std::to_string(change.epoch) + ")"
                                           : std::string()) +
                       (serving_ ? ", serving clients" : ", not serving clients"));
}

void Server::addQuorumStats(ServerStats& s) const {
  const zab::Peer& peer = *peer_;
  s.serverState = readOnly_ ? "read-only" : roleName(zabState_.state);
  s.peerState = peerStateOf(zabState_.state, peer.phaseName());
  s.leaderId = zabState_.leader;
  s.lastZxid = std::max(s.lastZxid, peer.lastLoggedZxid());
  for (const auto& [sid, entry] : config_.servers)
    if (entry.role != PeerRole::kObserver) ++s.quorumSize;
  s.electionTime = figures_.electionTime.exact();
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
void Server::maybeEnterReadOnly() {
  if (!config_.readOnlyModeEnabled || readOnly_ || serving_ ||
      zabState_.state != zab::ServerState::Looking)
    return;
  if (steadyMs() - lookingSinceMs_ < std::max<std::int64_t>(2000, config_.tickTime)) return;
  closeClients("entering read-only mode");
  sessionsBeforeReadOnly_ = currentSessions();
  readOnly_ = true;
  rebuildProcessor(PipelineRole::kReadOnly, sessionsBeforeReadOnly_);
  log_.info("zab", "no quorum: serving read-only clients (readonlymode.enabled)");
}

// ZooKeeper's election_time: from starting to look for a leader to knowing one.
void Server::noteElectionTime(zab::ServerState next) {
  bool wasLooking = zabState_.state == zab::ServerState::Looking;
  if (next == zab::ServerState::Looking && !wasLooking) lookingSinceMs_ = steadyMs();
  if (next != zab::ServerState::Looking && wasLooking) {
    std::int64_t ms = steadyMs() - lookingSinceMs_;
    figures_.electionTime.record(ms);
  }
}

void Server::rebuildProcessor(PipelineRole role,
                              const std::map<std::int64_t, std::int32_t>& sessions) {
  PipelineLinks links;
  if (role == PipelineRole::kLearner) links.forwarder = forwarder_.get();
  links.txnLogged = [this](const Txn&) { countTxnForSnapshot(); };
  links.configCommitted = [this](const std::string& config) {
    if (peer_) onConfigCommitted(config);
  };
  links.requestAnswered = [this](bool read, std::int64_t ms) {
    (read ? figures_.readLatency : figures_.updateLatency).record(ms);
  };
  links.remoteSyncReady = [this](std::int64_t sid) {
    peer_->requestSync(sid);
    scheduleZabActions();
  };
  processor_ = std::make_unique<RequestProcessor>(processorConfigFor(role), tree_, *sink_, wallMs,
                                                  std::move(links));
  processor_->restoreSessions(sessions);
}

void Server::deliver(std::int64_t zxid, const std::string& bytes) {
  if (zxid <= tree_.lastProcessedZxid()) return;  // recovery already replayed it
  if (processor_->firstPendingZxid() == zxid) {
    processor_->onDurable(zxid);  // the leader's own proposal, now committed
    return;
  }
  processor_->applyCommitted(decodeCommittedTxn(log_, zxid, bytes));
  if (processor_->role() == PipelineRole::kLearner) countTxnForSnapshot();
}

void Server::onOtherPacket(const zab::act::OtherPacket& other) {
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
    processor_->sessionRevalidated(sessionId, valid, boundary);
  } catch (const jute::DecodeError& e) {
    log_.warn("zab",
              "malformed REVALIDATE from member " + std::to_string(other.from) + ": " + e.what());
  }
}

// As ZooKeeper's LearnerHandler answers: long sessionId, bool valid. The zxid field, -1 in
// ZooKeeper, carries the boundary between the session's old and new owners here.
void Server::answerRevalidation(std::int64_t learnerSid, std::int64_t sessionId) {
  auto result = processor_->revalidateSession(learnerSid, sessionId);
  jute::Writer out;
  out.writeLong(sessionId);
  out.writeBool(result.valid);
  peer_->sendRaw(learnerSid,
                 zab::makePacket(zab::PacketType::Revalidate, result.boundaryZxid, out.take()));
  scheduleZabActions();
}

void Server::onLearnerRequest(const zab::act::LearnerRequest& request) {
  try {
    jute::Reader in(request.data);
    auto sessionId = in.readLong("sessionId");
    auto cxid = in.readInt("cxid");
    auto type = in.readInt("type");
    processor_->remoteRequest(request.from, sessionId, cxid, type, in.rest(), request.authinfo);
  } catch (const jute::DecodeError& e) {
    log_.warn("zab",
              "malformed REQUEST from member " + std::to_string(request.from) + ": " + e.what());
  }
}

void Server::reportSessionTouches() {
  std::int64_t now = wallMs();
  for (const auto& [id, timeout] : processor_->takeTouchedSessions()) sessionTouchedAt_[id] = now;
  jute::Writer out;
  for (auto it = sessionTouchedAt_.begin(); it != sessionTouchedAt_.end();) {
    // Each touch is reported for one tick, so at least one leader PING carries it.
    if (now - it->second > config_.tickTime || !processor_->sessions().contains(it->first)) {
      it = sessionTouchedAt_.erase(it);
      continue;
    }
    out.writeLong(it->first);
    out.writeInt(processor_->sessions().timeoutOf(it->first));
    ++it;
  }
  peer_->setPingPayload(out.take());
}

void Server::truncateLog(std::int64_t zxid) {
  log_.info("zab", "TRUNC to " + hex(zxid) + ": dropping txns the leader does not have");
  snapshot_.reset();
  txnLog_->stop();
  storage::truncateTxnLog(config_.dataLogDir / storage::kVersionDir, zxid,
                          [this](std::string_view line) { log_.info("txnlog", line); });
  removeSnapshotsAbove(config_.dataDir, zxid);
  if (tree_.lastProcessedZxid() > zxid) reloadFromDisk();
  openLogWriter();
}

// The transport spooled the stream to a file as it arrived; it becomes the newest snapshot,
// and is loaded on another thread while the event loop goes on answering the leader's pings.
void Server::loadSnapshot(std::int64_t zxid, const std::filesystem::path& spooled) {
  log_.info("zab", "SNAP at " + hex(zxid) + " (" +
                       std::to_string(std::filesystem::file_size(spooled)) +
                       " bytes) from the leader");
  snapshot_.reset();
  txnLog_->stop();
  auto versionDir = config_.dataDir / storage::kVersionDir;
  std::filesystem::rename(spooled,
                          versionDir / storage::zxidFileName(storage::kSnapshotPrefix, zxid));
  storage::fsyncDir(versionDir);
  storage::truncateTxnLog(config_.dataLogDir / storage::kVersionDir, zxid,
                          [this](std::string_view line) { log_.info("txnlog", line); });
  removeSnapshotsAbove(config_.dataDir, zxid);
  closeClients("member state reloaded");
  snapshotLoadZxid_ = zxid;
  snapshotLoad_.emplace(config_.dataDir, config_.dataLogDir, log_);
}

void Server::finishSnapshotLoad() {
  std::int64_t zxid = snapshotLoadZxid_;
  orFailStop(log_, "SNAP at " + hex(zxid) + " failed", [&] {
    auto loaded = snapshotLoad_->take();
    snapshotLoad_.reset();
    closeClients("member state reloaded");
    tree_ = std::move(loaded.tree);
    snapshotZxid_ = std::max<std::int64_t>(0, loaded.recovered.snapshotZxid);
    publishActiveConfig(false);
    rebuildProcessor(processor_->role(), loaded.recovered.sessions);
    log_.info("storage", "loaded " + std::to_string(tree_.nodeCount()) + " znodes up to " +
                             hex(tree_.lastProcessedZxid()));
    openLogWriter();
  });
  // The leader promised the state as of `zxid`; anything else here is another history.
  if (tree_.lastProcessedZxid() != zxid)
    failStop(log_, "zab",
             "SNAP announced at " + hex(zxid) + " but the snapshot it sent loads at " +
                 hex(tree_.lastProcessedZxid()));
  while (!waitingForLoad_.empty() && !snapshotLoad_ && !stopping_) {
    zab::Action action = std::move(waitingForLoad_.front());
    waitingForLoad_.pop_front();
    execute(action);
  }
  runZabActions();
}

void Server::reloadFromDisk() {
  DataTree fresh;
  storage::RecoveryOptions options;
  options.log = [this](std::string_view line) { log_.info("storage", line); };
  auto recovered = storage::recover(config_.dataDir, config_.dataLogDir, fresh, options);
  closeClients("member state reloaded");
  tree_ = std::move(fresh);
  snapshotZxid_ = std::max<std::int64_t>(0, recovered.snapshotZxid);
  lastSnapshot_ = {recovered.snapshotZxid, wallMs() / 1000};
  publishActiveConfig(false);
  rebuildProcessor(processor_->role(), recovered.sessions);
  log_.info("storage", "reloaded " + std::to_string(tree_.nodeCount()) + " znodes up to " +
                           hex(tree_.lastProcessedZxid()));
}

void Server::sendSnapshot(std::int64_t to, std::int64_t zxid) {
  // Zab and the tree disagree on what this leader has applied: neither can be trusted to sync
  // a learner, nor to go on leading.
  if (tree_.lastProcessedZxid() != zxid)
    failStop(log_, "zab",
             "asked to send a SNAP at " + hex(zxid) + " to member " + std::to_string(to) +
                 " but the tree is at " + hex(tree_.lastProcessedZxid()));
  log_.info("zab", "SNAP to member " + std::to_string(to) + " from " + hex(zxid) + ": " +
                       std::to_string(tree_.nodeCount()) + " znodes, streamed in chunks");
  snapshotSends_->start(to, zxid, currentSessions());
}

}  // namespace zk
