// The planner: membership (bootstrap, voter and observer scaling), the rolling restart, status.
#include "plan/plan.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <optional>
#include <stdexcept>
#include <tuple>

#include "plan/quorum_sasl_migration.h"
#include "plan/quorum_tls_migration.h"

namespace zk::op {
namespace {

bool isVoterRole(MemberRole r) {
  return r == MemberRole::kLeader || r == MemberRole::kFollower || r == MemberRole::kStandalone;
}

// Serving, and in the role its kind should have: a voter that came back as an observer (or the
// reverse) is not back in sync.
bool healthy(const ObservedMember& m) {
  if (!m.exists || !m.running || !m.ready || m.terminating) return false;
  return m.member.voter ? isVoterRole(m.role) : m.role == MemberRole::kObserver;
}

std::string hex(std::int64_t zxid) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(zxid));
  return buf;
}

std::optional<Blocker> firstBlocker(const std::vector<Blocker>& blockers) {
  for (const BlockCauseInfo& info : kBlockCauses) {
    for (const Blocker& b : blockers) {
      if (b.cause == info.cause) return b;
    }
  }
  return std::nullopt;
}

std::int64_t configNumber(const ZkCluster& c, const std::string& key) {
  auto set = c.spec.config.find(key);
  const std::string& text = set != c.spec.config.end() ? set->second : zooCfgDefaults().at(key);
  try {
    return std::stoll(text);
  } catch (const std::exception&) {  // checkConfigValues refuses such a spec before planning
    return std::stoll(zooCfgDefaults().at(key));
  }
}

class Planner {
 public:
  Planner(const ZkCluster& c, const std::string& target, const Observed& o)
      : c_(c), target_(target), o_(o) {}

  // The volumes grow before anything else is applied; the message says from what to what.
  void expandVolumes(const std::string& message) { expansion_ = message; }

  Plan run() {
    bool bootstrap = std::none_of(o_.members.begin(), o_.members.end(),
                                  [](const ObservedMember& m) { return m.exists; }) &&
                     c_.status.voters == 0;
    voters_ = bootstrap ? c_.spec.voters : currentVoters();
    applyVoters_ = voters_;
    applyObservers_ = bootstrap ? c_.spec.observers : appliedObservers();
    assessHealth();
    quorumTls_ = {renderedQuorumTlsStage(c_), ""};
    QuorumSaslStage sasl = renderedQuorumSaslStage(c_);
    quorumSasl_ = {sasl, sasl == QuorumSaslStage::kOff ? "" : quorumSaslMechanism(c_.spec.auth),
                   ""};
    if (bootstrap) {
      progressing("Creating", "creating " + std::to_string(voters_) + " voters and " +
                                  std::to_string(applyObservers_) + " observers");
    } else {
      roll();
      migrateQuorumTls();
      migrateQuorumSasl();
      scaleVoters();
      scaleObservers();
    }
    if (expansion_) {
      progressing("ExpandingVolumes", *expansion_);
      event(false, "ExpandingVolumes",
            *expansion_ +
                ": growing every claim, then re-creating the StatefulSets around "
                "their running pods");
    }
    return finish();
  }

 private:
  const ObservedMember& observed(const Member& m) {
    for (const ObservedMember& om : o_.members) {
      if (om.member.name == m.name) return om;
    }
    ObservedMember absent;
    absent.member = m;
    missing_.push_back(absent);
    return missing_.back();
  }

  int currentVoters() const {
    if (o_.ensemble && !o_.ensemble->voters.empty()) {
      return std::min(*o_.ensemble->voters.rbegin(), kMaxVoters);
    }
    return c_.status.voters > 0 ? c_.status.voters : c_.spec.voters;
  }

  // Observers stay rendered until the ensemble has let them go.
  int appliedObservers() const {
    int keep = c_.spec.observers;
    if (o_.ensemble) {
      for (int id : o_.ensemble->observers) keep = std::max(keep, id - kObserverIdBase + 1);
    } else {
      keep = std::max(keep, c_.status.observers);
    }
    return keep;
  }

