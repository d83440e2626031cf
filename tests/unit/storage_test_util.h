#pragma once
// Helpers shared by the storage unit tests: a scratch directory removed at the end of a test,
// and txns that are easy to tell apart.

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "protocol/opcodes.h"
#include "protocol/txn.h"

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

}  // namespace zk::storage::testing
