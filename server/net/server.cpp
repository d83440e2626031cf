#include "net/server.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "net/admin_server.h"
#include "net/four_letter.h"
#include "net/quorum_driver.h"
#include "net/server_introspection.h"
#include "storage/purge.h"
#include "storage/recovery.h"
#include "storage/snapshot.h"
#include "storage/txn_log.h"
#include "util/fail_stop.h"
#include "util/wall_clock.h"

namespace zk {
namespace {

// A standalone server's log, and its count of zxids: the next one follows the last appended
// (or, at start, the last recovered). Holds the server's writer slot, not a writer: a TRUNC or
// SNAP replaces the writer.
class LogSink : public TxnSink {
 public:
  LogSink(const std::unique_ptr<storage::TxnLogWriter>& log, std::int64_t lastZxid)
      : log_(log), lastZxid_(lastZxid) {}
  std::optional<std::int64_t> nextZxid() const override { return lastZxid_ + 1; }
  void append(const Txn& txn) override {
    log_->append(txn);
    lastZxid_ = txn.header.zxid;
  }

 private:
  const std::unique_ptr<storage::TxnLogWriter>& log_;
  std::int64_t lastZxid_;
};

storage::SnapshotCompression snapshotCompressionOf(const ServerConfig& c) {
  return storage::compressionNamed(c.snapshotCompressionMethod)
      .value_or(storage::SnapshotCompression::kNone);
}

// The SASL authority from the JAAS file's server section; null without a JAAS file or that
// section. A file that cannot be read or parsed stops the start, as ZooKeeper's login does.
std::shared_ptr<const sasl::Authority> saslAuthority(const ServerConfig& c) {
  if (c.jaasConfigFile.empty()) return nullptr;
  jaas::Configuration jaas = jaas::readFile(c.jaasConfigFile);
  // As ZooKeeper: a JAAS file without the server's section means no SASL, not an error.
  if (!jaas.contains(c.jaasServerSection)) return nullptr;
  sasl::Settings settings = sasl::settingsFrom(jaas, c.jaasServerSection);
  settings.removeHostFromPrincipal = c.kerberosRemoveHostFromPrincipal;
  settings.removeRealmFromPrincipal = c.kerberosRemoveRealmFromPrincipal;
  return std::make_shared<const sasl::Authority>(std::move(settings));
}

void ensureWritableDir(const std::filesystem::path& dir, std::string_view key) {
  std::error_code ec;
  std::filesystem::create_directories(dir / "version-2", ec);
  if (ec)
    throw std::runtime_error(std::string(key) + " " + dir.string() +
                             " is unusable: " + ec.message());
  auto probe = dir / "version-2" / ".zookube-write-test";
  FILE* f = std::fopen(probe.c_str(), "w");
  if (f == nullptr)
    throw std::runtime_error(std::string(key) + " " + dir.string() + " is not writable");
  std::fclose(f);
  std::filesystem::remove(probe, ec);
}

}  // namespace

Server::Server(ServerConfig config, Logger& log)
    : config_(std::move(config)),
      log_(log),
      signals_(io_, SIGINT, SIGTERM),
      tick_(io_),
      connections_(config_.maxClientCnxns, config_.maxCnxns, log_),
      snapshots_(io_, log_, config_.dataDir, snapshotCompressionOf(config_), config_.snapCount,
                 tree_,
                 {.rollLog = [this] { txnLog_->rollLog(); },
                  .sessions = [this] { return pipeline_.sessions(); }}) {
  // ZooKeeper 3.8 (NIOServerCnxn.readLength, NettyServerCnxn) closes a client connection whose
  // frame is longer than jute.maxbuffer itself; the extra size only pads reads from disk.
  limits_.maxFrameBytes = static_cast<std::size_t>(config_.juteMaxBuffer);
  limits_.handshakeTimeoutMs = std::max(config_.tickTime * 10, 1000);
  if (config_.largeRequestThreshold > 0) {
    limits_.largeRequests = std::make_shared<LargeRequestBudget>(config_.largeRequestThreshold,
                                                                 config_.largeRequestMaxBytes);
  }
  limits_.tlsHandshakeTimeoutMs = config_.tls.handshakeDetectionTimeoutMs;
  tlsShared_.x509SuperUser = config_.tls.x509SuperUser;
  tlsShared_.outstandingHandshakeLimit = config_.tls.outstandingHandshakeLimit;
  tlsShared_.sasl = saslAuthority(config_);
  tlsShared_.saslSuperUsers = config_.saslSuperUsers;
  tlsShared_.allowSaslFailedClients = config_.allowSaslFailedClients;
  auto enforced = config_.enforcedAuthSchemes();
  tlsShared_.saslRequired = std::find(enforced.begin(), enforced.end(), "sasl") != enforced.end();
  if (tlsShared_.sasl)
    log_.info("net", "SASL on the client port: " + tlsShared_.sasl->settings().mechanism + " (" +
                         config_.jaasConfigFile.string() + ", section " +
                         config_.jaasServerSection + ")");
}

Server::~Server() {
  // The writer thread reports into figures_; stop it before anything it could reach goes.
  txnLog_.reset();
  // The processor refers to the sink and forwarder the driver owns: it goes first.
  pipeline_.clear();
}

bool Server::appendProposal(std::int64_t zxid, std::string bytes) {
  return txnLog_->appendEncoded(zxid, std::move(bytes));
}

std::string Server::refusalReason() const {
  std::string failure = txnLog_->failure();
  return failure.empty() ? "the transaction log is stopped" : failure;
}

void Server::stopLog() {
  txnLog_->stop();
}

void Server::reopenLog() {
  openLogWriter();
}

void Server::start() {
  startedAtMs_ = wallMs();
  ensureWritableDir(config_.dataDir, "dataDir");
  if (config_.dataLogDir != config_.dataDir) ensureWritableDir(config_.dataLogDir, "dataLogDir");
  if (config_.metricsEnabled) {
    // A scrape asks the event loop for the gauges; they are not computed unless scraped.
    auto gauges = statsFromLoop(
        io_, [this] { return introspection_ ? introspection_->stats({}) : ServerStats{}; },
        std::chrono::seconds(1));
    metrics_ = std::make_unique<Metrics>(figures_, std::move(gauges), config_.metricsHttpHost,
                                         config_.metricsHttpPort);
    log_.info("metrics", "Prometheus metrics on http://" + config_.metricsHttpHost + ":" +
                             std::to_string(config_.metricsHttpPort) + "/metrics");
  }
  recoverData();
  openLog();
  if (config_.distributed()) {
    quorum_ = std::make_unique<QuorumDriver>(QuorumDriver::Parts{
        .io = io_,
        .log = log_,
        .config = config_,
        .tree = tree_,
        .pipeline = pipeline_,
        .connections = connections_,
        .snapshots = snapshots_,
        .figures = figures_,
        .replies = outputBatch_,
        .txnLog = *this,
        .snapshotZxid = snapshotZxid_,
    });
  }
  introspection_ = std::make_unique<ServerIntrospection>(ServerIntrospection::Sources{
      .config = config_,
      .pipeline = pipeline_,
      .connections = connections_,
      .limits = limits_,
      .tls = tlsShared_,
      .figures = figures_,
      .snapshots = snapshots_,
      .quorum = quorum_.get(),
      .startedAtMs = startedAtMs_,
  });
  ports_ = std::make_unique<ClientPorts>(ClientPorts::Parts{
      .io = io_,
      .log = log_,
      .config = config_,
      .pipeline = pipeline_,
      .connections = connections_,
      .limits = limits_,
      .tls = tlsShared_,
      .replies = outputBatch_,
      .fourLetter = [this](std::uint32_t code) { return fourLetter(code); },
      .sessionGate = [this] { return !quorum_ || quorum_->serving(); },
  });
  startAdminServer();
  nextPurgeMs_ = config_.purgeIntervalHours > 0
                     ? wallMs() + std::int64_t{config_.purgeIntervalHours} * 3600 * 1000
                     : INT64_MAX;
}

void Server::recoverData() {
  auto started = std::chrono::steady_clock::now();
  storage::RecoveryOptions options;
  options.log = [this](std::string_view line) { log_.info("storage", line); };
  options.compression = snapshotCompressionOf(config_);
  storage::RecoveryResult recovered =
      storage::recover(config_.dataDir, config_.dataLogDir, tree_, options);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  std::string from = recovered.snapshotZxid < 0 ? std::string("no snapshot")
                                                : recovered.snapshotFile.filename().string();
  log_.info("storage", "recovered " + std::to_string(tree_.nodeCount()) + " znodes and " +
                           std::to_string(recovered.sessions.size()) + " sessions up to zxid " +
                           hex(tree_.lastProcessedZxid()) + " from " + from + " and " +
                           std::to_string(recovered.txnsReplayed) + " logged txns in " +
                           std::to_string(ms) + " ms");
  recoveredSessions_ = std::move(recovered.sessions);
  snapshotZxid_ = std::max<std::int64_t>(0, recovered.snapshotZxid);
  snapshots_.noteLoaded(recovered.snapshotZxid);
}

void Server::openLog() {
  openLogWriter();
  sink_ = std::make_unique<LogSink>(txnLog_, tree_.lastProcessedZxid());
  PipelineLinks links;
  links.txnLogged = [this](const Txn&) { snapshots_.countTxn(); };
  links.requestAnswered = [this](bool read, std::int64_t ms) {
    (read ? figures_.readLatency : figures_.updateLatency).record(ms);
  };
  pipeline_.rebuild(processorConfigOf(config_, PipelineRole::kStandalone, log_), tree_, *sink_,
                    std::move(links), recoveredSessions_);
}

void Server::openLogWriter() {
  storage::TxnLogOptions options;
  options.dataLogDir = config_.dataLogDir;
  options.preAllocSize = config_.preAllocSizeKb * 1024;
  options.forceSync = config_.forceSync;
  options.fsyncWarning = std::chrono::milliseconds(config_.fsyncWarningThresholdMs);
  options.log = [this](std::string_view line) { log_.warn("txnlog", line); };
  // Runs on the writer thread, the fsync recorder's only writer.
  options.onFsync = [this](double ms) { figures_.fsyncTime.record(std::llround(ms)); };
  txnLog_ = std::make_unique<storage::TxnLogWriter>(
      options,
      [this](std::int64_t zxid) {
        asio::post(io_, [this, zxid] {
          OutputBatch::Scope replies(outputBatch_);
          if (!quorum_) return pipeline_->onDurable(zxid);
          quorum_->onPersisted(zxid);
        });
      },
      [this](const std::string& reason) {
        // An ensemble member whose log failed may have acknowledged nothing it lost, but its log
        // no longer holds what the others have: it stops, and recovers from disk on restart.
        // Runs on the writer thread, so no later batch is even attempted.
        if (config_.distributed()) failStop(log_, "txnlog", reason);
        asio::post(io_, [this, reason] {
          log_.error("txnlog", "transaction log failed, refusing writes: " + reason);
          pipeline_->refuseWrites(reason);
        });
      });
}

// As ZooKeeper's QuorumPeer, a port the AdminServer cannot have is a warning, not a failure:
// clients need the client port, not the AdminServer.
void Server::startAdminServer() {
  if (!config_.admin.enabled) return;
  adminServer_ = std::make_unique<admin::AdminServer>(io_, config_, *introspection_, log_);
  try {
    adminServer_->start();
  } catch (const std::exception& e) {
    log_.warn("admin", std::string("problem starting the AdminServer: ") + e.what());
    adminServer_.reset();
  }
}

std::optional<std::string> Server::fourLetter(std::uint32_t code) {
  auto name = fourLetterName(code);
  if (!name) return std::nullopt;
  return runFourLetter(*name, *introspection_, config_);
}

void Server::scheduleTick() {
  tick_.expires_after(std::chrono::milliseconds(std::max(config_.tickTime / 2, 10)));
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping_) onTick();
  });
}

