#include "net/quorum_transport.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <optional>
#include <variant>
#include <vector>

#include "storage/snapshot_stream.h"
#include "util/fail_stop.h"

namespace zk {

// One connection to another member, plain or TLS (secured before the link is made): a read loop
// feeding bytes to its owner, and writes queued behind at most one in flight. close() is
// silent; a failure reports onClosed once.
class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  using BytesFn = std::function<bool(PeerLink&, std::string_view)>;  // false: drop the link
  using ClosedFn = std::function<void(PeerLink&, const std::string& why)>;

  PeerLink(std::unique_ptr<ClientStream> stream, BytesFn onBytes, ClosedFn onClosed)
      : stream_(std::move(stream)), onBytes_(std::move(onBytes)), onClosed_(std::move(onClosed)) {
    boost::system::error_code ec;
    stream_->socket().set_option(tcp::no_delay(true), ec);
  }

  // `alreadyRead`: what the peer sent before the link was made (read by quorum SASL).
  void start(std::string alreadyRead = {}) {
    if (closed_) return;  // its owner let go of it already
    if (!alreadyRead.empty() && !onBytes_(*this, alreadyRead)) return fail("protocol error");
    if (!closed_) readMore();
  }

  // While a snapshot streams, packets wait behind it: the learner reads them after the tree.
  void send(std::string bytes) {
    if (closed_) return;
    if (streaming_) return held_.push_back(std::move(bytes));
    queue(std::move(bytes));
  }

  void startStream() { streaming_ = true; }
  void sendStream(std::string bytes) {
    if (!closed_) queue(std::move(bytes));
  }
  void endStream() {
    streaming_ = false;
    for (auto& bytes : std::exchange(held_, {})) send(std::move(bytes));
  }
  std::size_t queuedBytes() const { return queuedBytes_; }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_->socket().close(ec);
  }

  bool closed() const { return closed_; }
  std::int64_t sid = -1;
  zab::PacketDecoder packets{std::size_t{64} << 20};
  zab::ElectionStreamDecoder election;
  // After a SNAP packet the leader streams the tree (storage/snapshot_stream.h); the packet is
  // handed on, with the tree as a snapshot file in its data, once the stream is complete.
  std::optional<storage::SnapshotStreamScanner> snapshot;
  std::optional<storage::SnapshotSpool> spool;  // where the stream's records go as they arrive
  zab::QuorumPacket snapPacket;

 private:
  void queue(std::string bytes) {
    queuedBytes_ += bytes.size();
    queue_.push_back(std::move(bytes));
    if (!writing_) writeMore();
  }

  void fail(const std::string& why) {
    if (closed_) return;
    close();
    onClosed_(*this, why);
  }

  void readMore() {
    stream_->asyncReadSome(
        asio::buffer(buffer_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (self->closed_) return;
          if (ec) return self->fail(ec.message());
          if (!self->onBytes_(*self, std::string_view(self->buffer_.data(), n)))
            return self->fail("protocol error");
          if (!self->closed_) self->readMore();
        });
  }

  // Everything queued goes out in one gathered write: under load that is many proposals, acks
  // and commits per system call and per TCP segment, where one write each cost the ensemble
  // more CPU per txn than the txn itself. (Deque elements stay put while more are queued.)
  // Over TLS, ClientStream::asyncWrite joins the buffers into full records itself.
  void writeMore() {
    if (queue_.empty() || closed_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    std::size_t count = std::min(queue_.size(), kMaxGathered);
    std::vector<asio::const_buffer> buffers;
    buffers.reserve(count);
    for (std::size_t i = 0; i < count; ++i) buffers.emplace_back(asio::buffer(queue_[i]));
    stream_->asyncWrite(buffers, [self = shared_from_this(), count](
                                     const boost::system::error_code& ec, std::size_t) {
      if (self->closed_) return;
      if (ec) return self->fail(ec.message());
      for (std::size_t i = 0; i < count; ++i) self->queuedBytes_ -= self->queue_[i].size();
      self->queue_.erase(self->queue_.begin(),
                         self->queue_.begin() + static_cast<std::ptrdiff_t>(count));
      self->writeMore();
    });
  }

  static constexpr std::size_t kMaxGathered = 256;  // well under IOV_MAX (1024)

  std::unique_ptr<ClientStream> stream_;
  BytesFn onBytes_;
  ClosedFn onClosed_;
  std::array<char, 64 * 1024> buffer_{};
  std::deque<std::string> queue_;
  std::size_t queuedBytes_ = 0;
  std::deque<std::string> held_;
  bool streaming_ = false;
  bool writing_ = false;
  bool closed_ = false;
};

