#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tree/node_set.h"

namespace zk {
namespace {

NodePtr node(NodeSet& set, std::string_view path, std::string_view data = "") {
  StatPersisted stat;
  stat.czxid = 7;
  return set.make(path, data, 3, stat);
}

std::vector<std::string> paths(const NodeSet& set) {
  std::vector<std::string> out;
  for (const Node& n : set) out.emplace_back(n.path());
  return out;
}

TEST(Node, KeepsPathAndDataOfEveryLengthInOneBlock) {
  NodeSet set;
  for (std::size_t len : {0u, 1u, 12u, 13u, 100u, 5000u}) {
    std::string path = "/p" + std::string(len, 'a');
    std::string data(len, 'd');
    NodePtr n = node(set, path, data);
    EXPECT_EQ(n->path(), path);
    EXPECT_EQ(n->data(), data);
    EXPECT_EQ(n->aclRef, 3);
    EXPECT_EQ(n->stat.czxid, 7);
  }
  EXPECT_EQ(node(set, "")->path(), "");  // the root's key
}

TEST(Node, OverwritesDataOnlyAtTheSameLength) {
  NodeSet set;
  NodePtr n = node(set, "/a", "one");
  n->overwriteData("two");
  EXPECT_EQ(n->data(), "two");
  EXPECT_EQ(n->path(), "/a");
  EXPECT_THROW(n->overwriteData("three"), std::logic_error);
  EXPECT_EQ(n->data(), "two");
}

TEST(Node, WithDataKeepsEverythingElse) {
  NodeSet set;
  NodePtr n = node(set, "/a/b", "short");
  n->stat.version = 4;
  n->stat.numChildren = 2;
  NodePtr longer = set.withData(*n, std::string(300, 'x'));
  EXPECT_EQ(longer->path(), "/a/b");
  EXPECT_EQ(longer->data(), std::string(300, 'x'));
  EXPECT_EQ(longer->stat, n->stat);
  EXPECT_EQ(longer->aclRef, n->aclRef);
}

TEST(NodeSet, KeepsPathOrderAndFindsByPath) {
  NodeSet set;
  for (auto p : {"/a-b", "", "/a/z", "/a", "/b"}) set.insert(node(set, p));
  EXPECT_EQ(paths(set), (std::vector<std::string>{"", "/a", "/a/z", "/a-b", "/b"}));
  ASSERT_NE(set.find("/a/z"), set.end());
  EXPECT_EQ(set.find("/a/z")->path(), "/a/z");
  EXPECT_EQ(set.find("/c"), set.end());
  EXPECT_EQ(set.lower_bound(subtreeEnd("/a"))->path(), "/a-b");
  EXPECT_THROW(set.insert(node(set, "/a")), std::logic_error);
  EXPECT_EQ(set.size(), 5u);
}

TEST(NodeSet, AppendRefusesAPathThatDoesNotSortLast) {
  NodeSet set;
  set.append(node(set, ""));
  set.append(node(set, "/a"));
  set.append(node(set, "/a/b"));
  EXPECT_THROW(set.append(node(set, "/")), std::logic_error);
  EXPECT_THROW(set.append(node(set, "/a")), std::logic_error);
  EXPECT_EQ(paths(set), (std::vector<std::string>{"", "/a", "/a/b"}));
}

TEST(NodeSet, ReplaceKeepsThePlaceAndEraseReturnsTheNext) {
  NodeSet set;
  for (auto p : {"/a", "/b", "/c"}) set.insert(node(set, p, "old"));
  auto b = set.replace(set.find("/b"), node(set, "/b", "a longer value"));
  EXPECT_EQ(b->data(), "a longer value");
  EXPECT_EQ(std::next(b)->path(), "/c");
  EXPECT_EQ(std::prev(b)->path(), "/a");
  EXPECT_EQ(set.find("/b"), b);
  EXPECT_THROW(set.replace(set.find("/c"), node(set, "/d")), std::logic_error);
  EXPECT_EQ(set.erase(set.find("/a"))->path(), "/b");
  EXPECT_EQ(paths(set), (std::vector<std::string>{"/b", "/c"}));
}

TEST(NodeSet, MovesOwnershipWithTheSet) {
  NodeSet a;
  a.insert(node(a, "/x", "1"));
  NodeSet b(std::move(a));
  EXPECT_EQ(paths(b), std::vector<std::string>{"/x"});
  NodeSet c;
  c.insert(node(c, "/y"));
  c = std::move(b);  // c's own node is freed (ASan would report a leak otherwise)
  EXPECT_EQ(paths(c), std::vector<std::string>{"/x"});
  b.insert(node(b, "/z"));  // the moved-from set still makes and owns nodes
  EXPECT_EQ(paths(b), std::vector<std::string>{"/z"});
}

TEST(NodeSet, RefusesANodeMadeByAnotherSet) {
  NodeSet a;
  NodeSet b;
  EXPECT_THROW(a.insert(node(b, "/x")), std::logic_error);
  EXPECT_THROW(a.append(node(b, "/x")), std::logic_error);
  a.insert(node(a, "/x"));
  EXPECT_THROW(a.replace(a.find("/x"), node(b, "/x")), std::logic_error);
  EXPECT_EQ(a.size(), 1u);
}

}  // namespace
}  // namespace zk
