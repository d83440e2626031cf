#pragma once
// Small POSIX helpers shared by the txn log and snapshots: an owning file descriptor, a
// read-only mapping, full writes, directory fsync, and the "<prefix>.<hex zxid>" file names
// ZooKeeper uses. Every failure throws StorageError naming the file and errno.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/storage_error.h"

namespace zk::storage {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  static Fd open(const std::filesystem::path& p, int flags, int mode = 0644);
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

// Whole-file read-only view; an empty file maps to an empty span.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& p);
  MappedFile(MappedFile&&) = delete;
  ~MappedFile();
  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  // Whether every byte from `offset` to the end reads as zero. Only the bytes up to the end of
  // the data the file system reported at open are compared: holes and preallocated
  // (fallocate'd, never written) extents read as zeros by definition, so a log's 64 MiB
  // preallocated tail costs a few lseek calls instead of a read of every page.
  bool zeroFrom(std::uint64_t offset) const;

 private:
  Fd fd_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t dataEnd_ = 0;  // past it: holes and unwritten extents only
};

[[noreturn]] void throwErrno(std::string_view what, const std::filesystem::path& p);
void pwriteAll(int fd, std::string_view bytes, std::uint64_t offset,
               const std::filesystem::path& p);
void fsyncFile(int fd, bool dataOnly, const std::filesystem::path& p);
void fsyncDir(const std::filesystem::path& dir);
// Replaces `path` with `bytes` so that a crash leaves the old file or the new one, never a torn
// one: a temporary file beside it, fsynced, renamed over it, the directory fsynced. Throws
// StorageError naming the file; the temporary file does not outlive a failure.
void writeFileAtomically(const std::filesystem::path& path, std::string_view bytes);
// Creates the directory (and parents) if missing; refuses a path that is not a writable dir.
void ensureWritableDir(const std::filesystem::path& dir);

std::string zxidFileName(std::string_view prefix, std::int64_t zxid);
// Parses "<prefix>.<hex>" exactly; other names (temp files, compressed snapshots) give nullopt.
std::optional<std::int64_t> zxidFromName(std::string_view name, std::string_view prefix);

struct ZxidFile {
  std::int64_t zxid;
  std::filesystem::path path;
};
// Files named "<prefix>.<hex>" in dir, ascending by zxid; a missing dir has none.
std::vector<ZxidFile> listZxidFiles(const std::filesystem::path& dir, std::string_view prefix);

bool allZero(std::span<const std::uint8_t> bytes);

}  // namespace zk::storage
