#include "config/properties.h"

#include <cctype>
#include <cstdint>
#include <optional>

namespace zk {
namespace {

bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A physical line continues on the next one when it ends in an odd number of backslashes.
bool continues(std::string_view line) {
  std::size_t slashes = 0;
  while (slashes < line.size() && line[line.size() - 1 - slashes] == '\\') ++slashes;
  return slashes % 2 == 1;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::optional<std::uint32_t> hex4(std::string_view s) {
  if (s.size() < 4) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s.substr(0, 4)) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 16 +
        static_cast<std::uint32_t>(std::isdigit(static_cast<unsigned char>(c))
                                       ? c - '0'
                                       : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
  }
  return v;
}

// Resolves Properties escapes: \t \n \r \f \uXXXX, and a backslash before any other character
// stands for that character.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      if (s[i] != '\\') out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u':
        if (auto cp = hex4(s.substr(i + 1))) {
          appendUtf8(out, *cp);
          i += 4;
        } else {
          out += 'u';
        }
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Splits a logical line at the first unescaped '=', ':' or blank; one separator character
// and the blanks around it are dropped.
Property splitEntry(std::string_view line, int lineNo) {
  std::size_t i = 0;
  while (i < line.size() && line[i] != '=' && line[i] != ':' && !isBlank(line[i])) {
    i += line[i] == '\\' ? 2 : 1;
  }
  i = std::min(i, line.size());
  std::string_view key = line.substr(0, i);
  std::size_t v = i;
  while (v < line.size() && isBlank(line[v])) ++v;
  if (v < line.size() && (line[v] == '=' || line[v] == ':')) ++v;
  return Property{unescape(trim(key)), unescape(trim(line.substr(v))), lineNo};
}

}  // namespace

std::vector<Property> parseProperties(std::string_view text) {
  std::vector<Property> out;
  std::string logical;
  int lineNo = 0;
  int startLine = 0;
  bool inContinuation = false;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++lineNo;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view body = raw;
    while (!body.empty() && isBlank(body.front())) body.remove_prefix(1);
    if (!inContinuation) {
      if (body.empty() || body.front() == '#' || body.front() == '!') continue;
      startLine = lineNo;
      logical.clear();
    }
    inContinuation = continues(body);
    if (inContinuation) body.remove_suffix(1);
    logical += body;
    if (!inContinuation) out.push_back(splitEntry(logical, startLine));
  }
  if (inContinuation) out.push_back(splitEntry(logical, startLine));
  return out;
}

}  // namespace zk
