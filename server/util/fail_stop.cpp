#include "util/fail_stop.h"

#include <cstdlib>
#include <string>

namespace zk {

void failStop(Logger& log, std::string_view component, std::string_view what) {
  log.error(component, "fail-stop: " + std::string(what) + "; exiting with status " +
                           std::to_string(kFailStopExitCode) +
                           " so that this member restarts and recovers from its disk");
  log.flush();
  // _Exit, not exit: other threads (the log writer) keep running until the end, and static
  // destructors or a final flush of half-applied state must not run after a fail-stop.
  std::_Exit(kFailStopExitCode);
}

}  // namespace zk
