// libFuzzer target: arbitrary bytes as a transaction log file of a data directory (the only
// one, or an older one followed by a valid newer file), recovered as at start (replayed into a
// tree), then read with torn-tail repair. A log must be replayed, have its torn tail cut, or be
// refused with a StorageError; after a repair the files must read clean with the same txns.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_chunks.h"
#include "protocol/opcodes.h"
#include "storage/recovery.h"
#include "storage/txn_log.h"

namespace {

namespace fs = std::filesystem;
using namespace zk::storage;

// One scratch directory per process, on tmpfs when there is one.
const fs::path& scratch() {
  static const fs::path dir = [] {
    fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    fs::path d = base / ("zookube-fuzz-txn-log-" + std::to_string(::getpid()));
    fs::create_directories(d / "data" / kVersionDir);
    fs::create_directories(d / "log" / kVersionDir);
    return d;
  }();
  return dir;
}

void writeNewerLog(const fs::path& logDir) {
  constexpr std::int64_t kZxid = 0x100000010;
  zk::Txn txn;
  txn.header = {1, 1, kZxid, 0, static_cast<std::int32_t>(zk::OpCode::kCreateSession)};
  txn.body = zk::CreateSessionTxn{30000};
  std::ofstream out(logDir / "log.100000010", std::ios::binary);
  out << logFileHeader(0) << frameLogEntry(zk::encodeTxn(txn));
}

std::optional<LogReadResult> readRepairing(const fs::path& versionDir) {
  LogReadOptions options;
  options.log = [](std::string_view) {};
  try {
    return readTxnLog(
        versionDir, 0, [](const zk::Txn&) {}, options);
  } catch (const StorageError&) {
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path logDir = scratch() / "log" / kVersionDir;
  fs::remove_all(logDir);
  fs::create_directories(logDir);
  {
    std::ofstream out(logDir / "log.100000001", std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  // Half the inputs are an older file, followed by a valid newest one.
  if (size % 2 == 1) writeNewerLog(logDir);

  zk::DataTree tree;
  RecoveryOptions options;
  options.readOnly = true;
  options.trustEmptySnapshot = true;
  options.log = [](std::string_view) {};
  try {
    recover(scratch() / "data", scratch() / "log", tree, options);
  } catch (const StorageError&) {
  }

  auto first = readRepairing(logDir);
  if (!first) return 0;
  auto second = readRepairing(logDir);
  if (!second || second->tornTail || second->delivered != first->delivered) __builtin_trap();
  return 0;
}
