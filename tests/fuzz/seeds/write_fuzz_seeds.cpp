// Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) with zookube's own
// encoders, so each target starts from valid input and mutates from there:
//   build-fuzz/tests/write_fuzz_seeds tests/fuzz/corpus
// Rerun it when a format changes; the files are small enough to commit.

#include <openssl/ssl.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "protocol/opcodes.h"
#include "protocol/txn.h"
#include "storage/snapshot.h"
#include "storage/snapshot_stream.h"
#include "storage/txn_log.h"
#include "zab/packets.h"

namespace {

namespace fs = std::filesystem;
using namespace zk;

constexpr std::int64_t kSession = 0x5a00000000000001;
const AclList kOpen = {ACL{31, Id{"world", "anyone"}}};

std::int64_t zxidOf(std::int64_t epoch, std::int64_t counter) {
  return epoch << 32 | counter;
}

Txn txnOf(std::int64_t zxid, OpCode type, TxnBody body) {
  Txn txn;
  txn.header = {kSession, static_cast<std::int32_t>(zxid & 0xff), zxid, 1'700'000'000'000,
                static_cast<std::int32_t>(type)};
  txn.body = std::move(body);
  return txn;
}

// A session that creates, changes and deletes znodes, then closes; zxids of epoch `epoch`.
std::vector<Txn> sampleTxns(std::int64_t epoch) {
  std::int64_t n = 0;
  return {
      txnOf(zxidOf(epoch, ++n), OpCode::kCreateSession, CreateSessionTxn{30000}),
      txnOf(zxidOf(epoch, ++n), OpCode::kCreate, CreateTxn{"/a", "data", kOpen, false, 1}),
      txnOf(zxidOf(epoch, ++n), OpCode::kCreate, CreateTxn{"/a/e", "eph", kOpen, true, 1}),
      txnOf(zxidOf(epoch, ++n), OpCode::kSetData, SetDataTxn{"/a", "again", 1}),
      txnOf(zxidOf(epoch, ++n), OpCode::kDelete, DeleteTxn{"/a/e"}),
      txnOf(zxidOf(epoch, ++n), OpCode::kCloseSession, CloseSessionTxn{}),
  };
}

void write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
  std::cout << (dir / name).string() << ": " << bytes.size() << " bytes\n";
}

std::string packet(zab::PacketType type, std::int64_t zxid, std::string data = {}) {
  return zab::encodePacket(zab::makePacket(type, zxid, std::move(data)));
}

// What leader 3 of epoch 2 sends follower 1 (whose log ends at zxid 1:3), and what learner 1
// sends leader 3: the targets' two sides of a sync and a broadcast.
void quorumSeeds(const fs::path& dir) {
  using zab::PacketType;
  Txn proposal = sampleTxns(2)[1];
  std::string fromLeader =
      packet(PacketType::LeaderInfo, zxidOf(2, 0), zab::encodeInt(0x10000)) +
      packet(PacketType::Diff, zxidOf(1, 3)) + packet(PacketType::NewLeader, zxidOf(2, 0)) +
      packet(PacketType::UpToDate, 0) +
      packet(PacketType::Proposal, proposal.header.zxid, encodeTxn(proposal)) +
      packet(PacketType::Commit, proposal.header.zxid) + packet(PacketType::Ping, zxidOf(2, 1));
  write(dir, "from-leader", fromLeader);
  std::string fromLearner =
      packet(PacketType::FollowerInfo, zxidOf(1, 0), zab::encodeLearnerInfo({1, 0x10000, 0})) +
      packet(PacketType::AckEpoch, zxidOf(1, 3), zab::encodeInt(1)) +
      packet(PacketType::Ack, zxidOf(2, 0)) + packet(PacketType::Ping, zxidOf(2, 0));
  write(dir, "from-learner", fromLearner);
}

