#include "net/client_ports.h"

namespace zk {

ClientPorts::ClientPorts(Parts parts)
    : parts_(std::move(parts)), plain_(parts_.io, false), secure_(parts_.io, true) {
  const ServerConfig& config = parts_.config;
  if (config.secureClientPort != 0 || config.clientPortUnification) {
    try {
      tls_ = std::make_unique<TlsContextSource>(config.tls);
    } catch (const boost::system::system_error& e) {
      throw TlsSetupError(std::string("cannot set up TLS: ") + e.what());
    }
  }
  if (config.clientPort != 0 || config.secureClientPort == 0)
    listenOn(plain_, config.clientPortAddress, config.clientPort);
  if (config.secureClientPort != 0)
    listenOn(secure_, config.secureClientPortAddress, config.secureClientPort);
  // Only once every port is bound: a port that fails leaves no accept pending on the other.
  for (Listener* listener : {&plain_, &secure_})
    if (listener->acceptor.is_open()) accept(*listener);
}

void ClientPorts::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  plain_.acceptor.close(ec);
  secure_.acceptor.close(ec);
}

void ClientPorts::listenOn(Listener& listener, const std::string& host, std::uint16_t port) {
  auto address =
      host.empty() ? asio::ip::address(asio::ip::address_v6::any()) : asio::ip::make_address(host);
  tcp::endpoint endpoint(address, port);
  tcp::acceptor& acceptor = listener.acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  if (endpoint.protocol() == tcp::v6()) acceptor.set_option(asio::ip::v6_only(false));
  boost::system::error_code ec;
  acceptor.bind(endpoint, ec);
  std::string what = listener.secure ? "secure client port " : "client port ";
  if (ec)
    throw std::runtime_error("cannot bind " + what + endpoint.address().to_string() + ":" +
                             std::to_string(port) + ": " + ec.message());
  acceptor.listen(parts_.config.clientPortListenBacklog > 0
                      ? parts_.config.clientPortListenBacklog
                      : asio::socket_base::max_listen_connections);
  std::string how = listener.secure                       ? " over TLS"
                    : parts_.config.clientPortUnification ? " (plaintext and TLS)"
                                                          : "";
  parts_.log.info("net", "serving ZooKeeper clients on " +
                             (host.empty() ? std::string("0.0.0.0") : host) + ":" +
                             std::to_string(port) + how);
}

void ClientPorts::accept(Listener& listener) {
  listener.acceptor.async_accept(
      listener.next, listener.from, [this, &listener](const boost::system::error_code& ec) {
        if (stopped_) return;
        // A moved-from socket is as if newly made on the same executor: ready for the next.
        if (!ec) onAccepted(std::move(listener.next), listener.from, listener.secure);
        accept(listener);
      });
}

// Each new TLS connection asks for the current context, so rotated store files take effect
// from the next handshake on.
ClientStream ClientPorts::clientStream(tcp::socket socket, bool secure) {
  if (secure)
    return ClientStream(ClientStream::Tls{}, std::move(socket), tls_->current(parts_.log));
  if (parts_.config.clientPortUnification)
    return ClientStream(ClientStream::Detect{}, std::move(socket), tls_->current(parts_.log));
  return ClientStream(ClientStream::Plain{}, std::move(socket));
}

void ClientPorts::onAccepted(tcp::socket socket, const tcp::endpoint& remote, bool secure) {
  auto address = remote.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  std::string ip = address.to_string();
  ConnectionRegistry& connections = parts_.connections;
  if (!connections.admit(ip)) return;  // the socket closes as it goes out of scope
  Connection::Hooks hooks{
      .fourLetter = parts_.fourLetter,
      .onClosed = [&connections, ip](Connection& closed) { connections.forget(closed, ip); },
      .sessionGate = parts_.sessionGate,
  };
  auto connection = std::make_shared<Connection>(
      clientStream(std::move(socket), secure), Connection::Peer{ip, remote.port()}, parts_.pipeline,
      parts_.log, parts_.limits, parts_.tls, parts_.replies, std::move(hooks));
  connections.track(connection);
  connection->start();
}

}  // namespace zk
