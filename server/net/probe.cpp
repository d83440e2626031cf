#include "net/probe.h"

#include <array>
#include <filesystem>
#include <memory>
#include <optional>

#include "config/zoo_config.h"
#include "net/tls_context.h"  // first of the Asio headers: it fixes a missing include of Boost 1.74

namespace zk {
namespace {

// Where to ask, and over TLS when `tls` is set.
struct Target {
  std::string host;
  std::string port;
  std::shared_ptr<ssl::context> tls;
  std::string where() const { return host + ":" + port; }
};

// One four-letter exchange: the server answers and closes, so read until the end of the
// stream. Plaintext uses the TLS stream's socket alone.
class Exchange {
 public:
  Exchange(const Target& target, std::string_view word)
      : target_(target),
        word_(word),
        stream_(io_, target.tls ? *target.tls : plainContext()),
        resolver_(io_) {}

  std::string run(std::chrono::milliseconds timeout, std::string& error) {
    resolver_.async_resolve(target_.host, target_.port, [this](auto ec, auto endpoints) {
      if (ec) return fail("cannot resolve " + target_.host + ": " + ec.message());
      asio::async_connect(stream_.next_layer(), endpoints, [this](auto ec2, const auto&) {
        if (ec2) return fail("cannot connect to " + target_.where() + ": " + ec2.message());
        if (!target_.tls) return send(stream_.next_layer());
        // The member is our own process on loopback: its chain is checked against its own
        // trust store, not its name (user-provided certificates need not name 127.0.0.1).
        stream_.set_verify_mode(ssl::verify_peer);
        stream_.async_handshake(ssl::stream_base::client, [this](auto ec3) {
          if (ec3) return fail("TLS handshake with " + target_.where() + ": " + ec3.message());
          send(stream_);
        });
      });
    });
    io_.run_for(timeout);
    error = error_;
    if (!done_ && error.empty())
      error =
          "no complete answer to " + word_ + " within " + std::to_string(timeout.count()) + " ms";
    return answer_;
  }

 private:
  static ssl::context& plainContext() {
    thread_local ssl::context unused(ssl::context::tls_client);
    return unused;
  }
  void fail(std::string message) {
    error_ = std::move(message);
    done_ = true;
  }
  void send(auto& stream) {
    asio::async_write(stream, asio::buffer(word_), [this, &stream](auto ec, size_t) {
      if (ec) return fail("cannot send " + word_ + ": " + ec.message());
      readMore(stream);
    });
  }
  void readMore(auto& stream) {
    stream.async_read_some(asio::buffer(buffer_), [this, &stream](auto ec, size_t n) {
      answer_.append(buffer_.data(), n);
      if (!ec) return readMore(stream);
      // A server may close its TCP side without a TLS close_notify: the answer is complete.
      if (ec != asio::error::eof && ec != ssl::error::stream_truncated) error_ = ec.message();
      done_ = true;
    });
  }

  Target target_;
  std::string word_;
  asio::io_context io_;
  ssl::stream<tcp::socket> stream_;
  tcp::resolver resolver_;
  std::array<char, 4096> buffer_{};
  std::string answer_;
  std::string error_;
  bool done_ = false;
};

// A client context carrying what the member's TLS settings load (PEM or PKCS12, passwords,
// protocol versions): the server's own context is built by TlsContextSource and its key,
// certificate chain and trust store are taken over.
std::shared_ptr<ssl::context> clientContext(const TlsSettings& settings) {
  Logger quiet(LogLevel::kError);
  TlsContextSource source(settings);
  std::shared_ptr<ssl::context> server = source.current(quiet);
  SSL_CTX* from = server->native_handle();
  auto client = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* to = client->native_handle();
  if (SSL_CTX_use_certificate(to, SSL_CTX_get0_certificate(from)) != 1 ||
      SSL_CTX_use_PrivateKey(to, SSL_CTX_get0_privatekey(from)) != 1)
    throw TlsSetupError("ssl.keyStore.location: cannot present it as a client certificate");
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(from, &chain);
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i)
    SSL_CTX_add1_chain_cert(to, sk_X509_value(chain, i));
  SSL_CTX_set1_cert_store(to, SSL_CTX_get_cert_store(from));
  SSL_CTX_set_min_proto_version(to, SSL_CTX_get_min_proto_version(from));
  SSL_CTX_set_max_proto_version(to, SSL_CTX_get_max_proto_version(from));
  return client;
}

// A listener on every interface is reached on loopback.
std::string loopbackFor(const std::string& address) {
  if (address.empty() || address == "0.0.0.0") return "127.0.0.1";
  if (address == "::" || address == "[::]") return "::1";
  return address;
}

std::optional<Target> targetFromConfig(const std::string& path, std::string& error) {
  try {
    ServerConfig config = loadConfig(path);
    if (config.clientPort != 0)
      return Target{loopbackFor(config.clientPortAddress), std::to_string(config.clientPort), {}};
    if (config.secureClientPort != 0)
      return Target{loopbackFor(config.secureClientPortAddress),
                    std::to_string(config.secureClientPort), clientContext(config.tls)};
    error = path + " has neither clientPort nor secureClientPort";
  } catch (const ConfigError& e) {
    error = std::string("invalid configuration: ") + e.what();
  } catch (const TlsSetupError& e) {
    error = std::string("cannot use the TLS stores of ") + path + ": " + e.what();
  }
  return std::nullopt;
}

std::optional<Target> targetFromHostPort(const std::string& hostPort, std::string& error) {
  auto colon = hostPort.rfind(':');
  if (colon == std::string::npos || colon + 1 == hostPort.size()) {
    error = "expected HOST:PORT, got '" + hostPort + "'";
    return std::nullopt;
  }
  std::string host = hostPort.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return Target{host, hostPort.substr(colon + 1), {}};
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

ProbeResult runProbe(ProbeKind kind, const std::string& target, std::chrono::milliseconds timeout) {
  std::string error;
  std::error_code ec;
  std::optional<Target> where = std::filesystem::is_regular_file(target, ec)
                                    ? targetFromConfig(target, error)
                                    : targetFromHostPort(target, error);
  if (!where) return {false, error};
  if (kind == ProbeKind::kLive) {
    std::string answer = Exchange(*where, "ruok").run(timeout, error);
    if (!error.empty()) return {false, error};
    if (answer == "imok") return {true, "imok"};
    return {false, "ruok answered '" + answer + "', expected 'imok'"};
  }
  std::string answer = Exchange(*where, "srvr").run(timeout, error);
  if (!error.empty()) return {false, error};
  std::string mode = firstLineWith(answer, "Mode: ");
  if (!mode.empty()) return {true, mode};
  auto end = answer.find('\n');
  return {false, "not serving: " + (answer.empty() ? std::string("empty answer to srvr")
                                                   : answer.substr(0, end))};
}

}  // namespace zk
