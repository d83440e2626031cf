#include "config/properties.h"

#include <gtest/gtest.h>

namespace zk {
namespace {

TEST(Properties, SeparatorsCommentsAndLineNumbers) {
  auto props = parseProperties(
      "# comment\n"
      "! also a comment\n"
      "\n"
      "tickTime=2000\n"
      "  dataDir : /var/zk  \n"
      "clientPort 2181\n"
      "empty=\n");
  ASSERT_EQ(props.size(), 4u);
  EXPECT_EQ(props[0].key, "tickTime");
  EXPECT_EQ(props[0].value, "2000");
  EXPECT_EQ(props[0].line, 4);
  EXPECT_EQ(props[1].key, "dataDir");
  EXPECT_EQ(props[1].value, "/var/zk");
  EXPECT_EQ(props[1].line, 5);
  EXPECT_EQ(props[2].key, "clientPort");
  EXPECT_EQ(props[2].value, "2181");
  EXPECT_EQ(props[3].key, "empty");
  EXPECT_EQ(props[3].value, "");
}

TEST(Properties, ContinuationLinesKeepTheFirstLineNumber) {
  auto props = parseProperties("a=1\nlist=x,\\\n    y,\\\n  z\nb=2\r\n");
  ASSERT_EQ(props.size(), 3u);
  EXPECT_EQ(props[1].key, "list");
  EXPECT_EQ(props[1].value, "x,y,z");
  EXPECT_EQ(props[1].line, 2);
  EXPECT_EQ(props[2].value, "2");
  EXPECT_EQ(props[2].line, 5);
}

TEST(Properties, Escapes) {
  auto props = parseProperties("a\\=b=c\\:d\\te\\u00e9\nx=ends with escaped slash\\\\\n");
  ASSERT_EQ(props.size(), 2u);
  EXPECT_EQ(props[0].key, "a=b");
  EXPECT_EQ(props[0].value, "c:d\te\xC3\xA9");
  EXPECT_EQ(props[1].value, "ends with escaped slash\\");
}

TEST(Properties, OnlyTheFirstSeparatorIsConsumed) {
  auto props = parseProperties("server.1=host:2888:3888\nk = = v\n");
  EXPECT_EQ(props[0].value, "host:2888:3888");
  EXPECT_EQ(props[1].value, "= v");
}

}  // namespace
}  // namespace zk
