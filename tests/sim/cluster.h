#pragma once
// A whole Zab ensemble in one thread: a simulated clock and network drive real zab::Peer objects
// under a seeded random schedule (loss, delay, duplication and reordering of election messages;
// FIFO quorum connections that break; partitions; crashes that may lose the un-fsynced log tail).
// Every action a peer emits is checked against Zab's safety properties as it is executed.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "jute/reader.h"
#include "jute/writer.h"
#include "zab/packets.h"
#include "zab/peer.h"

namespace zk::zab::sim {

struct Violation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  int voters = 3;
  int observers = 1;
  double voteLoss = 0.1;
  double voteDup = 0.05;
  double connBreak = 0.002;  // per quorum packet: the TCP connection resets
  std::int64_t maxDelayMs = 40;
  std::int64_t maxFsyncMs = 30;
  std::size_t traceLines = 400;  // kept for a failure report
  PeerConfig peer;               // timing template; sid and members are filled in
  Options() {
    peer.tickTimeMs = 500;
    peer.initLimit = 10;
    peer.syncLimit = 5;
    peer.commitLogCount = 20;
    peer.maxNotificationIntervalMs = 4000;
    peer.connectRetryMs = 500;
  }
};

inline std::string encodeState(const std::vector<LoggedTxn>& txns) {
  jute::Writer out;
  out.writeInt(static_cast<std::int32_t>(txns.size()));
  for (const auto& t : txns) {
    out.writeLong(t.zxid);
    out.writeBuffer(t.bytes);
  }
  return out.take();
}

inline std::vector<LoggedTxn> decodeState(const std::string& bytes) {
  jute::Reader in(bytes);
  std::vector<LoggedTxn> txns(static_cast<std::size_t>(in.readCount("n", 8)));
  for (auto& t : txns) {
    t.zxid = in.readLong("zxid");
    t.bytes = in.readBuffer("bytes");
  }
  return txns;
}

// A reconfig txn in the simulator: "cfg:<version>:" then sid and role letter per member
// ("cfg:12:1P2P3O"); the version is the reconfig's zxid, as in ZooKeeper.
inline std::string encodeConfig(std::int64_t version, const Members& m) {
  std::string s = "cfg:" + std::to_string(version) + ":";
  for (const auto& [sid, role] : m)
    s += std::to_string(sid) + (role == Role::Participant ? "P" : "O");
  return s;
}

inline std::int64_t configVersion(const std::string& bytes) {
  return std::strtoll(bytes.c_str() + 4, nullptr, 10);
}

inline std::optional<Members> decodeConfig(const std::string& bytes) {
  if (bytes.rfind("cfg:", 0) != 0) return std::nullopt;
  Members m;
  std::int64_t sid = 0;
  for (char ch : bytes.substr(bytes.find(':', 4) + 1)) {
    if (ch >= '0' && ch <= '9') {
      sid = sid * 10 + (ch - '0');
    } else {
      m[sid] = ch == 'P' ? Role::Participant : Role::Observer;
      sid = 0;
    }
  }
  return m;
}

// The last reconfig txn in a node's state ("" when there is none: the initial membership).
inline std::string lastConfigTxn(const std::vector<LoggedTxn>& state) {
  for (auto it = state.rbegin(); it != state.rend(); ++it)
    if (decodeConfig(it->bytes)) return it->bytes;
  return {};
}

inline std::string hex(std::int64_t zxid) {
  std::ostringstream s;
  s << std::hex << "0x" << zxid;
  return s.str();
}

class Cluster {
 public:
  struct Disk {
    std::int64_t acceptedEpoch = 0, currentEpoch = 0;
    std::vector<LoggedTxn> snapshot;  // committed state a SNAP installed
    std::int64_t snapZxid = 0;
    std::vector<LoggedTxn> log;  // txns > snapZxid
    std::size_t durable = 0;     // log[0..durable) survives a crash
    // The dynamic config file: the active configuration's reconfig txn ("" for the initial
    // one), written durably whenever a configuration becomes active, as ZooKeeper does.
    std::string configFile;
  };
  struct Node {
    std::int64_t sid = 0;
    bool up = true;
    int incarnation = 0;
    std::unique_ptr<Peer> peer;
    Disk disk;
    std::vector<LoggedTxn> applied;  // the replicated state: every txn delivered, in order
    bool fsyncPending = false;
    int partition = 0;
    std::string config;  // the active configuration's reconfig txn ("" for the initial one)
  };

