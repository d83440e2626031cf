#include "net/quorum_sasl.h"

#include <array>
#include <span>
#include <variant>

#include "sasl/quorum_auth_packet.h"
#include "zab/packets.h"

namespace zk {
namespace {

using sasl::QuorumAuthStatus;

// ZooKeeper gives up after five rounds; DIGEST-MD5 takes two, GSSAPI three.
constexpr int kMaxRounds = 5;
// A DIGEST-MD5 token is a few hundred bytes, a Kerberos ticket a few kB (more with a large PAC);
// anything near this is not one.
constexpr std::size_t kMaxToken = 64 * 1024;

std::span<const std::uint8_t> bytesOf(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// One link's exchange, either side. It owns the stream until it hands it on (or drops it);
// every asynchronous step holds it alive, and the deadline closes the socket, which ends them.
class LinkAuth : public std::enable_shared_from_this<LinkAuth> {
 public:
  LinkAuth(Logger& log, std::shared_ptr<const QuorumSaslPolicy> policy,
           std::shared_ptr<QuorumSaslCounters> counters, std::unique_ptr<ClientStream> stream,
           std::string what, QuorumSasl::Done done)
      : log_(log),
        policy_(std::move(policy)),
        counters_(std::move(counters)),
        stream_(std::move(stream)),
        what_(std::move(what)),
        done_(std::move(done)),
        timer_(stream_->socket().get_executor()) {
    boost::system::error_code ec;
    peer_ = stream_->socket().remote_endpoint(ec).address().to_string();
  }

  // `kerberos`: where the learner's steps run (null: inline); `login`: the learner's settings
  // for this peer.
  void runAsLearner(std::string preamble, asio::thread_pool* kerberos,
                    std::optional<sasl::ClientSettings> login) {
    kerberos_ = kerberos;
    login_ = std::move(login);
    dialled_ = true;
    armDeadline();
    write(std::move(preamble), [self = shared_from_this()] {
      if (!self->policy_->learnerRequire) return self->finish(true);
      self->startLearner();
    });
  }

  void runAsServer(bool electionHello) {
    armDeadline();
    if (electionHello) return readHello();
    peekForAuth();
  }

 private:
  // ---- I/O ----

  void armDeadline() {
    timer_.expires_after(std::chrono::milliseconds(policy_->timeoutMs));
    timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->finished_) return;
      self->timedOut_ = true;
      boost::system::error_code ignored;
      self->stream_->socket().close(ignored);
    });
  }

  // Appends what arrives to in_; `onEof` (if any) is called instead of failing when the peer
  // closes or the read fails.
  void readMore(std::function<void()> then, std::function<void()> onEof = {}) {
    stream_->asyncReadSome(
        asio::buffer(buffer_), [self = shared_from_this(), then, onEof](
                                   const boost::system::error_code& ec, std::size_t n) {
          if (self->finished_) return;
          if (ec) {
            if (onEof && !self->timedOut_) return onEof();
            return self->fail(self->timedOut_ ? "no answer within " +
                                                    std::to_string(self->policy_->timeoutMs) + " ms"
                                              : "connection lost: " + ec.message());
          }
          self->in_.append(self->buffer_.data(), n);
          then();
        });
  }

  void write(std::string bytes, std::function<void()> then) {
    if (bytes.empty()) return then();
    out_ = std::move(bytes);
    stream_->asyncWrite(asio::buffer(out_), [self = shared_from_this(), then](
                                                const boost::system::error_code& ec, std::size_t) {
      if (self->finished_) return;
      if (ec) return self->fail("cannot write: " + ec.message());
      then();
    });
  }

  void send(QuorumAuthStatus status, std::optional<std::string_view> token,
            std::function<void()> then) {
    write(sasl::encodeQuorumAuthPacket(status, token), std::move(then));
  }

  // The next QuorumAuthPacket from in_, reading as needed.
  void receive(std::function<void(sasl::QuorumAuthPacket)> then) {
    auto decoded = sasl::decodeQuorumAuthPacket(in_, kMaxToken);
    if (auto* bad = std::get_if<sasl::QuorumAuthMalformed>(&decoded))
      return fail("malformed auth packet: " + bad->reason);
    if (std::holds_alternative<sasl::QuorumAuthNeedMore>(decoded))
      return readMore([self = shared_from_this(), then] { self->receive(then); });
    auto& packet = std::get<sasl::QuorumAuthDecoded>(decoded);
    in_.erase(0, packet.size);
    then(std::move(packet.packet));
  }

