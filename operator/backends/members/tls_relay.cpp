#include "backends/members/tls_relay.h"

#include "backends/members/relay_pump.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <array>
#include <stdexcept>
#include <thread>

namespace zk::op::relay {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// One relayed connection: the plaintext side from the operator, the TLS side to the member.
// Either side ending or failing ends both.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket plain, ssl::context& ctx, const std::string& host)
      : plain_(std::move(plain)), tls_(plain_.get_executor(), ctx), host_(host) {}

  void start(const tcp::resolver::results_type& endpoints) {
    tls_.set_verify_mode(ssl::verify_peer);
    tls_.set_verify_callback(ssl::host_name_verification(host_));
    SSL_set_tlsext_host_name(tls_.native_handle(), host_.c_str());
    auto self = shared_from_this();
    asio::async_connect(tls_.next_layer(), endpoints, [self](auto ec, const auto&) {
      if (ec) return self->close();
      self->tls_.async_handshake(ssl::stream_base::client, [self](auto ec2) {
        if (ec2) return self->close();
        pump(self, self->plain_, self->tls_, self->up_);
        pump(self, self->tls_, self->plain_, self->down_);
      });
    });
  }

  void close() {
    boost::system::error_code ignored;
    plain_.close(ignored);
    tls_.next_layer().close(ignored);
  }

 private:
  tcp::socket plain_;
  ssl::stream<tcp::socket> tls_;
  std::string host_;
  PumpBuffer up_{}, down_{};
};

}  // namespace

struct TlsRelay::State {
  State(std::string h, int p, std::string ca, std::string name)
      : host(std::move(h)), port(p), caPem(std::move(ca)), verifyName(std::move(name)) {}
  std::string host;
  int port;
  std::string caPem;
  std::string verifyName;
  asio::io_context io;
  ssl::context ctx{ssl::context::tls_client};
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::resolver resolver{io};
  std::thread thread;

  void accept() {
    acceptResolved(acceptor, resolver, host, port,
                   [this](tcp::socket plain, const tcp::resolver::results_type& endpoints) {
                     std::make_shared<Session>(std::move(plain), ctx, verifyName)->start(endpoints);
                   });
  }
};

TlsRelay::TlsRelay(std::string host, int port, const TlsClientFiles& files, std::string verifyName)
    : state_(std::make_unique<State>(host, port, files.caPem,
                                     verifyName.empty() ? host : std::move(verifyName))) {
  try {
    state_->ctx.add_certificate_authority(asio::buffer(files.caPem));
    state_->ctx.use_certificate_chain(asio::buffer(files.certPem));
    state_->ctx.use_private_key(asio::buffer(files.keyPem), ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(std::string("TLS relay: cannot load the certificates: ") + e.what());
  }
  state_->accept();
  state_->thread = std::thread([s = state_.get()] { s->io.run(); });
}

TlsRelay::~TlsRelay() {
  asio::post(state_->io, [s = state_.get()] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
    s->io.stop();
  });
  state_->thread.join();
}

int TlsRelay::localPort() const {
  return state_->acceptor.local_endpoint().port();
}
const std::string& TlsRelay::host() const {
  return state_->host;
}
int TlsRelay::port() const {
  return state_->port;
}
const std::string& TlsRelay::caPem() const {
  return state_->caPem;
}

}  // namespace zk::op::relay
