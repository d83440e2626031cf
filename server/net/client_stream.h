#pragma once
// A connection's byte stream: a plain TCP socket or TLS over one, so a single Connection class
// serves both the client port and the secure client port (and a quorum link either mode). On a port
// that takes both (client.portUnification) the stream starts plain and becomes TLS when the first
// byte is a TLS record's (0x16, a handshake record); nothing has been read from the socket before
// that.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "net/asio.h"
#include "net/tls_context.h"

namespace zk {

class ClientStream {
 public:
  using TlsStream = ssl::stream<tcp::socket>;
  static constexpr std::uint8_t kTlsHandshakeRecord = 0x16;

  struct Plain {};
  struct Tls {};
  struct Detect {};  // plain or TLS, told from the first byte

  ClientStream(Plain, tcp::socket socket) : stream_(std::move(socket)) {}
  ClientStream(Tls, tcp::socket socket, std::shared_ptr<ssl::context> tls)
      : tls_(std::move(tls)), stream_(std::in_place_type<TlsStream>, std::move(socket), *tls_) {}
  ClientStream(Detect, tcp::socket socket, std::shared_ptr<ssl::context> tls)
      : tls_(std::move(tls)), stream_(std::move(socket)), detecting_(true) {}

  bool secure() const { return std::holds_alternative<TlsStream>(stream_); }
  bool detecting() const { return detecting_; }

  tcp::socket& socket() {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) return tls->next_layer();
    return std::get<tcp::socket>(stream_);
  }

  // Detection: the first byte decides; plain is kept for anything but a TLS record.
  void decide(std::uint8_t firstByte) {
    detecting_ = false;
    if (firstByte != kTlsHandshakeRecord) return;
    tcp::socket plain = std::move(std::get<tcp::socket>(stream_));
    stream_.emplace<TlsStream>(std::move(plain), *tls_);
  }

  template <class Handler>
  void asyncHandshake(Handler&& handler) {
    asyncHandshake(ssl::stream_base::server, std::forward<Handler>(handler));
  }
  template <class Handler>
  void asyncHandshake(ssl::stream_base::handshake_type side, Handler&& handler) {
    std::get<TlsStream>(stream_).async_handshake(side, std::forward<Handler>(handler));
  }

  // The TLS connection's OpenSSL handle, null on a plain stream. Not owned.
  SSL* tlsHandle() {
    auto* tls = std::get_if<TlsStream>(&stream_);
    return tls ? tls->native_handle() : nullptr;
  }

  template <class Buffers, class Handler>
  void asyncReadSome(const Buffers& buffers, Handler&& handler) {
    std::visit([&](auto& s) { s.async_read_some(buffers, std::forward<Handler>(handler)); },
               stream_);
  }

  // On TLS the buffers are copied into one first: Asio's ssl::stream encrypts only the first
  // buffer of a sequence per write, so a batch of N replies would cost N records and N trips
  // through the event loop; one buffer goes out as full (16 KiB) records instead.
  template <class Buffers, class Handler>
  void asyncWrite(const Buffers& buffers, Handler&& handler) {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) {
      tlsOut_.resize(asio::buffer_size(buffers));
      asio::buffer_copy(asio::buffer(tlsOut_), buffers);
      asio::async_write(*tls, asio::buffer(tlsOut_), std::forward<Handler>(handler));
      return;
    }
    asio::async_write(std::get<tcp::socket>(stream_), buffers, std::forward<Handler>(handler));
  }

  // A write tried at once on a plain socket. TLS always writes asynchronously: a record half
  // written by a non-blocking write could not be resumed.
  template <class Buffers>
  std::size_t writeNow(const Buffers& buffers, boost::system::error_code& ec) {
    if (secure()) {
      ec = asio::error::would_block;
      return 0;
    }
    return std::get<tcp::socket>(stream_).write_some(buffers, ec);
  }

  // The peer's certificate after a handshake, null without one. Not owned.
  X509* peerCertificate() {
    SSL* tls = tlsHandle();
    return tls ? SSL_get0_peer_certificate(tls) : nullptr;
  }

 private:
  std::shared_ptr<ssl::context> tls_;  // before stream_: the TLS stream refers to it
  std::variant<tcp::socket, TlsStream> stream_;
  bool detecting_ = false;
  std::string tlsOut_;  // the TLS write in flight, as one buffer (see asyncWrite)
};

}  // namespace zk
