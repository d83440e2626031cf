// fork/exec, /proc scanning and signals for member processes.
#include "backends/local/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace zk::op::local {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::release() {
  return std::exchange(fd_, -1);
}

namespace {

std::string readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> splitNul(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

[[noreturn]] void execChild(int logFd, const std::string& binary, std::vector<char*>& argv,
                            std::vector<char*>& envp) {
  // Only async-signal-safe calls between fork and exec.
  ::setsid();
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int devNull = ::open("/dev/null", O_RDONLY);
  if (devNull >= 0) ::dup2(devNull, 0);
  ::dup2(logFd, 1);
  ::dup2(logFd, 2);
  // The operator's sockets (metrics listener, probes) must not leak into members.
  ::close_range(3, ~0U, 0);
  ::execve(binary.c_str(), argv.data(), envp.data());
  static constexpr char kMsg[] = "zookube-operator: cannot exec the server binary\n";
  [[maybe_unused]] auto n = ::write(2, kMsg, sizeof kMsg - 1);
  ::_exit(127);
}

// The operator's environment with `extra`'s variables set (replacing any of the same name).
std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!extra.contains(std::string(entry.substr(0, entry.find('='))))) out.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) out.push_back(name + "=" + value);
  return out;
}

// What /proc/<pid>/stat says of a process that is still there.
struct ProcStat {
  char state = '?';
  std::int64_t startTicks = 0;  // field 22
};

std::optional<ProcStat> readProcStat(pid_t pid) {
  std::string stat = readWhole("/proc/" + std::to_string(pid) + "/stat");
  // The name (field 2) is in parentheses and may hold spaces and parentheses itself.
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return std::nullopt;
  ProcStat out;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 3) out.state = field.front();
  }
  if (!fields) return std::nullopt;
  const char* end = field.data() + field.size();
  if (std::from_chars(field.data(), end, out.startTicks).ptr != end) return std::nullopt;
  return out;
}

bool running(const ProcStat& stat) {
  return stat.state != 'Z' && stat.state != 'X';  // a zombie counts as exited
}

}  // namespace

std::map<std::string, ServerProcess> findServerProcesses(const std::string& binaryName) {
  std::map<std::string, ServerProcess> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::vector<std::string> args = splitNul(readWhole(entry.path() / "cmdline"));
    if (args.size() < 2) continue;  // zombies and kernel threads have no command line
    if (std::filesystem::path(args.front()).filename() != binaryName) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    std::optional<ProcStat> stat = readProcStat(pid);
    if (stat && running(*stat)) out.emplace(args.back(), ServerProcess{pid, stat->startTicks});
  }
  return out;
}

std::optional<BootClock> readBootClock() {
  BootClock now;
  std::istringstream(readWhole("/proc/uptime")) >> now.secondsSinceBoot;
  now.ticksPerSecond = ::sysconf(_SC_CLK_TCK);
  if (now.secondsSinceBoot <= 0 || now.ticksPerSecond <= 0) return std::nullopt;
  return now;
}

std::int64_t upSeconds(std::int64_t startTicks, const BootClock& now) {
  if (now.ticksPerSecond <= 0) return 0;  // not a clock readBootClock returns
  double started = static_cast<double>(startTicks) / static_cast<double>(now.ticksPerSecond);
  return std::max<std::int64_t>(0, static_cast<std::int64_t>(now.secondsSinceBoot - started));
}

pid_t spawnServer(const std::string& binary, const std::string& configPath,
                  const std::string& logPath, const std::map<std::string, std::string>& env) {
  UniqueFd log(::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log) throw std::system_error(errno, std::generic_category(), "open " + logPath);
  std::string arg0 = binary, arg1 = configPath;
  std::vector<char*> argv{arg0.data(), arg1.data(), nullptr};
  // Built before the fork: the child may only make async-signal-safe calls.
  std::vector<std::string> environment = childEnvironment(env);
  std::vector<char*> envp;
  for (std::string& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) execChild(log.get(), binary, argv, envp);
  return pid;
}

bool processAlive(pid_t pid) {
  if (pid <= 0) return false;
  std::optional<ProcStat> stat = readProcStat(pid);
  return stat && running(*stat);
}

ChildState pollChild(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid) return {ChildState::Kind::Ended, status};
  if (r == 0) return {ChildState::Kind::Running, 0};
  return {ChildState::Kind::NotOurs, 0};
}

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) +
           (name != nullptr ? " (SIG" + std::string(name) + ")" : std::string());
  }
  return "wait status " + std::to_string(status);
}

StopOutcome stopProcess(pid_t pid, std::chrono::milliseconds grace) {
  using Clock = std::chrono::steady_clock;
  StopOutcome outcome;
  // Our child is gone once waitpid collected it: checking /proc after a waitpid that found it
  // running could see it a zombie that nobody would then collect.
  auto gone = [pid, &outcome] {
    ChildState child = pollChild(pid);
    if (child.kind == ChildState::Kind::Ended) outcome.status = child.status;
    if (child.kind != ChildState::Kind::NotOurs) return child.kind == ChildState::Kind::Ended;
    return !processAlive(pid);
  };
  auto waitGone = [&gone](Clock::duration limit) {
    auto end = Clock::now() + limit;
    for (;;) {
      if (gone()) return true;
      if (Clock::now() >= end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  };
  if (gone()) return outcome;
  ::kill(pid, SIGTERM);
  if (waitGone(grace)) return outcome;
  outcome.clean = false;
  ::kill(pid, SIGKILL);
  waitGone(std::chrono::seconds(5));
  return outcome;
}

void reapChildren() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

}  // namespace zk::op::local
