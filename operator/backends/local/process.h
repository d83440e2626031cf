#pragma once
// Member server processes on this machine. A member's process is recognised by its command line
// (the server binary run on that member's zoo.cfg), read from /proc, so an operator that restarts
// finds the members its previous run started. Members run in their own session: they outlive the
// operator (as pods outlive a controller) and a terminal's Ctrl-C reaches only the operator, which
// then stops them itself. That is also why a pid is a plain value here and not an RAII handle:
// a member must not die with the operator object that started it.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace zk::op::local {

// A file descriptor closed when it goes out of scope.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  int release();
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// A server process as the /proc scan found it.
struct ServerProcess {
  pid_t pid = 0;
  // When it started, in clock ticks after boot (field 22 of /proc/<pid>/stat): read in the same
  // scan, so a reconcile pass learns every member's age without reading /proc again.
  std::int64_t startTicks = 0;
};

// Running (not zombie) processes whose argv[0] is named `binaryName` and whose last argument is a
// config file, by that config file's path.
std::map<std::string, ServerProcess> findServerProcesses(const std::string& binaryName);

// The clock a process's start time counts on: how long the machine has been up, and its ticks.
struct BootClock {
  double secondsSinceBoot = 0;  // /proc/uptime
  long ticksPerSecond = 0;      // sysconf(_SC_CLK_TCK)
};
// The boot clock now; nullopt when /proc/uptime cannot be read.
std::optional<BootClock> readBootClock();

// How long a process that started `startTicks` after boot has been running at `now`, in whole
// seconds. Never negative: the uptime and a start time are not rounded alike.
std::int64_t upSeconds(std::int64_t startTicks, const BootClock& now);

// Starts `binary configPath` detached in a new session, stdout and stderr appended to `logPath`.
// Throws std::system_error when the fork or the log file fails; an exec failure shows up as the
// child exiting 127 with the reason in the log. The child gets the operator's environment with
// `env`'s variables set.
pid_t spawnServer(const std::string& binary, const std::string& configPath,
                  const std::string& logPath, const std::map<std::string, std::string>& env = {});

// The process exists and has not exited (a zombie counts as exited).
bool processAlive(pid_t pid);

// A child's state as waitpid sees it. Ended children are collected by the call that sees them
// end, so they never linger as zombies; `status` is then their wait status.
struct ChildState {
  enum class Kind { Running, Ended, NotOurs } kind = Kind::Running;
  int status = 0;
};
ChildState pollChild(pid_t pid);

// How a child ended, from its wait status: "exit code 0", "killed by signal 11 (SIGSEGV)".
std::string describeWaitStatus(int status);

struct StopOutcome {
  bool clean = true;          // ended within the grace period, without SIGKILL
  std::optional<int> status;  // its wait status, when it was our child (and so was collected)
};

// SIGTERM, then up to `grace` for it to exit, then SIGKILL. Our own child is waited for (never
// left a zombie); another process (started by an earlier operator run) is watched in /proc.
StopOutcome stopProcess(pid_t pid, std::chrono::milliseconds grace);

// Collects exit statuses of any children that ended, so they do not linger as zombies.
void reapChildren();

}  // namespace zk::op::local