namespace {

constexpr std::size_t kMaxPendingVotes = 16;  // only the newest votes matter

tcp::acceptor bindAcceptor(asio::io_context& io, const std::string& host, std::uint16_t port,
                           bool onAll, std::string_view what) {
  tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  auto address =
      onAll ? asio::ip::address(asio::ip::address_v4::any()) : asio::ip::make_address(host, ec);
  if (ec) {
    // A name (as in Kubernetes): listen everywhere, peers reach us through the name.
    address = asio::ip::address_v4::any();
    ec.clear();
  }
  tcp::endpoint endpoint(address, port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint, ec);
  if (ec)
    throw std::runtime_error("cannot bind " + std::string(what) + " port " + host + ":" +
                             std::to_string(port) + ": " + ec.message());
  acceptor.listen();
  return acceptor;
}

}  // namespace

QuorumTransport::QuorumTransport(asio::io_context& io, Logger& log, std::int64_t mySid,
                                 std::map<std::int64_t, PeerAddress> peers,
                                 std::filesystem::path snapshotSpool, QuorumTlsPolicy tls,
                                 QuorumSaslPolicy sasl, Handlers handlers)
    : io_(io),
      log_(log),
      mySid_(mySid),
      peers_(std::move(peers)),
      snapshotSpool_(std::move(snapshotSpool)),
      tls_(log, std::move(tls)),
      sasl_(log, std::move(sasl)),
      handlers_(std::move(handlers)),
      electionAcceptor_(io),
      quorumAcceptor_(io) {}

QuorumTransport::~QuorumTransport() {
  stop();
}

void QuorumTransport::listen(bool onAllInterfaces) {
  const PeerAddress& me = peers_.at(mySid_);
  electionAcceptor_ = bindAcceptor(io_, me.host, me.electionPort, onAllInterfaces, "election");
  quorumAcceptor_ = bindAcceptor(io_, me.host, me.quorumPort, onAllInterfaces, "quorum");
  log_.info("quorum", "election on " + me.host + ":" + std::to_string(me.electionPort) +
                          ", quorum on " + me.host + ":" + std::to_string(me.quorumPort));
  accept(electionAcceptor_, true);
  accept(quorumAcceptor_, false);
}

void QuorumTransport::stop() {
  *alive_ = false;
  boost::system::error_code ec;
  electionAcceptor_.close(ec);
  quorumAcceptor_.close(ec);
  for (auto& [sid, link] : electionLinks_) link->close();
  for (auto& [sid, link] : quorumLinks_) link->close();
  electionLinks_.clear();
  quorumLinks_.clear();
}

std::string QuorumTransport::myElectionAddress() const {
  const PeerAddress& me = peers_.at(mySid_);
  return me.host + ":" + std::to_string(me.electionPort);
}

