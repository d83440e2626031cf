#include "net/connection.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "jute/reader.h"
#include "jute/writer.h"
#include "net/pipeline_slot.h"
#include "pipeline/replies.h"
#include "pipeline/request_processor.h"
#include "protocol/errors.h"
#include "protocol/opcodes.h"
#include "protocol/records.h"
#include "util/wall_clock.h"

namespace zk {

void OutputBatch::flush() {
  // A flush may queue more output (a write error closes a connection, whose callbacks may
  // send), so loop until nothing is left.
  while (!pending_.empty()) {
    flushing_.swap(pending_);
    for (auto& connection : flushing_) connection->flush();
    flushing_.clear();
  }
}

Connection::Connection(ClientStream stream, Peer peer, const PipelineSlot& pipeline, Logger& log,
                       ConnectionLimits limits, ClientTlsShared& tls, OutputBatch& batch,
                       Hooks hooks)
    : stream_(std::move(stream)),
      pipeline_(pipeline),
      log_(log),
      limits_(limits),
      tls_(tls),
      batch_(batch),
      hooks_(std::move(hooks)),
      idle_(stream_.socket().get_executor()),
      remoteIp_(std::move(peer.ip)),
      remotePort_(peer.port) {
  boost::system::error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);
  stream_.socket().non_blocking(true, ec);  // a write is tried at once and awaited only if refused
}

void Connection::start() {
  establishedAtMs_ = lastInputMs_ = steadyMs();
  if (stream_.detecting()) return detectTls();
  if (stream_.secure()) return handshake();
  armIdleTimer();
  readMore();
}

// A unified port: the first byte says TLS or not. It is peeked, so whichever reads next gets it.
void Connection::detectTls() {
  tlsPending_ = true;
  armTlsTimer();
  if (beginHandshake()) awaitFirstByte();
}

// As ZooKeeper, a unified port's detection counts as a handshake in progress too. False: over
// outstandingHandshake.limit, and closed.
bool Connection::beginHandshake() {
  if (handshakeCounted_) return true;
  if (tls_.outstandingHandshakeLimit > 0 &&
      tls_.outstandingHandshakes >= tls_.outstandingHandshakeLimit) {
    ++tls_.handshakesExceeded;
    log_.warn("net", "closing " + remoteEndpoint() + ": " +
                         std::to_string(tls_.outstandingHandshakes) +
                         " TLS handshakes are already in progress (outstandingHandshake.limit)");
    shutdown("too many TLS handshakes in progress");
    return false;
  }
  ++tls_.outstandingHandshakes;
  handshakeCounted_ = true;
  return true;
}

void Connection::awaitFirstByte() {
  stream_.socket().async_wait(
      tcp::socket::wait_read, [self = shared_from_this()](const boost::system::error_code& ec) {
        if (self->closed_) return;
        std::uint8_t first = 0;
        boost::system::error_code peekEc = ec;
        std::size_t n = ec ? 0
                           : self->stream_.socket().receive(asio::buffer(&first, 1),
                                                            tcp::socket::message_peek, peekEc);
        if (peekEc == asio::error::would_block) return self->awaitFirstByte();  // spurious wakeup
        if (peekEc || n == 0) return self->shutdown("closed before sending anything");
        self->stream_.decide(first);
        if (self->stream_.secure()) return self->handshake();
        self->endHandshake();
        self->tlsPending_ = false;
        self->lastInputMs_ = steadyMs();
        self->armIdleTimer();
        self->readMore();
      });
}

void Connection::handshake() {
  if (!tlsPending_) {  // after detection the same deadline goes on
    tlsPending_ = true;
    armTlsTimer();
  }
  if (!beginHandshake()) return;
  stream_.asyncHandshake(
      [self = shared_from_this()](const boost::system::error_code& ec) { self->onHandshake(ec); });
}

void Connection::endHandshake() {
  if (std::exchange(handshakeCounted_, false)) --tls_.outstandingHandshakes;
}

