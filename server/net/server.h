#pragma once
// The composition root: wires recovery, the transaction log, the snapshot schedule, the request
// pipeline, the client connections, four-letter words, metrics and (in an ensemble) the quorum
// driver onto one event loop. The logic lives in the parts it connects.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/zoo_config.h"
#include "net/asio.h"
#include "net/client_ports.h"
#include "net/connection.h"
#include "net/connection_registry.h"
#include "net/introspection.h"
#include "net/metrics.h"
#include "net/pipeline_slot.h"
#include "net/quorum_driver.h"
#include "net/snapshot_schedule.h"
#include "net/tls_context.h"
#include "pipeline/request_processor.h"
#include "tree/data_tree.h"
#include "util/log.h"

namespace zk {

namespace storage {
class TxnLogWriter;
}  // namespace storage
class ServerIntrospection;
namespace admin {
class AdminServer;
}

class Server : private QuorumLog {
 public:
  Server(ServerConfig config, Logger& log);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Recovers the data directory and binds the ports; throws with a one-line reason.
  void start();
  // Serves until SIGTERM or SIGINT, then stops cleanly.
  void run();

 private:
  void recoverData();
  void openLog();
  void openLogWriter();
  void startAdminServer();
  void scheduleTick();
  void onTick();
  void purgeOldFiles();
  void stop(std::string_view why);
  std::optional<std::string> fourLetter(std::uint32_t code);
  // QuorumLog: what the quorum driver does with the transaction log.
  bool appendProposal(std::int64_t zxid, std::string bytes) override;
  std::string refusalReason() const override;
  void stopLog() override;
  void reopenLog() override;

  ServerConfig config_;
  Logger& log_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer tick_;
  ClientTlsShared tlsShared_;
  DataTree tree_;
  RequestFigures figures_;  // before txnLog_ and metrics_: both use it
  std::unique_ptr<storage::TxnLogWriter> txnLog_;
  std::unique_ptr<TxnSink> sink_;
  PipelineSlot pipeline_;  // outlives every connection, which reach the processor through it
  ConnectionLimits limits_;
  ConnectionRegistry connections_;
  OutputBatch outputBatch_;  // holds connections only while a handler runs
  SnapshotSchedule snapshots_;

  std::map<std::int64_t, std::int32_t> recoveredSessions_;
  std::int64_t nextPurgeMs_ = 0;
  std::int64_t startedAtMs_ = 0;
  bool stopping_ = false;

  std::int64_t snapshotZxid_ = 0;  // of the snapshot recovery started from
  // Declared after the parts it works on, and before those that read it: each part is destroyed
  // before what it refers to.
  std::unique_ptr<QuorumDriver> quorum_;  // null for a standalone server
  std::unique_ptr<ServerIntrospection> introspection_;
  std::unique_ptr<ClientPorts> ports_;
  std::unique_ptr<admin::AdminServer> adminServer_;  // null when admin.enableServer=false
  std::unique_ptr<Metrics> metrics_;
};

}  // namespace zk
