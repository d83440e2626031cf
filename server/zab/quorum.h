#pragma once
// Who votes: a majority of participants. Observers are members that never count.

#include <cstdint>
#include <map>
#include <set>
#include <utility>

namespace zk::zab {

// NonVoting: this server's own entry while the ensemble's configuration leaves it out (joining
// before `reconfig -add`, or removed by one): it follows and acks, but neither votes nor counts.
enum class Role { Participant, Observer, NonVoting };
using Members = std::map<std::int64_t, Role>;

class Quorum {
 public:
  explicit Quorum(Members members) : members_(std::move(members)) {
    for (const auto& [sid, role] : members_) voters_ += role == Role::Participant ? 1 : 0;
  }
  bool isVoter(std::int64_t sid) const {
    auto it = members_.find(sid);
    return it != members_.end() && it->second == Role::Participant;
  }
  bool isMember(std::int64_t sid) const { return members_.count(sid) != 0; }
  // True when the voters among `sids` form a strict majority of all voters.
  bool isQuorum(const std::set<std::int64_t>& sids) const {
    std::size_t n = 0;
    for (auto sid : sids) n += isVoter(sid) ? 1 : 0;
    return n * 2 > voters_;
  }
  const Members& members() const { return members_; }

 private:
  Members members_;
  std::size_t voters_ = 0;
};

}  // namespace zk::zab