void QuorumTransport::resolve(
    std::int64_t sid, std::uint16_t port,
    std::function<void(const boost::system::error_code&, tcp::socket)> done) {
  auto resolver = std::make_shared<tcp::resolver>(io_);
  auto alive = alive_;
  resolver->async_resolve(
      peers_.at(sid).host, std::to_string(port),
      [this, resolver, alive, done](const boost::system::error_code& ec,
                                    tcp::resolver::results_type results) {
        if (!*alive) return;
        if (ec) return done(ec, tcp::socket(io_));
        auto socket = std::make_shared<tcp::socket>(io_);
        asio::async_connect(
            *socket, results,
            [socket, alive, done](const boost::system::error_code& ec, const tcp::endpoint&) {
              if (!*alive) return;
              done(ec, std::move(*socket));
            });
      });
}

// ---- Election ----

void QuorumTransport::sendVote(std::int64_t to, const zab::Notification& vote) {
  if (!peers_.contains(to) || to == mySid_) return;
  std::string frame = zab::frameElectionMessage(zab::encodeNotification(vote));
  lastVotes_[to] = frame;
  auto it = electionLinks_.find(to);
  if (it != electionLinks_.end() && !it->second->closed()) return it->second->send(frame);
  auto& pending = electionPending_[to];
  pending.push_back(std::move(frame));
  while (pending.size() > kMaxPendingVotes) pending.pop_front();
  dialElection(to);
}

// Dialled by the lower id, the link only asks the other side to dial back (QuorumCnxManager
// keeps one connection per pair, the one the higher id opened).
void QuorumTransport::dialElection(std::int64_t sid) {
  if (!dialling_.insert(sid).second) return;
  resolve(sid, peers_.at(sid).electionPort,
          [this, sid, alive = alive_](const boost::system::error_code& ec, tcp::socket socket) {
            if (ec) {
              log_.debug("quorum", "cannot reach member " + std::to_string(sid) +
                                       " for election: " + ec.message());
              return onElectionDialled(sid, nullptr, std::nullopt);
            }
            std::string what = "election connection to member " + std::to_string(sid);
            tls_.dialled(
                std::move(socket), peers_.at(sid).host, what,
                [this, sid, alive, what](std::unique_ptr<ClientStream> stream) {
                  if (!*alive) return;
                  if (stream && !sasl_.enabled() && mySid_ < sid)
                    return askToBeDialledBack(sid, std::move(stream));
                  if (!stream || !sasl_.enabled())
                    return onElectionDialled(sid, std::move(stream), std::nullopt);
                  // The initial message goes first, then the SASL exchange.
                  sasl_.dialled(
                      std::move(stream), zab::encodeInitialMessage({mySid_, myElectionAddress()}),
                      peers_.at(sid).host, what,
                      [this, sid, alive](std::unique_ptr<ClientStream> s, std::string alreadyRead) {
                        if (*alive) onElectionDialled(sid, std::move(s), std::move(alreadyRead));
                      });
                });
          });
}

// Without quorum SASL too, the lower id sends its initial message and closes, as
// QuorumCnxManager does whatever its settings: a peer with quorum SASL enabled but not required
// (a roll between the stages) waits after the initial message for an auth packet or the end of
// the stream, and a link kept open would leave it waiting out its timeout, never dialling back.
void QuorumTransport::askToBeDialledBack(std::int64_t sid, std::unique_ptr<ClientStream> stream) {
  std::shared_ptr<ClientStream> owned = std::move(stream);
  auto hello =
      std::make_shared<std::string>(zab::encodeInitialMessage({mySid_, myElectionAddress()}));
  owned->asyncWrite(asio::buffer(*hello), [this, sid, owned, hello, alive = alive_](
                                              const boost::system::error_code&, std::size_t) {
    // The stream closes as the last owner lets go of it, here.
    if (*alive) dialling_.erase(sid);
  });
}

