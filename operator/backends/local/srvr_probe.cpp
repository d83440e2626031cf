// Concurrent srvr probes over Boost.Asio, bounded by one timer.
#include "backends/local/srvr_probe.h"

#include <boost/asio.hpp>

#include <array>
#include <memory>

namespace zk::op::local {
namespace {

using boost::asio::ip::tcp;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

// One probe: connect, send "srvr", read until the server closes.
struct Probe : std::enable_shared_from_this<Probe> {
  explicit Probe(boost::asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  std::string answer;
  std::array<char, 4096> buf{};
  bool done = false;

  void start(const tcp::endpoint& to) {
    auto self = shared_from_this();
    socket.async_connect(to, [self](const boost::system::error_code& ec) {
      if (ec) return;
      boost::asio::async_write(self->socket, boost::asio::buffer("srvr", 4),
                               [self](const boost::system::error_code& wec, size_t) {
                                 if (!wec) self->read();
                               });
    });
  }

  void read() {
    auto self = shared_from_this();
    socket.async_read_some(boost::asio::buffer(buf),
                           [self](const boost::system::error_code& ec, size_t n) {
                             self->answer.append(self->buf.data(), n);
                             if (ec) {
                               self->done = ec == boost::asio::error::eof;
                               return;
                             }
                             self->read();
                           });
  }
};

}  // namespace

std::optional<SrvrInfo> parseSrvr(std::string_view text) {
  std::optional<MemberRole> role;
  std::optional<std::int64_t> zxid;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.starts_with("Mode:")) {
      role = parseRole(trim(line.substr(5)));
    } else if (line.starts_with("Zxid:")) {
      std::string value(trim(line.substr(5)));
      try {
        zxid = static_cast<std::int64_t>(std::stoull(value, nullptr, 0));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  if (!role || !zxid) return std::nullopt;
  return SrvrInfo{*role, *zxid};
}

std::vector<std::optional<SrvrInfo>> probeSrvr(const std::vector<ProbeTarget>& targets,
                                               std::chrono::milliseconds timeout) {
  boost::asio::io_context io;
  std::vector<std::shared_ptr<Probe>> probes;
  for (const ProbeTarget& t : targets) {
    auto p = std::make_shared<Probe>(io);
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(t.host, ec);
    if (!ec) p->start({address, static_cast<unsigned short>(t.port)});
    probes.push_back(std::move(p));
  }
  io.run_for(timeout);
  std::vector<std::optional<SrvrInfo>> out;
  for (auto& p : probes) {
    out.push_back(p->done ? parseSrvr(p->answer) : std::nullopt);
    boost::system::error_code ignored;
    p->socket.close(ignored);
  }
  // Let the cancelled operations complete, so no handler outlives its socket's service.
  io.restart();
  io.run();
  return out;
}

}  // namespace zk::op::local
