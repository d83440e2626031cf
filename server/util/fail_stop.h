#pragma once
// Fail-stop: the one way this process ends when its own state (log, tree, epochs) may no longer
// match its ensemble's. Going on would let the member serve or vote with a history the others do
// not have; stopping lets the supervisor (the operator, the kubelet) restart it, and the restart
// recovers from disk and resynchronises with the leader, as ZooKeeper does in the same cases.

#include <string_view>

#include "util/log.h"

namespace zk {

// The exit status of a fail-stop: distinct from a clean stop (0), a start failure (1) and a bad
// command line or config (2), so a supervisor or a test can tell why the member went away.
inline constexpr int kFailStopExitCode = 3;

// Logs exactly one ERROR line "fail-stop: <what>; exiting with status 3 ...", flushes the log and
// ends the process at once: no destructor runs, so nothing more reaches the disk or the network.
// `what` names what failed and where (file, zxid, errno text). Safe from any thread.
[[noreturn]] void failStop(Logger& log, std::string_view component, std::string_view what);

}  // namespace zk