void QuorumTransport::onElectionDialled(std::int64_t sid, std::unique_ptr<ClientStream> stream,
                                        std::optional<std::string> helloSentThenRead) {
  dialling_.erase(sid);
  if (!stream) {
    if (!electionLinks_.contains(sid) && handlers_.onElectionLink)
      handlers_.onElectionLink(sid, false);
    return;
  }
  // With quorum SASL, as ZooKeeper: the lower id closes once it has asked to be dialled back
  // (a receiver that waits for an auth packet sees the end of the stream instead).
  if (helloSentThenRead && mySid_ < sid) return;
  auto link = std::make_shared<PeerLink>(
      std::move(stream),
      [this](PeerLink& l, std::string_view bytes) { return feedElection(l, bytes); },
      [this](PeerLink& l, const std::string&) { dropElectionLink(l); });
  link->sid = sid;
  // Our side of the stream has no initial message to read: mark it as read already.
  link->election.feed(zab::encodeInitialMessage({sid, "", zab::kElectionProtocolVersion}));
  (void)link->election.next();
  if (helloSentThenRead) {
    link->start(std::move(*helloSentThenRead));
  } else {
    link->start();
    link->send(zab::encodeInitialMessage({mySid_, myElectionAddress()}));
  }
  if (mySid_ > sid) adoptElection(sid, link);
}

void QuorumTransport::dropElectionLink(PeerLink& link) {
  auto it = electionLinks_.find(link.sid);
  if (it == electionLinks_.end() || it->second.get() != &link) return;
  electionLinks_.erase(it);
  if (handlers_.onElectionLink) handlers_.onElectionLink(link.sid, false);
}

void QuorumTransport::adoptElection(std::int64_t sid, const std::shared_ptr<PeerLink>& link) {
  auto& slot = electionLinks_[sid];
  if (slot && slot != link) slot->close();
  slot = link;
  if (handlers_.onElectionLink) handlers_.onElectionLink(sid, true);
  auto pending = std::exchange(electionPending_[sid], {});
  // A peer with quorum SASL enabled waits for our first bytes to see whether we authenticate:
  // with nothing new to say we repeat our last vote, as ZooKeeper's SendWorker does on a new
  // link (a repeated vote changes nothing in an election).
  if (pending.empty() && lastVotes_.contains(sid)) pending.push_back(lastVotes_[sid]);
  for (auto& frame : pending) link->send(std::move(frame));
}

void QuorumTransport::accept(tcp::acceptor& acceptor, bool election) {
  acceptor.async_accept([this, &acceptor, election, alive = alive_](
                            const boost::system::error_code& ec, tcp::socket socket) {
    if (!*alive) return;
    if (!ec) secureAccepted(std::move(socket), election);
    accept(acceptor, election);
  });
}

// Both ports take a connection the same way: TLS as the policy says, then quorum SASL when it
// is on, then the port's own handler with what the exchanges read beyond themselves.
void QuorumTransport::secureAccepted(tcp::socket socket, bool election) {
  auto handOn = [this, election](std::unique_ptr<ClientStream> stream, std::string alreadyRead) {
    if (election)
      onElectionAccepted(std::move(stream), std::move(alreadyRead));
    else
      onQuorumAccepted(std::move(stream), std::move(alreadyRead));
  };
  tls_.accepted(std::move(socket), election ? "election port" : "quorum port",
                [this, election, handOn, alive = alive_](std::unique_ptr<ClientStream> stream) {
                  if (!*alive || !stream) return;
                  if (!sasl_.enabled()) return handOn(std::move(stream), {});
                  sasl_.accepted(
                      std::move(stream), election,
                      election ? "election connection" : "quorum connection",
                      [handOn, alive](std::unique_ptr<ClientStream> s, std::string read) {
                        if (*alive && s) handOn(std::move(s), std::move(read));
                      });
                });
}

// A server not in our configuration (joining through a reconfig) says where its election port
// is; remembering it lets us answer, and dial back when the lower id must.
bool QuorumTransport::learnPeer(const zab::InitialMessage& hello) {
  std::string_view address = std::string_view(hello.address).substr(0, hello.address.find('|'));
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  unsigned port = 0;
  auto portText = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || end != portText.data() + portText.size() || port == 0 || port > 65535)
    return false;
  PeerAddress peer;
  peer.host = std::string(address.substr(0, colon));
  peer.electionPort = static_cast<std::uint16_t>(port);
  peers_[hello.sid] = peer;
  return true;
}

