#pragma once
// What the operator's relays (tls_relay.h, sasl_relay.h) share: accepting the operator's
// connections, and copying one side of a relayed connection to the other until either fails.

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>

#include <array>
#include <memory>
#include <string>

namespace zk::op::relay {

using PumpBuffer = std::array<char, 16384>;

// Copies what `from` reads to `to` until either fails, then calls session->close(). `from`,
// `to` and `buffer` belong to the session, which the pending operations keep alive.
template <typename Session, typename From, typename To>
void pump(std::shared_ptr<Session> session, From& from, To& to, PumpBuffer& buffer) {
  from.async_read_some(boost::asio::buffer(buffer),
                       [session, &from, &to, &buffer](auto ec, size_t n) {
                         if (ec) return session->close();
                         boost::asio::async_write(to, boost::asio::buffer(buffer, n),
                                                  [session, &from, &to, &buffer](auto ec2, size_t) {
                                                    if (ec2) return session->close();
                                                    pump(session, from, to, buffer);
                                                  });
                       });
}

// Accepts every connection on `acceptor` and resolves `host`:`port` for it asynchronously, so a
// slow name server never holds the relay's loop; `start(socket, endpoints)` then begins the
// session. A connection whose target does not resolve is closed, and the operator's client
// tries again. The acceptor, resolver and host belong to the relay, which outlives its loop.
template <typename Start>
void acceptResolved(boost::asio::ip::tcp::acceptor& acceptor,
                    boost::asio::ip::tcp::resolver& resolver, const std::string& host, int port,
                    Start start) {
  using tcp = boost::asio::ip::tcp;
  acceptor.async_accept(
      [&acceptor, &resolver, &host, port, start](boost::system::error_code ec, tcp::socket socket) {
        if (ec) return;  // the acceptor closed: the relay is going away
        auto accepted = std::make_shared<tcp::socket>(std::move(socket));
        resolver.async_resolve(host, std::to_string(port),
                               [accepted, start](boost::system::error_code failed,
                                                 const tcp::resolver::results_type& endpoints) {
                                 if (!failed) start(std::move(*accepted), endpoints);
                               });
        acceptResolved(acceptor, resolver, host, port, start);
      });
}

}  // namespace zk::op::relay
