#include <gtest/gtest.h>

#include "tree/data_tree.h"
#include "tree_test_util.h"

namespace zk {
namespace {

// The counters the tree stores (cversion counts creates only), as snapshots and replay see them.
Stat stored(const DataTree& tree, std::string_view path) {
  const Node* node = tree.find(path);
  return Stat::from(node->stat.persisted(), static_cast<std::int32_t>(node->data().size()),
                    tree.stat(*node).numChildren);
}

TEST(DataTree, ClientStatShowsCreatesPlusDeletesAndHidesNonSessionOwners) {
  DataTree tree;
  // A fresh root has one child it never counted a create for: ZooKeeper shows -1.
  EXPECT_EQ(tree.stat(*tree.find("/")).cversion, -1);
  TxnHeader h{0, 0, 1, 0, static_cast<int>(OpCode::kCreateContainer)};
  tree.apply(Txn{h, CreateContainerTxn{"/c", "", {ACL{31, {"world", "anyone"}}}, 1}});
  h = {0, 0, 2, 0, static_cast<int>(OpCode::kCreate)};
  tree.apply(Txn{h, CreateTxn{"/c/x", "", {ACL{31, {"world", "anyone"}}}, false, 1}});
  h = {0, 0, 3, 0, static_cast<int>(OpCode::kDelete)};
  tree.apply(Txn{h, DeleteTxn{"/c/x"}});
  Stat c = tree.stat(*tree.find("/c"));
  EXPECT_EQ(c.cversion, 2) << "one create and one delete";
  EXPECT_EQ(c.ephemeralOwner, 0) << "container owner is not shown to clients";
  EXPECT_EQ(tree.find("/c")->stat.cversion, 1);
}

using namespace zk::testing;

TEST(DataTree, StartsWithZooKeepersSystemNodes) {
  DataTree tree;
  EXPECT_EQ(tree.nodeCount(), 4u);
  const Node* root = tree.find("/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root, tree.find(""));
  EXPECT_EQ(tree.children(*root), std::vector<std::string>{"zookeeper"});
  EXPECT_EQ(tree.children(*tree.find("/zookeeper")), (std::vector<std::string>{"config", "quota"}));
  EXPECT_EQ(tree.stat(*root).numChildren, 1);
  EXPECT_EQ(tree.acl(*root), AclCache::openAclUnsafe());
  const Node* config = tree.find("/zookeeper/config");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(tree.acl(*config), (AclList{ACL{perms::kRead, Id{"world", "anyone"}}}));
  EXPECT_EQ(tree.stat(*config).aversion, -1);
  EXPECT_EQ(tree.stat(*config).czxid, 0);
  // "" + "/" + "/zookeeper" + "/zookeeper/quota" + "/zookeeper/config", as ZooKeeper sums.
  EXPECT_EQ(tree.approximateDataSize(), 0 + 1 + 10 + 16 + 17);
  EXPECT_EQ(tree.find("/zookeeper/"), nullptr);
}

TEST(DataTree, CreateSetsStatAndBumpsParent) {
  DataTree tree;
  ApplyResult r = tree.apply(create("/a", 0x100, 1));
  EXPECT_EQ(r.err, Err::kOk);
  EXPECT_EQ(r.path, "/a");
  EXPECT_EQ(r.stat.czxid, 0x100);
  EXPECT_EQ(r.stat.mzxid, 0x100);
  EXPECT_EQ(r.stat.pzxid, 0x100);
  EXPECT_EQ(r.stat.ctime, 1000 + 0x100);
  EXPECT_EQ(r.stat.mtime, r.stat.ctime);
  EXPECT_EQ(r.stat.version, 0);
  EXPECT_EQ(r.stat.cversion, 0);
  EXPECT_EQ(r.stat.aversion, 0);
  EXPECT_EQ(r.stat.ephemeralOwner, 0);
  EXPECT_EQ(r.stat.dataLength, 4);  // "d:/a"
  EXPECT_EQ(r.stat.numChildren, 0);
  Stat root = stored(tree, "/");
  EXPECT_EQ(root.cversion, 1);
  EXPECT_EQ(root.pzxid, 0x100);
  EXPECT_EQ(root.numChildren, 2);
  EXPECT_EQ(tree.lastProcessedZxid(), 0x100);
  ASSERT_EQ(r.triggers.size(), 2u);
  EXPECT_EQ(r.triggers[0].path, "/a");
  EXPECT_EQ(r.triggers[0].type, EventType::kNodeCreated);
  EXPECT_EQ(r.triggers[1].path, "/");
  EXPECT_EQ(r.triggers[1].type, EventType::kNodeChildrenChanged);
}

TEST(DataTree, SetDataOfAnotherLengthKeepsTheNodesChildrenAndCounters) {
  // A new length moves the node to a new allocation; nothing about it may change but the data.
  DataTree tree;
  tree.apply(create("/a", 1, 1));
  tree.apply(create("/a/b", 2, 1));
  tree.apply(create("/a/c", 3, 2));
  std::int64_t sizeWithoutData =
      tree.approximateDataSize() - static_cast<std::int64_t>(tree.find("/a")->data().size());
  std::int32_t version = 0;
  std::int64_t zxid = 4;
  for (const std::string& data : {std::string(), std::string("same"), std::string("SAME"),
                                  std::string(1000, 'x'), std::string(7, 'y')}) {
    ApplyResult r = tree.apply(setData("/a", data, ++version, zxid++));
    ASSERT_EQ(r.err, Err::kOk);
    EXPECT_EQ(tree.find("/a")->data(), data);
    EXPECT_EQ(r.stat.dataLength, static_cast<std::int32_t>(data.size()));
    EXPECT_EQ(r.stat.numChildren, 2);
    EXPECT_EQ(tree.children(*tree.find("/a")), (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(stored(tree, "/a").cversion, 2);
    EXPECT_EQ(tree.approximateDataSize(), sizeWithoutData + static_cast<std::int64_t>(data.size()));
  }
  EXPECT_EQ(tree.countDescendants("/"), 6);
  EXPECT_EQ(tree.apply(remove("/a/b", zxid)).err, Err::kOk);
  EXPECT_EQ(tree.stat(*tree.find("/a")).numChildren, 1);
}

TEST(DataTree, SetDataTakesVersionFromTxnAndDeleteMovesOnlyPzxid) {
  DataTree tree;
  tree.apply(create("/a", 1, 1));
  tree.apply(create("/a/b", 2, 1));
  ApplyResult set = tree.apply(setData("/a/b", "xyz", 7, 3));
  EXPECT_EQ(set.err, Err::kOk);
  EXPECT_EQ(set.stat.version, 7);
  EXPECT_EQ(set.stat.mzxid, 3);
  EXPECT_EQ(set.stat.mtime, 1003);
  EXPECT_EQ(set.stat.czxid, 2);
  EXPECT_EQ(set.stat.dataLength, 3);
  ASSERT_EQ(set.triggers.size(), 1u);
  EXPECT_EQ(set.triggers[0].type, EventType::kNodeDataChanged);

  ApplyResult del = tree.apply(remove("/a/b", 4));
  EXPECT_EQ(del.err, Err::kOk);
  Stat a = stored(tree, "/a");
  EXPECT_EQ(a.numChildren, 0);
  EXPECT_EQ(a.cversion, 1);  // ZooKeeper 3.8 counts creations only
  EXPECT_EQ(a.pzxid, 4);
  EXPECT_EQ(tree.find("/a/b"), nullptr);
  ASSERT_EQ(del.triggers.size(), 2u);
  EXPECT_EQ(del.triggers[0].type, EventType::kNodeDeleted);
  EXPECT_EQ(del.triggers[1].path, "/a");
  EXPECT_EQ(tree.apply(setData("/a/b", "x", 1, 5)).err, Err::kNoNode);
}

TEST(DataTree, SetAclSetsAversionAndRepointsReference) {
  DataTree tree;
  tree.apply(create("/a", 1, 1));
  AclList readOnly{ACL{perms::kRead, Id{"world", "anyone"}}};
  ApplyResult r = tree.apply(txn(OpCode::kSetACL, 2, SetACLTxn{"/a", readOnly, 3}));
  EXPECT_EQ(r.err, Err::kOk);
  EXPECT_EQ(r.stat.aversion, 3);
  EXPECT_EQ(r.stat.mzxid, 1);  // an ACL change is not a data change
  EXPECT_TRUE(r.triggers.empty());
  EXPECT_EQ(tree.acl(*tree.find("/a")), readOnly);
  // Same list as /zookeeper/config: one shared reference, used twice.
  EXPECT_EQ(tree.find("/a")->aclRef, tree.find("/zookeeper/config")->aclRef);
  EXPECT_EQ(tree.aclCache().usages(tree.find("/a")->aclRef), 2);
}

TEST(DataTree, EphemeralContainerAndTtlOwners) {
  DataTree tree;
  tree.apply(create("/e", 1, 1, true, 0x77));
  tree.apply(txn(OpCode::kCreateContainer, 2, CreateContainerTxn{"/c", "", kOpen, 2}));
  tree.apply(txn(OpCode::kCreateTTL, 3, CreateTTLTxn{"/t", "", kOpen, 3, 5000}));
  EXPECT_EQ(tree.find("/e")->stat.ephemeralOwner, 0x77);
  EXPECT_EQ(tree.find("/c")->stat.ephemeralOwner, kContainerOwner);
  EXPECT_EQ(tree.find("/t")->stat.ephemeralOwner, kTtlOwnerMask | 5000);
  EXPECT_EQ(tree.ephemerals(0x77, ""), std::vector<std::string>{"/e"});
  EXPECT_EQ(tree.sessionsWithEphemerals(), std::vector<std::int64_t>{0x77});
  EXPECT_EQ(tree.containerCount(), 1u);
  EXPECT_EQ(tree.ttlCount(), 1u);
  EXPECT_EQ(ttlOf(tree.find("/t")->stat.ephemeralOwner), 5000);
}

TEST(DataTree, EphemeralsFilterByPrefix) {
  DataTree tree;
  tree.apply(create("/a", 1, 1));
  tree.apply(create("/a/x", 2, 1, true, 9));
  tree.apply(create("/b", 3, 2, true, 9));
  EXPECT_EQ(tree.ephemerals(9, "/a"), std::vector<std::string>{"/a/x"});
  EXPECT_EQ(tree.ephemerals(9, ""), (std::vector<std::string>{"/a/x", "/b"}));
  EXPECT_TRUE(tree.ephemerals(10, "").empty());
}

TEST(DataTree, CloseSessionDeletesListedAndOwnedEphemerals) {
  DataTree tree;
  tree.apply(create("/p", 1, 1));
  tree.apply(create("/p/e1", 2, 1, true, 9));
  tree.apply(create("/p/e2", 3, 2, true, 9));
  tree.apply(create("/p/other", 4, 3, true, 10));
  ApplyResult r = tree.apply(txn(OpCode::kCloseSession, 5, CloseSessionTxn{{"/p/e1", "/gone"}}, 9));
  EXPECT_EQ(r.err, Err::kOk);
  EXPECT_EQ(tree.find("/p/e1"), nullptr);
  EXPECT_EQ(tree.find("/p/e2"), nullptr);  // not listed, but owned: ZooKeeper deletes it too
  EXPECT_NE(tree.find("/p/other"), nullptr);
  EXPECT_EQ(tree.ephemeralPaths(9), nullptr);
  EXPECT_EQ(stored(tree, "/p").numChildren, 1);
  EXPECT_EQ(r.triggers.size(), 4u);
  // A pre-3.6 close without a body still removes the session's nodes.
  tree.apply(Txn{TxnHeader{10, 0, 6, 0, static_cast<int>(OpCode::kCloseSession)}, {}});
  EXPECT_EQ(tree.find("/p/other"), nullptr);
}

TEST(DataTree, ErrorsLeaveTreeUntouched) {
  DataTree tree;
  EXPECT_EQ(tree.apply(create("/x/y", 1, 1)).err, Err::kNoNode);
  EXPECT_EQ(tree.apply(txn(OpCode::kError, 2, ErrorTxn{-103})).err, Err::kBadVersion);
  EXPECT_EQ(tree.nodeCount(), 4u);
  EXPECT_EQ(tree.lastProcessedZxid(), 2);
  EXPECT_EQ(tree.apply(txn(OpCode::kCreateSession, 3, CreateSessionTxn{3000})).err, Err::kOk);
  EXPECT_EQ(tree.nodeCount(), 4u);
}

TEST(DataTree, MultiAppliesInOrderWithOneZxid) {
  DataTree tree;
  MultiTxn multi{{
      SubTxn{static_cast<int>(OpCode::kCreate), CreateTxn{"/m", "", kOpen, false, 1}},
      SubTxn{static_cast<int>(OpCode::kCreate), CreateTxn{"/m/c", "", kOpen, false, 1}},
      SubTxn{static_cast<int>(OpCode::kSetData), SetDataTxn{"/m", "v", 1}},
      SubTxn{static_cast<int>(OpCode::kCheck), CheckVersionTxn{"/m", 1}},
      SubTxn{static_cast<int>(OpCode::kDelete), DeleteTxn{"/m/c"}},
  }};
  ApplyResult r = tree.apply(txn(OpCode::kMulti, 9, multi));
  EXPECT_EQ(r.err, Err::kOk);
  ASSERT_EQ(r.multi.size(), 5u);
  EXPECT_EQ(r.multi[0].path, "/m");
  EXPECT_EQ(r.multi[1].type, static_cast<int>(OpCode::kCreate));
  EXPECT_EQ(r.multi[2].stat.version, 1);
  EXPECT_EQ(r.multi[3].path, "/m");
  Stat m = stored(tree, "/m");
  EXPECT_EQ(m.czxid, 9);
  EXPECT_EQ(m.mzxid, 9);
  EXPECT_EQ(m.pzxid, 9);
  EXPECT_EQ(m.cversion, 1);
  EXPECT_EQ(m.numChildren, 0);
  EXPECT_EQ(r.triggers.size(), 2u + 2u + 1u + 2u);
  EXPECT_EQ(tree.lastProcessedZxid(), 9);
}

TEST(DataTree, FailedMultiAppliesNothingAndReportsPerOp) {
  DataTree tree;
  MultiTxn multi{{
      SubTxn{static_cast<int>(OpCode::kCreate), CreateTxn{"/m", "", kOpen, false, 1}},
      SubTxn{static_cast<int>(OpCode::kError), ErrorTxn{static_cast<int>(Err::kNoNode)}},
      SubTxn{static_cast<int>(OpCode::kSetData), SetDataTxn{"/m", "v", 1}},
  }};
  ApplyResult r = tree.apply(txn(OpCode::kMulti, 9, multi));
  EXPECT_EQ(r.err, Err::kNoNode);
  ASSERT_EQ(r.multi.size(), 3u);
  EXPECT_EQ(r.multi[0].err, Err::kOk);
  EXPECT_EQ(r.multi[0].type, static_cast<int>(OpCode::kError));
  EXPECT_EQ(r.multi[1].err, Err::kNoNode);
  EXPECT_EQ(r.multi[2].err, Err::kRuntimeInconsistency);
  EXPECT_EQ(tree.find("/m"), nullptr);
  EXPECT_TRUE(r.triggers.empty());
}

TEST(DataTreeReplay, CreateOfExistingNodeKeepsNodeButAdvancesParent) {
  DataTree tree;
  tree.apply(create("/a", 1, 1));
  tree.apply(create("/a/b", 2, 1));
  // Replaying an older create: NodeExists, and no stat goes backwards.
  ApplyResult again = tree.apply(create("/a/b", 2, 1));
  EXPECT_EQ(again.err, Err::kNodeExists);
  EXPECT_EQ(stored(tree, "/a").cversion, 1);
  EXPECT_EQ(stored(tree, "/a").numChildren, 1);
  EXPECT_TRUE(again.triggers.empty());
  // A plain create (op 1) that meets an existing node re-created by someone else moves the
  // parent's cversion and pzxid forward to what the txn says.
  ApplyResult later = tree.apply(txn(OpCode::kCreate, 5, CreateTxn{"/a/b", "", kOpen, false, 3}));
  EXPECT_EQ(later.err, Err::kNodeExists);
  Stat a = stored(tree, "/a");
  EXPECT_EQ(a.cversion, 3);
  EXPECT_EQ(a.pzxid, 5);
}

TEST(DataTreeReplay, CreateNeverMovesParentBackwards) {
  DataTree tree;
  tree.apply(create("/a", 1, 1));
  tree.apply(create("/a/x", 10, 5));   // snapshot state: parent already at cversion 5
  tree.apply(create("/a/old", 3, 2));  // replayed txn from inside the fuzzy window
  Stat a = stored(tree, "/a");
  EXPECT_EQ(a.cversion, 5);
  EXPECT_EQ(a.pzxid, 10);
  EXPECT_EQ(a.numChildren, 2);
  // parentCVersion -1 (old logs) means "one more than now".
  tree.apply(create("/a/y", 11, -1));
  EXPECT_EQ(stored(tree, "/a").cversion, 6);
}

TEST(DataTreeReplay, DeleteOfMissingNodeStillAdvancesPzxidOnlyForward) {
  DataTree tree;
  tree.apply(create("/a", 5, 1));
  EXPECT_EQ(tree.apply(remove("/a/gone", 8)).err, Err::kNoNode);
  EXPECT_EQ(stored(tree, "/a").pzxid, 8);
  EXPECT_EQ(tree.apply(remove("/a/gone", 6)).err, Err::kNoNode);
  EXPECT_EQ(stored(tree, "/a").pzxid, 8);
  EXPECT_EQ(tree.apply(remove("/nope/x", 9)).err, Err::kNoNode);
  EXPECT_EQ(tree.nodeCount(), 5u);
  EXPECT_EQ(tree.lastProcessedZxid(), 9);
  tree.apply(remove("/a", 3));  // replayed out of order: lastProcessedZxid keeps the max
  EXPECT_EQ(tree.lastProcessedZxid(), 9);
}

TEST(DataTree, ChildrenAndDescendantCounts) {
  DataTree tree;
  tree.apply(create("/a", 1, 1));
  tree.apply(create("/a/b", 2, 1));
  tree.apply(create("/a/b/c", 3, 1));
  tree.apply(create("/a/b/c/d", 4, 1));
  tree.apply(create("/a/z", 5, 2));
  tree.apply(create("/a-b", 6, 2));
  tree.apply(create("/a/b-", 7, 3));
  // PathLess order: "b" and its subtree, then "b-", then "z".
  EXPECT_EQ(tree.children(*tree.find("/a")), (std::vector<std::string>{"b", "b-", "z"}));
  EXPECT_EQ(tree.children(*tree.find("/a/b/c/d")), std::vector<std::string>{});
  EXPECT_EQ(tree.countDescendants("/a"), 5);
  EXPECT_EQ(tree.countDescendants("/a/b"), 2);
  EXPECT_EQ(tree.countDescendants("/a-b"), 0);
  EXPECT_EQ(tree.countDescendants("/"), static_cast<std::int64_t>(tree.nodeCount()) - 1);
  EXPECT_EQ(tree.countDescendants("/missing"), 0);
}

TEST(DataTree, ApproximateDataSizeTracksPathsAndData) {
  DataTree tree;
  auto base = tree.approximateDataSize();
  tree.apply(create("/ab", 1, 1));  // data "d:/ab"
  EXPECT_EQ(tree.approximateDataSize(), base + 3 + 5);
  tree.apply(setData("/ab", "x", 1, 2));
  EXPECT_EQ(tree.approximateDataSize(), base + 3 + 1);
  tree.apply(setData("/", "rootdata", 1, 3));  // the root counts twice
  EXPECT_EQ(tree.approximateDataSize(), base + 3 + 1 + 16);
  tree.apply(remove("/ab", 4));
  EXPECT_EQ(tree.approximateDataSize(), base + 16);
}

TEST(DataTreeReaping, ContainersThatHadChildrenAndExpiredTtls) {
  DataTree tree;
  tree.apply(txn(OpCode::kCreateContainer, 1, CreateContainerTxn{"/c", "", kOpen, 1}));
  tree.apply(txn(OpCode::kCreateContainer, 2, CreateContainerTxn{"/fresh", "", kOpen, 2}));
  tree.apply(txn(OpCode::kCreateTTL, 3, CreateTTLTxn{"/t", "", kOpen, 3, 100}, 0x55, 10'000));
  tree.apply(create("/c/child", 4, 1));
  EXPECT_TRUE(tree.reapable(10'050).empty());  // /c has a child; /t not expired yet
  EXPECT_EQ(tree.reapable(10'101), std::vector<std::string>{"/t"});
  tree.apply(remove("/c/child", 5));
  auto due = tree.reapable(10'050);
  EXPECT_EQ(due, std::vector<std::string>{"/c"});  // /fresh never had a child
  // A data change restarts the TTL clock; a child keeps a TTL node alive.
  tree.apply(txn(OpCode::kSetData, 6, SetDataTxn{"/t", "x", 1}, 0x55, 20'000));
  EXPECT_EQ(tree.reapable(20'050), std::vector<std::string>{"/c"});
  tree.apply(create("/t/kid", 7, 1));
  EXPECT_EQ(tree.reapable(30'000), std::vector<std::string>{"/c"});
  tree.apply(remove("/c", 8));
  EXPECT_EQ(tree.containerCount(), 1u);
}

}  // namespace
}  // namespace zk
