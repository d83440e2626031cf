#pragma once
// One client TCP connection: splits the byte stream into length-prefixed frames, hands them
// to the pipeline, and writes replies in order (queued frames are gathered into one write).
// Runs on the server's single I/O thread.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/asio.h"
#include "net/client_stream.h"
#include "net/input_buffer.h"
#include "net/large_request_budget.h"
#include "net/output_batch.h"
#include "net/response_figures.h"
#include "pipeline/channel.h"
#include "sasl/sasl_server.h"
#include "util/log.h"

namespace zk {

class PipelineSlot;

struct ConnectionLimits {
  std::size_t maxFrameBytes = 0xfffff;           // jute.maxbuffer
  std::size_t maxQueuedOutputBytes = 64u << 20;  // a client that stops reading is dropped
  std::int32_t handshakeTimeoutMs = 10000;
  // Reading pauses while this many requests, or bytes of them, await their replies, so a
  // client that floods requests faster than the disk syncs cannot grow memory without bound.
  std::size_t maxInflightRequests = 1000;  // globalOutstandingLimit
  std::size_t maxInflightBytes = 32u << 20;
  // Shared by every connection of the server; null: no server-wide budget.
  std::shared_ptr<LargeRequestBudget> largeRequests;
  // TLS: from accept to a finished handshake, the first byte's wait on a unified port included
  // (ssl.handshakeDetectionTimeoutMillis).
  std::int32_t tlsHandshakeTimeoutMs = 5000;
};

// What every client connection of a server shares about TLS and SASL: whom the x509 provider
// makes super, the SASL authority, and the counts the server reports (ZooKeeper's metric names).
struct ClientTlsShared {
  std::string x509SuperUser;
  std::shared_ptr<const sasl::Authority> sasl;  // null: no JAAS Server section
  std::vector<std::string> saslSuperUsers;      // zookeeper.superUser
  // enforce.auth.schemes has sasl: a failed exchange is answered SESSIONCLOSEDREQUIRESASLAUTH.
  bool saslRequired = false;
  bool allowSaslFailedClients = false;      // and not required: a failure keeps the connection
  std::int64_t unsuccessfulHandshakes = 0;  // unsuccessful_handshake
  std::int64_t authFailures = 0;            // auth_failed_count
  // As ZooKeeper, a failed or timed-out handshake counts as both.
  void handshakeFailed() {
    ++unsuccessfulHandshakes;
    ++authFailures;
  }
  std::int32_t outstandingHandshakeLimit = 0;  // <= 0: none
  std::int64_t outstandingHandshakes = 0;
  std::int64_t handshakesExceeded = 0;  // tls_handshake_exceeded: refused over the limit
};

class Connection : public ClientChannel, public std::enable_shared_from_this<Connection> {
 public:
  // The first frame of a connection may be a four-letter word; the hook answers it.
  using FourLetterHook = std::function<std::optional<std::string>(std::uint32_t code)>;

  struct Peer {
    std::string ip;
    std::uint16_t port = 0;
  };

  // Until `sessionGate` says yes, a connect request is refused by closing (four-letter words are
  // still answered): an ensemble member out of sync must stay visible to probes and monitoring.
  // Null: always yes. `pipeline` outlives the connection; its processor may be replaced.
  struct Hooks {
    FourLetterHook fourLetter;
    std::function<void(Connection&)> onClosed;
    std::function<bool()> sessionGate;
  };

  Connection(ClientStream stream, Peer peer, const PipelineSlot& pipeline, Logger& log,
             ConnectionLimits limits, ClientTlsShared& tls, OutputBatch& batch, Hooks hooks);
  void start();

  void send(std::string frame) override;
  // Writes what is queued; the rest of what the socket does not take goes asynchronously.
  void flush();
  void close(std::string_view reason) override;
  void sessionEstablished(std::int64_t sessionId, std::int32_t timeoutMs) override;
  void requestCompleted(const AnsweredRequest& answered) override;
  std::string remoteAddress() const override { return remoteIp_; }
  std::vector<Id> transportAuthIds() const override { return x509Ids_; }
  bool secure() const { return stream_.secure(); }

  std::string remoteEndpoint() const { return remoteIp_ + ":" + std::to_string(remotePort_); }
  std::int64_t sessionId() const { return sessionId_; }
  std::int32_t sessionTimeoutMs() const { return timeoutMs_; }
  std::int64_t packetsReceived() const { return received_; }
  std::int64_t packetsSent() const { return sent_; }
  std::size_t queuedOutputBytes() const { return queuedBytes_; }
  std::size_t inflightRequests() const { return inflight_.size(); }
  std::int64_t establishedAtMs() const { return establishedAtMs_; }
  // What `cons` shows of this connection; `wallMinusSteadyMs` turns its steady clock into the
  // wall clock that `est` is printed in.
  ConnectionStats stats(std::int64_t wallMinusSteadyMs) const;
  void resetStats() {
    received_ = sent_ = 0;
    figures_.reset();
  }

 private:
  void detectTls();
  void awaitFirstByte();
  void handshake();
  void onHandshake(const boost::system::error_code& ec);
  void armTlsTimer();
  bool beginHandshake();
  void endHandshake();
  void readMore();
  void onRead(std::size_t bytes);
  bool processFrames();
  bool handleFirstBytes();
  bool handleFrame(std::span<const std::uint8_t> frame);
  bool handleSasl(std::int32_t xid, std::span<const std::uint8_t> body);
  void writeRest();
  void afterWrite();
  void armIdleTimer();
  void shutdown(std::string_view reason);
  bool refuseLargeRequest(std::size_t length);

  ClientStream stream_;
  const PipelineSlot& pipeline_;
  Logger& log_;
  ConnectionLimits limits_;
  ClientTlsShared& tls_;
  bool tlsPending_ = false;        // detecting or handshaking: no frame is read yet
  bool handshakeCounted_ = false;  // in tls_.outstandingHandshakes
  std::vector<Id> x509Ids_;
  std::unique_ptr<sasl::Exchange> sasl_;  // from the first sasl request on
  OutputBatch& batch_;
  Hooks hooks_;
  asio::steady_timer idle_;
  std::string remoteIp_;
  std::uint16_t remotePort_ = 0;

  InputBuffer in_;
  std::int64_t lastInputMs_ = 0;
  bool handshakeDone_ = false;
  bool connectSent_ = false;
  std::int64_t sessionId_ = 0;
  std::int32_t timeoutMs_ = 0;

  std::deque<std::string> out_;
  std::vector<std::string> writing_;  // frames of the write under way, alive until it ends
  std::vector<asio::const_buffer> writeBuffers_;
  std::size_t writeFirst_ = 0;  // writeBuffers_[writeFirst_..] are still to be written
  bool asyncWriting_ = false;
  bool flushDeferred_ = false;
  std::size_t queuedBytes_ = 0;
  bool closing_ = false;
  bool closed_ = false;

  std::deque<std::size_t> inflight_;  // sizes of requests awaiting replies, oldest first
  std::size_t inflightBytes_ = 0;
  bool readPaused_ = false;
  bool reading_ = false;

  std::int64_t received_ = 0;
  std::int64_t sent_ = 0;
  ResponseFigures figures_;
  bool answeringFourLetter_ = false;  // reads are off meanwhile, as ZooKeeper's interest ops show
  std::int64_t establishedAtMs_ = 0;
};

}  // namespace zk
