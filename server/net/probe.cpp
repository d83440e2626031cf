#include "net/probe.h"

#include <array>
#include <functional>

#include "net/asio.h"

namespace zk {
namespace {

// One four-letter exchange: the server answers and closes, so read until EOF.
std::string ask(const std::string& host, const std::string& port, std::string_view word,
                std::chrono::milliseconds timeout, std::string& error) {
  asio::io_context io;
  tcp::socket socket(io);
  tcp::resolver resolver(io);
  std::string answer;
  std::array<char, 4096> buffer{};
  std::function<void()> readMore = [&] {
    socket.async_read_some(asio::buffer(buffer), [&](boost::system::error_code ec, size_t n) {
      answer.append(buffer.data(), n);
      if (!ec) return readMore();
      if (ec != asio::error::eof) error = ec.message();
    });
  };
  resolver.async_resolve(host, port, [&](boost::system::error_code ec, auto endpoints) {
    if (ec) {
      error = "cannot resolve " + host + ": " + ec.message();
      return;
    }
    asio::async_connect(socket, endpoints, [&](boost::system::error_code ec, const auto&) {
      if (ec) {
        error = "cannot connect to " + host + ":" + port + ": " + ec.message();
        return;
      }
      asio::async_write(socket, asio::buffer(word.data(), word.size()),
                        [&](boost::system::error_code ec, size_t) {
                          if (ec)
                            error = "cannot send " + std::string(word) + ": " + ec.message();
                          else
                            readMore();
                        });
    });
  });
  io.run_for(timeout);
  if (!io.stopped() && error.empty())
    error = "no complete answer to " + std::string(word) + " within " +
            std::to_string(timeout.count()) + " ms";
  return answer;
}

std::string firstLineWith(const std::string& text, std::string_view prefix) {
  auto at = text.find(prefix);
  if (at == std::string::npos) return {};
  auto end = text.find('\n', at);
  return text.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

bool parseProbeKind(std::string_view name, ProbeKind& kind) {
  if (name == "live")
    kind = ProbeKind::kLive;
  else if (name == "ready")
    kind = ProbeKind::kReady;
  else
    return false;
  return true;
}

ProbeResult runProbe(ProbeKind kind, const std::string& hostPort,
                     std::chrono::milliseconds timeout) {
  auto colon = hostPort.rfind(':');
  if (colon == std::string::npos || colon + 1 == hostPort.size())
    return {false, "expected HOST:PORT, got '" + hostPort + "'"};
  std::string host = hostPort.substr(0, colon), port = hostPort.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string error;
  if (kind == ProbeKind::kLive) {
    std::string answer = ask(host, port, "ruok", timeout, error);
    if (!error.empty()) return {false, error};
    if (answer == "imok") return {true, "imok"};
    return {false, "ruok answered '" + answer + "', expected 'imok'"};
  }
  std::string answer = ask(host, port, "srvr", timeout, error);
  if (!error.empty()) return {false, error};
  std::string mode = firstLineWith(answer, "Mode: ");
  if (!mode.empty()) return {true, mode};
  auto end = answer.find('\n');
  return {false, "not serving: " + (answer.empty() ? std::string("empty answer to srvr")
                                                   : answer.substr(0, end))};
}

}  // namespace zk
