#pragma once
// What the operator's relays (tls_relay.h, sasl_relay.h) share: copying one side of a relayed
// connection to the other until either fails.

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>

#include <array>
#include <memory>

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

}  // namespace zk::op::relay