  void assessHealth() {
    for (int i = 0; i < voters_; ++i) {
      const ObservedMember& m = observed(voterMember(c_, i));
      if (!healthy(m)) continue;
      ++healthyVoters_;
      if (m.role == MemberRole::kLeader || m.role == MemberRole::kStandalone) leader_ = &m;
    }
    quorum_ = voters_ / 2 + 1;
    quorumOk_ = leader_ != nullptr && healthyVoters_ >= quorum_;
    if (leader_) {
      leaderZxid_ = leader_->zxid;
    } else {
      for (const ObservedMember& m : o_.members) leaderZxid_ = std::max(leaderZxid_, m.zxid);
    }
  }

  bool othersHealthy(const Member& except) {
    for (int i = 0; i < voters_; ++i) {
      Member v = voterMember(c_, i);
      if (v.name != except.name && !healthy(observed(v))) return false;
    }
    return true;
  }

  // Members the roll covers: those that stay; an observer on its way out is not restarted.
  std::vector<Member> rollMembers() const {
    return members(c_, {voters_, std::min(applyObservers_, c_.spec.observers)});
  }

  bool inSync(const ObservedMember& m, std::int64_t syncZxid) const {
    return healthy(m) && m.rolloutHash == target_ && m.zxid >= syncZxid && quorumOk_;
  }

  void roll() {
    roll_ = c_.status.roll;
    if (roll_.target != target_) {
      int stale = 0;
      for (const Member& m : rollMembers()) {
        const ObservedMember& om = observed(m);
        stale += om.exists && om.rolloutHash != target_;
      }
      roll_ = {};
      roll_.target = target_;
      roll_.completed = stale == 0;
      if (roll_.completed) return;
      event(false, "RollStarted",
            "restarting " + std::to_string(stale) + " members one at a time for " + target_);
    }
    if (roll_.completed) return;
    if (!roll_.current.empty() && !continueCurrent()) return;
    if (roll_.current.empty()) startNext();
  }

