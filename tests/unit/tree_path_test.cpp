#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tree/path.h"

namespace zk {
namespace {

TEST(PathRules, RejectsMalformedPaths) {
  for (std::string bad :
       std::vector<std::string>{"", "a", "/a/", "/a//b", "//", "/a/./b", "/a/../b", "/.", "/..",
                                "/a/.", std::string("/a\0b", 4)}) {
    EXPECT_TRUE(pathError(bad).has_value()) << "accepted: " << bad;
  }
}

TEST(PathRules, AcceptsOrdinaryPaths) {
  for (std::string good :
       std::vector<std::string>{"/", "/a", "/a/b", "/a.b", "/...", "/a/..b", "/.a",
                                "/zookeeper/quota", "/caf\xc3\xa9", "/\xe4\xb8\xad"}) {
    EXPECT_FALSE(pathError(good).has_value()) << good << ": " << pathError(good).value_or("");
  }
}

TEST(PathRules, RejectsForbiddenCodePointsAndBadUtf8) {
  for (std::string bad : std::vector<std::string>{
           "/a\x01", "/\x1f", "/\x7f",  // controls
           "/\xc2\x80",                 // U+0080, C1 control
           "/\xee\x80\x80",             // U+E000, private use
           "/\xef\xbf\xb0",             // U+FFF0
           "/\xf0\x9f\x98\x80",         // U+1F600: a surrogate pair in ZooKeeper's UTF-16
           "/\xff", "/\xc3",            // not UTF-8, truncated
           "/\xc0\xaf",                 // overlong '/'
           "/\xed\xa0\x80",             // encoded surrogate
       }) {
    EXPECT_TRUE(pathError(bad).has_value()) << "accepted a bad byte sequence";
  }
}

TEST(PathRules, SequentialCreateMayEndInSlash) {
  EXPECT_TRUE(pathError("/a/").has_value());
  EXPECT_FALSE(pathError("/a/", true).has_value());
  EXPECT_FALSE(pathError("/", true).has_value());
  EXPECT_FALSE(pathError("/a/lock-", true).has_value());
  EXPECT_TRUE(pathError("/a//", true).has_value());
  EXPECT_TRUE(pathError("a", true).has_value());
}

TEST(PathRules, ReasonNamesThePath) {
  auto reason = pathError("/a//b");
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("/a//b"), std::string::npos);
  EXPECT_NE(reason->find("empty node name"), std::string::npos);
}

TEST(PathParts, ParentAndBaseName) {
  EXPECT_EQ(parentOf("/a/b/c"), "/a/b");
  EXPECT_EQ(parentOf("/a"), "/");
  EXPECT_EQ(parentOf("/"), "/");
  EXPECT_EQ(baseName("/a/b/c"), "c");
  EXPECT_EQ(baseName("/a"), "a");
  EXPECT_EQ(baseName("/"), "");
}

TEST(PathOrder, SubtreesAreContiguousAndParentsFirst) {
  std::vector<std::string> paths{"/a-b", "/a/z", "/a", "", "/a/b/c", "/a/b", "/a0", "/b", "/a.x"};
  std::sort(paths.begin(), paths.end(), PathLess{});
  std::vector<std::string> expected{"",     "/a",   "/a/b", "/a/b/c", "/a/z",
                                    "/a-b", "/a.x", "/a0",  "/b"};
  EXPECT_EQ(paths, expected);
}

TEST(PathOrder, SubtreeEndBoundsEveryDescendant) {
  PathLess less;
  std::string end = subtreeEnd("/a");
  EXPECT_TRUE(less("/a/zzz/\xff", end));
  EXPECT_TRUE(less("/a", end));
  EXPECT_FALSE(less("/a-b", end));
  EXPECT_FALSE(less("/a\x01", end));
  EXPECT_FALSE(less("/b", end));
}

// PathLess skips common prefixes a word at a time; it must agree with the byte-by-byte
// definition ('/' first, then bytes in unsigned order) wherever the first difference falls.
TEST(PathOrder, WordwiseCompareAgreesWithTheByteDefinition) {
  auto reference = [](std::string_view a, std::string_view b) {
    auto rank = [](char c) { return c == '/' ? 0 : static_cast<unsigned char>(c) + 1; };
    auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    if (ib == b.end()) return false;
    if (ia == a.end()) return true;
    return rank(*ia) < rank(*ib);
  };
  std::mt19937 rng(7);
  const std::string alphabet("/ab-\0\xff", 6);
  auto randomPath = [&](std::size_t len) {
    std::string s(len, 'a');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  PathLess less;
  for (int i = 0; i < 20000; ++i) {
    std::string a = randomPath(rng() % 25);
    std::string b = a.substr(0, rng() % (a.size() + 1)) + randomPath(rng() % 10);
    ASSERT_EQ(less(a, b), reference(a, b)) << i;
    ASSERT_EQ(less(b, a), reference(b, a)) << i;
  }
}

}  // namespace
}  // namespace zk
