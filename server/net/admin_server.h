#pragma once
// ZooKeeper's AdminServer: GET <commandURL>/<command> answers JSON (admin_commands.h). Served by
// Boost.Beast on the server's own event loop, so commands read the live objects directly, as the
// four-letter words do. Requests are bounded in size and in time: a client that sends too much
// is answered as Jetty answers (414, 431, 413) and one that stalls is disconnected.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include <boost/beast/http.hpp>

#include "config/zoo_config.h"
#include "net/admin_commands.h"
#include "net/asio.h"
#include "net/introspection.h"
#include "util/log.h"

namespace zk::admin {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// Jetty's default request header size (request line included).
inline constexpr std::uint32_t kHeaderLimit = 8 * 1024;
// Commands take their arguments in the query; a body is read only to be ignored.
inline constexpr std::uint64_t kBodyLimit = 64 * 1024;
// Connections served at once; more are closed as they are accepted. Monitoring needs a few.
inline constexpr std::size_t kMaxSessions = 64;

// What every open session holds a copy of, so the server can count them.
struct SessionSlot {};

// A fresh parser with the limits above.
void limitParser(http::request_parser<http::string_body>& parser);

// The answer to a complete request: a command's JSON, the command list, 404 or 405.
Response answerRequest(const Request& request, std::string_view commandUrl, CommandContext& ctx);

// The answer to bytes that did not parse as a request (then the connection closes): 400 for
// what is not HTTP, 414 for a request line over the header limit, 431 for longer headers, 413
// for a body over its limit. requestLineRead: the parser had the whole request line.
Response answerParseError(const boost::system::error_code& error, bool requestLineRead);
bool requestLineRead(const http::request_parser<http::string_body>& parser);

class AdminServer {
 public:
  AdminServer(asio::io_context& io, const ServerConfig& config, Introspection& server, Logger& log);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds admin.serverAddress:admin.serverPort; throws std::runtime_error when it cannot.
  void start();
  // Stops accepting; open sessions end with the event loop.
  void stop();

 private:
  void accept();
  void admit(tcp::socket socket);

  const ServerConfig& config_;
  Logger& log_;
  tcp::acceptor acceptor_;
  std::int64_t traceMask_ = 0;
  CommandContext context_;
  std::shared_ptr<const SessionSlot> slot_ = std::make_shared<const SessionSlot>();
  bool refusing_ = false;  // the cap was reached: logged once until a connection is served
};

}  // namespace zk::admin
