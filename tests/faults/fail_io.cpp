// libfail_io.so: an LD_PRELOAD shim that makes writes, syncs and truncations of chosen files fail
// with EIO, so
// tests can inject disk errors into a real server (zookube or a JVM) without FUSE or root.
//
//   FAIL_IO_PATH     substring of the file's path (as /proc/self/fd shows it) that selects
//                    the files to fail; unset or empty: the shim does nothing
//   FAIL_IO_AFTER    fail only after this many successful matching calls (default 0)
//   FAIL_IO_TRIGGER  fail only while this file exists, so a test arms the fault on a running
//                    process by creating it; unset: armed from the start
//   FAIL_IO_CALLS    comma-separated calls to fail among write, pwrite, writev, fsync,
//                    fdatasync, truncate (by path) and ftruncate (default: all of them)
//
// The first failure prints one line on stderr ("fail_io: ..."), so a log shows where it began.
// Test tooling only: the shim's counters are process-wide by nature.

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

std::atomic<long> matchingCalls{0};
std::atomic<bool> announced{false};

template <class Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

bool callSelected(std::string_view call) {
  const char* calls = std::getenv("FAIL_IO_CALLS");
  if (calls == nullptr || *calls == '\0') return true;
  std::string_view list(calls);
  while (!list.empty()) {
    auto comma = list.find(',');
    if (list.substr(0, comma) == call) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool pathMatches(int fd, char* path, std::size_t size) {
  const char* pattern = std::getenv("FAIL_IO_PATH");
  if (pattern == nullptr || *pattern == '\0' || fd < 0) return false;
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, size - 1);
  if (n <= 0) return false;
  path[n] = '\0';
  return std::strstr(path, pattern) != nullptr;
}

bool armed() {
  const char* trigger = std::getenv("FAIL_IO_TRIGGER");
  if (trigger != nullptr && *trigger != '\0' && access(trigger, F_OK) != 0) return false;
  const char* after = std::getenv("FAIL_IO_AFTER");
  long allowed = after != nullptr ? std::atol(after) : 0;
  return matchingCalls.fetch_add(1) >= allowed;
}

void announce(std::string_view call, const char* path) {
  if (!announced.exchange(true)) {
    char line[4200];
    int len = std::snprintf(line, sizeof line, "fail_io: failing %.*s on %s with EIO\n",
                            static_cast<int>(call.size()), call.data(), path);
    static auto realWrite = real<ssize_t (*)(int, const void*, size_t)>("write");
    if (len > 0) realWrite(2, line, static_cast<size_t>(std::min<int>(len, sizeof line - 1)));
  }
  errno = EIO;
}

// True when this call must fail; errno is then EIO.
bool shouldFail(int fd, std::string_view call) {
  char path[4096];
  if (!callSelected(call) || !pathMatches(fd, path, sizeof path) || !armed()) return false;
  announce(call, path);
  return true;
}

// The same for a call that names its file by path.
bool shouldFailPath(const char* path, std::string_view call) {
  const char* pattern = std::getenv("FAIL_IO_PATH");
  if (pattern == nullptr || *pattern == '\0' || path == nullptr) return false;
  if (!callSelected(call) || std::strstr(path, pattern) == nullptr || !armed()) return false;
  announce(call, path);
  return true;
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
  static auto next = real<ssize_t (*)(int, const void*, size_t)>("write");
  if (shouldFail(fd, "write")) return -1;
  return next(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static auto next = real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  if (shouldFail(fd, "pwrite")) return -1;
  return next(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  static auto next = real<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  if (shouldFail(fd, "pwrite")) return -1;
  return next(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  static auto next = real<ssize_t (*)(int, const struct iovec*, int)>("writev");
  if (shouldFail(fd, "writev")) return -1;
  return next(fd, iov, iovcnt);
}

int fsync(int fd) {
  static auto next = real<int (*)(int)>("fsync");
  if (shouldFail(fd, "fsync")) return -1;
  return next(fd);
}

int fdatasync(int fd) {
  static auto next = real<int (*)(int)>("fdatasync");
  if (shouldFail(fd, "fdatasync")) return -1;
  return next(fd);
}

// A JVM's RandomAccessFile.setLength calls ftruncate64; zookube's TRUNC calls truncate.
int ftruncate(int fd, off_t length) {
  static auto next = real<int (*)(int, off_t)>("ftruncate");
  if (shouldFail(fd, "ftruncate")) return -1;
  return next(fd, length);
}

int ftruncate64(int fd, off64_t length) {
  static auto next = real<int (*)(int, off64_t)>("ftruncate64");
  if (shouldFail(fd, "ftruncate")) return -1;
  return next(fd, length);
}

int truncate(const char* path, off_t length) {
  static auto next = real<int (*)(const char*, off_t)>("truncate");
  if (shouldFailPath(path, "truncate")) return -1;
  return next(path, length);
}

int truncate64(const char* path, off64_t length) {
  static auto next = real<int (*)(const char*, off64_t)>("truncate64");
  if (shouldFailPath(path, "truncate")) return -1;
  return next(path, length);
}

}  // extern "C"
