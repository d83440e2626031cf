#include "tree/path.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace zk {
namespace {

// Decodes one UTF-8 code point at `i`, advancing `i`; nullopt for malformed input (overlong
// forms, encoded surrogates, truncation, values past U+10FFFF).
std::optional<std::uint32_t> nextCodePoint(std::string_view s, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  std::uint8_t lead = byte(i);
  int extra = 0;
  std::uint32_t cp = 0;
  if (lead < 0x80) {
    ++i;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    extra = 1;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    extra = 2;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    extra = 3;
    cp = lead & 0x07;
  } else {
    return std::nullopt;
  }
  if (i + extra >= s.size()) return std::nullopt;
  for (int k = 1; k <= extra; ++k) {
    std::uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr std::uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return std::nullopt;
  }
  i += extra + 1;
  return cp;
}

// ZooKeeper checks UTF-16 code units: every code point above U+FFFF is a surrogate pair there
// and so falls in its forbidden D800-F8FF range.
bool forbidden(std::uint32_t cp) {
  return (cp >= 0x01 && cp <= 0x1F) || (cp >= 0x7F && cp <= 0x9F) ||
         (cp >= 0xD800 && cp <= 0xF8FF) || (cp >= 0xFFF0);
}

std::optional<std::string> componentError(std::string_view name, std::size_t offset) {
  std::string at = " @" + std::to_string(offset);
  if (name.empty()) return "empty node name specified" + at;
  if (name == "." || name == "..") return "relative paths not allowed" + at;
  for (std::size_t i = 0; i < name.size();) {
    if (name[i] == '\0') return "null character not allowed" + at;
    auto cp = nextCodePoint(name, i);
    if (!cp) return "invalid UTF-8" + at;
    if (forbidden(*cp)) return "invalid character" + at;
  }
  return std::nullopt;
}

std::optional<std::string> validate(std::string_view path) {
  if (path.empty()) return "Path length must be > 0";
  if (path[0] != '/') return "Path must start with / character";
  if (path.size() == 1) return std::nullopt;
  if (path.back() == '/') return "Path must not end with / character";
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = std::min(path.find('/', start), path.size());
    if (auto err = componentError(path.substr(start, end - start), start)) return err;
    start = end + 1;
  }
  return std::nullopt;
}

int rank(char c) {
  return c == '/' ? 0 : static_cast<std::uint8_t>(c) + 1;
}

}  // namespace

std::optional<std::string> pathError(std::string_view path, bool allowSequentialSuffixPending) {
  std::optional<std::string> reason;
  if (allowSequentialSuffixPending) {
    reason = validate(std::string(path) + "1");
  } else {
    reason = validate(path);
  }
  if (!reason) return std::nullopt;
  return "Invalid path string \"" + std::string(path) + "\" caused by " + *reason;
}

std::string_view parentOf(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  if (slash == 0) return path.substr(0, 1);
  return path.substr(0, slash);
}

std::string_view baseName(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

namespace {

// Paths under one parent share long prefixes, and every map lookup compares a path with ~20
// others, so the common prefix is skipped eight bytes at a time.
std::size_t commonPrefix(std::string_view a, std::string_view b) noexcept {
  std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t wa = 0;
    std::uint64_t wb = 0;
    std::memcpy(&wa, a.data() + i, 8);
    std::memcpy(&wb, b.data() + i, 8);
    if (wa != wb) break;
  }
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

bool PathLess::operator()(std::string_view a, std::string_view b) const noexcept {
  std::size_t i = commonPrefix(a, b);
  if (i == b.size()) return false;  // b is a prefix of a (or equal)
  if (i == a.size()) return true;   // a is a proper prefix of b
  return rank(a[i]) < rank(b[i]);
}

std::string subtreeEnd(std::string_view path) {
  // Every descendant continues `path` with '/', the lowest rank; NUL is the next rank up.
  std::string end(path);
  end.push_back('\0');
  return end;
}

}  // namespace zk