  Cluster(std::uint64_t seed, Options opt) : rng_(seed), opt_(std::move(opt)) {
    for (int i = 1; i <= opt_.voters + opt_.observers; ++i) {
      members_[i] = i <= opt_.voters ? Role::Participant : Role::Observer;
    }
    for (const auto& [sid, role] : members_) nodes_[sid].sid = sid;
    for (const auto& [sid, role] : members_) start(sid);
  }

  // --- the schedule ---
  std::int64_t now() const { return now_; }
  void runUntil(std::int64_t t) {
    while (!events_.empty() && events_.top().at <= t) {
      Event e = events_.top();
      events_.pop();
      now_ = e.at;
      e.fn();
    }
    now_ = t;
  }
  void at(std::int64_t t, std::function<void()> fn) {
    events_.push(Event{t, seq_++, std::move(fn)});
  }
  std::int64_t rand(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  // Periodic ticks for every node, as the adapter's timer would do.
  void startTicking(std::int64_t everyMs) {
    for (auto& [sid, n] : nodes_) scheduleTick(sid, everyMs);
  }

  // --- faults ---
  // loseTail: the txns not yet fsynced are gone after the restart (power loss, not kill -9).
  void crash(std::int64_t sid, bool loseTail) {
    Node& n = nodes_.at(sid);
    if (!n.up) return;
    trace(sid, loseTail ? "CRASH losing unsynced tail" : "CRASH");
    n.up = false;
    n.peer.reset();
    closeConnsOf(sid);
    if (loseTail) n.disk.log.resize(n.disk.durable);
    n.disk.durable = n.disk.log.size();
    n.fsyncPending = false;
  }
  void restart(std::int64_t sid) {
    if (nodes_.at(sid).up) return;
    trace(sid, "RESTART");
    start(sid);
  }
  void partition(const std::set<std::int64_t>& side) {
    std::ostringstream s;
    for (auto sid : side) s << sid << ' ';
    trace(0, "PARTITION {" + s.str() + "}");
    for (auto& [sid, n] : nodes_) n.partition = side.count(sid) ? 1 : 0;
    for (auto& [key, c] : conns_) {
      if (c.open && cut(key.first, key.second)) breakConn(key);
    }
  }
  void heal() {
    trace(0, "HEAL");
    for (auto& [sid, n] : nodes_) n.partition = 0;
  }
  void setFaults(double voteLoss, double voteDup, double connBreak) {
    opt_.voteLoss = voteLoss;
    opt_.voteDup = voteDup;
    opt_.connBreak = connBreak;
  }

  // --- clients ---
  std::vector<std::int64_t> servingLeaders() const {
    std::vector<std::int64_t> out;
    for (const auto& [sid, n] : nodes_) {
      if (n.up && n.peer->state() == ServerState::Leading && n.peer->serving()) out.push_back(sid);
    }
    return out;
  }
  // A role change through the leader `sid`, as a reconfig txn (one at a time, as ZooKeeper).
  std::optional<std::int64_t> proposeReconfig(std::int64_t sid, const Members& next) {
    Node& n = nodes_.at(sid);
    if (!n.up || n.peer->reconfigInProgress()) return std::nullopt;
    n.peer->tick(now_);
    auto version = n.peer->nextZxid();
    if (!version) return std::nullopt;
    std::string bytes = encodeConfig(*version, next);
    auto zxid = n.peer->proposeReconfig(bytes, next);
    if (zxid) trace(sid, "propose reconfig " + hex(*zxid) + " " + bytes);
    execute(sid);
    return zxid;
  }
  std::optional<std::int64_t> propose(std::int64_t sid, const std::string& bytes) {
    Node& n = nodes_.at(sid);
    if (!n.up) return std::nullopt;
    n.peer->tick(now_);
    auto zxid = n.peer->propose(bytes);
    if (zxid) trace(sid, "propose " + hex(*zxid) + " " + bytes);
    execute(sid);
    return zxid;
  }

  const std::map<std::int64_t, Node>& nodes() const { return nodes_; }
  Node& node(std::int64_t sid) { return nodes_.at(sid); }
  const std::vector<LoggedTxn>& committed() const { return committed_; }
  const std::map<std::int64_t, std::int64_t>& leaders() const { return leaderOfEpoch_; }
  bool hasApplied(std::int64_t sid, const std::string& bytes) const {
    for (const auto& t : nodes_.at(sid).applied) {
      if (t.bytes == bytes) return true;
    }
    return false;
  }
  std::string traceText() const {
    std::string s;
    for (const auto& line : trace_) s += line + "\n";
    return s;
  }
  std::uint64_t steps() const { return seq_; }
  void trace(std::int64_t sid, const std::string& what) {
    trace_.push_back(std::to_string(now_) + " [" + std::to_string(sid) + "] " + what);
    if (trace_.size() > opt_.traceLines) trace_.pop_front();
  }

 private:
  struct Event {
    std::int64_t at;
    std::uint64_t seq;
    std::function<void()> fn;
    bool operator<(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  struct Conn {
    std::uint64_t id = 0;
    bool open = false;
    std::map<std::int64_t, std::int64_t> lastAt;  // FIFO per direction (keyed by receiver)
  };
  using Key = std::pair<std::int64_t, std::int64_t>;
  static Key key(std::int64_t a, std::int64_t b) { return a < b ? Key{a, b} : Key{b, a}; }

  void start(std::int64_t sid) {
    Node& n = nodes_.at(sid);
    n.up = true;
    ++n.incarnation;
    PeerConfig cfg = opt_.peer;
    cfg.mySid = sid;
    // The active configuration is the one last activated, never a reconfig that is only in the
    // log: that one may not have committed. The Peer finds it in the log and treats it as
    // pending (ZooKeeper's last seen configuration).
    n.config = n.disk.configFile;
    cfg.members = n.config.empty() ? members_ : *decodeConfig(n.config);
    cfg.configVersion = n.config.empty() ? 0 : configVersion(n.config);
    cfg.reconfigOf = [](const std::string& bytes) -> std::optional<ConfigInfo> {
      auto members = decodeConfig(bytes);
      if (!members) return std::nullopt;
      return ConfigInfo{*members, bytes};
    };
    PersistedState ps;
    ps.acceptedEpoch = n.disk.acceptedEpoch;
    ps.currentEpoch = n.disk.currentEpoch;
    ps.logStartZxid = n.disk.snapZxid;
    ps.log = n.disk.log;
    ps.appliedZxid = n.disk.snapZxid;
    n.applied = n.disk.snapshot;  // the state machine restarts from its snapshot
    n.peer = std::make_unique<Peer>(cfg, ps, now_);
    n.peer->setConfigData(n.config);
    execute(sid);
  }

  void scheduleTick(std::int64_t sid, std::int64_t everyMs) {
    at(now_ + everyMs, [this, sid, everyMs] {
      Node& n = nodes_.at(sid);
      if (n.up) {
        n.peer->tick(now_);
        execute(sid);
      }
      scheduleTick(sid, everyMs);
    });
  }

  // Runs `fn` on the node's peer if it is still the same incarnation, then executes its output.
  void onNode(std::int64_t sid, int incarnation, const std::function<void(Peer&)>& fn) {
    Node& n = nodes_.at(sid);
    if (!n.up || n.incarnation != incarnation) return;
    n.peer->tick(now_);
    fn(*n.peer);
    execute(sid);
  }

  bool cut(std::int64_t a, std::int64_t b) const {
    return nodes_.at(a).partition != nodes_.at(b).partition;
  }
  bool reachable(std::int64_t a, std::int64_t b) const {
    return nodes_.at(a).up && nodes_.at(b).up && !cut(a, b);
  }

  void notifyDisconnect(std::int64_t sid, std::int64_t other, std::uint64_t connId,
                        std::int64_t delay) {
    int inc = nodes_.at(sid).incarnation;
    at(now_ + delay, [this, sid, other, connId, inc] {
      auto& c = conns_[key(sid, other)];
      if (c.open && c.id != connId) return;  // a newer connection replaced it
      onNode(sid, inc, [other](Peer& p) { p.onDisconnected(other); });
    });
  }

  void breakConn(const Key& k) {
    Conn& c = conns_[k];
    if (!c.open) return;
    c.open = false;
    trace(0, "conn " + std::to_string(k.first) + "-" + std::to_string(k.second) + " breaks");
    std::int64_t detect = opt_.peer.tickTimeMs * opt_.peer.syncLimit * 3 / 2;
    notifyDisconnect(k.first, k.second, c.id, rand(1, detect));
    notifyDisconnect(k.second, k.first, c.id, rand(1, detect));
  }

  void closeConnsOf(std::int64_t sid) {
    for (auto& [k, c] : conns_) {
      if (c.open && (k.first == sid || k.second == sid)) breakConn(k);
    }
  }

  void execute(std::int64_t sid) {
    Node& n = nodes_.at(sid);
    if (!n.up) return;
    // Applying may feed the peer (a delivered reconfig activates): run until it is quiet.
    for (auto acts = n.peer->takeActions(); !acts.empty(); acts = n.peer->takeActions()) {
      for (auto& a : acts) {
        if (!n.up) return;
        std::visit([&](auto& act) { apply(n, act); }, a);
      }
    }
  }

  void apply(Node& n, act::SendVote& a) {
    if (!reachable(n.sid, a.to) || chance(opt_.voteLoss)) return;
    std::string wire = encodeNotification(a.vote);
    int copies = chance(opt_.voteDup) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      std::int64_t from = n.sid, to = a.to;
      int inc = nodes_.at(to).incarnation;
      at(now_ + rand(1, opt_.maxDelayMs), [this, from, to, inc, wire] {
        if (cut(from, to)) return;
        auto decoded = decodeNotification(wire);
        if (!std::holds_alternative<Notification>(decoded)) throw Violation("vote did not decode");
        onNode(to, inc, [&](Peer& p) { p.onVote(from, std::get<Notification>(decoded)); });
      });
    }
  }

  void sendOnConn(std::int64_t from, std::int64_t to, const QuorumPacket& p) {
    Conn& c = conns_[key(from, to)];
    if (!c.open) return;
    if (chance(opt_.connBreak)) {
      breakConn(key(from, to));
      return;
    }
    std::int64_t when = std::max(now_ + rand(1, opt_.maxDelayMs), c.lastAt[to]);
    c.lastAt[to] = when;
    std::uint64_t id = c.id;
    int inc = nodes_.at(to).incarnation;
    std::string wire = encodePacket(p);
    at(when, [this, from, to, id, inc, wire] {
      Conn& c = conns_[key(from, to)];
      if (!c.open || c.id != id) return;
      PacketDecoder d;
      d.feed(wire);
      auto got = d.next();
      if (!std::holds_alternative<QuorumPacket>(got)) throw Violation("packet did not decode");
      onNode(to, inc, [&](Peer& peer) { peer.onPacket(from, std::get<QuorumPacket>(got)); });
    });
  }

  void apply(Node& n, act::SendPacket& a) { sendOnConn(n.sid, a.to, a.packet); }

  void apply(Node& n, act::SendSnapshot& a) {
    std::int64_t last = n.applied.empty() ? 0 : n.applied.back().zxid;
    if (last != a.zxid)
      throw Violation("snapshot asked at " + hex(a.zxid) + " but state is at " + hex(last));
    trace(n.sid, "SNAP to " + std::to_string(a.to) + " at " + hex(a.zxid));
    sendOnConn(n.sid, a.to, makePacket(PacketType::Snap, a.zxid, encodeState(n.applied)));
  }

  void apply(Node& n, act::PersistTxn& a) {
    auto& log = n.disk.log;
    std::int64_t last = log.empty() ? n.disk.snapZxid : log.back().zxid;
    if (a.zxid <= last) throw Violation("log append out of order: " + hex(a.zxid));
    log.push_back(LoggedTxn{a.zxid, a.bytes});
    if (n.fsyncPending) return;
    n.fsyncPending = true;
    std::int64_t sid = n.sid;
    int inc = n.incarnation;
    at(now_ + rand(1, opt_.maxFsyncMs), [this, sid, inc] {
      Node& m = nodes_.at(sid);
      if (!m.up || m.incarnation != inc) return;
      m.fsyncPending = false;
      m.disk.durable = m.disk.log.size();
      std::int64_t through = m.disk.log.empty() ? m.disk.snapZxid : m.disk.log.back().zxid;
      onNode(sid, inc, [through](Peer& p) { p.onPersisted(through); });
    });
  }

  void apply(Node& n, act::PersistEpochs& a) {
    if (a.acceptedEpoch < n.disk.acceptedEpoch) throw Violation("acceptedEpoch went back");
    if (a.currentEpoch < n.disk.currentEpoch) throw Violation("currentEpoch went back");
    if (a.currentEpoch > a.acceptedEpoch) throw Violation("currentEpoch above acceptedEpoch");
    n.disk.acceptedEpoch = a.acceptedEpoch;
    n.disk.currentEpoch = a.currentEpoch;
  }

  void apply(Node& n, act::TruncateLog& a) {
    trace(n.sid, "TRUNC to " + hex(a.zxid));
    auto& log = n.disk.log;
    while (!log.empty() && log.back().zxid > a.zxid) {
      if (isCommitted(log.back())) {
        throw Violation("node " + std::to_string(n.sid) + " truncates committed txn " +
                        hex(log.back().zxid));
      }
      log.pop_back();
    }
    n.disk.durable = std::min(n.disk.durable, log.size());
    if (!n.applied.empty() && n.applied.back().zxid > a.zxid) {
      throw Violation("truncate below applied state");
    }
  }

  void apply(Node& n, act::LoadSnapshot& a) {
    trace(n.sid, "load snapshot at " + hex(a.zxid));
    auto state = decodeState(a.bytes);
    std::int64_t last = state.empty() ? 0 : state.back().zxid;
    if (last != a.zxid) throw Violation("snapshot content does not end at its zxid");
    for (std::size_t i = 0; i < state.size(); ++i) checkCommittedAt(n.sid, i, state[i]);
    n.applied = state;
    n.disk.snapshot = state;
    if (auto config = lastConfigTxn(state); !config.empty()) adopt(n, config, false);
    n.disk.snapZxid = a.zxid;
    n.disk.log.clear();
    n.disk.durable = 0;
  }

  void apply(Node& n, act::Deliver& a) {
    std::int64_t last = n.applied.empty() ? 0 : n.applied.back().zxid;
    if (a.zxid <= last) {
      throw Violation("node " + std::to_string(n.sid) + " delivered " + hex(a.zxid) + " after " +
                      hex(last));
    }
    LoggedTxn t{a.zxid, a.bytes};
    checkCommittedAt(n.sid, n.applied.size(), t);
    n.applied.push_back(std::move(t));
    // As the server does when it applies a reconfig txn: the configuration becomes active.
    if (decodeConfig(a.bytes)) adopt(n, a.bytes, true);
  }

  // The server's adoptConfig: newer configurations win (from NEWLEADER, an equal one too).
  void adopt(Node& n, const std::string& config, bool strictlyNewer) {
    std::int64_t have = n.config.empty() ? 0 : configVersion(n.config);
    std::int64_t got = configVersion(config);
    if (got < have || (strictlyNewer && got == have) || config == n.config) return;
    // Only a committed reconfig may become active anywhere: a member that activated one a
    // failover then dropped would count votes and acks against a configuration nobody agreed.
    if (!isCommitted(LoggedTxn{got, config})) {
      throw Violation("node " + std::to_string(n.sid) + " activates uncommitted configuration " +
                      config);
    }
    trace(n.sid, "activate " + config);
    n.config = config;
    n.disk.configFile = config;
    n.peer->setConfigData(config);
    n.peer->activate(*decodeConfig(config), got);
  }

  void apply(Node& n, act::LeaderConfig& a) { adopt(n, a.data, a.fromElection); }

  void apply(Node& n, act::StateChanged& a) {
    trace(n.sid, std::string(serverStateName(a.state)) + " leader=" + std::to_string(a.leader) +
                     " epoch=" + std::to_string(a.epoch) + (a.serving ? " serving" : ""));
    // Deciding an epoch is only a proposal (two candidates may pick the same number); the
    // property is that at most one leader establishes (gets a quorum to sync with) each epoch.
    if (a.state != ServerState::Leading || !a.serving) return;
    auto [it, fresh] = leaderOfEpoch_.emplace(a.epoch, n.sid);
    if (!fresh && it->second != n.sid) {
      throw Violation("two leaders in epoch " + std::to_string(a.epoch) + ": " +
                      std::to_string(it->second) + " and " + std::to_string(n.sid));
    }
  }

  void apply(Node& n, act::Connect& a) {
    Key k = key(n.sid, a.sid);
    breakConn(k);  // a new connection replaces the old one
    std::int64_t from = n.sid, to = a.sid;
    int inc = n.incarnation;
    if (!reachable(from, to)) {
      at(now_ + rand(1, opt_.maxDelayMs),
         [this, from, to, inc] { onNode(from, inc, [to](Peer& p) { p.onDisconnected(to); }); });
      return;
    }
    Conn& c = conns_[k];
    c.open = true;
    c.id = nextConnId_++;
    c.lastAt.clear();
    std::uint64_t id = c.id;
    int toInc = nodes_.at(to).incarnation;
    at(now_ + rand(1, opt_.maxDelayMs), [this, k, id, from, to, inc, toInc] {
      Conn& c = conns_[k];
      if (!c.open || c.id != id) return;
      onNode(to, toInc, [from](Peer& p) { p.onConnected(from); });
      onNode(from, inc, [to](Peer& p) { p.onConnected(to); });
    });
  }

  void apply(Node& n, act::Disconnect& a) {
    Conn& c = conns_[key(n.sid, a.sid)];
    if (!c.open) return;
    c.open = false;
    notifyDisconnect(a.sid, n.sid, c.id, rand(1, opt_.maxDelayMs));
  }

  // Requests, session touches, syncs and revalidation belong to the pipeline, not to Zab.
  template <typename Other>
  void apply(Node&, Other&) {}

  std::mt19937_64 rng_;
  Options opt_;
  Members members_;
  std::map<std::int64_t, Node> nodes_;
  std::map<Key, Conn> conns_;
  std::priority_queue<Event> events_;
  std::int64_t now_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t nextConnId_ = 1;
  std::vector<LoggedTxn> committed_;  // the one committed sequence every member must follow
  std::set<std::pair<std::int64_t, std::string>> committedSet_;
  std::map<std::int64_t, std::int64_t> leaderOfEpoch_;
  std::deque<std::string> trace_;

  bool isCommitted(const LoggedTxn& t) const { return committedSet_.count({t.zxid, t.bytes}) != 0; }
  void checkCommittedAt(std::int64_t sid, std::size_t index, const LoggedTxn& t) {
    if (index < committed_.size()) {
      if (!(committed_[index] == t)) {
        throw Violation("node " + std::to_string(sid) + " has " + hex(t.zxid) + " '" + t.bytes +
                        "' at position " + std::to_string(index) +
                        " where the ensemble committed " + hex(committed_[index].zxid) + " '" +
                        committed_[index].bytes + "'");
      }
      return;
    }
    if (index != committed_.size()) throw Violation("gap in delivered sequence");
    committed_.push_back(t);
    committedSet_.insert({t.zxid, t.bytes});
  }
};

}  // namespace zk::zab::sim
