#include "tree/quota.h"

#include <charconv>
#include <vector>

namespace zk::quota {
namespace {

std::optional<std::int64_t> number(std::string_view s) {
  std::int64_t v = 0;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string_view topNamespace(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') return {};
  path.remove_prefix(1);
  return path.substr(0, path.find('/'));
}

std::string limitPath(std::string_view path) {
  return std::string(kRoot) + std::string(path) + "/" + std::string(kLimitNode);
}

std::string statPath(std::string_view path) {
  return std::string(kRoot) + std::string(path) + "/" + std::string(kStatNode);
}

StatsTrack StatsTrack::parse(std::string_view text) {
  StatsTrack track;
  while (!text.empty()) {
    std::size_t end = text.find_first_of(",;");
    std::string_view pair = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    std::size_t eq = pair.find('=');
    if (pair.empty() || eq == std::string_view::npos) continue;
    std::string_view key = pair.substr(0, eq);
    // Java's split("=") drops trailing empty parts: "bytes=-1=" is bytes -1.
    std::string_view value = pair.substr(eq + 1);
    value = value.substr(0, value.find('='));
    if (value.empty()) {
      track.set(key, -1);
    } else if (auto v = number(value)) {
      track.set(key, *v);
    }
  }
  return track;
}

std::string StatsTrack::format() const {
  std::string out = "count=" + std::to_string(count()) + ",bytes=" + std::to_string(bytes());
  bool first = true;
  for (const auto& [key, value] : values_) {  // std::map: sorted, as ZooKeeper sorts them
    if (key == "count" || key == "bytes") continue;
    if (first) out += "=";
    first = false;
    out += ";" + key + "=" + std::to_string(value);
  }
  return out;
}

std::int64_t StatsTrack::get(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? -1 : it->second;
}

void QuotaRoots::add(std::string_view path) {
  if (!path.empty()) roots_.emplace(path);
}

void QuotaRoots::remove(std::string_view path) {
  if (auto it = roots_.find(path); it != roots_.end()) roots_.erase(it);
}

std::optional<std::string_view> QuotaRoots::governing(std::string_view path) const {
  if (roots_.empty()) return std::nullopt;
  // From the path itself up through its ancestors: the first one that is a root is the deepest.
  std::string_view candidate = path;
  while (!candidate.empty() && candidate != "/") {
    if (auto it = roots_.find(candidate); it != roots_.end()) return std::string_view(*it);
    std::size_t slash = candidate.rfind('/');
    if (slash == std::string_view::npos) break;
    candidate = candidate.substr(0, slash);
  }
  return std::nullopt;
}

std::optional<std::string_view> quotaNodeOwner(std::string_view path, std::string_view node) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || path.substr(slash + 1) != node) return std::nullopt;
  std::string_view parent = path.substr(0, slash);
  // ZooKeeper tests the parent's prefix as a string, and a quota root is never empty.
  if (!parent.starts_with(kRoot) || parent.size() == kRoot.size()) return std::nullopt;
  return parent.substr(kRoot.size());
}

}  // namespace zk::quota