  // "election connection to member 3 (10.0.0.3)", "quorum connection from 10.0.0.2", ...
  std::string name() const {
    if (dialled_) return what_ + " (" + peer_ + ")";
    return what_ + " from " + peer_ + (sid_ ? " (member " + std::to_string(*sid_) + ")" : "");
  }

  void finish(bool keep) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    if (!keep) {
      boost::system::error_code ignored;
      stream_->socket().close(ignored);
      return done_(nullptr, {});
    }
    done_(std::move(stream_), hello_ + in_);
  }

  void fail(const std::string& why) {
    if (finished_) return;
    ++counters_->failed;
    log_.warn("quorum", "quorum SASL failed on " + name() + ": " + why);
    finish(false);
  }

  void succeeded(const std::string& as = {}) {
    ++counters_->authenticated;
    log_.info("quorum", "quorum SASL: authenticated " + name() + (as.empty() ? "" : " as " + as));
    finish(true);
  }

  // ---- The learner's side: we dialled ----

  using ClientStep = sasl::ClientExchange::Step;

  // Runs one step of the learner's mechanism, inline or (GSSAPI) on the Kerberos thread, and
  // continues with its result on the link's executor; a step the library refuses fails the link.
  void clientStep(std::function<ClientStep(sasl::ClientExchange&)> step,
                  std::function<void(ClientStep)> then) {
    auto result = [self = shared_from_this(), then](std::variant<ClientStep, std::string> r) {
      if (self->finished_) return;
      if (auto* error = std::get_if<std::string>(&r)) return self->fail(*error);
      then(std::get<ClientStep>(std::move(r)));
    };
    auto run = [self = shared_from_this(), step]() -> std::variant<ClientStep, std::string> {
      try {
        if (!self->client_) self->client_ = std::make_unique<sasl::ClientExchange>(*self->login_);
        return step(*self->client_);
      } catch (const sasl::Error& e) {
        return std::string(e.what());
      }
    };
    if (kerberos_ == nullptr) return result(run());
    asio::post(*kerberos_, [run, result, executor = timer_.get_executor()] {
      asio::post(executor, [outcome = run(), result]() mutable { result(std::move(outcome)); });
    });
  }

  void startLearner() {
    clientStep([](sasl::ClientExchange& client) { return client.start(); },
               [self = shared_from_this()](ClientStep step) {
                 self->complete_ = step.complete;
                 // Without an initial response ZooKeeper sends an empty (not a null) token.
                 self->send(QuorumAuthStatus::InProgress, step.token,
                            [self] { self->learnerRound(); });
               });
  }

  void learnerRound() {
    receive([self = shared_from_this()](sasl::QuorumAuthPacket packet) {
      self->onServerPacket(std::move(packet));
    });
  }

  void onServerPacket(sasl::QuorumAuthPacket packet) {
    auto status = static_cast<QuorumAuthStatus>(packet.status);
    if (status != QuorumAuthStatus::Success && status != QuorumAuthStatus::InProgress)
      return fail("the server refused us (status " + std::to_string(packet.status) + ")");
    if (complete_) {
      if (status != QuorumAuthStatus::Success) return fail("no SUCCESS after the exchange");
      return succeeded();
    }
    if (status != QuorumAuthStatus::Success && ++rounds_ > kMaxRounds)
      return fail("too many rounds");
    clientStep(
        [token = packet.token.value_or(std::string())](sasl::ClientExchange& client) {
          return client.evaluate(bytesOf(token));
        },
        [self = shared_from_this(), status](ClientStep step) {
          self->complete_ = step.complete;
          if (status == QuorumAuthStatus::Success) {
            if (!step.token.empty() || !step.complete)
              return self->fail(
                  "protocol error: the mechanism is not done at the server's SUCCESS");
            return self->succeeded();
          }
          self->send(QuorumAuthStatus::InProgress, step.token, [self] { self->learnerRound(); });
        });
  }

  // ---- The server's side: the peer dialled us ----

  void readHello() {
    zab::ElectionStreamDecoder decoder;
    decoder.feed(in_);
    auto next = decoder.next();
    if (auto* bad = std::get_if<zab::Malformed>(&next)) return fail(bad->reason);
    if (std::holds_alternative<zab::NeedMore>(next))
      return readMore([self = shared_from_this()] { self->readHello(); });
    sid_ = std::get<zab::InitialMessage>(next).sid;
    std::size_t helloSize = in_.size() - decoder.takeBuffered().size();
    hello_ = in_.substr(0, helloSize);
    in_.erase(0, helloSize);
    peekForAuth();
  }

  // As ZooKeeper: the next 8 bytes say whether the peer authenticates. A peer that closes
  // first (a lower id that only asked to be dialled back) does not.
  void peekForAuth() {
    auto isAuth = sasl::startsWithQuorumAuth(in_);
    if (!isAuth)
      return readMore([self = shared_from_this()] { self->peekForAuth(); },
                      [self = shared_from_this()] { self->withoutAuth(); });
    if (!*isAuth) return withoutAuth();
    try {
      server_ = policy_->server->begin();
    } catch (const sasl::Error& e) {
      return fail(e.what());
    }
    serverRound();
  }

  void withoutAuth() {
    if (policy_->serverRequire)
      return fail("the peer did not authenticate and quorum.auth.serverRequireSasl is true");
    finish(true);
  }

  void serverRound() {
    receive([self = shared_from_this()](sasl::QuorumAuthPacket packet) {
      self->onLearnerPacket(std::move(packet));
    });
  }

  void onLearnerPacket(sasl::QuorumAuthPacket packet) {
    sasl::Exchange::Step step;
    try {
      step = server_->evaluate(bytesOf(packet.token.value_or(std::string())));
    } catch (const sasl::Error& e) {
      return refuse(e.what());
    }
    if (step.complete) {
      // A final empty challenge goes as a null token, as ZooKeeper's does.
      std::optional<std::string_view> token;
      if (!step.token.empty()) token = step.token;
      auto id = step.authorizedId;
      return send(QuorumAuthStatus::Success, token,
                  [self = shared_from_this(), id] { self->succeeded(id); });
    }
    if (++rounds_ > kMaxRounds) return refuse("too many rounds");
    send(QuorumAuthStatus::InProgress, std::string_view(step.token),
         [self = shared_from_this()] { self->serverRound(); });
  }

  // The learner hears ERROR; without serverRequireSasl the link is kept (as ZooKeeper does,
  // though a ZooKeeper learner drops it on the ERROR anyway).
  void refuse(const std::string& why) {
    send(QuorumAuthStatus::Error, std::string_view(), [self = shared_from_this(), why] {
      if (self->policy_->serverRequire) return self->fail(why);
      ++self->counters_->failed;
      self->log_.warn("quorum", "quorum SASL failed on " + self->name() + ": " + why +
                                    "; kept, as quorum.auth.serverRequireSasl is false");
      self->finish(true);
    });
  }

  Logger& log_;
  std::shared_ptr<const QuorumSaslPolicy> policy_;
  std::shared_ptr<QuorumSaslCounters> counters_;
  std::unique_ptr<ClientStream> stream_;
  std::string what_;
  QuorumSasl::Done done_;
  asio::steady_timer timer_;
  std::string peer_;
  std::optional<std::int64_t> sid_;
  std::array<char, 4096> buffer_{};
  std::string in_;
  std::string hello_;  // the election initial message we read, handed on with the link
  std::string out_;
  asio::thread_pool* kerberos_ = nullptr;
  std::optional<sasl::ClientSettings> login_;
  std::unique_ptr<sasl::ClientExchange> client_;  // used by one step at a time, wherever it runs
  std::unique_ptr<sasl::Exchange> server_;
  bool complete_ = false;
  int rounds_ = 0;
  bool dialled_ = false;
  bool finished_ = false;
  bool timedOut_ = false;
};

}  // namespace

