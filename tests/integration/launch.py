"""How the tests and the benchmarks start a server process."""

import os
import subprocess

# Each started server gets a session of its own, so a terminal's signals do not reach it. The
# benchmarks turn this off (the server keeps a process group of its own, which killpg needs):
# under the kernel's autogroup scheduling a session is also a CPU group, which would split the
# machine half and half between a server and its load generator whatever each needs.
OWN_SESSION = True


def popen(cmd, log, env=None):
    """Starts cmd with no stdin and stdout and stderr going to the file `log`; env: variables
    added to this process's environment (e.g. an LD_PRELOAD fault injector)."""
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, **env} if env else None,
                            start_new_session=OWN_SESSION,
                            process_group=None if OWN_SESSION else 0)