  // The member restarted last: done, restarted again if the restart never happened, or waited for.
  // Returns true when the roll may move on to the next member.
  bool continueCurrent() {
    auto all = rollMembers();
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const Member& m) { return m.name == roll_.current; });
    if (it == all.end()) {  // scaled away meanwhile
      roll_.current.clear();
      return true;
    }
    const ObservedMember& m = observed(*it);
    if (inSync(m, roll_.syncZxid)) {
      roll_.restarted.push_back(roll_.current);
      event(false, "MemberRestarted", m.member.name + " is back in sync at zxid " + hex(m.zxid));
      roll_.current.clear();
      roll_.syncZxid = 0;
      return true;
    }
    if (m.running && m.ready && !m.terminating && m.rolloutHash != target_) {
      // Still the old process: the restart recorded in status never took effect (the operator
      // stopped in between). Issuing it now is its first and only restart.
      if (m.member.voter ? othersHealthy(m.member) : quorumOk_) {
        restart_ = RestartMember{m.member, "rolling to " + target_ + " (resumed)"};
      }
    }
    progressing("Rolling",
                "waiting for " + m.member.name + " to rejoin with zxid >= " + hex(roll_.syncZxid));
    waits_.push_back("roll: waiting for " + m.member.name + " to be back in sync");
    return false;
  }

  void startNext() {
    const ObservedMember* pick = nextToRestart();
    if (!pick) {
      event(false, "RollCompleted",
            std::to_string(roll_.restarted.size()) + " members restarted for " + target_);
      roll_.completed = true;
      return;
    }
    const Member& m = pick->member;
    bool safe = m.voter ? othersHealthy(m) : quorumOk_;
    if (!safe) {
      paused_ = true;
      progressing("RollPaused", "not restarting " + m.name + ": the quorum is not fully healthy");
      waits_.push_back("roll paused before " + m.name + ": quorum unhealthy");
      return;
    }
    roll_.current = m.name;
    roll_.syncZxid = leaderZxid_;
    restart_ = RestartMember{m, "rolling to " + target_};
    progressing("Rolling",
                "restarting " + m.name + " (" + std::to_string(roll_.restarted.size()) + " done)");
    event(false, "RestartingMember", "restarting " + m.name + " to apply " + target_);
  }

  // Observers first, then followers, the leader last; within each, members already down first,
  // since restarting them costs nothing.
  const ObservedMember* nextToRestart() {
    const ObservedMember* best = nullptr;
    auto rank = [&](const ObservedMember& m) {
      int cls = !m.member.voter ? 0 : (&m == leader_ ? 2 : 1);
      return std::tuple(cls, healthy(m) ? 1 : 0, m.member.id);
    };
    for (const Member& member : rollMembers()) {
      const ObservedMember& m = observed(member);
      if (!m.exists || m.rolloutHash == target_) continue;
      if (std::find(roll_.restarted.begin(), roll_.restarted.end(), member.name) !=
          roll_.restarted.end()) {
        continue;  // never twice in one roll
      }
      if (!best || rank(m) < rank(*best)) best = &m;
    }
    return best;
  }

  // Quorum TLS on or off (quorum_tls_migration.h): once the roll to the current stage is done and
  // every member is back in sync, the status moves on to the next stage, which the next pass's
  // target hash rolls the members to.
  void migrateQuorumTls() {
    QuorumTlsStage stage = quorumTls_.stage;
    QuorumTlsStage goal = quorumTlsGoal(c_.spec.tls);
    const std::string& was = c_.status.quorumTls.migration;
    QuorumTlsStage next = nextQuorumTlsStage(stage, goal);
    if (roll_.active()) {  // members are still being rolled to `stage`
      quorumTls_.migration =
          !was.empty() || stage == goal ? was : "after the roll, " + quorumTlsStep(next, goal);
      return;
    }
    if (stage == goal) {
      if (!was.empty()) {
        event(false, goal == QuorumTlsStage::kTls ? "QuorumTLSEnabled" : "QuorumTLSDisabled",
              "quorum TLS migration done: " + describeQuorumTlsStage(stage));
      }
      return;
    }
    if (!everyMemberInSync()) {
      quorumTls_.migration =
          "waiting for every member to be in sync, then " + quorumTlsStep(next, goal);
      progressing("MigratingQuorumTLS", quorumTls_.migration);
      waits_.push_back("quorum TLS: " + quorumTls_.migration);
      return;
    }
    quorumTls_ = {next, quorumTlsStep(next, goal)};
    progressing("MigratingQuorumTLS", quorumTls_.migration);
    event(false, "QuorumTLSStep", "quorum TLS " + quorumTls_.migration);
    waits_.push_back("quorum TLS: the next pass rolls the members to stage " +
                     std::string(quorumTlsStageName(next)));
  }

  // Quorum SASL on or off (quorum_sasl_migration.h), after any quorum TLS step: one change to
  // the quorum's connections per roll.
  void migrateQuorumSasl() {
    bool tlsMoving =
        quorumTls_.stage != quorumTlsGoal(c_.spec.tls) || !quorumTls_.migration.empty();
    QuorumSaslPass pass{c_.status.quorumSasl,
                        quorumSasl_.stage,
                        quorumSaslGoal(c_.spec.auth),
                        quorumSaslMechanism(c_.spec.auth),
                        roll_.active(),
                        ""};
    if (tlsMoving) {
      pass.hold = "waiting for the quorum TLS migration";
    } else if (!everyMemberInSync()) {
      pass.hold = "waiting for every member to be in sync";
    }
    QuorumSaslDecision d = stepQuorumSasl(pass);
    quorumSasl_ = d.status;
    if (!d.progressing.empty()) progressing("MigratingQuorumSASL", d.progressing);
    if (!d.wait.empty()) waits_.push_back(d.wait);
    if (!d.eventReason.empty()) event(false, d.eventReason, d.eventMessage);
  }

  // Every member the spec wants runs the current rendering, serves and is in its role, with no
  // scaling or expansion under way.
  bool everyMemberInSync() {
    if (!quorumOk_ || expansion_ || voters_ != c_.spec.voters ||
        applyObservers_ != c_.spec.observers) {
      return false;
    }
    for (const Member& m : rollMembers()) {
      const ObservedMember& om = observed(m);
      if (!healthy(om) || om.rolloutHash != target_) return false;
    }
    if (o_.ensemble) {
      for (int i = 0; i < c_.spec.observers; ++i) {
        if (!o_.ensemble->observers.contains(observerMember(c_, i).id)) return false;
      }
    }
    return true;
  }

  void scaleVoters() {
    int want = c_.spec.voters;
    if (want == voters_) return;
    std::string what = "voters " + std::to_string(voters_) + " -> " + std::to_string(want);
    if (roll_.active()) {
      waits_.push_back(what + " waits for the roll to finish");
      return;
    }
    if (!o_.ensemble) {
      waits_.push_back(what + " waits for the ensemble's membership to be known");
      return;
    }
    bool allHealthy = healthyVoters_ == voters_ && quorumOk_;
    if (want > voters_) {
      Member next = voterMember(c_, voters_);
      const ObservedMember& m = observed(next);
      if (!allHealthy && !m.exists) {
        paused_ = true;
        waits_.push_back(what + " paused: not every voter is healthy");
        return;
      }
      applyVoters_ = voters_ + 1;
      progressing("Scaling", what);
      bool synced =
          m.running && (m.role == MemberRole::kFollower || m.role == MemberRole::kObserver);
      if (allHealthy && synced) {
        reconfigs_.push_back(ReconfigAdd{next});
        event(false, "AddingVoter", "adding " + next.name + " to the ensemble as a voter");
      } else {
        waits_.push_back(what + ": waiting for " + next.name + " to start and sync");
      }
      return;
    }
    Member last = voterMember(c_, voters_ - 1);
    progressing("Scaling", what);
    if (!allHealthy) {
      paused_ = true;
      waits_.push_back(what + " paused: not every voter is healthy");
      return;
    }
    // Out of the ensemble first; its pod goes once the membership no longer lists it.
    reconfigs_.push_back(ReconfigRemove{last});
    event(false, "RemovingVoter", "removing " + last.name + " from the ensemble");
  }

  void scaleObservers() {
    int want = c_.spec.observers;
    if (c_.status.observers != applyObservers_) {
      event(false, "ScaledObservers",
            "observers " + std::to_string(c_.status.observers) + " -> " +
                std::to_string(applyObservers_));
    }
    if (!o_.ensemble) return;
    for (int i = 0; i < applyObservers_; ++i) {
      Member m = observerMember(c_, i);
      bool listed = o_.ensemble->observers.contains(m.id);
      if (i < want && !listed) {
        progressing("Scaling", "adding observer " + m.name);
        if (observed(m).running && quorumOk_) {
          reconfigs_.push_back(ReconfigAdd{m});
        } else {
          waits_.push_back("waiting for observer " + m.name + " to start");
        }
      } else if (i >= want && listed) {
        progressing("Scaling", "removing observer " + m.name);
        if (quorumOk_) {
          reconfigs_.push_back(ReconfigRemove{m});
        } else {
          waits_.push_back("observer " + m.name + " waits for a quorum to be removed");
        }
      }
    }
  }

  void progressing(const std::string& reason, const std::string& message) {
    if (progressReason_.empty()) {
      progressReason_ = reason;
      progressMessage_ = message;
    }
  }

  void event(bool warning, const std::string& reason, const std::string& message) {
    events_.push_back(EmitEvent{warning, reason, message});
  }

  void condition(ZkClusterStatus& s, const std::string& type, bool on, const std::string& reason,
                 const std::string& message) {
    Condition cond{type, on ? "True" : "False", reason, message, c_.meta.generation, ""};
    for (const Condition& prev : c_.status.conditions) {
      if (prev.type == type && prev.status == cond.status) {
        cond.lastTransitionTime = prev.lastTransitionTime;
      }
    }
    s.conditions.push_back(cond);
  }

  bool wasTrue(const std::string& type) const {
    return std::any_of(c_.status.conditions.begin(), c_.status.conditions.end(),
                       [&](const Condition& x) { return x.type == type && x.status == "True"; });
  }

  // Down on purpose: the member the roll restarted, or one still joining the ensemble. Neither
  // is a degradation; reporting them would flap Degraded on every step of every roll.
  bool expectedDown(const Member& m) const {
    if (m.name == roll_.current) return true;
    if (!o_.ensemble) return false;
    return m.voter ? m.id > voters_ : !o_.ensemble->observers.contains(m.id);
  }

  // A member seen serving on the last pass (or not seen at all), or down on purpose then, and
  // down now gets one more pass before it counts: a member just added by reconfig reconnects
  // once, and the others re-sync with the leader the roll restarted last, and that is planned.
  // Started a moment ago and not serving yet: loading its data, electing or syncing. A member
  // that the kubelet keeps restarting is failing however young its container is.
  bool stillJoining(const ObservedMember& om) const {
    return om.running && !om.terminating && om.crashLoop.empty() && om.upSeconds &&
           *om.upSeconds < joinGraceSeconds(c_);
  }

  bool downForTheFirstTime(const Member& m) const {
    for (const MemberStatus& prev : c_.status.members) {
      if (prev.name == m.name) {
        return prev.plannedDown || (prev.ready && (m.voter ? isVoterRole(prev.role)
                                                           : prev.role == MemberRole::kObserver));
      }
    }
    return true;
  }

  // The roll restarted a member (a voter: the leader last) and every other member's process is
  // up: members not serving now are re-syncing after that restart (a missing quorum is the
  // election a voter's restart causes), not failing.
  bool plannedRestart() {
    if (roll_.current.empty()) return false;
    for (const Member& member : rollMembers()) {
      const ObservedMember& m = observed(member);
      if (member.name != roll_.current && (!m.exists || !m.running || m.terminating)) return false;
    }
    return true;
  }

  // The cause to report, observed by the backend or from a member that crash-loops.
  std::optional<Blocker> blocker() const {
    std::vector<Blocker> all = o_.blockers;
    for (const ObservedMember& m : o_.members) {
      if (!m.crashLoop.empty()) {
        all.push_back({BlockCause::kMemberCrashLooping, m.member.name + ": " + m.crashLoop});
      }
    }
    return firstBlocker(all);
  }

  // The last pass reported a cause, and no quorum had formed yet: once the cause is gone the
  // cluster is being created again.
  bool blockedBeforeAnyQuorum() const {
    const Condition* d = previous("Degraded");
    if (!d || d->status != "True" || wasTrue("Available")) return false;
    return std::any_of(std::begin(kBlockCauses), std::end(kBlockCauses),
                       [&](const BlockCauseInfo& i) { return d->reason == i.reason; });
  }

  const Condition* previous(const std::string& type) const {
    for (const Condition& x : c_.status.conditions) {
      if (x.type == type) return &x;
    }
    return nullptr;
  }

  ZkClusterStatus buildStatus() {
    ZkClusterStatus s;
    int unexpectedlyDown = 0;
    s.observedGeneration = c_.meta.generation;
    s.quorumSize = quorum_;
    s.voters = applyVoters_;
    s.observers = applyObservers_;
    s.selector = selectorLabels(c_);
    s.roll = roll_;
    s.quorumTls = quorumTls_;
    s.quorumSasl = quorumSasl_;
    if (leader_) s.leader = leader_->member.name;
    bool planned = plannedRestart();
    for (const Member& m : members(c_, {applyVoters_, applyObservers_})) {
      const ObservedMember& om = observed(m);
      bool down = !healthy(om);
      bool onPurpose = down && (expectedDown(m) || planned);
      s.members.push_back({m.name, m.id, om.role, om.ready, om.zxid, om.image, onPurpose});
      s.readyMembers += !down;
      if (!down || onPurpose) continue;
      if (stillJoining(om)) {
        waits_.push_back("waiting for " + m.name + " to join (started " +
                         std::to_string(*om.upSeconds) + " s ago)");
      } else if (downForTheFirstTime(m)) {
        waits_.push_back("seeing whether " + m.name + " comes back");
      } else {
        ++unexpectedlyDown;
      }
    }
    int total = applyVoters_ + applyObservers_;
    std::optional<Blocker> blocked = blocker();
    bool election = !quorumOk_ && planned;
    // Until the first quorum forms, members not being ready is expected, not a degradation;
    // unless something keeps them from ever forming one.
    bool creating =
        (c_.status.phase.empty() || c_.status.phase == "Creating" || blockedBeforeAnyQuorum()) &&
        !quorumOk_ && !blocked;
    bool allReady = unexpectedlyDown == 0;
    condition(s, "Available", quorumOk_, quorumOk_ ? "QuorumHealthy" : "QuorumUnavailable",
              std::to_string(healthyVoters_) + " of " + std::to_string(voters_) +
                  " voters serving, quorum " + std::to_string(quorum_));
    bool moving = !progressReason_.empty();
    condition(s, "Progressing", moving, moving ? progressReason_ : "Stable",
              moving ? progressMessage_ : "nothing to do");
    std::string degradedReason = blocked                   ? infoOf(blocked->cause).reason
                                 : !quorumOk_ && !election ? "QuorumUnhealthy"
                                 : paused_                 ? "Paused"
                                 : !allReady               ? "MembersNotReady"
                                                           : "AsExpected";
    bool degraded = blocked || (!creating && degradedReason != "AsExpected");
    std::string message = blocked ? blocked->message
                                  : std::to_string(s.readyMembers) + " of " +
                                        std::to_string(total) + " members ready";
    condition(s, "Degraded", degraded, degraded ? degradedReason : "AsExpected", message);
    if (wasTrue("Available") && !quorumOk_ && !election) {
      event(true, "QuorumLost", "fewer than " + std::to_string(quorum_) + " voters serving");
    }
    const Condition* before = previous("Degraded");
    bool news = !before || before->status != "True" ||
                (blocked && (before->reason != degradedReason || before->message != message));
    if (degraded && news) event(true, degradedReason, message);
    tlsConditions(s);
    s.phase = creating                               ? "Creating"
              : blocked || (!quorumOk_ && !election) ? "Degraded"
              : roll_.active() || !quorumTls_.migration.empty() || !quorumSasl_.migration.empty()
                  ? "Rolling"
              : moving ? "Scaling"
                       : "Running";
    return s;
  }

  // status.tls and its two conditions, as the backend judged the certificates (tls_status.h).
  // A TLSReady that turns False is a Warning Event too.
  void tlsConditions(ZkClusterStatus& s) {
    if (!o_.tls) return;
    const TlsObservation& t = *o_.tls;
    s.tls = t.status;
    // A CA rotation's next step comes with time alone, which no watch sees: look again.
    if (!t.status.caRotation.empty()) waits_.push_back("CA rotation: " + t.status.caRotation);
    condition(s, "TLSReady", t.ready.holds, t.ready.reason, t.ready.message);
    condition(s, "CertificatesExpiring", t.expiring.holds, t.expiring.reason, t.expiring.message);
    const Condition* before = previous("TLSReady");
    if (!t.ready.holds &&
        (!before || before->status != "False" || before->reason != t.ready.reason))
      event(true, t.ready.reason, t.ready.message);
    before = previous("CertificatesExpiring");
    if (t.expiring.holds && (!before || before->status != "True"))
      event(true, t.expiring.reason, t.expiring.message);
  }

  Plan finish() {
    Plan p;
    p.status = buildStatus();
    p.actions.push_back(UpdateStatus{p.status});
    if (expansion_) p.actions.push_back(ExpandVolumes{c_.spec.storage.size});
    p.actions.push_back(ApplyObjects{{applyVoters_, applyObservers_}});
    for (Action& a : reconfigs_) p.actions.push_back(std::move(a));
    if (restart_) p.actions.push_back(*restart_);
    for (const std::string& w : waits_) p.actions.push_back(Wait{w});
    for (EmitEvent& e : events_) p.actions.push_back(std::move(e));
    return p;
  }

  const ZkCluster& c_;
  const std::string& target_;
  const Observed& o_;
  std::deque<ObservedMember> missing_;  // stable addresses for members not observed at all
  int voters_ = 0, applyVoters_ = 0, applyObservers_ = 0;
  int healthyVoters_ = 0, quorum_ = 1;
  bool quorumOk_ = false, paused_ = false;
  const ObservedMember* leader_ = nullptr;
  std::int64_t leaderZxid_ = 0;
  RollProgress roll_;
  QuorumTlsStatus quorumTls_;
  QuorumSaslStatus quorumSasl_;
  std::optional<RestartMember> restart_;
  std::vector<Action> reconfigs_;
  std::vector<std::string> waits_;
  std::vector<EmitEvent> events_;
  std::string progressReason_, progressMessage_;
  std::optional<std::string> expansion_;
};

