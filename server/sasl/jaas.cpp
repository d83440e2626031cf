#include "sasl/jaas.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace zk::jaas {
namespace {

// A hand-written scanner: the grammar is a handful of tokens, and a library for it would
// weigh more than the parser.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool atEnd() {
    skipBlanks();
    return pos_ >= text_.size();
  }
  bool accept(char c) {
    skipBlanks();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(std::string("expected '") + c + "'");
  }
  // A name: letters, digits and the punctuation of class names and option keys.
  std::string word() {
    skipBlanks();
    std::size_t start = pos_;
    while (pos_ < text_.size() && isWordChar(text_[pos_])) ++pos_;
    if (start == pos_) fail("expected a name");
    return std::string(text_.substr(start, pos_ - start));
  }
  std::string value() {
    skipBlanks();
    if (pos_ < text_.size() && text_[pos_] == '"') return quoted();
    return word();
  }
  [[noreturn]] void fail(const std::string& what) const {
    std::size_t line = 1;
    for (std::size_t i = 0; i < pos_ && i < text_.size(); ++i) line += text_[i] == '\n';
    throw ParseError("JAAS configuration line " + std::to_string(line) + ": " + what);
  }

 private:
  static bool isWordChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
           c == '$' || c == '/' || c == '@' || c == ':';
  }
  std::string quoted() {
    ++pos_;  // the opening quote
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out.push_back(text_[pos_++]);
    }
    if (pos_ >= text_.size()) fail("unterminated quoted value");
    ++pos_;
    return out;
  }
  void skipBlanks() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        ++pos_;
      } else if (text_.substr(pos_).starts_with("//") || text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (text_.substr(pos_).starts_with("/*")) {
        std::size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) fail("unterminated comment");
        pos_ = end + 2;
      } else {
        return;
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

bool validFlag(std::string_view flag) {
  return flag == "required" || flag == "requisite" || flag == "sufficient" || flag == "optional";
}

LoginModule module(Scanner& in) {
  LoginModule m;
  m.className = in.word();
  m.flag = in.word();
  if (!validFlag(m.flag)) in.fail("unknown control flag '" + m.flag + "'");
  while (!in.accept(';')) {
    std::string key = in.word();
    in.expect('=');
    m.options[key] = in.value();
  }
  return m;
}

}  // namespace

Configuration parse(std::string_view text) {
  Scanner in(text);
  Configuration config;
  while (!in.atEnd()) {
    std::string name = in.word();
    in.expect('{');
    std::vector<LoginModule> modules;
    while (!in.accept('}')) modules.push_back(module(in));
    in.expect(';');
    if (config.contains(name)) in.fail("section '" + name + "' appears twice");
    config.emplace(std::move(name), std::move(modules));
  }
  return config;
}

Configuration readFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read JAAS file " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

}  // namespace zk::jaas
