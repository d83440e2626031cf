// Registering and updating the operator's metric families.
#include "backends/operator_metrics.h"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace zk::op {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

constexpr std::array<MemberRole, 4> kRoles{MemberRole::kLeader, MemberRole::kFollower,
                                           MemberRole::kObserver, MemberRole::kStandalone};

std::unique_ptr<prometheus::Exposer> listen(const std::string& address) {
  try {
    return std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve metrics on " + address + ": " + e.what());
  }
}

bool healthyRole(const ObservedMember& m) {
  return m.running && m.ready && m.role != MemberRole::kUnknown;
}

}  // namespace

OperatorMetrics::OperatorMetrics(const std::string& address)
    : registry_(std::make_shared<prometheus::Registry>()),
      exposer_(listen(address)),
      reconciles_(BuildCounter()
                      .Name("zookube_operator_reconcile_total")
                      .Help("Reconcile passes run")
                      .Register(*registry_)),
      errors_(BuildCounter()
                  .Name("zookube_operator_reconcile_errors_total")
                  .Help("Reconcile passes whose actions failed")
                  .Register(*registry_)),
      duration_(BuildHistogram()
                    .Name("zookube_operator_reconcile_duration_seconds")
                    .Help("Time one reconcile pass took, restarts included")
                    .Register(*registry_)),
      restarts_(BuildCounter()
                    .Name("zookube_member_restarts_total")
                    .Help("Members the operator restarted: reason=roll on purpose, "
                          "reason=recovered after their process died")
                    .Register(*registry_)),
      leaderChanges_(BuildCounter()
                         .Name("zookube_leader_changes_total")
                         .Help("Times leadership moved from one member to another (not counting "
                               "the first leader seen)")
                         .Register(*registry_)),
      memberUp_(BuildGauge()
                    .Name("zookube_member_up")
                    .Help("1 for the role a member serves in now, 0 for its other roles")
                    .Register(*registry_)),
      memberReady_(BuildGauge()
                       .Name("zookube_member_ready")
                       .Help("The member answers srvr as serving")
                       .Register(*registry_)),
      memberZxid_(BuildGauge()
                      .Name("zookube_member_zxid")
                      .Help("Last zxid the member reported (as a float: exact below 2^53)")
                      .Register(*registry_)),
      leaderId_(BuildGauge()
                    .Name("zookube_leader_id")
                    .Help("myid of the current leader, 0 when there is none")
                    .Register(*registry_)),
      quorumHealthy_(BuildGauge()
                         .Name("zookube_quorum_healthy")
                         .Help("A leader serves and a quorum of voters is in sync")
                         .Register(*registry_)),
      membersByRole_(BuildGauge()
                         .Name("zookube_members")
                         .Help("Members serving in each role")
                         .Register(*registry_)),
      rollActive_(BuildGauge()
                      .Name("zookube_roll_in_progress")
                      .Help("A rolling restart is under way")
                      .Register(*registry_)),
      rollRestarted_(BuildGauge()
                         .Name("zookube_roll_members_restarted")
                         .Help("Members the current roll restarted and saw back in sync")
                         .Register(*registry_)),
      rollTotal_(BuildGauge()
                     .Name("zookube_roll_members")
                     .Help("Members the current roll covers")
                     .Register(*registry_)),
      certificateExpiry_(BuildGauge()
                             .Name("zookube_certificate_expiry_seconds")
                             .Help("When the member's TLS certificate expires, as Unix time")
                             .Register(*registry_)) {
  exposer_->RegisterCollectable(registry_);
}

void OperatorMetrics::reconciled(const std::string& cluster, double seconds, bool failed) {
  reconciles_.Add({{"cluster", cluster}}).Increment();
  auto& errors = errors_.Add({{"cluster", cluster}});  // present from the start, at 0
  if (failed) errors.Increment();
  duration_
      .Add({{"cluster", cluster}},
           prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60})
      .Observe(seconds);
}

void OperatorMetrics::restarted(const std::string& cluster, const std::string& member,
                                const std::string& reason) {
  restarts_.Add({{"cluster", cluster}, {"member", member}, {"reason", reason}}).Increment();
}

void OperatorMetrics::observed(const ZkCluster& c, const Observed& o, const Plan& p) {
  const std::string& cluster = c.meta.name;
  std::map<MemberRole, int> byRole;
  int leader = 0;
  // An ensemble member is never standalone: no series for that role unless it can be.
  bool canBeStandalone = c.spec.voters + c.spec.observers <= 1;
  for (const ObservedMember& m : o.members) {
    MemberRole role = healthyRole(m) ? m.role : MemberRole::kUnknown;
    for (MemberRole r : kRoles) {
      if (r == MemberRole::kStandalone && !canBeStandalone) continue;
      memberUp_
          .Add(
              {{"cluster", cluster}, {"member", m.member.name}, {"role", std::string(roleName(r))}})
          .Set(r == role ? 1 : 0);
    }
    memberReady_.Add({{"cluster", cluster}, {"member", m.member.name}}).Set(healthyRole(m));
    memberZxid_.Add({{"cluster", cluster}, {"member", m.member.name}})
        .Set(static_cast<double>(m.zxid));
    if (role != MemberRole::kUnknown) ++byRole[role];
    if (role == MemberRole::kLeader) leader = m.member.id;
  }
  for (MemberRole r : kRoles) {
    if (r == MemberRole::kStandalone && !canBeStandalone) continue;
    membersByRole_.Add({{"cluster", cluster}, {"role", std::string(roleName(r))}}).Set(byRole[r]);
  }
  // Counted from the second leader on, so it does not depend on whether the operator's first
  // look found the ensemble still electing. The same member elected again after a gap is not a
  // move; the members' own leader_uptime resets count every election.
  auto& counter = leaderChanges_.Add({{"cluster", cluster}});  // present from the start, at 0
  int& last = lastLeader_[cluster];
  if (leader != 0 && last != 0 && last != leader) counter.Increment();
  if (leader != 0) last = leader;
  leaderId_.Add({{"cluster", cluster}}).Set(leader);
  bool available =
      std::any_of(p.status.conditions.begin(), p.status.conditions.end(),
                  [](const Condition& x) { return x.type == "Available" && x.status == "True"; });
  quorumHealthy_.Add({{"cluster", cluster}}).Set(available);
  const RollProgress& roll = p.status.roll;
  rollActive_.Add({{"cluster", cluster}}).Set(roll.active());
  rollRestarted_.Add({{"cluster", cluster}}).Set(static_cast<double>(roll.restarted.size()));
  int covered = 0;
  if (roll.active()) {
    for (const ObservedMember& m : o.members) {
      covered += m.exists && m.rolloutHash != roll.target && m.member.name != roll.current;
    }
    covered += static_cast<int>(roll.restarted.size()) + !roll.current.empty();
  }
  rollTotal_.Add({{"cluster", cluster}}).Set(covered);
  if (o.tls) {
    for (const auto& [member, notAfter] : o.tls->expiry) {
      certificateExpiry_.Add({{"cluster", cluster}, {"member", member}})
          .Set(static_cast<double>(notAfter));
    }
  }
}

}  // namespace zk::op