void Connection::onHandshake(const boost::system::error_code& ec) {
  if (closed_) return;
  endHandshake();
  if (ec) {
    tls_.handshakeFailed();
    // A failed handshake says why in one line: no certificate, an untrusted or expired one,
    // a plaintext client, or bytes that are no TLS at all.
    log_.warn("net", "TLS handshake with " + remoteEndpoint() + " failed: " + ec.message());
    return shutdown("TLS handshake failed");
  }
  tlsPending_ = false;
  if (X509* certificate = stream_.peerCertificate()) {
    std::string id = x509SubjectId(certificate);
    x509Ids_.push_back(Id{"x509", id});
    if (!tls_.x509SuperUser.empty() && id == tls_.x509SuperUser) {
      x509Ids_.push_back(Id{"super", id});
      log_.info("net", "authenticated " + remoteEndpoint() + " as super user '" + id + "'");
    } else if (log_.enabled(LogLevel::kDebug)) {
      log_.debug("net", "authenticated " + remoteEndpoint() + " as x509 '" + id + "'");
    }
  }
  lastInputMs_ = steadyMs();
  armIdleTimer();
  readMore();
}

// Bounds the first byte's wait and the handshake: a client that stalls, or trickles bytes
// that never finish a handshake, is closed at the deadline.
void Connection::armTlsTimer() {
  idle_.expires_after(std::chrono::milliseconds(limits_.tlsHandshakeTimeoutMs));
  idle_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_ || !self->tlsPending_) return;
    self->tls_.handshakeFailed();
    self->log_.warn("net", "closing " + self->remoteEndpoint() + ": no TLS handshake within " +
                               std::to_string(self->limits_.tlsHandshakeTimeoutMs) + " ms");
    self->shutdown("TLS handshake timed out");
  });
}

void Connection::readMore() {
  if (closing_ || closed_ || reading_) return;
  if (inflight_.size() >= limits_.maxInflightRequests ||
      inflightBytes_ >= limits_.maxInflightBytes) {
    readPaused_ = true;
    return;
  }
  reading_ = true;
  std::span<std::uint8_t> space = in_.space();
  // Asio tries the read at once and waits for readiness only if it finds nothing. (Awaiting
  // readiness right away costs an epoll_ctl each time in this Asio: no cheaper than the read.)
  stream_.asyncReadSome(
      asio::buffer(space.data(), space.size()),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t bytes) {
        self->reading_ = false;
        if (ec) {
          self->shutdown(ec == asio::error::eof ? "client closed the connection" : ec.message());
          return;
        }
        self->onRead(bytes);
      });
}

void Connection::onRead(std::size_t bytes) {
  OutputBatch::Scope replies(batch_);
  in_.produced(bytes);
  lastInputMs_ = steadyMs();
  if (processFrames()) readMore();
}

bool Connection::processFrames() {
  std::span<const std::uint8_t> bytes = in_.data();
  std::size_t pos = 0;
  std::size_t partialFrame = 0;  // the size of a frame that has begun to arrive
  while (!closing_ && bytes.size() - pos >= 4 && inflight_.size() < limits_.maxInflightRequests) {
    const std::uint8_t* head = bytes.data() + pos;
    if (!connectSent_ && pos == 0 && hooks_.fourLetter) {
      answeringFourLetter_ = true;
      ++received_;  // counted as ZooKeeper counts it, also in the answer to `cons` itself
      auto answer = hooks_.fourLetter(jute::loadBigEndian32(head));
      answeringFourLetter_ = false;
      if (!answer) --received_;  // a request after all: handleFrame counts it
      if (answer) {
        send(std::move(*answer));
        close("four-letter word answered");
        return false;
      }
    }
    auto length = static_cast<std::int32_t>(jute::loadBigEndian32(head));
    if (length < 0 || static_cast<std::size_t>(length) > limits_.maxFrameBytes) {
      log_.warn("net", "closing " + remoteEndpoint() + ": frame length " + std::to_string(length) +
                           " is outside [0, " + std::to_string(limits_.maxFrameBytes) +
                           "] (jute.maxbuffer)");
      shutdown("bad frame length");
      return false;
    }
    if (limits_.largeRequests && !limits_.largeRequests->fits(static_cast<std::size_t>(length)))
      return refuseLargeRequest(static_cast<std::size_t>(length));
    std::size_t frameEnd = pos + 4 + static_cast<std::size_t>(length);
    if (frameEnd > bytes.size()) {
      partialFrame = frameEnd - pos;
      break;
    }
    if (!handleFrame(bytes.subspan(pos + 4, static_cast<std::size_t>(length)))) return false;
    pos = frameEnd;
  }
  in_.consume(pos);
  // Room for the whole frame and a little more, so the read that completes it is not tiny.
  if (partialFrame > 0) in_.reserveFrame(partialFrame + InputBuffer::kInitial);
  return !closing_ && !closed_;
}

