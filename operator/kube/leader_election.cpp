#include "kube/leader_election.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

namespace zk::op::kube {
namespace {

using web::json::value;
using Clock = std::chrono::system_clock;

}  // namespace

std::string microTime(Clock::time_point t) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros % 1000000));
  return buf;
}

std::optional<Clock::time_point> parseMicroTime(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  long long micros = 0;
  std::string rest = text.substr(static_cast<size_t>(consumed));
  if (rest.starts_with(".")) {
    size_t i = 1;
    long long scale = 100000;
    for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9'; ++i, scale /= 10) {
      if (scale > 0) micros += (rest[i] - '0') * scale;
    }
    rest = rest.substr(i);
  }
  if (rest != "Z") return std::nullopt;
  return Clock::from_time_t(timegm(&tm)) + std::chrono::microseconds(micros);
}

LeaseRecord leaseRecordOf(const value& lease) {
  LeaseRecord r;
  if (!lease.has_object_field("spec")) return r;
  const value& spec = lease.at("spec");
  auto text = [&](const char* field) {
    return spec.has_string_field(field) ? spec.at(field).as_string() : std::string();
  };
  r.holder = text("holderIdentity");
  r.acquireTime = text("acquireTime");
  r.renewTime = text("renewTime");
  if (spec.has_integer_field("leaseDurationSeconds")) {
    r.leaseDurationSeconds = spec.at("leaseDurationSeconds").as_integer();
  }
  if (spec.has_integer_field("leaseTransitions")) {
    r.transitions = spec.at("leaseTransitions").as_integer();
  }
  return r;
}

LeaderElection::LeaderElection(std::string identity, LeaseTimings timings)
    : identity_(std::move(identity)), timings_(timings) {}

void LeaderElection::observe(const std::optional<LeaseRecord>& record, Time now) {
  if (record != record_) observedAt_ = now;
  record_ = record;
  if (!record_ || record_->holder != identity_) renewedAt_.reset();
}

bool LeaderElection::mayWrite(Time now) const {
  if (!record_ || record_->holder.empty() || record_->holder == identity_) return true;
  auto valid = record_->leaseDurationSeconds > 0
                   ? std::chrono::milliseconds(record_->leaseDurationSeconds * 1000LL)
                   : timings_.leaseDuration;
  return now >= observedAt_ + valid;
}

void LeaderElection::renewed(const LeaseRecord& record, Time now) {
  record_ = record;
  observedAt_ = now;
  renewedAt_ = now;
}

bool LeaderElection::leading(Time now) const {
  return renewedAt_ && record_ && record_->holder == identity_ &&
         now < *renewedAt_ + timings_.renewDeadline;
}

std::string LeaderElection::otherHolder() const {
  return record_ && record_->holder != identity_ ? record_->holder : std::string();
}

LeaderElector::LeaderElector(KubeClient& client, LeaseOptions options, WallClock wall,
                             SteadyClock steady)
    : client_(client),
      options_(std::move(options)),
      wall_(std::move(wall)),
      steady_(std::move(steady)),
      election_(options_.identity, options_.timings) {}

value LeaderElector::leaseObject(const value& previous, bool takeOver) const {
  value lease = previous.is_null() ? value::object() : previous;
  lease["apiVersion"] = value::string("coordination.k8s.io/v1");
  lease["kind"] = value::string("Lease");
  if (previous.is_null()) {
    value meta = value::object();
    meta["name"] = value::string(options_.name);
    meta["namespace"] = value::string(options_.ns);
    lease["metadata"] = meta;
  }
  value spec = lease.has_object_field("spec") ? lease.at("spec") : value::object();
  std::string now = microTime(wall_());
  if (takeOver) {
    int transitions =
        spec.has_integer_field("leaseTransitions") ? spec.at("leaseTransitions").as_integer() : 0;
    spec["holderIdentity"] = value::string(options_.identity);
    spec["acquireTime"] = value::string(now);
    spec["leaseTransitions"] = value::number(previous.is_null() ? 0 : transitions + 1);
  }
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options_.timings.leaseDuration);
  spec["leaseDurationSeconds"] =
      value::number(static_cast<int>(std::max<long long>(1, seconds.count())));
  spec["renewTime"] = value::string(now);
  lease["spec"] = spec;
  return lease;
}

LeaderElector::Attempt LeaderElector::tryAcquireOrRenew() {
  std::string path = resourcePath("coordination.k8s.io/v1", "Lease", options_.ns, options_.name);
  std::optional<value> current;
  try {
    current = client_.getIfExists(path);
  } catch (const std::exception& e) {
    return {Outcome::kFailed, std::string("reading the Lease: ") + e.what()};
  }
  election_.observe(current ? std::optional(leaseRecordOf(*current)) : std::nullopt, steady_());
  if (!election_.mayWrite(steady_())) return {Outcome::kHeldByOther, election_.otherHolder()};
  bool mine = current && leaseRecordOf(*current).holder == options_.identity;
  value written = leaseObject(current ? *current : value::null(), !mine);
  try {
    if (current) {
      client_.replace(path, written);
    } else {
      client_.create(resourcePath("coordination.k8s.io/v1", "Lease", options_.ns), written);
    }
  } catch (const ApiError& e) {
    // 409: another candidate wrote first; it leads, or will tell us on the next read.
    if (e.status() == 409) return {Outcome::kNotLeading, "another candidate wrote the Lease first"};
    return {Outcome::kFailed, std::string("writing the Lease: ") + e.what()};
  } catch (const std::exception& e) {
    return {Outcome::kFailed, std::string("writing the Lease: ") + e.what()};
  }
  election_.renewed(leaseRecordOf(written), steady_());
  return {Outcome::kLeading, {}};
}

std::string describe(const LeaderElector::Attempt& a) {
  switch (a.outcome) {
    case LeaderElector::Outcome::kLeading:
      return "holding the Lease";
    case LeaderElector::Outcome::kHeldByOther:
      return "standby: " + a.detail + " holds the Lease";
    case LeaderElector::Outcome::kNotLeading:
      return "standby: " + a.detail;
    case LeaderElector::Outcome::kFailed:
      break;
  }
  return "Lease unavailable: " + a.detail;
}

void LeaderElector::release() {
  std::string path = resourcePath("coordination.k8s.io/v1", "Lease", options_.ns, options_.name);
  try {
    std::optional<value> current = client_.getIfExists(path);
    if (!current || !current->has_object_field("spec")) return;
    value lease = *current;
    const value& spec = lease.at("spec");
    if (!spec.has_string_field("holderIdentity") ||
        spec.at("holderIdentity").as_string() != options_.identity) {
      return;
    }
    // An empty holder lets the next candidate take over at once, as client-go's
    // ReleaseOnCancel does.
    lease["spec"]["holderIdentity"] = value::string("");
    lease["spec"]["leaseDurationSeconds"] = value::number(1);
    client_.replace(path, lease);
  } catch (const std::exception&) {
  }
}

}  // namespace zk::op::kube
