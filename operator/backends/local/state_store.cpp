// status.json: reading, writing, and the atomic file write everything else uses too.
#include "backends/local/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

#include "backends/local/process.h"

namespace zk::op::local {
namespace {

using web::json::value;

constexpr size_t kHistoryLimit = 200;  // enough for a few rolls of the largest ensemble

void throwErrno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void fsyncPath(const std::filesystem::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd) throwErrno("open " + path.string());
  if (::fsync(fd.get()) != 0) throwErrno("fsync " + path.string());
}

value historyJson(const std::vector<RestartRecord>& history) {
  value out = value::array();
  size_t first = history.size() > kHistoryLimit ? history.size() - kHistoryLimit : 0;
  for (size_t i = first; i < history.size(); ++i) {
    const RestartRecord& r = history[i];
    value e = value::object();
    e["member"] = value::string(r.member);
    e["role"] = value::string(r.role);
    e["reason"] = value::string(r.reason);
    e["target"] = value::string(r.target);
    e["time"] = value::string(r.time);
    out[out.size()] = e;
  }
  return out;
}

std::string text(const value& v, const char* key) {
  return v.has_string_field(key) ? v.at(key).as_string() : std::string();
}

}  // namespace

std::string nowRfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeFileAtomically(const std::filesystem::path& path, std::string_view content,
                         std::filesystem::perms mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    auto bits = static_cast<mode_t>(mode);
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, bits));
    if (!fd) throwErrno("open " + tmp.string());
    // A temporary file left by a crash keeps its old mode through O_CREAT: narrowed to `mode`
    // (a new one already has it, less the umask).
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || ::fchmod(fd.get(), st.st_mode & bits & 07777) != 0) {
      throwErrno("chmod " + tmp.string());
    }
    while (!content.empty()) {
      ssize_t n = ::write(fd.get(), content.data(), content.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throwErrno("write " + tmp.string());
      content.remove_prefix(static_cast<size_t>(n));
    }
    if (::fsync(fd.get()) != 0) throwErrno("fsync " + tmp.string());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) throwErrno("rename " + tmp.string());
  fsyncPath(path.parent_path().empty() ? "." : path.parent_path(), O_RDONLY | O_DIRECTORY);
}

LocalState loadState(const std::filesystem::path& file) {
  LocalState s;
  std::ifstream in(file);
  if (!in) return s;
  std::string body{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  try {
    value v = value::parse(body);
    s.cluster = text(v, "cluster");
    if (v.has_number_field("generation")) s.generation = v.at("generation").as_number().to_int64();
    s.specDigest = text(v, "specDigest");
    if (v.has_object_field("status")) s.status = parseStatus(v.at("status"));
    if (v.has_array_field("history")) {
      for (const value& e : v.at("history").as_array()) {
        s.history.push_back({text(e, "member"), text(e, "role"), text(e, "reason"),
                             text(e, "target"), text(e, "time")});
      }
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(file.string() + " is not a local state file: " + e.what());
  }
  return s;
}

void saveState(const std::filesystem::path& file, const LocalState& s) {
  value v = value::object();
  v["cluster"] = value::string(s.cluster);
  v["generation"] = value::number(static_cast<int64_t>(s.generation));
  v["specDigest"] = value::string(s.specDigest);
  v["status"] = toJson(s.status);
  v["history"] = historyJson(s.history);
  writeFileAtomically(file, v.serialize() + "\n");
}

}  // namespace zk::op::local