void QuorumTransport::setPeers(const std::map<std::int64_t, PeerAddress>& peers) {
  for (const auto& [sid, address] : peers) peers_[sid] = address;
}

// Both ends of an election connection read the same stream; only the accepting end sees the
// dialler's initial message (the dialling end marks its own as read). False drops the link.
bool QuorumTransport::feedElection(PeerLink& l, std::string_view bytes) {
  l.election.feed(bytes);
  for (;;) {
    auto next = l.election.next();
    if (std::holds_alternative<zab::NeedMore>(next)) return true;
    if (auto* bad = std::get_if<zab::Malformed>(&next)) {
      log_.warn("quorum", "dropping election connection of member " + std::to_string(l.sid) + ": " +
                              bad->reason);
      return false;
    }
    if (auto* hello = std::get_if<zab::InitialMessage>(&next)) {
      if (!acceptHello(l, *hello)) return false;
      continue;
    }
    auto vote = zab::decodeNotification(std::get<std::string>(next));
    if (auto* n = std::get_if<zab::Notification>(&vote)) {
      handlers_.onVote(l.sid, *n);
    } else {
      log_.warn("quorum", "ignoring a malformed vote from member " + std::to_string(l.sid) + ": " +
                              std::get<zab::Malformed>(vote).reason);
    }
  }
}

bool QuorumTransport::acceptHello(PeerLink& l, const zab::InitialMessage& hello) {
  if (hello.sid == mySid_ || (!peers_.contains(hello.sid) && !learnPeer(hello))) {
    log_.warn("quorum", "election connection from server " + std::to_string(hello.sid) +
                            " with no usable address: " + hello.address);
    return false;
  }
  l.sid = hello.sid;
  if (l.sid < mySid_) {
    dialElection(l.sid);  // the pair keeps the link the higher id dialled
    return false;
  }
  adoptElection(l.sid, l.shared_from_this());
  return true;
}

void QuorumTransport::onElectionAccepted(std::unique_ptr<ClientStream> stream,
                                         std::string alreadyRead) {
  auto link = std::make_shared<PeerLink>(
      std::move(stream),
      [this](PeerLink& l, std::string_view bytes) { return feedElection(l, bytes); },
      [this](PeerLink& l, const std::string&) { dropElectionLink(l); });
  link->start(std::move(alreadyRead));
}

// ---- Quorum ----

void QuorumTransport::sendPacket(std::int64_t to, const zab::QuorumPacket& packet) {
  auto it = quorumLinks_.find(to);
  if (it == quorumLinks_.end()) return;  // the peer saw or will see the disconnect
  it->second->send(zab::encodePacket(packet));
}

QuorumTransport::SnapshotStream QuorumTransport::startSnapshot(std::int64_t to, std::int64_t zxid) {
  auto it = quorumLinks_.find(to);
  if (it == quorumLinks_.end()) return {};
  it->second->send(zab::encodePacket(zab::makePacket(zab::PacketType::Snap, zxid)));
  it->second->startStream();
  return it->second;
}

std::optional<std::size_t> QuorumTransport::snapshotBacklog(const SnapshotStream& stream) {
  auto link = stream.lock();
  if (!link || link->closed()) return std::nullopt;
  return link->queuedBytes();
}

void QuorumTransport::sendSnapshotChunk(const SnapshotStream& stream, std::string bytes) {
  if (auto link = stream.lock()) link->sendStream(std::move(bytes));
}

void QuorumTransport::endSnapshot(const SnapshotStream& stream) {
  if (auto link = stream.lock()) link->endStream();
}

