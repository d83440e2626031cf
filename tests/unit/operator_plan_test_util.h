#pragma once
// Builders shared by the planner's table-driven and randomized tests.

#include <string>
#include <vector>

#include "plan/plan.h"

namespace zk::op::testing {

inline ZkCluster makeCluster(int voters, int observers) {
  ZkCluster c;
  c.meta.name = "zk";
  c.meta.ns = "ns";
  c.meta.uid = "uid-1";
  c.meta.generation = 4;
  c.spec.voters = voters;
  c.spec.observers = observers;
  // As if the ensemble had been created and seen healthy before.
  c.status.voters = voters;
  c.status.observers = observers;
  c.status.phase = "Running";
  c.status.conditions = {{"Available", "True", "QuorumHealthy", "", 3, "t0"}};
  return c;
}

inline ObservedMember upMember(const Member& m, MemberRole role, std::int64_t zxid,
                               const std::string& hash) {
  ObservedMember o;
  o.member = m;
  o.exists = o.running = o.ready = true;
  o.role = role;
  o.zxid = zxid;
  o.rolloutHash = hash;
  o.image = "img";
  return o;
}

// Every member of `c`'s spec up, voter `leader` leading, all at `zxid` and on `hash`; the
// ensemble lists exactly them.
inline Observed healthy(const ZkCluster& c, const std::string& hash, int leader = 0,
                        std::int64_t zxid = 100) {
  Observed o;
  o.ensemble = EnsembleView{};
  for (int i = 0; i < c.spec.voters; ++i) {
    MemberRole role = c.spec.voters == 1 ? MemberRole::kStandalone
                      : i == leader      ? MemberRole::kLeader
                                         : MemberRole::kFollower;
    o.members.push_back(upMember(voterMember(c, i), role, zxid, hash));
    o.ensemble->voters.insert(i + 1);
  }
  for (int i = 0; i < c.spec.observers; ++i) {
    o.members.push_back(upMember(observerMember(c, i), MemberRole::kObserver, zxid, hash));
    o.ensemble->observers.insert(kObserverIdBase + i);
  }
  return o;
}

inline ObservedMember& find(Observed& o, const std::string& name) {
  for (ObservedMember& m : o.members) {
    if (m.member.name == name) return m;
  }
  throw std::runtime_error("no member " + name);
}

template <class T>
std::vector<T> actionsOf(const Plan& p) {
  std::vector<T> out;
  for (const Action& a : p.actions) {
    if (const T* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

inline std::vector<std::string> restarts(const Plan& p) {
  std::vector<std::string> out;
  for (const RestartMember& r : actionsOf<RestartMember>(p)) out.push_back(r.member.name);
  return out;
}

inline const Condition& conditionOf(const ZkClusterStatus& s, const std::string& type) {
  for (const Condition& c : s.conditions) {
    if (c.type == type) return c;
  }
  throw std::runtime_error("no condition " + type);
}

inline bool hasEvent(const Plan& p, const std::string& reason) {
  for (const EmitEvent& e : actionsOf<EmitEvent>(p)) {
    if (e.reason == reason) return true;
  }
  return false;
}

// For the staged quorum migrations' tests, on Kubernetes addressing: `c`'s target hash, member
// zk-0's zoo.cfg (listing 3 voters and 1 observer), and whether it has `line`.
inline std::string hashOf(const ZkCluster& c) {
  return rolloutHash(c, Addressing::kubernetes());
}
inline std::string cfgOf(const ZkCluster& c) {
  return renderZooCfg(c, voterMember(c, 0), {3, 1}, Addressing::kubernetes());
}
inline bool hasLine(const std::string& cfg, const std::string& line) {
  return cfg.find("\n" + line + "\n") != std::string::npos;
}

// The members run the rendering of `c` and the roll to it has finished.
inline Observed settled(ZkCluster& c) {
  std::string hash = hashOf(c);
  c.status.roll = {hash, {}, "", 0, true};
  return healthy(c, hash);
}

// One pass: the planner's status is stored, as the resource would keep it.
inline Plan pass(ZkCluster& c, const Observed& o) {
  Plan p = plan(c, hashOf(c), o);
  c.status = p.status;
  return p;
}

}  // namespace zk::op::testing
