#pragma once
// The sockets between ensemble members, in ZooKeeper's own formats: election connections
// (an initial message naming the sender, then length-framed notifications; between two
// members only the connection dialled by the higher id is kept, as QuorumCnxManager does)
// and quorum connections (bare jute QuorumPackets; a learner dials its leader, which learns
// the learner's id from its FOLLOWERINFO or OBSERVERINFO). Everything runs on the server's
// I/O thread; the Zab state machine sees only ids, votes and packets.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "net/asio.h"
#include "net/quorum_sasl.h"
#include "net/quorum_tls.h"
#include "util/log.h"
#include "zab/packets.h"

namespace zk {

struct PeerAddress {
  std::string host;
  std::uint16_t quorumPort = 0;
  std::uint16_t electionPort = 0;
};

class PeerLink;

class QuorumTransport {
 public:
  struct Handlers {
    std::function<void(std::int64_t from, const zab::Notification&)> onVote;
    std::function<void(std::int64_t from, const zab::QuorumPacket&)> onPacket;
    std::function<void(std::int64_t sid)> onConnected;     // a quorum link we dialled is up
    std::function<void(std::int64_t sid)> onDisconnected;  // a quorum link failed or closed
    // The election link to sid is up, or it failed (or could not be opened).
    std::function<void(std::int64_t sid, bool up)> onElectionLink;
    // More of the leader's snapshot stream arrived (the SNAP packet itself comes at its end).
    std::function<void(std::int64_t sid)> onSnapshotProgress;
  };

  // A SNAP from the leader is spooled to `snapshotSpool` as it arrives, and handed on at its
  // end with that path as the packet's data: no stream is ever held in memory whole.
  // `tls` says whether links are dialled over TLS and which kinds our ports take; `sasl`
  // whether members authenticate on them, after TLS.
  QuorumTransport(asio::io_context& io, Logger& log, std::int64_t mySid,
                  std::map<std::int64_t, PeerAddress> peers, std::filesystem::path snapshotSpool,
                  QuorumTlsPolicy tls, QuorumSaslPolicy sasl, Handlers handlers);
  ~QuorumTransport();
  QuorumTransport(const QuorumTransport&) = delete;
  QuorumTransport& operator=(const QuorumTransport&) = delete;

  // Binds this member's election and quorum ports; throws with the address on failure.
  void listen(bool onAllInterfaces);
  void sendVote(std::int64_t to, const zab::Notification& vote);
  void sendPacket(std::int64_t to, const zab::QuorumPacket& packet);
  // SNAP as ZooKeeper sends it: the packet, then the snapshot stream right behind it, sent in
  // chunks on the link it started on (never on a link the learner opened since). Packets sent
  // to `to` meanwhile wait until endSnapshot. An empty stream if there is no link.
  using SnapshotStream = std::weak_ptr<PeerLink>;
  SnapshotStream startSnapshot(std::int64_t to, std::int64_t zxid);
  static void sendSnapshotChunk(const SnapshotStream& stream, std::string bytes);
  static void endSnapshot(const SnapshotStream& stream);
  // Bytes queued on the stream's link and not yet written (the chunks' backpressure); nullopt
  // once that link is closed.
  static std::optional<std::size_t> snapshotBacklog(const SnapshotStream& stream);
  void connectQuorum(std::int64_t sid);
  void disconnectQuorum(std::int64_t sid);
  // A reconfig became active: add or update these members' addresses.
  void setPeers(const std::map<std::int64_t, PeerAddress>& peers);
  void stop();

  std::size_t electionLinks() const { return electionLinks_.size(); }
  const QuorumTlsCounters& tlsCounters() const { return tls_.counters(); }
  const QuorumSaslCounters& saslCounters() const { return sasl_.counters(); }

 private:
  // Accepts on one of our two ports for as long as it is open.
  void accept(tcp::acceptor& acceptor, bool election);
  void secureAccepted(tcp::socket socket, bool election);
  void dialElection(std::int64_t sid);
  void askToBeDialledBack(std::int64_t sid, std::unique_ptr<ClientStream> stream);
  void adoptElection(std::int64_t sid, const std::shared_ptr<PeerLink>& link);
  void dropElectionLink(PeerLink& link);
  void onElectionAccepted(std::unique_ptr<ClientStream> stream, std::string alreadyRead);
  bool feedElection(PeerLink& l, std::string_view bytes);
  bool acceptHello(PeerLink& l, const zab::InitialMessage& hello);
  void onQuorumAccepted(std::unique_ptr<ClientStream> stream, std::string alreadyRead);
  void onLeaderDialled(std::int64_t sid, std::unique_ptr<ClientStream> stream,
                       std::string alreadyRead);
  // helloSentThenRead: quorum SASL sent our initial message, and read this beyond its exchange.
  void onElectionDialled(std::int64_t sid, std::unique_ptr<ClientStream> stream,
                         std::optional<std::string> helloSentThenRead);
  void resolve(std::int64_t sid, std::uint16_t port,
               std::function<void(const boost::system::error_code&, tcp::socket)> done);
  std::string myElectionAddress() const;
  bool learnPeer(const zab::InitialMessage& hello);

  asio::io_context& io_;
  Logger& log_;
  std::int64_t mySid_;
  std::map<std::int64_t, PeerAddress> peers_;
  std::filesystem::path snapshotSpool_;
  QuorumTls tls_;
  QuorumSasl sasl_;
  Handlers handlers_;
  tcp::acceptor electionAcceptor_;
  tcp::acceptor quorumAcceptor_;
  std::map<std::int64_t, std::shared_ptr<PeerLink>> electionLinks_;
  std::map<std::int64_t, std::deque<std::string>> electionPending_;
  std::map<std::int64_t, std::string> lastVotes_;  // the last sent to each: see adoptElection
  std::set<std::int64_t> dialling_;
  std::map<std::int64_t, std::shared_ptr<PeerLink>> quorumLinks_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace zk
