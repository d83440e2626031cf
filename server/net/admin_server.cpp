#include "net/admin_server.h"

#include <boost/beast/core.hpp>
#include <optional>

#include "util/utf8.h"

namespace zk::admin {
namespace {

namespace beast = boost::beast;

Response textResponse(http::status status, unsigned version, std::string contentType,
                      std::string body) {
  Response response(status, version);
  response.set(http::field::content_type, contentType);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

// Jetty's error page, short: the status line is what clients act on.
Response errorPage(http::status status, std::string_view reason) {
  std::string body = "<h1>Bad Message " + std::to_string(static_cast<unsigned>(status)) +
                     "</h1><pre>reason: " + std::string(reason) + "</pre>";
  Response response = textResponse(status, 11, "text/html;charset=iso-8859-1", std::move(body));
  response.keep_alive(false);
  return response;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Text that is not UTF-8 is read as ISO-8859-1, as Jetty decodes such a path: the JSON that
// echoes a command's name stays valid.
std::string validUtf8(std::string_view text) {
  bool valid = true;
  for (std::string_view rest = text; valid && !rest.empty();) {
    std::size_t n = utf8SequenceLength(rest);
    valid = n > 0;
    rest.remove_prefix(n);
  }
  if (valid) return std::string(text);
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xc0 | byte >> 6);
      out += static_cast<char>(0x80 | (byte & 0x3f));
    }
  }
  return out;
}

// Percent decoding as the servlet's getPathInfo and getParameter do it; `plusIsSpace` for the
// query's form encoding. A malformed escape is kept as it is.
std::string urlDecoded(std::string_view text, bool plusIsSpace) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (plusIsSpace && text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hexDigit(text[i + 1]) >= 0 &&
               hexDigit(text[i + 2]) >= 0) {
      out += static_cast<char>(hexDigit(text[i + 1]) * 16 + hexDigit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return validUtf8(out);
}

// "a=1&b=2" -> {a: 1, b: 2}; the first value of a repeated name wins, as getParameter.
CommandArgs queryArgs(std::string_view query) {
  CommandArgs args;
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    auto eq = pair.find('=');
    std::string name = urlDecoded(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : urlDecoded(pair.substr(eq + 1), true);
    args.emplace(std::move(name), std::move(value));
  }
  return args;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const AdminServerSettings& settings, CommandContext& ctx,
          std::shared_ptr<const SessionSlot> slot)
      : stream_(std::move(socket)), settings_(settings), ctx_(ctx), slot_(std::move(slot)) {}

  void read() {
    parser_.emplace();
    limitParser(*parser_);
    // The whole request must arrive within the idle timeout: a client sending a byte at a
    // time (slowloris) is cut off as surely as a silent one.
    stream_.expires_after(std::chrono::milliseconds(settings_.idleTimeoutMs));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

 private:
  void onRead(beast::error_code ec) {
    // What the client sent is answered; a closed, reset or timed-out socket is just closed.
    bool badRequest = ec && ec != http::error::end_of_stream &&
                      ec.category() == http::make_error_code(http::error::bad_method).category();
    if (badRequest) {
      write(answerParseError(ec, requestLineRead(*parser_)));
      return;
    }
    if (ec) {
      close();
      return;
    }
    Response response = answerRequest(parser_->get(), settings_.commandUrl, ctx_);
    response.keep_alive(response.keep_alive() && parser_->get().keep_alive());
    write(std::move(response));
  }

  void write(Response response) {
    response_ = std::move(response);
    stream_.expires_after(std::chrono::milliseconds(settings_.idleTimeoutMs));
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || !self->response_.keep_alive()) {
                          self->close();
                          return;
                        }
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const AdminServerSettings& settings_;
  CommandContext& ctx_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  std::shared_ptr<const SessionSlot> slot_;  // held while the session lives: the server counts it
};

}  // namespace

void limitParser(http::request_parser<http::string_body>& parser) {
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
}

namespace {

Response answerGet(const Request& request, std::string_view commandUrl, CommandContext& ctx) {
  std::string_view target(request.target().data(), request.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query =
      path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view();
  bool underCommands = path == commandUrl || path.starts_with(std::string(commandUrl) + "/");
  if (!underCommands) return errorPage(http::status::not_found, "Not Found");
  if (request.method() != http::verb::get && request.method() != http::verb::head)
    return errorPage(http::status::method_not_allowed, "HTTP method not supported by this URL");
  std::string_view name = path.substr(std::min(path.size(), commandUrl.size() + 1));
  if (name.empty()) {
    return textResponse(http::status::ok, request.version(), "text/html",
                        commandLinksPage(commandUrl));
  }
  web::json::value answer = runCommand(urlDecoded(name, false), queryArgs(query), ctx);
  return textResponse(http::status::ok, request.version(), "application/json", answer.serialize());
}

}  // namespace

bool requestLineRead(const http::request_parser<http::string_body>& parser) {
  return !parser.get().target().empty();
}

Response answerRequest(const Request& request, std::string_view commandUrl, CommandContext& ctx) {
  Response response = answerGet(request, commandUrl, ctx);
  if (request.method() == http::verb::head) {  // the GET's headers, its length included
    std::size_t length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  return response;
}

Response answerParseError(const boost::system::error_code& error, bool requestLineRead) {
  if (error == http::error::header_limit) {
    // Jetty tells a request line too long from headers too long.
    return requestLineRead ? errorPage(http::status::request_header_fields_too_large,
                                       "Request Header Fields Too Large")
                           : errorPage(http::status::uri_too_long, "URI Too Long");
  }
  if (error == http::error::body_limit)
    return errorPage(http::status::payload_too_large, "Payload Too Large");
  return errorPage(http::status::bad_request, error.message());
}

AdminServer::AdminServer(asio::io_context& io, const ServerConfig& config, Introspection& server,
                         Logger& log)
    : config_(config), log_(log), acceptor_(io), context_{server, config, traceMask_} {}

AdminServer::~AdminServer() = default;

void AdminServer::start() {
  const AdminServerSettings& s = config_.admin;
  tcp::endpoint endpoint(asio::ip::make_address(s.address), s.port);
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    throw std::runtime_error("cannot serve the AdminServer on " + s.address + ":" +
                             std::to_string(s.port) + ": " + ec.message());
  }
  log_.info("admin",
            "AdminServer on http://" + s.address + ":" + std::to_string(s.port) + s.commandUrl);
  accept();
}

void AdminServer::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void AdminServer::accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) admit(std::move(socket));
    accept();
  });
}

// Each open session holds a copy of slot_; past kMaxSessions a new connection is closed at
// once, so idle or stalled clients cannot hold more than that many sockets and buffers.
void AdminServer::admit(tcp::socket socket) {
  auto open = static_cast<std::size_t>(slot_.use_count() - 1);
  if (open >= kMaxSessions) {
    if (!refusing_)
      log_.warn("admin", "refusing AdminServer connections: " + std::to_string(open) +
                             " are open, the most it serves at once");
    refusing_ = true;
    boost::system::error_code ignored;
    socket.close(ignored);
    return;
  }
  refusing_ = false;
  std::make_shared<Session>(std::move(socket), config_.admin, context_, slot_)->read();
}

}  // namespace zk::admin
