#include "net/quorum_tls.h"

#include <openssl/x509v3.h>

#include <chrono>
#include <optional>

namespace zk {
namespace {

std::string remoteOf(tcp::socket& socket) {
  boost::system::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "an unknown peer";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

bool isAddress(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// One connection being secured: the first byte's detection on a unified port, the handshake,
// then the peer's address checked against its certificate; all within one deadline. `done` is
// called exactly once.
class Securing : public std::enable_shared_from_this<Securing> {
 public:
  Securing(Logger& log, std::shared_ptr<QuorumTlsCounters> counters, const QuorumTlsPolicy& policy,
           std::unique_ptr<ClientStream> stream, std::string what, QuorumTls::Done done)
      : log_(log),
        counters_(std::move(counters)),
        verifyHost_(policy.hostnameVerification),
        timeoutMs_(policy.handshakeTimeoutMs),
        stream_(std::move(stream)),
        deadline_(stream_->socket().get_executor()),
        resolver_(stream_->socket().get_executor()),
        what_(std::move(what)),
        done_(std::move(done)) {}

  void dial(const std::string& host) {
    if (!isAddress(host)) peerName_ = host;
    // The member we dial always shows a certificate, whatever our own clientAuth asks of others.
    SSL_set_verify(stream_->tlsHandle(), SSL_VERIFY_PEER, nullptr);
    armDeadline();
    handshake(ssl::stream_base::client);
  }

  void accept() {
    armDeadline();
    if (stream_->detecting()) return awaitFirstByte();
    handshake(ssl::stream_base::server);
  }

 private:
  void armDeadline() {
    peer_ = remoteOf(stream_->socket());
    deadline_.expires_after(std::chrono::milliseconds(timeoutMs_));
    deadline_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->fail("no TLS handshake within " + std::to_string(self->timeoutMs_) + " ms");
    });
  }

  // A peeked byte: whoever reads the stream next still gets it.
  void awaitFirstByte() {
    stream_->socket().async_wait(
        tcp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
          if (self->finished_) return;
          std::uint8_t first = 0;
          boost::system::error_code peekEc = ec;
          std::size_t n = ec ? 0
                             : self->stream_->socket().receive(asio::buffer(&first, 1),
                                                               tcp::socket::message_peek, peekEc);
          if (peekEc == asio::error::would_block) return self->awaitFirstByte();
          if (peekEc || n == 0) return self->fail("closed before sending anything");
          self->stream_->decide(first);
          if (!self->stream_->secure()) return self->succeed();
          self->handshake(ssl::stream_base::server);
        });
  }

  void handshake(ssl::stream_base::handshake_type side) {
    stream_->asyncHandshake(side, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (self->finished_) return;
      if (ec) return self->fail(ec.message());
      self->verifyPeer();
    });
  }

  // As ZooKeeper's trust manager: the peer's IP address, else its name (as configured, or
  // looked up from the address) must be one its certificate names.
  void verifyPeer() {
    X509* certificate = stream_->peerCertificate();
    if (!verifyHost_ || certificate == nullptr) return succeed();
    boost::system::error_code ec;
    auto remote = stream_->socket().remote_endpoint(ec);
    if (ec) return fail("the connection closed: " + ec.message());
    std::string ip = remote.address().to_string();
    if (X509_check_ip_asc(certificate, ip.c_str(), 0) == 1) return succeed();
    if (!peerName_.empty()) return checkName(peerName_);
    resolver_.async_resolve(
        remote, [self = shared_from_this(), ip](const boost::system::error_code& ec,
                                                const tcp::resolver::results_type& names) {
          if (self->finished_) return;
          if (ec || names.empty())
            return self->fail("its certificate does not name " + ip + " (and " + ip +
                              " has no name to check instead)");
          self->checkName(names.begin()->host_name());
        });
  }

  void checkName(const std::string& name) {
    X509* certificate = stream_->peerCertificate();
    if (X509_check_host(certificate, name.data(), name.size(), 0, nullptr) == 1) return succeed();
    fail("its certificate names neither its address nor " + name + " (hostnameVerification)");
  }

  void succeed() {
    finished_ = true;
    deadline_.cancel();
    if (stream_->secure()) {
      ++counters_->handshakes;
      log_.info("quorum", "TLS with " + peer_ + " (" + what_ +
                              "): " + SSL_get_version(stream_->tlsHandle()) + " " +
                              SSL_get_cipher_name(stream_->tlsHandle()));
    }
    done_(std::move(stream_));
  }

  void fail(const std::string& reason) {
    if (finished_) return;
    finished_ = true;
    deadline_.cancel();
    resolver_.cancel();
    ++counters_->failedHandshakes;
    log_.warn("quorum", "TLS handshake with " + peer_ + " (" + what_ + ") failed: " + reason);
    boost::system::error_code ec;
    stream_->socket().close(ec);  // ends whatever operation is still pending on it
    done_(nullptr);
  }

  Logger& log_;
  std::shared_ptr<QuorumTlsCounters> counters_;
  bool verifyHost_;
  std::int32_t timeoutMs_;
  std::unique_ptr<ClientStream> stream_;
  asio::steady_timer deadline_;
  tcp::resolver resolver_;
  std::string what_;
  std::string peer_;
  std::string peerName_;  // the name the peer was dialled by, when not an address
  QuorumTls::Done done_;
  bool finished_ = false;
};

}  // namespace

QuorumTls::QuorumTls(Logger& log, QuorumTlsPolicy policy) : log_(log), policy_(std::move(policy)) {}

QuorumTls::~QuorumTls() = default;

void QuorumTls::dialled(tcp::socket socket, const std::string& host, const std::string& what,
                        Done done) {
  if (!policy_.dialTls || !policy_.contexts)
    return done(std::make_unique<ClientStream>(ClientStream::Plain{}, std::move(socket)));
  auto stream = std::make_unique<ClientStream>(ClientStream::Tls{}, std::move(socket),
                                               policy_.contexts->current(log_));
  std::make_shared<Securing>(log_, counters_, policy_, std::move(stream), what, std::move(done))
      ->dial(host);
}

void QuorumTls::accepted(tcp::socket socket, const std::string& what, Done done) {
  if (!policy_.contexts)
    return done(std::make_unique<ClientStream>(ClientStream::Plain{}, std::move(socket)));
  boost::system::error_code ec;
  socket.non_blocking(true, ec);  // the first byte is peeked without waiting
  auto tls = policy_.contexts->current(log_);
  auto stream = policy_.acceptPlain
                    ? std::make_unique<ClientStream>(ClientStream::Detect{}, std::move(socket), tls)
                    : std::make_unique<ClientStream>(ClientStream::Tls{}, std::move(socket), tls);
  std::make_shared<Securing>(log_, counters_, policy_, std::move(stream), what, std::move(done))
      ->accept();
}

}  // namespace zk
