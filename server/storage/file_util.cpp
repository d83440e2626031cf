#include "storage/file_util.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <iostream>
#include <utility>

namespace zk::storage {

LogFn stderrLog() {
  return [](std::string_view line) { std::cerr << "zookube storage: " << line << '\n'; };
}

void throwErrno(std::string_view what, const std::filesystem::path& p) {
  int err = errno;
  throw StorageError(std::string(what) + " " + p.string() + ": " + std::strerror(err));
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

Fd Fd::open(const std::filesystem::path& p, int flags, int mode) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throwErrno("cannot open", p);
  return Fd(fd);
}

void Fd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {

// Where the file's last data ends, asked before any page is read: past it there are only holes
// and unwritten (fallocate'd) extents, which read as zeros. Reading those pages, even by
// read-ahead, would put zero pages in the page cache, which later count as data.
std::size_t endOfData(int fd, std::size_t size) {
  off_t end = 0;
  while (static_cast<std::size_t>(end) < size) {
    off_t data = ::lseek(fd, end, SEEK_DATA);
    if (data < 0) return errno == ENXIO ? static_cast<std::size_t>(end) : size;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole <= data) return size;  // no SEEK_HOLE here: all of it counts as data
    end = hole;
  }
  return size;
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& p) : fd_(Fd::open(p, O_RDONLY)) {
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) throwErrno("cannot stat", p);
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ == 0) return;
  void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_.get(), 0);
  if (m == MAP_FAILED) throwErrno("cannot map", p);
  data_ = static_cast<const std::uint8_t*>(m);
  dataEnd_ = endOfData(fd_.get(), size_);
  if (dataEnd_ < size_) {
    // A preallocated log: read ahead exactly its data, never into the zero tail.
    ::madvise(m, size_, MADV_RANDOM);
    ::posix_fadvise(fd_.get(), 0, static_cast<off_t>(dataEnd_), POSIX_FADV_WILLNEED);
  }
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

bool MappedFile::zeroFrom(std::uint64_t offset) const {
  if (offset >= dataEnd_) return true;
  return allZero(bytes().subspan(offset, dataEnd_ - offset));
}

void pwriteAll(int fd, std::string_view bytes, std::uint64_t offset,
               const std::filesystem::path& p) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      throwErrno("cannot write", p);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

void fsyncFile(int fd, bool dataOnly, const std::filesystem::path& p) {
  int rc = dataOnly ? ::fdatasync(fd) : ::fsync(fd);
  if (rc != 0) throwErrno("cannot fsync", p);
}

void fsyncDir(const std::filesystem::path& dir) {
  Fd fd = Fd::open(dir, O_RDONLY | O_DIRECTORY);
  fsyncFile(fd.get(), false, dir);
}

void writeFileAtomically(const std::filesystem::path& path, std::string_view bytes) {
  auto temp = path;
  temp += ".tmp";
  try {
    {
      Fd fd = Fd::open(temp, O_WRONLY | O_CREAT | O_TRUNC);
      pwriteAll(fd.get(), bytes, 0, temp);
      fsyncFile(fd.get(), false, temp);
    }
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    if (ec)
      throw StorageError("cannot rename " + temp.string() + " to " + path.string() + ": " +
                         ec.message());
    fsyncDir(path.parent_path());
  } catch (const StorageError&) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

void ensureWritableDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw StorageError("cannot create directory " + dir.string() + ": " + ec.message());
  if (!std::filesystem::is_directory(dir)) throw StorageError(dir.string() + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) throwErrno("no write access to", dir);
}

std::string zxidFileName(std::string_view prefix, std::int64_t zxid) {
  char hex[17];
  auto res = std::to_chars(hex, hex + sizeof hex, static_cast<std::uint64_t>(zxid), 16);
  return std::string(prefix) + "." + std::string(hex, res.ptr);
}

std::optional<std::int64_t> zxidFromName(std::string_view name, std::string_view prefix) {
  if (name.size() <= prefix.size() + 1 || !name.starts_with(prefix) || name[prefix.size()] != '.') {
    return std::nullopt;
  }
  std::string_view hex = name.substr(prefix.size() + 1);
  std::uint64_t v = 0;
  auto res = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
  if (res.ec != std::errc() || res.ptr != hex.data() + hex.size()) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

std::vector<ZxidFile> listZxidFiles(const std::filesystem::path& dir, std::string_view prefix) {
  std::vector<ZxidFile> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto zxid = zxidFromName(entry.path().filename().string(), prefix);
    if (zxid && entry.is_regular_file()) files.push_back({*zxid, entry.path()});
  }
  std::sort(files.begin(), files.end(),
            [](const ZxidFile& a, const ZxidFile& b) { return a.zxid < b.zxid; });
  return files;
}

bool allZero(std::span<const std::uint8_t> bytes) {
  // A log's preallocated tail is tens of MiB: compare it with itself shifted by one byte, which
  // memcmp does many bytes at a time.
  return bytes.empty() ||
         (bytes[0] == 0 && std::memcmp(bytes.data(), bytes.data() + 1, bytes.size() - 1) == 0);
}

}  // namespace zk::storage
