// The planner against simulated members over many seeds: crashes, slow syncs, leader changes,
// pods that take a while to terminate, operators that die between two actions, and a second
// config change mid-roll. Safety is checked on every tick; liveness once the chaos stops.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "operator_plan_test_util.h"

namespace zk::op {
namespace {

using namespace zk::op::testing;

struct SimMember {
  Member member;
  bool running = true;
  bool synced = true;
  int downFor = 0;          // ticks until a stopped process starts again
  int syncFor = 0;          // ticks until a started process has synced with the leader
  int terminatingFor = -1;  // >= 0: a restart was ordered and takes effect in that many ticks
  std::string hash;
  std::int64_t zxid = 0;
  bool downByPlanner = false;               // restarted by the planner and not yet back in sync
  std::map<std::string, int> restartsInto;  // effective restarts per roll target
};

class Sim {
 public:
  Sim(unsigned seed, int voters, int observers) : rng_(seed), c_(makeCluster(voters, observers)) {
    for (const Member& m : zk::op::members(c_, {voters, observers})) {
      SimMember s;
      s.member = m;
      s.hash = "v0";
      s.zxid = zxid_;
      members_.push_back(s);
    }
    leader_ = 1;
  }

  void setTarget(const std::string& t) { target_ = t; }
  const std::string& target() const { return target_; }
  const ZkCluster& cluster() const { return c_; }
  const std::vector<SimMember>& members() const { return members_; }

  void tick(bool chaos) {
    advanceMembers();
    electIfNeeded();
    if (chaos) injectFaults();
    operate(chaos);
    checkSafety();
  }

  bool converged() const {
    for (const SimMember& m : members_) {
      if (m.hash != target_ || !m.running || !m.synced) return false;
    }
    return !c_.status.roll.active() && leader_ != 0;
  }

