#include "storage/epoch_files.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

#include "storage/file_util.h"

namespace zk::storage {
namespace {

std::filesystem::path epochDir(const std::filesystem::path& dataDir) {
  return dataDir / "version-2";
}

std::optional<std::int64_t> readEpochAt(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::nullopt;
    throwErrno("cannot read", path);
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' '))
    value.pop_back();
  std::int64_t epoch = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), epoch);
  if (ec != std::errc{} || end != value.data() + value.size() || value.empty() || epoch < 0) {
    throw StorageError(path.string() + ": expected a non-negative epoch number, found '" + value +
                       "'");
  }
  return epoch;
}

}  // namespace

std::optional<std::int64_t> readEpochFile(const std::filesystem::path& dataDir,
                                          std::string_view name) {
  if (auto epoch = readEpochAt(epochDir(dataDir) / name)) return epoch;
  auto legacy = dataDir / name;
  auto epoch = readEpochAt(legacy);
  if (epoch) {
    writeEpochFile(dataDir, name, *epoch);  // durable in its new place before the old one goes
    std::filesystem::remove(legacy);
  }
  return epoch;
}

void writeEpochFile(const std::filesystem::path& dataDir, std::string_view name,
                    std::int64_t epoch) {
  std::filesystem::create_directories(epochDir(dataDir));
  writeFileAtomically(epochDir(dataDir) / name, std::to_string(epoch));
}

}  // namespace zk::storage