bool Connection::handleFrame(std::span<const std::uint8_t> frame) {
  ++received_;
  auto self = shared_from_this();
  if (!connectSent_) {
    connectSent_ = true;
    if (hooks_.sessionGate && !hooks_.sessionGate()) {
      // As ZooKeeper does while it has no leader: the client tries another member.
      shutdown("not serving clients: no leader, or not in sync with it");
      return false;
    }
    try {
      jute::Reader in(frame);
      pipeline_->connect(self, ConnectRequest::read(in));
    } catch (const jute::DecodeError& e) {
      log_.warn("net", "closing " + remoteEndpoint() + ": malformed connect request: " + e.what());
      shutdown("malformed connect request");
      return false;
    }
    return !closing_;
  }
  if (sessionId_ == 0) {
    shutdown("request before the session was established");
    return false;
  }
  if (frame.size() < 8) {
    log_.warn("net", "closing " + remoteEndpoint() + ": request of " +
                         std::to_string(frame.size()) + " bytes is shorter than its header");
    shutdown("truncated request header");
    return false;
  }
  jute::Reader in(frame);
  RequestHeader header = RequestHeader::read(in);
  if (header.type == static_cast<std::int32_t>(OpCode::kSasl))
    return handleSasl(header.xid, frame.subspan(8));
  if (header.type != 100 /* auth: answered at once, not counted */) {
    if (limits_.largeRequests && !limits_.largeRequests->take(frame.size()))
      return refuseLargeRequest(frame.size());
    inflight_.push_back(frame.size());
    inflightBytes_ += frame.size();
  }
  pipeline_->request(self, sessionId_, header, frame.subspan(8));
  return !closing_;
}

