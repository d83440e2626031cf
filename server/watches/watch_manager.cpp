#include "watches/watch_manager.h"

#include <algorithm>

namespace zk {
namespace {

// "/a/b" -> "/a" -> "/" -> "" (done), as ZooKeeper's PathParentIterator walks.
std::string parentForWatch(const std::string& path) {
  if (path == "/") return {};
  auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void WatchManager::addDataWatch(std::string_view path, std::int64_t session) {
  add(path, session, kData);
}

void WatchManager::addChildWatch(std::string_view path, std::int64_t session) {
  add(path, session, kChild);
}

void WatchManager::addPersistentWatch(std::string_view path, std::int64_t session, bool recursive) {
  add(path, session, recursive ? kRecursive : kPersistent);
}

void WatchManager::add(std::string_view path, std::int64_t session, std::uint8_t modes) {
  auto& sessions = byPath_[std::string(path)];
  auto [it, inserted] = sessions.try_emplace(session, 0);
  if (inserted) {
    ++watchCount_;
    bySession_[session].emplace(path);
  }
  if ((modes & kRecursive) && !(it->second & kRecursive)) ++recursiveCount_;
  it->second |= modes;
}

std::uint8_t WatchManager::clear(const std::string& path, std::int64_t session,
                                 std::uint8_t modes) {
  auto entry = byPath_.find(path);
  if (entry == byPath_.end()) return 0;
  auto it = entry->second.find(session);
  if (it == entry->second.end()) return 0;
  std::uint8_t had = it->second & modes;
  if (had & kRecursive) --recursiveCount_;
  it->second &= ~modes;
  if (it->second == 0) {
    entry->second.erase(it);
    if (entry->second.empty()) byPath_.erase(entry);
    auto owned = bySession_.find(session);
    owned->second.erase(path);
    if (owned->second.empty()) bySession_.erase(owned);
    --watchCount_;
  }
  return had;
}

void WatchManager::fireAt(const std::string& path, std::uint8_t fires, std::uint8_t consumes,
                          std::unordered_set<std::int64_t>& sessions) {
  auto entry = byPath_.find(path);
  if (entry == byPath_.end()) return;
  std::vector<std::int64_t> spent;
  for (const auto& [session, modes] : entry->second) {
    if (!(modes & fires)) continue;
    sessions.insert(session);
    if (modes & consumes) spent.push_back(session);
  }
  for (auto session : spent) clear(path, session, consumes);
}

std::vector<Delivery> WatchManager::trigger(const WatchTrigger& trigger) {
  std::unordered_set<std::int64_t> sessions;
  switch (trigger.type) {
    case EventType::kNodeChildrenChanged:
      fireAt(trigger.path, kChild | kPersistent, kChild, sessions);
      break;
    case EventType::kNodeDeleted:
      fireAt(trigger.path, kData | kChild | kPersistent | kRecursive, kData | kChild, sessions);
      break;
    default:
      fireAt(trigger.path, kData | kPersistent | kRecursive, kData, sessions);
      break;
  }
  if (trigger.type != EventType::kNodeChildrenChanged && recursiveCount_ > 0) {
    for (auto p = parentForWatch(trigger.path); !p.empty(); p = parentForWatch(p)) {
      fireAt(p, kRecursive, 0, sessions);
    }
  }
  std::vector<std::int64_t> ordered(sessions.begin(), sessions.end());
  std::sort(ordered.begin(), ordered.end());
  std::vector<Delivery> out;
  out.reserve(ordered.size());
  for (auto session : ordered) {
    out.push_back({session, WatcherEvent{static_cast<std::int32_t>(trigger.type),
                                         static_cast<std::int32_t>(KeeperState::kSyncConnected),
                                         trigger.path}});
  }
  return out;
}

namespace {

std::uint8_t modesOf(WatcherType type) {
  switch (type) {
    case WatcherType::kChildren:
      return 2;
    case WatcherType::kData:
      return 1;
    case WatcherType::kPersistent:
      return 4;
    case WatcherType::kPersistentRecursive:
      return 8;
    case WatcherType::kAny:
      return 0xF;
  }
  return 0;
}

}  // namespace

bool WatchManager::contains(std::int64_t session, std::string_view path, WatcherType type) const {
  auto entry = byPath_.find(std::string(path));
  if (entry == byPath_.end()) return false;
  auto it = entry->second.find(session);
  return it != entry->second.end() && (it->second & modesOf(type)) != 0;
}

bool WatchManager::remove(std::int64_t session, std::string_view path, WatcherType type) {
  return clear(std::string(path), session, modesOf(type)) != 0;
}

void WatchManager::removeSession(std::int64_t session) {
  auto owned = bySession_.find(session);
  if (owned == bySession_.end()) return;
  std::vector<std::string> paths(owned->second.begin(), owned->second.end());
  for (const auto& path : paths) clear(path, session, kAllModes);
}

std::map<std::int64_t, std::vector<std::string>> WatchManager::pathsBySession() const {
  std::map<std::int64_t, std::vector<std::string>> out;
  for (const auto& [session, paths] : bySession_) {
    auto& list = out[session];
    list.assign(paths.begin(), paths.end());
    std::sort(list.begin(), list.end());
  }
  return out;
}

std::map<std::string, std::vector<std::int64_t>> WatchManager::sessionsByPath() const {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (const auto& [path, sessions] : byPath_) {
    auto& list = out[path];
    for (const auto& [session, modes] : sessions) list.push_back(session);
    std::sort(list.begin(), list.end());
  }
  return out;
}

SessionWatches WatchManager::watchesOf(std::int64_t session) const {
  SessionWatches out;
  auto owned = bySession_.find(session);
  if (owned == bySession_.end()) return out;
  for (const auto& path : owned->second) {
    std::uint8_t modes = byPath_.at(path).at(session);
    if (modes & kData) out.data.push_back(path);
    if (modes & kChild) out.child.push_back(path);
    if (modes & kPersistent) out.persistent.push_back(path);
    if (modes & kRecursive) out.persistentRecursive.push_back(path);
  }
  for (auto* list : {&out.data, &out.child, &out.persistent, &out.persistentRecursive}) {
    std::sort(list->begin(), list->end());
  }
  return out;
}

}  // namespace zk
