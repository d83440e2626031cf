#include "util/utf8.h"

#include <gtest/gtest.h>

namespace zk {
namespace {

TEST(Utf8, WellFormedSequencesHaveTheirLength) {
  EXPECT_EQ(utf8SequenceLength("a"), 1u);
  EXPECT_EQ(utf8SequenceLength("\xC3\xA9x"), 2u);         // é
  EXPECT_EQ(utf8SequenceLength("\xE2\x82\xAC"), 3u);      // €
  EXPECT_EQ(utf8SequenceLength("\xF0\x9F\x98\x80"), 4u);  // U+1F600
  EXPECT_EQ(utf8SequenceLength("\xF4\x8F\xBF\xBF"), 4u);  // U+10FFFF
}

TEST(Utf8, IllFormedSequencesHaveNone) {
  EXPECT_EQ(utf8SequenceLength(""), 0u);
  EXPECT_EQ(utf8SequenceLength("\x80"), 0u);              // a lone continuation byte
  EXPECT_EQ(utf8SequenceLength("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(utf8SequenceLength("\xE0\x80\xAF"), 0u);      // overlong
  EXPECT_EQ(utf8SequenceLength("\xED\xA0\x80"), 0u);      // a UTF-16 surrogate
  EXPECT_EQ(utf8SequenceLength("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(utf8SequenceLength("\xE2\x82"), 0u);          // cut short
  EXPECT_EQ(utf8SequenceLength("\xFF"), 0u);
}

TEST(Utf8, WellFormedTextIsUnchanged) {
  std::string text = "/zoo/\xC3\xA9l\xC3\xA9phant/\xF0\x9F\x98\x80";
  EXPECT_EQ(withMalformedUtf8Replaced(text), text);
}

TEST(Utf8, EachMaximalIllFormedSubpartBecomesOneReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(withMalformedUtf8Replaced("a\xFF"
                                      "b"),
            "a" + r + "b");
  // A sequence cut short is one subpart: its lead byte and the continuation bytes that fit.
  EXPECT_EQ(withMalformedUtf8Replaced("\xE2\x82"
                                      "A"),
            r + "A");
  EXPECT_EQ(withMalformedUtf8Replaced("\xF0\x9F\x98"), r);
  // A second byte outside the lead's range ends the subpart at the lead byte.
  EXPECT_EQ(withMalformedUtf8Replaced("\xE0\x80\xAF"), r + r + r);
  EXPECT_EQ(withMalformedUtf8Replaced("\xED\xA0\x80"), r + r + r);
  EXPECT_EQ(withMalformedUtf8Replaced("\xC0\xAF"), r + r);
  EXPECT_EQ(withMalformedUtf8Replaced("\x80\x80"), r + r);
}

}  // namespace
}  // namespace zk