namespace {

bool dropLink(PeerLink& link, Logger& log, const std::string& reason) {
  log.warn("quorum",
           "dropping quorum connection of member " + std::to_string(link.sid) + ": " + reason);
  return false;
}

// As when the snapshot it was sent cannot be stored: the member stops, and recovers from disk.
[[noreturn]] void spoolFailed(Logger& log, std::int64_t zxid, const std::exception& e) {
  failStop(log, "zab", "SNAP at " + hex(zxid) + " failed: cannot store it: " + e.what());
}

// Feeds the SNAP stream, its records going to the spool file as they arrive; once it is
// complete the packet goes on with the spool file's path as its data. `bytes` is what arrived.
bool feedSnapshot(PeerLink& link, std::string_view bytes,
                  const std::function<bool(const zab::QuorumPacket&)>& onPacket, Logger& log) {
  auto result = link.snapshot->feed(bytes);
  if (auto* bad = std::get_if<storage::SnapshotStreamScanner::Malformed>(&result))
    return dropLink(link, log, bad->reason);
  std::string leftover;
  try {
    link.spool->append(link.snapshot->takeRecords());
    if (std::holds_alternative<storage::SnapshotStreamScanner::NeedMore>(result)) return true;
    leftover = std::move(std::get<storage::SnapshotStreamScanner::Done>(result).leftover);
    link.spool->finish();
  } catch (const storage::StorageError& e) {
    spoolFailed(log, link.snapPacket.zxid, e);
  }
  zab::QuorumPacket packet = std::move(link.snapPacket);
  packet.data = link.spool->path().string();
  link.snapshot.reset();
  link.spool.reset();
  if (!onPacket(packet)) return false;
  link.packets.feed(leftover);
  return true;
}

// One file per transfer: a SNAP still waiting to be loaded is never overwritten by the next.
std::filesystem::path uniqueSpoolPath(const std::filesystem::path& base, std::int64_t sid,
                                      std::int64_t zxid) {
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return base.string() + "." + std::to_string(sid) + "." + hex(zxid) + "." + std::to_string(now);
}

bool feedPackets(PeerLink& link, std::string_view bytes,
                 const std::function<bool(const zab::QuorumPacket&)>& onPacket, Logger& log,
                 const std::filesystem::path& spool = {}) {
  if (link.snapshot) {
    if (!feedSnapshot(link, bytes, onPacket, log)) return false;
    if (link.snapshot || link.closed()) return true;
  } else {
    link.packets.feed(bytes);
  }
  for (;;) {
    auto next = link.packets.next();
    if (std::holds_alternative<zab::NeedMore>(next)) return true;
    if (auto* bad = std::get_if<zab::Malformed>(&next)) return dropLink(link, log, bad->reason);
    auto& packet = std::get<zab::QuorumPacket>(next);
    if (zab::isType(packet, zab::PacketType::Snap)) {
      if (spool.empty()) return dropLink(link, log, "SNAP from a member we lead");
      try {
        link.spool.emplace(uniqueSpoolPath(spool, link.sid, packet.zxid));
      } catch (const storage::StorageError& e) {
        spoolFailed(log, packet.zxid, e);
      }
      link.snapshot.emplace();
      link.snapPacket = std::move(packet);
      if (!feedSnapshot(link, link.packets.takeBuffered(), onPacket, log)) return false;
      if (link.snapshot || link.closed()) return true;
      continue;
    }
    if (!onPacket(packet)) return false;
    if (link.closed()) return true;
  }
}

}  // namespace

