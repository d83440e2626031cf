#include "backends/members/sasl_relay.h"

#include "backends/members/relay_pump.h"

#include <boost/asio.hpp>

#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include "sasl/sasl_client.h"

namespace zk::op::relay {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

constexpr std::int32_t kSaslOp = 102;                  // ZooKeeper's OpCode.sasl
constexpr std::uint32_t kMaxHandshakeFrame = 1 << 20;  // connect and SASL frames are small

void putInt(std::vector<char>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}
std::uint32_t getInt(const char* p) {
  auto b = [p](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// A framed SASL request: length, RequestHeader (xid, type), GetSASLRequest (token buffer).
std::vector<char> saslRequest(std::int32_t xid, const std::string& token) {
  std::vector<char> out;
  putInt(out, static_cast<std::uint32_t>(12 + token.size()));
  putInt(out, static_cast<std::uint32_t>(xid));
  putInt(out, static_cast<std::uint32_t>(kSaslOp));
  putInt(out, static_cast<std::uint32_t>(token.size()));
  out.insert(out.end(), token.begin(), token.end());
  return out;
}

// One relayed connection: the C client's side and the member's.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket client, const SaslLogin& login)
      : client_(std::move(client)), member_(client_.get_executor()), login_(login) {}

  void start(const tcp::resolver::results_type& endpoints) {
    auto self = shared_from_this();
    asio::async_connect(member_, endpoints, [self](auto ec, const auto&) {
      if (ec) return self->close();
      // ConnectRequest through, ConnectResponse back, then SASL before anything else.
      self->passFrame(self->client_, self->member_, [self] {
        self->passFrame(self->member_, self->client_, [self] { self->authenticate(); });
      });
    });
  }

  void close() {
    boost::system::error_code ignored;
    client_.close(ignored);
    member_.close(ignored);
  }

 private:
  // Reads one length-prefixed frame from `from` into frame_.
  template <typename Next>
  void readFrame(tcp::socket& from, Next next) {
    auto self = shared_from_this();
    frame_.assign(4, 0);
    asio::async_read(from, asio::buffer(frame_), [self, &from, next](auto ec, size_t) {
      if (ec) return self->close();
      std::uint32_t length = getInt(self->frame_.data());
      if (length > kMaxHandshakeFrame) return self->close();
      self->frame_.resize(4 + length);
      asio::async_read(from, asio::buffer(self->frame_.data() + 4, length),
                       [self, next](auto ec2, size_t) {
                         if (ec2) return self->close();
                         next();
                       });
    });
  }

  template <typename Next>
  void passFrame(tcp::socket& from, tcp::socket& to, Next next) {
    auto self = shared_from_this();
    readFrame(from, [self, &to, next] {
      asio::async_write(to, asio::buffer(self->frame_), [self, next](auto ec, size_t) {
        if (ec) return self->close();
        next();
      });
    });
  }

  void authenticate() {
    try {
      zk::sasl::ClientSettings settings;
      settings.mechanism = "DIGEST-MD5";
      settings.service = "zookeeper";
      settings.serverName = "zk-sasl-md5";
      settings.username = login_.user;
      settings.password = login_.password;
      exchange_ = std::make_unique<zk::sasl::ClientExchange>(std::move(settings));
      send(exchange_->start());
    } catch (const std::exception&) {
      close();
    }
  }

  // Sends `step`'s token and evaluates the member's answer, until the mechanism is done.
  void send(zk::sasl::ClientExchange::Step step) {
    if (step.complete && step.token.empty()) return relay();
    auto self = shared_from_this();
    request_ = saslRequest(nextXid_++, step.token);
    asio::async_write(member_, asio::buffer(request_), [self](auto ec, size_t) {
      if (ec) return self->close();
      self->readFrame(self->member_, [self] { self->answered(); });
    });
  }

  // ReplyHeader (xid, zxid, err) then SetSASLResponse (token buffer).
  void answered() {
    const char* body = frame_.data() + 4;
    size_t size = frame_.size() - 4;
    if (size < 20 || getInt(body + 12) != 0) return close();  // err: refused
    std::uint32_t length = getInt(body + 16);
    if (length == 0xffffffffU) length = 0;  // a null buffer
    if (20 + static_cast<size_t>(length) > size) return close();
    auto token =
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(body + 20), length);
    try {
      if (exchangeComplete_) return relay();  // the server's last word on a complete mechanism
      auto step = exchange_->evaluate(token);
      exchangeComplete_ = step.complete;
      send(step);
    } catch (const std::exception&) {
      close();
    }
  }

  void relay() {
    auto self = shared_from_this();
    pump(self, client_, member_, up_);
    pump(self, member_, client_, down_);
  }

  tcp::socket client_, member_;
  SaslLogin login_;
  std::unique_ptr<zk::sasl::ClientExchange> exchange_;
  bool exchangeComplete_ = false;
  // As ZooKeeper's Java client numbers a new session's first packets (the C client's own xids
  // count up from its start time, and the server answers each with the xid it was sent).
  std::int32_t nextXid_ = 1;
  std::vector<char> frame_, request_;
  PumpBuffer up_{}, down_{};
};

}  // namespace

struct SaslRelay::State {
  State(std::string h, int p, SaslLogin l) : host(std::move(h)), port(p), login(std::move(l)) {}
  std::string host;
  int port;
  SaslLogin login;
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::resolver resolver{io};
  std::thread thread;

  void accept() {
    acceptResolved(acceptor, resolver, host, port,
                   [this](tcp::socket client, const tcp::resolver::results_type& endpoints) {
                     std::make_shared<Session>(std::move(client), login)->start(endpoints);
                   });
  }
};

SaslRelay::SaslRelay(std::string host, int port, SaslLogin login)
    : state_(std::make_unique<State>(std::move(host), port, std::move(login))) {
  state_->accept();
  state_->thread = std::thread([s = state_.get()] { s->io.run(); });
}

SaslRelay::~SaslRelay() {
  asio::post(state_->io, [s = state_.get()] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
    s->io.stop();
  });
  state_->thread.join();
}

int SaslRelay::localPort() const {
  return state_->acceptor.local_endpoint().port();
}

}  // namespace zk::op::relay
