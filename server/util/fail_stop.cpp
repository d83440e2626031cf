#include "util/fail_stop.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

namespace zk {

void failStop(Logger& log, std::string_view component, std::string_view what) {
  // Two threads may meet an error at once (the log writer, and the loop handing it more work):
  // the first one ends the process, the others wait for that, so exactly one line is logged.
  // Process-wide by nature: it guards the process's own end.
  static std::atomic_flag stopping = ATOMIC_FLAG_INIT;
  if (stopping.test_and_set()) {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
  log.error(component, "fail-stop: " + std::string(what) + "; exiting with status " +
                           std::to_string(kFailStopExitCode) +
                           " so that this member restarts and recovers from its disk");
  log.flush();
  // _Exit, not exit: other threads (the log writer) keep running until the end, and static
  // destructors or a final flush of half-applied state must not run after a fail-stop.
  std::_Exit(kFailStopExitCode);
}

}  // namespace zk
