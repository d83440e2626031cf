#include "kube/leader_election.h"

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

LeaderElector::LeaderElector(KubeClient& client, LeaseOptions options, WallClock now)
    : client_(client), options_(std::move(options)), now_(std::move(now)) {}

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
  std::string now = microTime(now_());
  if (takeOver) {
    int transitions =
        spec.has_integer_field("leaseTransitions") ? spec.at("leaseTransitions").as_integer() : 0;
    spec["holderIdentity"] = value::string(options_.identity);
    spec["acquireTime"] = value::string(now);
    spec["leaseTransitions"] = value::number(previous.is_null() ? 0 : transitions + 1);
  }
  spec["leaseDurationSeconds"] = value::number(static_cast<int>(options_.leaseDuration.count()));
  spec["renewTime"] = value::string(now);
  lease["spec"] = spec;
  return lease;
}

bool LeaderElector::tryAcquireOrRenew() {
  std::string path = resourcePath("coordination.k8s.io/v1", "Lease", options_.ns, options_.name);
  try {
    std::optional<value> current = client_.getIfExists(path);
    if (!current) {
      client_.create(resourcePath("coordination.k8s.io/v1", "Lease", options_.ns),
                     leaseObject(value::null(), true));
      return true;
    }
    const value spec = current->has_object_field("spec") ? current->at("spec") : value::object();
    std::string holder =
        spec.has_string_field("holderIdentity") ? spec.at("holderIdentity").as_string() : "";
    bool mine = holder == options_.identity;
    if (!mine && !holder.empty()) {
      auto renewed = spec.has_string_field("renewTime")
                         ? parseMicroTime(spec.at("renewTime").as_string())
                         : std::nullopt;
      int seconds = spec.has_integer_field("leaseDurationSeconds")
                        ? spec.at("leaseDurationSeconds").as_integer()
                        : static_cast<int>(options_.leaseDuration.count());
      if (renewed && now_() < *renewed + std::chrono::seconds(seconds)) return false;
    }
    client_.replace(path, leaseObject(*current, !mine));
    return true;
  } catch (const ApiError&) {
    return false;  // 409: another candidate wrote first; anything else: cannot prove we lead
  } catch (const std::exception&) {
    return false;  // transport errors and timeouts
  }
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