// Report, change nothing that runs: the status keeps everything but the phase and the
// Degraded and Progressing conditions.
Plan planReportOnly(const ZkClusterStatus& previous, std::int64_t generation,
                    const std::string& phase, const std::string& reason,
                    const std::string& message) {
  Plan p;
  p.status = previous;
  p.status.observedGeneration = generation;
  p.status.phase = phase;
  bool already = false;
  auto set = [&](const std::string& type, const std::string& status, const std::string& msg) {
    auto it = std::find_if(p.status.conditions.begin(), p.status.conditions.end(),
                           [&](const Condition& x) { return x.type == type; });
    if (it == p.status.conditions.end()) {
      it =
          p.status.conditions.insert(p.status.conditions.end(), Condition{type, "", "", "", 0, ""});
    }
    if (type == "Degraded") {
      already = it->status == status && it->reason == reason && it->message == msg;
    }
    if (it->status != status) it->lastTransitionTime.clear();
    *it = {type, status, reason, msg, generation, it->lastTransitionTime};
  };
  set("Degraded", "True", message);
  set("Progressing", "False", kNothingChanged);
  p.actions.push_back(UpdateStatus{p.status});
  if (!already) p.actions.push_back(EmitEvent{true, reason, message});
  return p;
}

// A refused expansion stands until the spec changes: the API server would refuse it again.
const Condition* heldRefusal(const ZkCluster& c) {
  for (const Condition& cond : c.status.conditions) {
    if (cond.type == "Degraded" && cond.status == "True" &&
        cond.reason == kVolumeExpansionRefused && cond.observedGeneration == c.meta.generation) {
      return &cond;
    }
  }
  return nullptr;
}

}  // namespace