void Server::onTick() {
  OutputBatch::Scope replies(outputBatch_);
  if (!quorum_ || quorum_->serving()) pipeline_->tick();
  if (quorum_) quorum_->tick();
  if (wallMs() >= nextPurgeMs_) {
    purgeOldFiles();
    nextPurgeMs_ = wallMs() + std::int64_t{config_.purgeIntervalHours} * 3600 * 1000;
  }
  scheduleTick();
}

void Server::run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (!ec) stop(signal == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  scheduleTick();
  io_.run();
  txnLog_->stop();
}

void Server::stop(std::string_view why) {
  if (stopping_) return;
  stopping_ = true;
  log_.info("main", "stopping on " + std::string(why) + ": flushing the transaction log");
  if (ports_) ports_->stop();
  if (adminServer_) adminServer_->stop();
  tick_.cancel();
  if (quorum_) quorum_->stop();
  connections_.closeAll("server stopping");
  snapshots_.stop();
  // Everything already handed to the log is made durable; then the loop ends.
  txnLog_->stop();
  io_.stop();
}

void Server::purgeOldFiles() {
  try {
    storage::purgeOldFiles(config_.dataDir, config_.dataLogDir, config_.snapRetainCount);
  } catch (const std::exception& e) {
    log_.warn("purge", std::string("autopurge failed: ") + e.what());
  }
}

}  // namespace zk