// ZooKeeper answers sasl requests as they arrive, outside the pipeline: the client's token
// goes to the library and its answer comes back in a SetSASLResponse. A failure is answered
// AUTHFAILED (SESSIONCLOSEDREQUIRESASLAUTH when SASL is required) and the connection closed.
bool Connection::handleSasl(std::int32_t xid, std::span<const std::uint8_t> body) {
  std::string token;
  try {
    token = sasl::tokenOf(body);
  } catch (const jute::DecodeError& e) {
    log_.warn("net", "closing " + remoteEndpoint() + ": malformed sasl request: " + e.what());
    shutdown("malformed sasl request");
    return false;
  }
  jute::Writer response;
  if (!tls_.sasl) {  // as ZooKeeper without a JAAS Server section: an empty answer
    log_.warn("net",
              remoteEndpoint() + " sent a sasl request, but no JAAS Server section is configured");
    response.writeNullBuffer();
    send(replyFrame(xid, 0, Err::kOk, response.bytes()));
    return true;
  }
  try {
    if (!sasl_) sasl_ = tls_.sasl->begin();
    auto step = sasl_->evaluate(
        std::span(reinterpret_cast<const std::uint8_t*>(token.data()), token.size()));
    if (step.complete) {
      log_.info("net", "session " + hex(sessionId_) + " from " + remoteEndpoint() +
                           ": SASL authenticated as '" + step.authorizedId + "'");
      pipeline_->addAuthId(sessionId_, Id{"sasl", step.authorizedId});
      const auto& supers = tls_.saslSuperUsers;
      if (std::find(supers.begin(), supers.end(), step.authorizedId) != supers.end()) {
        log_.info("net", "session " + hex(sessionId_) + ": '" + step.authorizedId +
                             "' is a super user (zookeeper.superUser)");
        pipeline_->addAuthId(sessionId_, Id{"super", ""});
      }
    }
    // As Java's SaslServer, a finished exchange with nothing more to say answers a null token:
    // ZooKeeper's GSSAPI client waits for exactly that before it sends anything else.
    if (step.complete && step.token.empty())
      response.writeNullBuffer();
    else
      response.writeBuffer(step.token);
  } catch (const sasl::Error& e) {
    // Not counted in auth_failed_count: ZooKeeper counts failed TLS handshakes and x509
    // refusals there, never a SASL exchange (its dashboards read it that way).
    log_.warn("net", "SASL authentication of " + remoteEndpoint() + " failed: " + e.what());
    response.writeNullBuffer();
    if (tls_.allowSaslFailedClients && !tls_.saslRequired) {
      // As ZooKeeper: the exchange ends with an empty OK and the session goes on without a
      // sasl identity.
      log_.warn("net", "keeping " + remoteEndpoint() +
                           " connected despite the SASL failure (allowSaslFailedClients)");
      send(replyFrame(xid, 0, Err::kOk, response.bytes()));
      return true;
    }
    send(replyFrame(xid, 0,
                    tls_.saslRequired ? Err::kSessionClosedRequireSaslAuth : Err::kAuthFailed,
                    response.bytes()));
    close("SASL authentication failed");
    return false;
  }
  send(replyFrame(xid, 0, Err::kOk, response.bytes()));
  return true;
}

void Connection::send(std::string frame) {
  if (closed_) return;
  queuedBytes_ += frame.size();
  if (queuedBytes_ > limits_.maxQueuedOutputBytes) {
    log_.warn("net", "closing " + remoteEndpoint() + ": it is not reading its replies (" +
                         std::to_string(queuedBytes_) + " bytes queued)");
    shutdown("client not reading");
    return;
  }
  ++sent_;
  out_.push_back(std::move(frame));
  if (asyncWriting_ || flushDeferred_) return;  // that write, or the batch's flush, takes it
  if (batch_.open()) {
    flushDeferred_ = true;
    batch_.defer(shared_from_this());
    return;
  }
  flush();
}

void Connection::flush() {
  flushDeferred_ = false;
  if (closed_ || asyncWriting_ || out_.empty()) return;
  writeFirst_ = 0;  // writing_ and writeBuffers_ are empty: afterWrite cleared them
  while (!out_.empty()) {
    writing_.push_back(std::move(out_.front()));
    out_.pop_front();
  }
  for (const auto& frame : writing_) writeBuffers_.emplace_back(asio::buffer(frame));
  while (writeFirst_ < writeBuffers_.size()) {
    boost::system::error_code ec;
    std::size_t n = stream_.writeNow(std::span(writeBuffers_).subspan(writeFirst_), ec);
    if (ec == asio::error::would_block) return writeRest();
    if (ec) return shutdown(ec.message());
    queuedBytes_ -= std::min(n, queuedBytes_);
    while (n > 0) {  // drop what was written; the first unwritten buffer keeps its tail
      asio::const_buffer& b = writeBuffers_[writeFirst_];
      std::size_t used = std::min(n, b.size());
      b += used;
      n -= used;
      if (b.size() == 0) ++writeFirst_;
    }
  }
  afterWrite();
}

// The socket's send buffer is full: the rest waits for it to drain.
void Connection::writeRest() {
  asyncWriting_ = true;
  stream_.asyncWrite(
      std::span(writeBuffers_).subspan(writeFirst_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        self->asyncWriting_ = false;
        self->queuedBytes_ -= std::min(n, self->queuedBytes_);
        if (ec) return self->shutdown(ec.message());
        self->afterWrite();
        self->flush();
      });
}

void Connection::afterWrite() {
  writing_.clear();
  writeBuffers_.clear();
  if (closing_ && out_.empty()) shutdown("closed after flushing replies");
}

