#include "util/utf8.h"

namespace zk {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

unsigned char byteAt(std::string_view text, std::size_t i) {
  return static_cast<unsigned char>(text[i]);
}

// The bytes a sequence with this lead byte takes, 0 for a byte that cannot lead one.
std::size_t expectedLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// The range the second byte must fall in; the lead byte decides it (Unicode's table 3-7).
bool secondByteFits(unsigned char lead, unsigned char second) {
  if (lead == 0xe0) return second >= 0xa0 && second <= 0xbf;
  if (lead == 0xed) return second >= 0x80 && second <= 0x9f;
  if (lead == 0xf0) return second >= 0x90 && second <= 0xbf;
  if (lead == 0xf4) return second >= 0x80 && second <= 0x8f;
  return second >= 0x80 && second <= 0xbf;
}

// How many bytes at the start of `text` begin a well-formed sequence: the whole sequence when
// it is complete, else the maximal ill-formed subpart (at least 1).
std::size_t wellFormedPrefix(std::string_view text) {
  unsigned char lead = byteAt(text, 0);
  std::size_t want = expectedLength(lead);
  if (want <= 1) return 1;
  std::size_t have = 1;
  while (have < want && have < text.size()) {
    unsigned char next = byteAt(text, have);
    bool fits = have == 1 ? secondByteFits(lead, next) : (next & 0xc0) == 0x80;
    if (!fits) break;
    ++have;
  }
  return have;
}

}  // namespace

std::size_t utf8SequenceLength(std::string_view text) {
  if (text.empty()) return 0;
  std::size_t want = expectedLength(byteAt(text, 0));
  if (want == 0 || text.size() < want) return 0;
  return wellFormedPrefix(text) == want ? want : 0;
}

std::string withMalformedUtf8Replaced(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    std::size_t n = utf8SequenceLength(text);
    if (n > 0) {
      out.append(text.substr(0, n));
    } else {
      out.append(kReplacement);
      n = wellFormedPrefix(text);
    }
    text.remove_prefix(n);
  }
  return out;
}

}  // namespace zk
