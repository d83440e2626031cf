"""Runs a command under a parent that collects none of the command's own children, then reports
what the command left behind.

    python3 subreaper.py REPORT.json COMMAND ARGS...

This process makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so when the command
exits, every child it had not waited for becomes a child of this process instead of PID 1: a
zombie the command never collected stays visible here, as it would under a PID 1 that reaps
nothing (a container whose entrypoint is the command). It waits for the command alone, writes
COMMAND's pid to REPORT.json.pid at once, forwards SIGTERM and SIGINT to it, and when it has
exited writes {"exit": code, "leftovers": [{"pid", "state", "comm"}, ...]} to REPORT.json, then
kills and collects the leftovers itself.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36


def children_of(ppid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == ppid:
            out.append({"pid": int(entry), "state": fields[0], "comm": comm})
    return out


def main():
    report, cmd = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")
    proc = subprocess.Popen(cmd)
    with open(report + ".pid", "w") as f:
        f.write(str(proc.pid))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signo, _frame: proc.send_signal(signo))
    code = proc.wait()
    leftovers = children_of(os.getpid())
    with open(report + ".tmp", "w") as f:
        json.dump({"exit": code, "leftovers": leftovers}, f)
    os.replace(report + ".tmp", report)
    for child in leftovers:
        try:
            os.kill(child["pid"], signal.SIGKILL)
            os.waitpid(child["pid"], 0)
        except (ProcessLookupError, ChildProcessError):
            pass


if __name__ == "__main__":
    main()