QuorumSasl::QuorumSasl(Logger& log, QuorumSaslPolicy policy)
    : log_(log), policy_(std::make_shared<const QuorumSaslPolicy>(std::move(policy))) {
  if (policy_->learner && policy_->learner->mechanism == "GSSAPI")
    kerberos_ = std::make_unique<asio::thread_pool>(1);
}

void QuorumSasl::dialled(std::unique_ptr<ClientStream> stream, std::string preamble,
                         const std::string& peerHost, std::string what, Done done) {
  std::optional<sasl::ClientSettings> login = policy_->learner;
  if (login && login->mechanism == "GSSAPI") {
    // "service/host[@REALM]": Cyrus asks for service@host; the host's realm comes from krb5.conf.
    std::string principal = sasl::quorumServicePrincipal(policy_->servicePrincipal, peerHost);
    std::size_t slash = principal.find('/');
    login->service = principal.substr(0, slash);
    login->serverName = slash == std::string::npos
                            ? std::string()
                            : principal.substr(slash + 1, principal.find('@') - slash - 1);
  }
  auto auth = std::make_shared<LinkAuth>(log_, policy_, counters_, std::move(stream),
                                         std::move(what), std::move(done));
  auth->runAsLearner(std::move(preamble), kerberos_.get(), std::move(login));
}

