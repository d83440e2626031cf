#pragma once
// Helpers shared by the storage unit tests: a scratch directory removed at the end of a test,
// and txns that are easy to tell apart.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "protocol/opcodes.h"
#include "protocol/txn.h"
#include "tree/data_tree.h"

namespace zk::storage::testing {

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("zookube-storage-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline Txn createTxn(std::int64_t zxid, std::string path, std::string data = "d",
                     std::int64_t session = 0x100) {
  Txn t;
  t.header = {session, static_cast<std::int32_t>(zxid), zxid, 1700000000000 + zxid,
              static_cast<std::int32_t>(OpCode::kCreate)};
  CreateTxn c;
  c.path = std::move(path);
  c.data = std::move(data);
  c.acl = {ACL{31, Id{"world", "anyone"}}};
  t.body = std::move(c);
  return t;
}

inline std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void writeAll(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline Txn sessionTxn(std::int64_t zxid, std::int64_t session, bool create,
                      std::int32_t timeout = 30000) {
  Txn t;
  t.header = {session, 0, zxid, 1700000000000 + zxid,
              static_cast<std::int32_t>(create ? OpCode::kCreateSession : OpCode::kCloseSession)};
  if (create) {
    t.body = CreateSessionTxn{timeout};
  } else {
    t.body = CloseSessionTxn{};
  }
  return t;
}

inline Txn ephemeralTxn(std::int64_t zxid, std::string path, std::int64_t session) {
  Txn t = createTxn(zxid, std::move(path), "eph", session);
  std::get<CreateTxn>(t.body).ephemeral = true;
  return t;
}

inline Txn deleteTxn(std::int64_t zxid, std::string path) {
  Txn t;
  t.header = {0x100, 0, zxid, 1700000000000 + zxid, static_cast<std::int32_t>(OpCode::kDelete)};
  t.body = DeleteTxn{std::move(path)};
  return t;
}

inline Txn setDataTxn(std::int64_t zxid, std::string path, std::string data) {
  Txn t;
  t.header = {0x100, 0, zxid, 1700000000000 + zxid, static_cast<std::int32_t>(OpCode::kSetData)};
  t.body = SetDataTxn{std::move(path), std::move(data), -1};
  return t;
}

// One line per node with everything a snapshot must preserve, for readable comparisons.
inline std::vector<std::string> describeTree(const DataTree& tree) {
  std::vector<std::string> lines;
  tree.visitFrom("", true, SIZE_MAX, [&](std::string_view path, const Node& n) {
    std::ostringstream out;
    const NodeStat& s = n.stat;
    out << '"' << path << "\" data=" << n.data() << " czxid=" << s.czxid << " mzxid=" << s.mzxid
        << " pzxid=" << s.pzxid << " ctime=" << s.ctime << " mtime=" << s.mtime
        << " v=" << s.version << " cv=" << s.cversion << " av=" << s.aversion
        << " owner=" << s.ephemeralOwner << " children=" << tree.children(n).size() << " acl=";
    for (const ACL& a : tree.acl(n)) out << a.perms << ':' << a.id.scheme << ':' << a.id.id << ',';
    lines.push_back(out.str());
  });
  return lines;
}

}  // namespace zk::storage::testing