void electionSeeds(const fs::path& dir) {
  zab::Notification vote{zab::ServerState::Looking,
                         2,
                         zxidOf(1, 3),
                         1,
                         1,
                         0x2,
                         "server.1=127.0.0.1:2888:3888:participant\nversion=0"};
  zab::Notification settled{zab::ServerState::Following, 2, zxidOf(1, 3), 1, 1, 0x2, ""};
  write(dir, "hello-and-votes",
        zab::encodeInitialMessage({2, "127.0.0.1:3888", zab::kElectionProtocolVersion}) +
            zab::frameElectionMessage(zab::encodeNotification(vote)) +
            zab::frameElectionMessage(zab::encodeNotification(settled)));
}

void snapshotSeeds(const fs::path& dir, const fs::path& scratch) {
  DataTree tree;
  storage::SessionMap sessions;
  for (const Txn& txn : sampleTxns(1)) {
    if (txn.header.type == static_cast<std::int32_t>(OpCode::kCloseSession)) break;
    tree.apply(txn);
  }
  sessions[kSession] = 30000;
  write(dir, "stream", storage::encodeSnapshotStream(sessions, tree));
  // The plain file, and the same snapshot as ZooKeeper's gz and snappy files store it.
  for (auto [name, how] : {std::pair{"file", storage::SnapshotCompression::kNone},
                           std::pair{"file.gz", storage::SnapshotCompression::kGzip},
                           std::pair{"file.snappy", storage::SnapshotCompression::kSnappy}}) {
    fs::path file = storage::writeSnapshot(scratch, zxidOf(1, 5), sessions, tree, how);
    std::ifstream in(file, std::ios::binary);
    write(dir, name, std::string(std::istreambuf_iterator<char>(in), {}));
  }
}

void txnLogSeeds(const fs::path& dir) {
  std::string log = storage::logFileHeader(0);
  for (const Txn& txn : sampleTxns(1)) log += storage::frameLogEntry(encodeTxn(txn));
  write(dir, "log", log);
}

// Requests as curl and monitoring agents send them: one per file, and one keep-alive stream.
void adminHttpSeeds(const fs::path& dir) {
  auto get = [](const std::string& target) {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n" +
           "Accept: */*\r\n\r\n";
  };
  write(dir, "get-ruok", get("/commands/ruok"));
  write(dir, "get-list", get("/commands"));
  write(dir, "set-trace-mask", get("/commands/stmk?traceMask=306"));
  write(dir, "keep-alive", get("/commands/mntr") + get("/commands/cons") + get("/commands/dump"));
  write(dir, "post-body",
        "POST /commands/ruok HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  write(dir, "chunked",
        "GET /commands/wchs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n");
}

}  // namespace

// The first flight of an OpenSSL client (its ClientHello record) allowed up to `maxVersion`.
std::string clientHello(int maxVersion) {
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(context, maxVersion);
  SSL* tls = SSL_new(context);
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(tls, BIO_new(BIO_s_mem()), out);
  SSL_set_tlsext_host_name(tls, "zk-1.example.com");
  SSL_connect(tls);  // wants the server's answer; the hello is written by then
  char* bytes = nullptr;
  long size = BIO_get_mem_data(out, &bytes);
  std::string hello(bytes, static_cast<std::size_t>(size));
  SSL_free(tls);
  SSL_CTX_free(context);
  return hello;
}

// A unified port's first bytes: TLS 1.3 and 1.2 client hellos, a plaintext four-letter word.
void portUnificationSeeds(const fs::path& dir) {
  write(dir, "client-hello-tls13", clientHello(TLS1_3_VERSION));
  write(dir, "client-hello-tls12", clientHello(TLS1_2_VERSION));
  write(dir, "plaintext-ruok", "ruok");
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_fuzz_seeds CORPUS_ROOT\n";
    return 2;
  }
  const fs::path root = argv[1];
  const fs::path scratch = fs::temp_directory_path() / "zookube-fuzz-seeds";
  fs::remove_all(scratch);
  quorumSeeds(root / "fuzz_quorum_packets");
  electionSeeds(root / "fuzz_election");
  snapshotSeeds(root / "fuzz_snapshot", scratch);
  txnLogSeeds(root / "fuzz_txn_log");
  adminHttpSeeds(root / "fuzz_admin_http");
  portUnificationSeeds(root / "fuzz_port_unification");
  fs::remove_all(scratch);
  return 0;
}
