// libFuzzer target: the TLS detection of a unified port (client.portUnification, and
// portUnification on the quorum and election ports). The input is what a peer sends before it
// closes. As the server does, the first byte is peeked, not read; the stream decides TLS (a
// handshake record, 0x16) or plaintext from it, and then:
// - plaintext: every byte of the input must still be read from the stream, in order (detection
//   consumes nothing);
// - TLS: the server's handshake runs over the input with a real certificate and must end (it
//   fails, the peer never finishes it) without a crash, a leak or a hang.
// The peer is one end of a local socket pair (no port, no network), which the stream's TCP socket
// adopts: every call made here is a plain stream-socket call.

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "net/client_stream.h"

namespace {

using zk::ClientStream;
namespace asio = zk::asio;
namespace ssl = zk::ssl;

// A throwaway P-256 key and self-signed certificate, so handshakes get past ServerHello.
std::shared_ptr<ssl::context> serverContext() {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* certificate = X509_new();
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(certificate), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("fuzz"), -1, -1, 0);
  X509_set_issuer_name(certificate, X509_get_subject_name(certificate));
  X509_set_pubkey(certificate, key);
  X509_sign(certificate, key, EVP_sha256());
  if (SSL_CTX_use_certificate(context->native_handle(), certificate) != 1 ||
      SSL_CTX_use_PrivateKey(context->native_handle(), key) != 1)
    std::abort();
  X509_free(certificate);
  EVP_PKEY_free(key);
  return context;
}

// Everything the stream yields until the peer's close (or an error).
std::string readAll(asio::io_context& io, ClientStream& stream) {
  std::string out;
  std::array<char, 4096> buffer{};
  bool done = false;
  std::function<void()> next = [&] {
    stream.asyncReadSome(asio::buffer(buffer),
                         [&](const boost::system::error_code& ec, std::size_t n) {
                           out.append(buffer.data(), n);
                           if (ec) {
                             done = true;
                             return;
                           }
                           next();
                         });
  };
  next();
  io.restart();
  io.run();
  if (!done) std::abort();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Below a socket buffer, so the peer's whole input is written before the server reads.
  if (size == 0 || size > 32 * 1024) return 0;
  static asio::io_context io;
  static const std::shared_ptr<ssl::context> tls = serverContext();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) std::abort();
  std::size_t sent = 0;
  while (sent < size) {
    ssize_t n = ::send(fds[1], data + sent, size - sent, 0);
    if (n <= 0) std::abort();
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fds[1], SHUT_WR);
  zk::tcp::socket socket(io);
  socket.assign(zk::tcp::v4(), fds[0]);
  ClientStream stream(ClientStream::Detect{}, std::move(socket), tls);

  std::uint8_t first = 0;
  boost::system::error_code ec;
  std::size_t peeked =
      stream.socket().receive(asio::buffer(&first, 1), zk::tcp::socket::message_peek, ec);
  if (ec || peeked != 1 || first != data[0]) std::abort();
  stream.decide(first);
  if (stream.detecting() || stream.secure() != (first == ClientStream::kTlsHandshakeRecord))
    std::abort();

  if (stream.secure()) {
    bool ended = false;
    stream.asyncHandshake([&](const boost::system::error_code&) { ended = true; });
    io.restart();
    io.run();
    if (!ended) std::abort();
  } else if (readAll(io, stream) != std::string(reinterpret_cast<const char*>(data), size)) {
    std::abort();
  }
  ::close(fds[1]);
  return 0;
}