void QuorumTransport::connectQuorum(std::int64_t sid) {
  if (!peers_.contains(sid)) return handlers_.onDisconnected(sid);
  resolve(
      sid, peers_.at(sid).quorumPort,
      [this, sid, alive = alive_](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec) {
          log_.info("quorum", "cannot reach leader " + std::to_string(sid) + ": " + ec.message());
          return handlers_.onDisconnected(sid);
        }
        std::string what = "quorum connection to leader " + std::to_string(sid);
        tls_.dialled(std::move(socket), peers_.at(sid).host, what,
                     [this, sid, alive, what](std::unique_ptr<ClientStream> stream) {
                       if (!*alive) return;
                       if (!stream || !sasl_.enabled())
                         return onLeaderDialled(sid, std::move(stream), {});
                       sasl_.dialled(std::move(stream), {}, peers_.at(sid).host, what,
                                     [this, sid, alive](std::unique_ptr<ClientStream> s,
                                                        std::string alreadyRead) {
                                       if (*alive)
                                         onLeaderDialled(sid, std::move(s), std::move(alreadyRead));
                                     });
                     });
      });
}

void QuorumTransport::onLeaderDialled(std::int64_t sid, std::unique_ptr<ClientStream> stream,
                                      std::string alreadyRead) {
  if (!stream) return handlers_.onDisconnected(sid);
  auto link = std::make_shared<PeerLink>(
      std::move(stream),
      [this, sid](PeerLink& l, std::string_view bytes) {
        bool streaming = l.snapshot.has_value();
        bool ok = feedPackets(
            l, bytes,
            [this, sid](const zab::QuorumPacket& p) {
              handlers_.onPacket(sid, p);
              return true;
            },
            log_, snapshotSpool_);
        if (ok && streaming && l.snapshot) handlers_.onSnapshotProgress(sid);
        return ok;
      },
      [this](PeerLink& l, const std::string& why) {
        auto it = quorumLinks_.find(l.sid);
        if (it == quorumLinks_.end() || it->second.get() != &l) return;
        quorumLinks_.erase(it);
        log_.info("quorum", "lost the leader " + std::to_string(l.sid) + ": " + why);
        handlers_.onDisconnected(l.sid);
      });
  link->sid = sid;
  if (auto old = quorumLinks_.find(sid); old != quorumLinks_.end()) old->second->close();
  quorumLinks_[sid] = link;
  handlers_.onConnected(sid);
  link->start(std::move(alreadyRead));
}

void QuorumTransport::disconnectQuorum(std::int64_t sid) {
  auto it = quorumLinks_.find(sid);
  if (it == quorumLinks_.end()) return;
  it->second->close();
  quorumLinks_.erase(it);
}

// A learner names itself in its first packet (FOLLOWERINFO or OBSERVERINFO).
void QuorumTransport::onQuorumAccepted(std::unique_ptr<ClientStream> stream,
                                       std::string alreadyRead) {
  auto link = std::make_shared<PeerLink>(
      std::move(stream),
      [this](PeerLink& l, std::string_view bytes) {
        return feedPackets(
            l, bytes,
            [this, &l](const zab::QuorumPacket& p) {
              if (l.sid < 0) {
                auto info = zab::decodeLearnerInfo(p.data);
                bool hello = zab::isType(p, zab::PacketType::FollowerInfo) ||
                             zab::isType(p, zab::PacketType::ObserverInfo);
                // Servers outside our configuration may connect: they join through a reconfig.
                if (!hello || !info || info->serverId == mySid_) {
                  log_.warn("quorum",
                            "quorum connection did not start with another server's "
                            "FOLLOWERINFO/OBSERVERINFO");
                  return false;
                }
                l.sid = info->serverId;
                auto& slot = quorumLinks_[l.sid];
                if (slot && slot.get() != &l) slot->close();
                slot = l.shared_from_this();
              }
              handlers_.onPacket(l.sid, p);
              return true;
            },
            log_);
      },
      [this](PeerLink& l, const std::string&) {
        auto it = quorumLinks_.find(l.sid);
        if (it == quorumLinks_.end() || it->second.get() != &l) return;
        quorumLinks_.erase(it);
        handlers_.onDisconnected(l.sid);
      });
  link->start(std::move(alreadyRead));
}

}  // namespace zk
