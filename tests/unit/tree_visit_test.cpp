#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "tree/data_tree.h"
#include "tree_test_util.h"

namespace zk {
namespace {

using namespace zk::testing;

struct Copied {
  std::string data;
  std::int64_t aclRef;
  StatPersisted stat;
};

// Writes `from` into `to` the way a snapshot does: ACL map, then nodes in chunks.
void copyTree(const DataTree& from, DataTree& to, std::size_t chunk) {
  to.clear();
  from.aclCache().forEach(
      [&](std::int64_t ref, const AclList& acl) { to.aclCache().load(ref, acl); });
  std::string cursor;
  bool inclusive = true;
  for (;;) {
    auto last = from.visitFrom(cursor, inclusive, chunk, [&](std::string_view path, const Node& n) {
      to.loadNode(std::string(path), std::string(n.data()), n.aclRef, n.stat.persisted());
    });
    if (!last) break;
    cursor = *last;
    inclusive = false;
  }
  to.finishLoad();
  to.setLastProcessedZxid(from.lastProcessedZxid());
}

std::map<std::string, Copied> contents(const DataTree& tree) {
  std::map<std::string, Copied> out;
  tree.visitFrom("", true, SIZE_MAX, [&](std::string_view path, const Node& n) {
    out.emplace(std::string(path), Copied{std::string(n.data()), n.aclRef, n.stat.persisted()});
  });
  return out;
}

TEST(DataTreeSnapshot, ChunkedCopyRebuildsEverything) {
  DataTree a;
  a.apply(create("/p", 1, 1));
  a.apply(create("/p/e", 2, 1, true, 42));
  a.apply(txn(OpCode::kCreateContainer, 3, CreateContainerTxn{"/c", "", kOpen, 2}));
  a.apply(txn(OpCode::kCreateTTL, 4, CreateTTLTxn{"/t", "", kOpen, 3, 10}));
  a.apply(txn(OpCode::kSetACL, 5, SetACLTxn{"/p", {ACL{perms::kRead, Id{"digest", "u:h"}}}, 1}));
  a.apply(create("/c/x", 6, 1));
  a.apply(remove("/c/x", 7));
  DataTree b;
  copyTree(a, b, 2);
  EXPECT_EQ(b.nodeCount(), a.nodeCount());
  auto ca = contents(a), cb = contents(b);
  ASSERT_EQ(ca.size(), cb.size());
  for (const auto& [path, node] : ca) {
    ASSERT_TRUE(cb.count(path)) << path;
    EXPECT_EQ(cb[path].data, node.data) << path;
    EXPECT_EQ(cb[path].stat, node.stat) << path;
    EXPECT_EQ(b.acl(*b.find(path)), a.acl(*a.find(path))) << path;
    EXPECT_EQ(b.stat(*b.find(path)), a.stat(*a.find(path))) << path;
    EXPECT_EQ(b.children(*b.find(path)), a.children(*a.find(path))) << path;
  }
  EXPECT_EQ(b.ephemerals(42, ""), std::vector<std::string>{"/p/e"});
  EXPECT_EQ(b.reapable(1'000'000), a.reapable(1'000'000));
  EXPECT_EQ(b.approximateDataSize(), a.approximateDataSize());
  EXPECT_EQ(b.lastProcessedZxid(), 7);
  EXPECT_EQ(b.aclCache().size(), a.aclCache().size());
}

TEST(DataTreeSnapshot, LoadRejectsOrphansAndPurgesUnusedAcls) {
  DataTree tree;
  tree.clear();
  tree.aclCache().load(1, kOpen);
  tree.aclCache().load(2, {ACL{perms::kRead, Id{"world", "anyone"}}});
  tree.loadNode("", "", -1, StatPersisted{});
  EXPECT_THROW(tree.loadNode("/a/b", "", 1, StatPersisted{}), std::invalid_argument);
  tree.loadNode("/a", "", 1, StatPersisted{});
  tree.finishLoad();
  EXPECT_EQ(tree.aclCache().size(), 1u);
  EXPECT_EQ(tree.acl(*tree.find("/a")), kOpen);
  EXPECT_EQ(tree.children(*tree.find("/")), std::vector<std::string>{"a"});
}

TEST(DataTreeSnapshot, VisitReportsEndOnlyWhenExhausted) {
  DataTree tree;  // 4 system nodes
  std::size_t seen = 0;
  auto count = [&](std::string_view, const Node&) { ++seen; };
  EXPECT_EQ(tree.visitFrom("", true, 4, count), std::optional<std::string>("/zookeeper/quota"));
  EXPECT_EQ(tree.visitFrom("/zookeeper/quota", false, 4, count), std::nullopt);
  EXPECT_EQ(seen, 4u);
  EXPECT_EQ(tree.visitFrom("/zookeeper", false, 1, count),
            std::optional<std::string>("/zookeeper/config"));
}

// A fuzzy snapshot: the tree changes between chunks. Whatever is written must load
// (parents first), and every node that existed for the whole walk must be in it.
TEST(DataTreeSnapshot, ResumesWhileNodesComeAndGo) {
  std::mt19937 rng(20240607);
  DataTree tree;
  std::vector<std::string> live{"/"};
  std::int64_t zxid = 1;
  auto mutate = [&](int steps) {
    for (int i = 0; i < steps; ++i) {
      if (live.size() > 1 && rng() % 3 == 0) {
        std::string victim = live[1 + rng() % (live.size() - 1)];
        if (tree.stat(*tree.find(victim)).numChildren == 0) {
          tree.apply(remove(victim, zxid++));
          std::erase(live, victim);
        }
      } else {
        std::string parent = live[rng() % live.size()];
        std::string child = (parent == "/" ? "" : parent) + "/n" + std::to_string(rng() % 50);
        if (tree.apply(create(child, zxid++, -1)).err == Err::kOk) live.push_back(child);
      }
    }
  };
  mutate(300);
  std::set<std::string> stable;
  for (const auto& p : live) stable.insert(p == "/" ? "" : p);

  DataTree loaded;
  loaded.clear();
  tree.aclCache().forEach(
      [&](std::int64_t ref, const AclList& acl) { loaded.aclCache().load(ref, acl); });
  std::set<std::string> written;
  std::string cursor;
  bool inclusive = true;
  for (;;) {
    auto last = tree.visitFrom(cursor, inclusive, 7, [&](std::string_view path, const Node& n) {
      EXPECT_TRUE(written.insert(std::string(path)).second) << "visited twice: " << path;
      loaded.loadNode(std::string(path), std::string(n.data()), n.aclRef,
                      n.stat.persisted());  // throws on an orphan
    });
    mutate(5);
    // Nodes deleted during the walk are no longer stable.
    std::erase_if(stable, [&](const std::string& p) { return tree.find(p) == nullptr; });
    if (!last) break;
    cursor = *last;
    inclusive = false;
  }
  for (const auto& p : stable) EXPECT_TRUE(written.count(p)) << "missed " << p;
  EXPECT_GT(written.size(), 20u);
}

// A zookube snapshot lists nodes in PathLess order (loaded without searching); ZooKeeper's
// lists them parents first in any order. Both must build the same tree.
TEST(DataTreeSnapshot, SortedAndUnsortedSnapshotsLoadTheSameTree) {
  DataTree a;
  std::int64_t zxid = 0;
  for (const char* p : {"/q", "/q/r", "/q/r/s", "/q-1", "/q/t", "/a", "/a/b", "/zz", "/q/r/u"})
    a.apply(create(p, ++zxid, 1));
  std::vector<std::pair<std::string, Copied>> nodes;
  a.visitFrom("", true, SIZE_MAX, [&](std::string_view path, const Node& n) {
    nodes.emplace_back(std::string(path),
                       Copied{std::string(n.data()), n.aclRef, n.stat.persisted()});
  });
  std::mt19937 rng(3);
  for (int round = 0; round < 20; ++round) {
    auto order = nodes;
    if (round > 0) {  // a random parents-first order: shuffle, then stable-sort by depth
      std::shuffle(order.begin(), order.end(), rng);
      std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
        return std::count(x.first.begin(), x.first.end(), '/') <
               std::count(y.first.begin(), y.first.end(), '/');
      });
    }
    DataTree b;
    b.clear();
    a.aclCache().forEach(
        [&](std::int64_t ref, const AclList& acl) { b.aclCache().load(ref, acl); });
    for (const auto& [path, n] : order) b.loadNode(path, n.data, n.aclRef, n.stat);
    b.finishLoad();
    ASSERT_EQ(b.nodeCount(), a.nodeCount()) << round;
    for (const auto& [path, n] : nodes) {
      ASSERT_NE(b.find(path), nullptr) << path;
      EXPECT_EQ(b.children(*b.find(path)), a.children(*a.find(path))) << path << " " << round;
      EXPECT_EQ(b.stat(*b.find(path)), a.stat(*a.find(path))) << path << " " << round;
    }
    EXPECT_EQ(b.approximateDataSize(), a.approximateDataSize());
  }
}

TEST(DataTreeSnapshot, SortedLoadStillRejectsOrphansAndReplacesDuplicates) {
  DataTree tree;
  tree.clear();
  tree.aclCache().load(1, kOpen);
  tree.loadNode("", "", -1, StatPersisted{});
  tree.loadNode("/a", "", 1, StatPersisted{});
  tree.loadNode("/a/b", "", 1, StatPersisted{});
  EXPECT_THROW(tree.loadNode("/c/d", "", 1, StatPersisted{}), std::invalid_argument);
  tree.loadNode("/c", "old", 1, StatPersisted{});
  tree.loadNode("/c", "new", 1, StatPersisted{});
  tree.loadNode("/c/d", "", 1, StatPersisted{});
  tree.finishLoad();
  EXPECT_EQ(tree.find("/c")->data(), "new");
  EXPECT_EQ(tree.children(*tree.find("/")), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(tree.children(*tree.find("/c")), std::vector<std::string>{"d"});
}

}  // namespace
}  // namespace zk
