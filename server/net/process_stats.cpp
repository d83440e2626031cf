#include "net/process_stats.h"

#include <sys/resource.h>

namespace zk {

std::int64_t openFileDescriptorCount() {
  std::error_code ec;
  std::int64_t count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++count;
  return ec ? -1 : count;
}

std::int64_t maxFileDescriptorCount() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  return static_cast<std::int64_t>(limit.rlim_cur);
}

std::int64_t versionDirectorySize(const std::filesystem::path& dir) {
  std::error_code ec;
  std::int64_t total = 0;
  for (auto it = std::filesystem::directory_iterator(dir / "version-2", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    auto size = it->file_size(ec);
    if (!ec) total += static_cast<std::int64_t>(size);
  }
  return total;
}

}  // namespace zk