void QuorumSasl::accepted(std::unique_ptr<ClientStream> stream, bool electionHello,
                          std::string what, Done done) {
  auto auth = std::make_shared<LinkAuth>(log_, policy_, counters_, std::move(stream),
                                         std::move(what), std::move(done));
  auth->runAsServer(electionHello);
}

QuorumSaslPolicy quorumSaslPolicy(const ServerConfig& config, Logger& log) {
  QuorumSaslPolicy policy;
  if (!config.quorumEnableSasl) return policy;
  if (config.jaasConfigFile.empty())
    throw std::runtime_error(
        "quorum.auth.enableSasl=true needs a JAAS file (java.security.auth.login.config)");
  policy.enabled = true;
  policy.learnerRequire = config.quorumLearnerRequireSasl;
  policy.serverRequire = config.quorumServerRequireSasl;
  policy.timeoutMs = std::max(config.tickTime * std::max(config.initLimit, 1), 1000);
  try {
    jaas::Configuration jaas = jaas::readFile(config.jaasConfigFile);
    sasl::Settings server = sasl::settingsFrom(jaas, config.quorumServerLoginContext);
    if (server.mechanism == "DIGEST-MD5") {
      // ZooKeeper's quorum protocol and DIGEST-MD5 server name (QuorumAuth).
      server.service = "zookeeper-quorum";
      server.serverName = "zk-quorum-sasl-md5";
    }
    // As ZooKeeper's QuorumPeer: the hosts of the membership at start.
    server.authorizeAsQuorumMember = true;
    for (const auto& [sid, entry] : config.servers) server.memberHosts.insert(entry.host);
    policy.server = std::make_shared<const sasl::Authority>(std::move(server));
    sasl::ClientSettings learner = sasl::clientSettingsFrom(jaas, config.quorumLearnerLoginContext);
    if (learner.mechanism == "DIGEST-MD5") {
      learner.service = "zookeeper-quorum";
      learner.serverName = "zk-quorum-sasl-md5";
    } else if (config.quorumServicePrincipal.find('/') == std::string::npos) {
      throw sasl::Error("quorum.auth.kerberos.servicePrincipal '" + config.quorumServicePrincipal +
                        "' is not service/host[@REALM]");
    }
    sasl::logIn(learner);
    policy.learner = std::move(learner);
    policy.servicePrincipal = config.quorumServicePrincipal;
  } catch (const jaas::ParseError& e) {
    throw std::runtime_error("quorum SASL: " + config.jaasConfigFile.string() + ": " + e.what());
  } catch (const sasl::Error& e) {
    throw std::runtime_error("quorum SASL: " + config.jaasConfigFile.string() + ": " + e.what());
  }
  log.info("quorum", "quorum SASL enabled (" + policy.server->settings().mechanism + " accepted, " +
                         policy.learner->mechanism + " to dial): learners " +
                         (policy.learnerRequire ? "authenticate" : "do not authenticate") +
                         ", unauthenticated peers " +
                         (policy.serverRequire ? "refused" : "let in"));
  return policy;
}

}  // namespace zk