void Connection::close(std::string_view reason) {
  if (closing_ || closed_) return;
  closing_ = true;
  // Built only when debug is on: a session close would pay two allocations for nothing.
  if (log_.enabled(LogLevel::kDebug))
    log_.debug("net", "closing " + remoteEndpoint() + ": " + std::string(reason));
  if (!asyncWriting_ && out_.empty()) shutdown(reason);
}

void Connection::sessionEstablished(std::int64_t sessionId, std::int32_t timeoutMs) {
  sessionId_ = sessionId;
  timeoutMs_ = timeoutMs;
  handshakeDone_ = true;
  armIdleTimer();
}

ConnectionStats Connection::stats(std::int64_t wallMinusSteadyMs) const {
  ConnectionStats c;
  c.remote = "/" + remoteEndpoint();
  c.sessionId = sessionId_;
  c.timeout = timeoutMs_;
  c.received = received_;
  c.sent = sent_;
  c.queued = static_cast<std::int64_t>(inflight_.size());
  c.establishedMs = establishedAtMs_ + wallMinusSteadyMs;
  c.secure = secure();
  c.interestOps = answeringFourLetter_ ? 0 : 1;
  figures_.describe(c);
  return c;
}

void Connection::requestCompleted(const AnsweredRequest& answered) {
  figures_.record(answered);
  // The connect request is not among those in flight (it is answered before any other).
  if (answered.op == static_cast<std::int32_t>(OpCode::kCreateSession) || inflight_.empty()) return;
  if (limits_.largeRequests) limits_.largeRequests->give(inflight_.front());
  inflightBytes_ -= inflight_.front();
  inflight_.pop_front();
  bool roomAgain = inflight_.size() <= limits_.maxInflightRequests / 2 &&
                   inflightBytes_ <= limits_.maxInflightBytes / 2;
  if (readPaused_ && roomAgain) {
    readPaused_ = false;
    // Posted, not called: this runs inside the pipeline, possibly under processFrames.
    asio::post(idle_.get_executor(), [self = shared_from_this()] {
      OutputBatch::Scope replies(self->batch_);
      if (self->processFrames()) self->readMore();
    });
  }
}

// One timer per connection, moved only when it fires early: re-arming it for every request
// cost a cancellation and a completion each.
void Connection::armIdleTimer() {
  auto timeout = handshakeDone_ ? timeoutMs_ : limits_.handshakeTimeoutMs;
  idle_.expires_at(std::chrono::steady_clock::time_point(std::chrono::milliseconds(lastInputMs_)) +
                   std::chrono::milliseconds(timeout));
  idle_.async_wait([weak = weak_from_this(), timeout](const boost::system::error_code& ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self || self->closed_) return;
    if (steadyMs() - self->lastInputMs_ >= timeout)
      return self->shutdown("no traffic for " + std::to_string(timeout) + " ms");
    self->armIdleTimer();
  });
}

bool Connection::refuseLargeRequest(std::size_t length) {
  log_.warn("net", "closing " + remoteEndpoint() + ": rejecting large request of " +
                       std::to_string(length) + " bytes: large requests in flight hold " +
                       std::to_string(limits_.largeRequests->inUse()) +
                       " bytes (largeRequestMaxBytes)");
  shutdown("large request over the server-wide budget");
  return false;
}

void Connection::shutdown(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  endHandshake();
  if (log_.enabled(LogLevel::kDebug))
    log_.debug("net", "connection " + remoteEndpoint() + " closed: " + std::string(reason));
  idle_.cancel();
  // Requests still in flight are answered to nobody: their bytes are free from now on.
  if (limits_.largeRequests) {
    for (std::size_t length : inflight_) limits_.largeRequests->give(length);
  }
  inflight_.clear();
  inflightBytes_ = 0;
  boost::system::error_code ec;
  // close() alone sends what is queued and then FIN; a shutdown() first was one more syscall.
  stream_.socket().close(ec);
  if (hooks_.onClosed) hooks_.onClosed(*this);
}

}  // namespace zk
