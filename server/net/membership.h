#pragma once
// The ensemble's membership as this member knows it: the committed dynamic configuration, this
// server's own zoo.cfg line, and whether it follows without a vote (joining, or removed). It
// keeps /zookeeper/config, the dynamic config file and the served config's `server.N` lines in
// step with it, and plans a leader's reconfig.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "config/dynamic_config.h"
#include "config/zoo_config.h"
#include "protocol/records.h"
#include "tree/data_tree.h"
#include "util/log.h"
#include "zab/peer.h"

namespace zk {

// Zab's view of a configuration's members and their roles.
zab::Members membersOf(const DynamicConfig& config);

class Membership {
 public:
  // `config` is the served configuration, whose servers and version follow the membership.
  Membership(ServerConfig& config, DataTree& tree, Logger& log);

  // At start, after recovery: zoo.cfg's membership, unless the snapshot (up to `snapshotZxid`)
  // holds a newer committed one.
  void chooseStarting(std::int64_t snapshotZxid);
  // Makes `next` the membership: recorded, written to the dynamic file, published in the tree.
  void adopt(const DynamicConfig& next);
  // Rewrites /zookeeper/config if the tree's is older (or, evenIfEqual, as old).
  void publishActive(bool evenIfEqual);

  // The leader's configuration, if it is one to adopt.
  std::optional<DynamicConfig> fromLeader(const std::string& text, bool fromElection) const;
  // A reconfig this member applied, if newer than the membership; fail-stops if unreadable.
  std::optional<DynamicConfig> committedNewer(const std::string& text) const;
  // Leader: the configuration a reconfig request makes, as the txn's data; throws KeeperError.
  std::string planReconfig(const ReconfigRequest& request, std::int64_t zxid,
                           const zab::Peer& peer) const;

  // Zab's view of `config`, with this server in it (without a vote) if zoo.cfg names it.
  zab::Members viewOf(const DynamicConfig& config) const;
  // The configuration a logged reconfig txn proposes; nullopt for every other txn.
  std::optional<zab::ConfigInfo> reconfigIn(const std::string& txnBytes) const;
  const DynamicConfig& committed() const { return committed_; }

 private:
  std::optional<DynamicConfig> configInTree() const;
  std::map<std::int64_t, ServerEntry> serversWithMe(const DynamicConfig& config) const;

  ServerConfig& config_;
  DataTree& tree_;
  Logger& log_;
  DynamicConfig committed_;             // the ensemble's membership as last known
  std::optional<ServerEntry> myEntry_;  // this server's own line in zoo.cfg
  bool joining_ = false;
};

}  // namespace zk
