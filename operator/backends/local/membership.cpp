// The local backend's side of membership: reading /zookeeper/config and carrying out the
// planner's ReconfigAdd / ReconfigRemove through a serving member.
#include <algorithm>
#include <cstdio>
#include <string>

#include "backends/local/local_backend.h"
#include "backends/local/local_tls.h"
#include "backends/local/state_store.h"

namespace zk::op::local {
namespace {

std::string hexVersion(std::int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

ClientAccess LocalBackend::accessOf(const ZkCluster& c, const Member& m) const {
  auto it = access_.find(m.name);
  return it != access_.end() ? it->second : clientAccessOf(c);
}

std::pair<std::string, int> LocalBackend::operatorAddress(const ZkCluster& c, const Member& m) {
  Endpoint e = endpointOf(c, m, addressing_);
  if (!operatorConnection(accessOf(c, m)).tls) {
    relays_.erase(m.name);  // back on plaintext (tls.client on -> both): its relay is not needed
    return {e.host, e.ports.client};
  }
  std::filesystem::path caDir = options_.stateDir / "tls";
  const CaBundle& ca = ca_ ? *ca_ : refreshCa(c);
  relay::TlsClientFiles files{ca.trustBundle(), readFile(caDir / "operator.crt"),
                              readFile(caDir / "operator.key")};
  OperatorRelay& r = relays_[m.name];
  // A step of a CA rotation, a renewed certificate or a moved port gets a new relay; an
  // unchanged one keeps its local port.
  if (!r.relay || r.relay->port() != e.ports.secureClient || r.relay->caPem() != files.caPem ||
      r.certPem != files.certPem) {
    r.relay.reset();  // its port is free again before the new one listens
    r.relay = std::make_unique<relay::TlsRelay>(e.host, e.ports.secureClient, files);
    r.certPem = files.certPem;
  }
  return {"127.0.0.1", r.relay->localPort()};
}

// Every voter that may run: the C client moves to another when the one it uses goes away.
zkadmin::ZkAdmin& LocalBackend::admin(const ZkCluster& c) {
  std::string connect;
  int voters = std::max(state_.status.voters, c.spec.voters);
  for (int i = 0; i < voters; ++i) {
    Member voter = voterMember(c, i);
    auto [host, port] = operatorAddress(c, voter);
    // SASL first, through a relay (sasl_relay.h), to a member that enforces it: as it runs, not
    // as the spec asks, so a roll that turns enforce on or off reaches every voter.
    if (operatorConnection(accessOf(c, voter)).sasl) {
      auto& relay = saslRelays_[host + ":" + std::to_string(port)];
      if (!relay) {
        relay = std::make_unique<relay::SaslRelay>(
            host, port, relay::SaslLogin{kOperatorSaslUser, superPassword_});
      }
      host = "127.0.0.1";
      port = relay->localPort();
    }
    connect += (connect.empty() ? "" : ",") + host + ":" + std::to_string(port);
  }
  if (!admin_ || admin_->connect() != connect) {
    admin_.emplace(connect, "super", superPassword_, options_.adminTimeout);
  }
  return *admin_;
}

// The ensemble's membership, or nothing while there is no leader to publish one.
std::optional<EnsembleView> LocalBackend::readMembership(const ZkCluster& c, const Observed& o) {
  bool led = std::any_of(o.members.begin(), o.members.end(), [](const ObservedMember& m) {
    return m.ready && (m.role == MemberRole::kLeader || m.role == MemberRole::kStandalone);
  });
  if (!led) return std::nullopt;
  try {
    zkadmin::EnsembleConfig read = admin(c).readConfig();
    if (!config_ || read.version >= config_->version) config_ = std::move(read);
    adminError_.clear();
    return config_->view();
  } catch (const zkadmin::AdminError& e) {
    std::string message = "cannot read the ensemble's membership: " + std::string(e.what());
    if (message != adminError_) log_(message);
    adminError_ = message;
    return std::nullopt;
  }
}

// The ensemble's current members as it states them, plus `self` if it is not one yet: what
// ZooKeeper asks a joining server to start with. A member that restarts takes the membership from
// its data anyway.
std::string LocalBackend::serverLines(const ZkCluster& c, const Member& self) const {
  std::string out;
  for (const auto& [id, spec] : config_->servers) {
    // Without a plaintext client port (tls.client on), the client address the membership still
    // lists from before is left out: the member would listen there for plaintext again.
    std::string_view line = spec;
    if (!hasPlainClientPort(c)) line = line.substr(0, line.find(';'));
    out += "server." + std::to_string(id) + "=" + std::string(line) + "\n";
  }
  if (!config_->servers.contains(self.id)) out += serverLine(c, self, addressing_) + "\n";
  return out;
}

bool LocalBackend::listed(const Member& m) const {
  if (!config_) return false;
  auto it = config_->servers.find(m.id);
  if (it == config_->servers.end()) return false;
  std::string_view addresses = std::string_view(it->second).substr(0, it->second.find(';'));
  return addresses.ends_with(":observer") != m.voter;
}

void LocalBackend::reconfigAdd(const ZkCluster& c, const Member& m) {
  if (listed(m)) return;  // a member that lags behind the reconfig's answer made us ask again
  const ObservedMember* seen = lastSeen(m.name);
  if (!seen || !seen->ready) {
    // It must have synced with the leader, or the reconfig would wait on it.
    waits_.insert("waiting for " + m.name + " to serve before it is added");
    return;
  }
  config_ = admin(c).reconfig(serverLine(c, m, addressing_), "");
  log_("member " + m.name + ": added to the ensemble as " + (m.voter ? "a voter" : "an observer") +
       " (configuration " + hexVersion(config_->version) + ")");
}

// The member keeps running, without a vote, until the membership no longer lists it and the
// next ApplyObjects stops it.
void LocalBackend::reconfigRemove(const ZkCluster& c, const Member& m) {
  if (config_ && !config_->servers.contains(m.id)) return;
  config_ = admin(c).reconfig("", std::to_string(m.id));
  log_("member " + m.name + ": removed from the ensemble (configuration " +
       hexVersion(config_->version) + ")");
}

}  // namespace zk::op::local
