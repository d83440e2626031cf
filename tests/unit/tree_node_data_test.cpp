#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tree/node_data.h"

namespace zk {
namespace {

TEST(NodeData, HoldsEveryLengthAcrossTheInlineLimit) {
  for (std::size_t n : {0u, 1u, 11u, 12u, 13u, 100u, 1u << 20}) {
    std::string bytes(n, '\0');
    for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i * 7 + 1);
    NodeData data(bytes);
    EXPECT_EQ(data.size(), n);
    EXPECT_EQ(data.empty(), n == 0);
    EXPECT_EQ(data.view(), bytes) << n;
    EXPECT_EQ(data.str(), bytes) << n;
  }
  EXPECT_EQ(sizeof(NodeData), 16u);
}

TEST(NodeData, CopiesAndMovesKeepTheirOwnBytes) {
  NodeData big(std::string(40, 'b'));
  NodeData small("tiny");
  NodeData copy = big;
  NodeData moved = std::move(big);
  EXPECT_EQ(copy.view(), std::string(40, 'b'));
  EXPECT_EQ(moved.view(), std::string(40, 'b'));
  EXPECT_TRUE(big.empty());  // NOLINT(bugprone-use-after-move): a moved-from value is empty
  copy = small;
  EXPECT_EQ(copy.view(), "tiny");
  moved = std::move(small);
  EXPECT_EQ(moved.view(), "tiny");
  std::vector<NodeData> many(100, NodeData(std::string(20, 'x')));
  many.emplace_back("y");  // reallocation moves every element
  EXPECT_EQ(many.front().view(), std::string(20, 'x'));
  EXPECT_EQ(many.back().view(), "y");
}

TEST(NodeData, AssigningAPartOfItselfIsSafe) {
  NodeData data(std::string("0123456789abcdefghij"));
  data = data.view().substr(5, 10);  // heap -> inline, from its own bytes
  EXPECT_EQ(data.view(), "56789abcde");
  NodeData longer(std::string(30, 'z') + "tail");
  longer = longer.view().substr(10);  // heap -> heap, from its own bytes
  EXPECT_EQ(longer.view(), std::string(20, 'z') + "tail");
  longer = longer;  // NOLINT(clang-diagnostic-self-assign-overloaded)
  EXPECT_EQ(longer.view(), std::string(20, 'z') + "tail");
}

}  // namespace
}  // namespace zk