Plan plan(const ZkCluster& c, const std::string& targetHash, const Observed& observed) {
  if (auto held = firstBlocker(observed.blockers); held && infoOf(held->cause).holdsApply) {
    return planReportOnly(c.status, c.meta.generation, "Degraded", infoOf(held->cause).reason,
                          held->message);
  }
  Planner planner(c, targetHash, observed);
  if (observed.storage) {
    if (const Condition* held = heldRefusal(c)) {
      return planReportOnly(c.status, c.meta.generation, "Degraded", held->reason, held->message);
    }
    StorageDecision storage = decideStorage(c.spec.storage, *observed.storage);
    if (storage.change == StorageChange::kRefused) {
      return planReportOnly(c.status, c.meta.generation, "Degraded", "StorageChangeRefused",
                            storage.message);
    }
    if (storage.change == StorageChange::kGrow) planner.expandVolumes(storage.message);
  }
  return planner.run();
}

const BlockCauseInfo& infoOf(BlockCause cause) {
  for (const BlockCauseInfo& info : kBlockCauses) {
    if (info.cause == cause) return info;
  }
  throw std::invalid_argument("a BlockCause without a row in kBlockCauses");
}

std::string firstLine(std::string_view text) {
  constexpr size_t kMax = 512;
  text = text.substr(0, text.find_first_of("\r\n"));
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == ':')) {
    text.remove_suffix(1);
  }
  std::string line(text.substr(0, kMax));
  if (text.size() > kMax) line += "...";
  return line;
}

