#include <gtest/gtest.h>

#include "watches/watch_manager.h"

namespace zk {
namespace {

std::vector<std::int64_t> fire(WatchManager& w, const std::string& path, EventType type) {
  std::vector<std::int64_t> sessions;
  for (const auto& d : w.trigger({path, type})) {
    EXPECT_EQ(d.event.path, path);
    EXPECT_EQ(d.event.type, static_cast<int>(type));
    EXPECT_EQ(d.event.state, static_cast<int>(KeeperState::kSyncConnected));
    sessions.push_back(d.session);
  }
  return sessions;
}

using Ids = std::vector<std::int64_t>;

TEST(Watches, DataWatchFiresOnceForDataEvents) {
  WatchManager w;
  w.addDataWatch("/a", 1);
  EXPECT_EQ(fire(w, "/a", EventType::kNodeChildrenChanged), Ids{});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDataChanged), Ids{1});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDataChanged), Ids{});
  EXPECT_EQ(w.watchCount(), 0u);
  w.addDataWatch("/missing", 2);  // exists on a missing node
  EXPECT_EQ(fire(w, "/missing", EventType::kNodeCreated), Ids{2});
}

TEST(Watches, ChildWatchFiresOnChildrenChangedAndDelete) {
  WatchManager w;
  w.addChildWatch("/a", 1);
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDataChanged), Ids{});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeCreated), Ids{});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeChildrenChanged), Ids{1});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeChildrenChanged), Ids{});
  w.addChildWatch("/a", 1);
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDeleted), Ids{1});
  EXPECT_EQ(w.watchCount(), 0u);
}

TEST(Watches, OneDeliveryPerSessionWhenDataAndChildWatchesBothFire) {
  WatchManager w;
  w.addDataWatch("/a", 1);
  w.addChildWatch("/a", 1);
  w.addDataWatch("/a", 2);
  w.addPersistentWatch("/", 3, true);
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDeleted), (Ids{1, 2, 3}));
  EXPECT_FALSE(w.contains(1, "/a", WatcherType::kAny));
}

TEST(Watches, PersistentWatchStaysAndSeesChildrenButNotDescendants) {
  WatchManager w;
  w.addPersistentWatch("/a", 1, false);
  EXPECT_EQ(fire(w, "/a", EventType::kNodeCreated), Ids{1});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDataChanged), Ids{1});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeChildrenChanged), Ids{1});
  EXPECT_EQ(fire(w, "/a/b", EventType::kNodeCreated), Ids{});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDeleted), Ids{1});
  EXPECT_TRUE(w.contains(1, "/a", WatcherType::kPersistent));
}

TEST(Watches, RecursiveWatchSeesSubtreeButNotChildrenChanged) {
  WatchManager w;
  w.addPersistentWatch("/a", 1, true);
  EXPECT_EQ(fire(w, "/a/b/c", EventType::kNodeCreated), Ids{1});
  EXPECT_EQ(fire(w, "/a/b/c", EventType::kNodeDataChanged), Ids{1});
  EXPECT_EQ(fire(w, "/a/b/c", EventType::kNodeDeleted), Ids{1});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDataChanged), Ids{1});
  EXPECT_EQ(fire(w, "/a/b", EventType::kNodeChildrenChanged), Ids{});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeChildrenChanged), Ids{});
  EXPECT_EQ(fire(w, "/ab", EventType::kNodeCreated), Ids{});
  EXPECT_EQ(fire(w, "/", EventType::kNodeDataChanged), Ids{});
  w.addPersistentWatch("/", 2, true);
  EXPECT_EQ(fire(w, "/x", EventType::kNodeCreated), Ids{2});
  EXPECT_EQ(fire(w, "/a/b", EventType::kNodeCreated), (Ids{1, 2}));
}

TEST(Watches, ModesCoexistAndFireOnce) {
  WatchManager w;
  w.addPersistentWatch("/a", 1, true);
  w.addDataWatch("/a", 1);
  w.addPersistentWatch("/", 1, true);
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDataChanged), Ids{1});
  EXPECT_FALSE(w.contains(1, "/a", WatcherType::kData));
  EXPECT_TRUE(w.contains(1, "/a", WatcherType::kPersistentRecursive));
  EXPECT_EQ(w.watchCount(), 2u);
}

TEST(Watches, ContainsAndRemoveByType) {
  WatchManager w;
  w.addDataWatch("/a", 1);
  w.addChildWatch("/a", 1);
  w.addPersistentWatch("/a", 1, false);
  EXPECT_TRUE(w.contains(1, "/a", WatcherType::kData));
  EXPECT_FALSE(w.contains(1, "/a", WatcherType::kPersistentRecursive));
  EXPECT_FALSE(w.contains(2, "/a", WatcherType::kAny));
  EXPECT_TRUE(w.remove(1, "/a", WatcherType::kChildren));
  EXPECT_FALSE(w.remove(1, "/a", WatcherType::kChildren));
  EXPECT_TRUE(w.contains(1, "/a", WatcherType::kData));
  EXPECT_EQ(fire(w, "/a", EventType::kNodeChildrenChanged), Ids{1});  // persistent still there
  EXPECT_TRUE(w.remove(1, "/a", WatcherType::kAny));
  EXPECT_FALSE(w.contains(1, "/a", WatcherType::kAny));
  EXPECT_EQ(w.watchCount(), 0u);
  EXPECT_EQ(w.watchedPathCount(), 0u);
  EXPECT_EQ(w.sessionCount(), 0u);
}

TEST(Watches, RemovingRecursiveStopsAncestorDelivery) {
  WatchManager w;
  w.addPersistentWatch("/a", 1, true);
  EXPECT_TRUE(w.remove(1, "/a", WatcherType::kPersistentRecursive));
  EXPECT_EQ(fire(w, "/a/b", EventType::kNodeCreated), Ids{});
}

TEST(Watches, RemoveSessionAndListings) {
  WatchManager w;
  w.addDataWatch("/a", 1);
  w.addChildWatch("/b", 1);
  w.addDataWatch("/a", 2);
  w.addPersistentWatch("/c", 2, true);
  EXPECT_EQ(w.watchCount(), 4u);
  EXPECT_EQ(w.watchedPathCount(), 3u);
  EXPECT_EQ(w.sessionCount(), 2u);
  auto bySession = w.pathsBySession();
  EXPECT_EQ(bySession[1], (std::vector<std::string>{"/a", "/b"}));
  auto byPath = w.sessionsByPath();
  EXPECT_EQ(byPath["/a"], (Ids{1, 2}));
  SessionWatches mine = w.watchesOf(2);
  EXPECT_EQ(mine.data, std::vector<std::string>{"/a"});
  EXPECT_EQ(mine.persistentRecursive, std::vector<std::string>{"/c"});
  EXPECT_TRUE(mine.child.empty());
  w.removeSession(2);
  EXPECT_EQ(w.watchCount(), 2u);
  EXPECT_EQ(fire(w, "/c/x", EventType::kNodeCreated), Ids{});
  EXPECT_EQ(fire(w, "/a", EventType::kNodeDeleted), Ids{1});
}

}  // namespace
}  // namespace zk
