// libFuzzer target: arbitrary bytes as a client's stream to the AdminServer, split into chunks,
// through Beast's request parser with the AdminServer's limits, then the request dispatch and
// the commands. Every request must get a well-formed answer: a parse error's status page, or a
// command's JSON that parses back and carries "command" and "error".

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_chunks.h"
#include "net/admin_server.h"

namespace {

class FixedServer : public zk::Introspection {
 public:
  zk::ServerStats stats(zk::StatsExtras) const override {
    zk::ServerStats s;
    s.nodeCount = 4;
    s.lastSnapshotZxid = 0x100000002;
    return s;
  }
  std::vector<zk::ConnectionStats> connections() const override {
    zk::ConnectionStats c;
    c.remote = "/127.0.0.1:40000";
    c.sessionId = 0x100000000000001;
    return {c};
  }
  zk::SessionDump sessions() const override {
    return {{{1'700'000'000'000, {0x100000000000001}}}, {{0x100000000000001, {"/e"}}}};
  }
  std::map<std::int64_t, std::vector<std::string>> watchesBySession() const override {
    return {{0x100000000000001, {"/w"}}};
  }
  std::map<std::string, std::vector<std::int64_t>> watchesByPath() const override {
    return {{"/w", {0x100000000000001}}};
  }
  void resetStats() override {}
  void resetConnectionStats() override {}
  bool readOnly() const override { return false; }
  bool serving() const override { return serving_; }
  bool serving_ = true;
};

namespace http = zk::admin::http;

void checkResponse(const zk::admin::Response& response) {
  if (response.result_int() != 200) return;
  if (response[http::field::content_type] != "application/json") return;
  auto answer = web::json::value::parse(response.body());
  if (!answer.is_object() || !answer.has_field("command") || !answer.has_field("error"))
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FixedServer server;
  server.serving_ = (size & 1) == 0;
  zk::ServerConfig config;
  std::int64_t traceMask = 0;
  zk::admin::CommandContext ctx{server, config, traceMask};
  std::optional<http::request_parser<http::string_body>> parser;
  parser.emplace();
  zk::admin::limitParser(*parser);
  std::string pending;
  zk::fuzz::feedInChunks(zk::fuzz::asChars(data, size), [&](std::string_view chunk) {
    pending += chunk;
    while (!pending.empty()) {
      boost::system::error_code ec;
      std::size_t used = parser->put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec == http::error::need_more) break;
      if (ec) {
        checkResponse(zk::admin::answerParseError(ec, zk::admin::requestLineRead(*parser)));
        return false;  // the connection closes after the error page
      }
      if (parser->is_done()) {
        checkResponse(zk::admin::answerRequest(parser->get(), config.admin.commandUrl, ctx));
        parser.emplace();
        zk::admin::limitParser(*parser);
      } else if (used == 0) {
        break;
      }
    }
    return true;
  });
  return 0;
}