 private:
  int rand(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  int votersUp() const {
    int n = 0;
    for (const SimMember& m : members_) n += m.member.voter && m.running;
    return n;
  }

  void advanceMembers() {
    if (leader_) zxid_ += rand(0, 3);  // clients keep writing
    for (SimMember& m : members_) {
      if (m.terminatingFor > 0) {
        --m.terminatingFor;
      } else if (m.terminatingFor == 0) {
        m.terminatingFor = -1;
        stop(m, rand(1, 3));
        m.hash = target_;  // the new pod runs the new template
        ++m.restartsInto[target_];
        m.downByPlanner = true;
      }
      if (!m.running) {
        if (--m.downFor <= 0) {
          m.running = true;
          m.syncFor = rand(1, 4);  // slow syncs too
        }
        continue;
      }
      if (!m.synced && leader_ && --m.syncFor <= 0) m.synced = true;
      // Synced members trail the leader by a little.
      if (m.synced) m.zxid = std::max(m.zxid, zxid_ - rand(0, 2));
      if (m.synced && m.zxid >= zxid_ - 2) m.downByPlanner = false;
    }
  }

  void stop(SimMember& m, int ticks) {
    m.running = m.synced = false;
    m.downFor = ticks;
    if (m.member.id == leader_) leader_ = 0;
  }

  void electIfNeeded() {
    if (leader_) return;
    int quorum = c_.spec.voters / 2 + 1;
    if (votersUp() < quorum) return;
    std::vector<SimMember*> candidates;
    for (SimMember& m : members_) {
      if (m.member.voter && m.running) candidates.push_back(&m);
    }
    SimMember* winner = candidates[rand(0, static_cast<int>(candidates.size()) - 1)];
    leader_ = winner->member.id;
    zxid_ = ((zxid_ >> 32) + 1) << 32;  // a new epoch
    for (SimMember& m : members_) {
      if (m.running && &m != winner) {
        m.synced = false;
        m.syncFor = rand(1, 2);
      }
    }
    winner->synced = true;
    winner->zxid = zxid_;
  }

  void injectFaults() {
    if (chance(0.04)) {
      SimMember& m = members_[rand(0, static_cast<int>(members_.size()) - 1)];
      if (m.running) stop(m, rand(1, 6));  // a crash: the container restarts in the same pod
    }
    if (leader_ && chance(0.03)) {
      for (SimMember& m : members_) {
        if (m.member.id == leader_) m.synced = false, m.syncFor = 1;
      }
      leader_ = 0;  // the leader steps down; someone is elected on the next tick
    }
  }

  Observed observe() const {
    Observed o;
    for (const SimMember& m : members_) {
      ObservedMember om;
      om.member = m.member;
      om.exists = true;
      om.running = m.running;
      om.ready = m.running && m.synced;
      om.terminating = m.terminatingFor >= 0;
      if (om.ready) {
        om.role = !m.member.voter          ? MemberRole::kObserver
                  : m.member.id == leader_ ? MemberRole::kLeader
                                           : MemberRole::kFollower;
      }
      om.zxid = m.member.id == leader_ ? zxid_ : m.zxid;
      om.rolloutHash = m.hash;
      o.members.push_back(om);
    }
    if (leader_) {
      o.ensemble = EnsembleView{};
      for (const SimMember& m : members_) {
        (m.member.voter ? o.ensemble->voters : o.ensemble->observers).insert(m.member.id);
      }
    }
    return o;
  }

  void operate(bool chaos) {
    Plan p = plan(c_, target_, observe());
    size_t upTo = p.actions.size();
    if (chaos && chance(0.1)) upTo = rand(0, static_cast<int>(p.actions.size()));  // dies midway
    for (size_t i = 0; i < upTo; ++i) {
      const Action& a = p.actions[i];
      if (const auto* s = std::get_if<UpdateStatus>(&a)) c_.status = s->status;
      if (const auto* r = std::get_if<RestartMember>(&a)) restart(r->member);
      ASSERT_FALSE(std::holds_alternative<ReconfigAdd>(a)) << describe(a);
      ASSERT_FALSE(std::holds_alternative<ReconfigRemove>(a)) << describe(a);
    }
  }

  void restart(const Member& who) {
    for (SimMember& m : members_) {
      if (m.member.name != who.name) continue;
      if (m.terminatingFor >= 0) return;  // deleting a terminating pod again changes nothing
      ASSERT_NE(m.hash, target_) << who.name << " restarted though it already runs the target";
      if (m.member.voter) {
        for (const SimMember& other : members_) {
          ASSERT_FALSE(other.member.voter && &other != &m && other.downByPlanner)
              << "restarting " << who.name << " while " << other.member.name
              << " is still down from its own restart";
        }
      }
      m.terminatingFor = rand(0, 2);  // a pod takes a moment to go
      return;
    }
    FAIL() << "restart of unknown member " << who.name;
  }

  void checkSafety() {
    int down = 0;
    for (const SimMember& m : members_) {
      down += m.member.voter && m.downByPlanner;
      for (const auto& [t, n] : m.restartsInto) {
        ASSERT_LE(n, 1) << m.member.name << " restarted twice into " << t;
      }
    }
    ASSERT_LE(down, 1) << "two voters down by the planner's doing";
  }

  std::mt19937 rng_;
  ZkCluster c_;
  std::vector<SimMember> members_;
  int leader_ = 0;
  std::int64_t zxid_ = 1LL << 32;
  std::string target_ = "v0";
};

TEST(OperatorPlanSim, RollsStaySafeAndFinishUnderChaos) {
  const int kSeeds = 400;
  int secondRolls = 0;
  for (unsigned seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 shape(seed * 7919);
    int voters = std::array{1, 3, 5, 7}[shape() % 4];
    int observers = static_cast<int>(shape() % 4);
    Sim sim(seed, voters, observers);
    sim.setTarget("v1");
    int changeAt = shape() % 3 == 0 ? static_cast<int>(5 + shape() % 40) : -1;
    for (int t = 0; t < 150; ++t) {
      if (t == changeAt) {
        sim.setTarget("v2");
        ++secondRolls;
      }
      sim.tick(true);
      if (::testing::Test::HasFatalFailure()) return;
    }
    // At least one calm pass: the last chaotic one may have died before writing status.
    for (int t = 0; t < 2000; ++t) {
      sim.tick(false);
      if (::testing::Test::HasFatalFailure()) return;
      if (sim.converged()) break;
    }
    ASSERT_TRUE(sim.converged()) << voters << " voters, " << observers
                                 << " observers did not converge; phase "
                                 << sim.cluster().status.phase;
    for (const SimMember& m : sim.members()) {
      EXPECT_EQ(m.restartsInto.count(sim.target()) ? m.restartsInto.at(sim.target()) : 0, 1)
          << m.member.name << " must be restarted exactly once by the last roll";
    }
    EXPECT_EQ(sim.cluster().status.phase, "Running");

    EXPECT_EQ(conditionOf(sim.cluster().status, "Degraded").status, "False")
        << conditionOf(sim.cluster().status, "Degraded").reason << ": "
        << conditionOf(sim.cluster().status, "Degraded").message;
  }
  EXPECT_GT(secondRolls, 0);
}

}  // namespace
}  // namespace zk::op
