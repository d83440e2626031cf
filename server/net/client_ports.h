#pragma once
// The client ports: the plain and the secure listener (a unified port detects TLS per
// connection), each accepted connection admitted by the registry and wired to the pipeline.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/zoo_config.h"
#include "net/asio.h"
#include "net/client_stream.h"
#include "net/connection.h"
#include "net/connection_registry.h"
#include "net/output_batch.h"
#include "net/pipeline_slot.h"
#include "net/tls_context.h"
#include "util/log.h"

namespace zk {

class ClientPorts {
 public:
  // What the ports hand each connection; the references outlive the ports.
  struct Parts {
    asio::io_context& io;
    Logger& log;
    const ServerConfig& config;
    const PipelineSlot& pipeline;
    ConnectionRegistry& connections;
    const ConnectionLimits& limits;
    ClientTlsShared& tls;
    OutputBatch& replies;
    Connection::FourLetterHook fourLetter;
    std::function<bool()> sessionGate;  // see Connection::Hooks
  };

  // Binds the configured ports and starts accepting; throws with a one-line reason.
  explicit ClientPorts(Parts parts);
  ClientPorts(const ClientPorts&) = delete;
  ClientPorts& operator=(const ClientPorts&) = delete;
  // Accepts no more connections.
  void stop();

 private:
  struct Listener {
    Listener(asio::io_context& io, bool secure) : acceptor(io), next(io), secure(secure) {}
    tcp::acceptor acceptor;
    tcp::socket next;    // the next connection, filled by async_accept
    tcp::endpoint from;  // its peer, from accept() itself: no getpeername
    bool secure;         // the secure client port: TLS only
  };
  void listenOn(Listener& listener, const std::string& host, std::uint16_t port);
  void accept(Listener& listener);
  void onAccepted(tcp::socket socket, const tcp::endpoint& remote, bool secure);
  ClientStream clientStream(tcp::socket socket, bool secure);

  Parts parts_;
  std::unique_ptr<TlsContextSource> tls_;  // null without a secure or unified client port
  Listener plain_;
  Listener secure_;
  bool stopped_ = false;
};

}  // namespace zk