Plan planInvalid(const ZkClusterStatus& previous, std::int64_t generation,
                 const std::vector<std::string>& errors) {
  std::string message;
  for (const std::string& e : errors) message += (message.empty() ? "" : "; ") + e;
  // Values the members' zoo.cfg parser refuses have a reason of their own (InvalidConfig).
  bool config = !errors.empty() && std::all_of(errors.begin(), errors.end(), [](const auto& e) {
    return e.starts_with("spec.config.") || e.starts_with("spec.config:");
  });
  return planReportOnly(previous, generation, "Invalid", config ? "InvalidConfig" : "InvalidSpec",
                        message);
}

std::string describe(const Action& a) {
  struct {
    std::string operator()(const UpdateStatus& x) { return "status " + x.status.phase; }
    std::string operator()(const ExpandVolumes& x) { return "expand volumes to " + x.size; }
    std::string operator()(const ApplyObjects& x) {
      return "apply voters=" + std::to_string(x.membership.voters) +
             " observers=" + std::to_string(x.membership.observers);
    }
    std::string operator()(const ReconfigAdd& x) { return "reconfig add " + x.member.name; }
    std::string operator()(const ReconfigRemove& x) { return "reconfig remove " + x.member.name; }
    std::string operator()(const RestartMember& x) { return "restart " + x.member.name; }
    std::string operator()(const Wait& x) { return "wait: " + x.reason; }
    std::string operator()(const EmitEvent& x) {
      return std::string(x.warning ? "warning " : "event ") + x.reason + ": " + x.message;
    }
  } visitor;
  return std::visit(visitor, a);
}

std::int64_t joinGraceSeconds(const ZkCluster& c) {
  return 2 * configNumber(c, "tickTime") * configNumber(c, "initLimit") / 1000;
}

}  // namespace zk::op
