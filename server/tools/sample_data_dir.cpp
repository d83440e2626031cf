// Writes a small data directory with zookube's own storage code: an initial snapshot, a log,
// a fuzzy snapshot taken mid-stream (with a log roll, as the server does) and a second log.
// ZooKeeper's TxnLogToolkit and SnapshotFormatter must read every file it leaves.

#include <chrono>
#include <iostream>
#include <string>

#include "protocol/opcodes.h"
#include "storage/recovery.h"
#include "storage/snapshot.h"
#include "storage/txn_log.h"
#include "tree/data_tree.h"
#include "tree/path.h"

namespace zk::tools {
namespace {

constexpr std::int64_t kSession = 0x5a00000000000001;

class SampleWriter {
 public:
  explicit SampleWriter(const std::string& dataDir) : dataDir_(dataDir) {
    storage::recover(dataDir_, dataDir_, tree_);
    storage::TxnLogOptions options;
    options.dataLogDir = dataDir_;
    options.preAllocSize = 1024 * 1024;
    log_.emplace(
        options, [](std::int64_t) {},
        [](std::string why) { std::cerr << "log failed: " << why << "\n"; });
    zxid_ = tree_.lastProcessedZxid();
  }

  void session(std::int64_t id, bool open) {
    Txn t = header(id, open ? OpCode::kCreateSession : OpCode::kCloseSession);
    if (open) {
      t.body = CreateSessionTxn{30000};
      sessions_[id] = 30000;
    } else {
      t.body = CloseSessionTxn{};
      sessions_.erase(id);
    }
    commit(t);
  }

  void create(const std::string& path, std::string data, AclList acl, bool ephemeral = false) {
    Txn t = header(kSession, OpCode::kCreate);
    const Node* parent = tree_.find(parentOf(path));
    t.body = CreateTxn{path, std::move(data), std::move(acl), ephemeral,
                       parent == nullptr ? 0 : parent->stat.cversion + 1};
    commit(t);
  }

  void setData(const std::string& path, std::string data) {
    Txn t = header(kSession, OpCode::kSetData);
    t.body = SetDataTxn{path, std::move(data), tree_.find(path)->stat.version + 1};
    commit(t);
  }

  void snapshot() {
    log_->rollLog();
    storage::SnapshotOptions options;
    options.dataDir = dataDir_;
    storage::SnapshotWriter writer(options, zxid_, sessions_, tree_);
    while (!writer.writeChunk(tree_, 2)) {
    }
    writer.finish();
    std::cout << "wrote " << writer.path().string() << "\n";
  }

  void stop() { log_->stop(); }

 private:
  Txn header(std::int64_t session, OpCode type) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    Txn t;
    t.header = {session, ++cxid_, ++zxid_, now, static_cast<std::int32_t>(type)};
    return t;
  }
  void commit(const Txn& t) {
    tree_.apply(t);
    log_->append(t);
  }

  std::string dataDir_;
  DataTree tree_;
  storage::SessionMap sessions_;
  std::optional<storage::TxnLogWriter> log_;
  std::int64_t zxid_ = 0;
  std::int32_t cxid_ = 0;
};

}  // namespace

int writeSample(const std::string& dataDir) {
  const AclList open = {ACL{31, Id{"world", "anyone"}}};
  SampleWriter w(dataDir);
  w.session(kSession, true);
  w.create("/zookube", "hello", open);
  w.create("/zookube/binary", std::string("\x00\x01\x02\xff", 4), open);
  w.create("/zookube/eph", "mine", open, true);
  w.create("/zookube/secret", "s", {ACL{1, Id{"digest", "user:Q9ZfbGkUVJ+LZXQnaPzUxbBSNbM="}}});
  w.snapshot();
  w.setData("/zookube", "hello again");
  w.create("/zookube/after-snapshot", "late", open);
  w.session(kSession + 1, true);
  w.stop();
  std::cout << "wrote " << dataDir << "\n";
  return 0;
}

}  // namespace zk::tools
