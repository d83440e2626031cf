#include "net/membership.h"

#include "jute/reader.h"
#include "net/dynamic_config_files.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"
#include "protocol/txn.h"
#include "util/fail_stop.h"

namespace zk {

zab::Members membersOf(const DynamicConfig& config) {
  zab::Members members;
  for (const auto& [sid, entry] : config.servers)
    members[sid] = entry.role == PeerRole::kObserver ? zab::Role::Observer : zab::Role::Participant;
  return members;
}

Membership::Membership(ServerConfig& config, DataTree& tree, Logger& log)
    : config_(config), tree_(tree), log_(log) {}

// The membership to start with: zoo.cfg's (with its dynamic file, rewritten whenever a
// configuration becomes active), unless the snapshot holds a newer one. A newer one in the tree
// that only the log replay put there may be a reconfig that never committed: Zab treats it as
// pending (PeerConfig::reconfigOf) and commits or drops it with the rest of that history.
void Membership::chooseStarting(std::int64_t snapshotZxid) {
  DynamicConfig fromFile{config_.servers, config_.configVersion};
  if (fromFile.servers.contains(config_.serverId)) myEntry_ = fromFile.servers.at(config_.serverId);
  committed_ = fromFile;
  if (auto fromData = configInTree(); fromData && fromData->version > fromFile.version) {
    if (fromData->version <= snapshotZxid && !fromData->servers.empty()) {
      log_.info("zab", "using the configuration committed at " + hex(fromData->version) +
                           " (in the snapshot) over zoo.cfg's");
      committed_ = *fromData;
    } else {
      log_.info("zab", "the log holds configuration " + hex(fromData->version) +
                           ", not known to be committed: pending until the ensemble decides");
    }
  }
  publishActive(committed_ == fromFile);
  joining_ = !committed_.servers.contains(config_.serverId) && myEntry_.has_value();
  config_.servers = serversWithMe(committed_);
  config_.configVersion = committed_.version;
}

std::optional<DynamicConfig> Membership::configInTree() const {
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
void Membership::publishActive(bool evenIfEqual) {
  auto inTree = configInTree();
  std::int64_t version = inTree ? inTree->version : -1;
  if (version < committed_.version || (evenIfEqual && version == committed_.version))
    tree_.setConfigNode(formatDynamicConfig(committed_), committed_.version);
}

// A server that is joining (zoo.cfg names it, the ensemble does not yet) keeps itself in its own
// view, so it follows the leader without a vote until a reconfig adds it.
std::map<std::int64_t, ServerEntry> Membership::serversWithMe(const DynamicConfig& config) const {
  auto servers = config.servers;
  if (joining_ && myEntry_) servers.emplace(config_.serverId, *myEntry_);
  return servers;
}

// Our Zab view of a configuration: a server it leaves out but whose zoo.cfg names it follows
// without a vote (joining, or removed). Depends on the configuration alone, so the core can ask
// for the view of a reconfig that is not active yet.
zab::Members Membership::viewOf(const DynamicConfig& config) const {
  zab::Members members = membersOf(config);
  if (myEntry_ && !members.contains(config_.serverId)) {
    members[config_.serverId] =
        myEntry_->role == PeerRole::kObserver ? zab::Role::Observer : zab::Role::NonVoting;
  }
  return members;
}

// The configuration a logged reconfig txn proposes; nullopt for every other txn.
std::optional<zab::ConfigInfo> Membership::reconfigIn(const std::string& txnBytes) const {
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
void Membership::adopt(const DynamicConfig& next) {
  bool inNext = next.servers.contains(config_.serverId);
  joining_ = !inNext && myEntry_.has_value();
  bool changed = next.version != committed_.version;
  committed_ = next;
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
  publishActive(false);  // a configuration that came with NEWLEADER is in no txn
  log_.info("zab", "configuration " + hex(next.version) + " is active with " +
                       std::to_string(next.servers.size()) + " members" +
                       (inNext     ? std::string()
                        : joining_ ? ", this server joining without a vote"
                                   : ", this server no longer one: it stops serving"));
}

std::optional<DynamicConfig> Membership::fromLeader(const std::string& text,
                                                    bool fromElection) const {
  try {
    DynamicConfig next = parseDynamicConfig(text);
    bool newer =
        next.version > committed_.version || (!fromElection && next.version == committed_.version);
    if (newer && !next.servers.empty()) return next;
  } catch (const std::invalid_argument& e) {
    // In an election notification it is one peer's claim, and the election goes on without it.
    // From our leader (NEWLEADER, an activated reconfig) Zab has already made it this member's
    // quorum: keeping the old membership beside it would let the two views differ.
    if (!fromElection)
      failStop(log_, "zab", std::string("the leader's configuration is unreadable: ") + e.what());
    log_.warn("zab", std::string("ignoring an unreadable configuration in an election "
                                 "notification: ") +
                         e.what());
  }
  return std::nullopt;
}

std::string Membership::planReconfig(const ReconfigRequest& request, std::int64_t zxid,
                                     const zab::Peer& peer) const {
  if (peer.reconfigInProgress()) throw KeeperError{Err::kReconfigInProgress};
  if (request.curConfigId != -1 && request.curConfigId != committed_.version)
    throw KeeperError{Err::kBadVersion};
  DynamicConfig next;
  try {
    next = applyReconfigRequest(committed_, request.joiningServers, request.leavingServers,
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
  if (!peer.syncedQuorumOf(membersOf(next))) {
    log_.warn("zab", "refusing reconfig: a quorum of the new voters is not in sync with us");
    throw KeeperError{Err::kNewConfigNoQuorum};
  }
  next.version = zxid;
  return formatDynamicConfig(next);
}

// A committed reconfig was applied here: it is the membership from now on if newer.
std::optional<DynamicConfig> Membership::committedNewer(const std::string& text) const {
  try {
    DynamicConfig next = parseDynamicConfig(text);
    if (next.version > committed_.version) return next;
  } catch (const std::invalid_argument& e) {
    // The tree holds it and the other members adopt it: this member would keep another one.
    failStop(log_, "zab", std::string("committed configuration is unreadable: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace zk
