"""What compare.py reads around a run: a process's CPU time and memory from /proc, and one
load generator's run (zkbench, or the Java client's bench) as a JSON result. Shared by the
standalone, TLS and ensemble parts."""

import json
import os
import resource
import subprocess

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def memory_kb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def reset_peak_rss(pid):
    """Makes VmHWM start again from the current RSS (clear_refs 5), so each run has its peak."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def run_zkbench(zkbench, hosts, label, args, timeout):
    """Runs zkbench against a connect string; returns its JSON line plus the client's CPU time,
    or {"error": ...}."""
    return run_load("zkbench", [zkbench, "--hosts", hosts, "--server", label, *args], timeout)


def run_load(name, cmd, timeout):
    """Runs a load generator that prints one JSON result line (zkbench, or the Java client's
    bench/java/ZkJavaBench); returns that line plus the generator's own CPU time, or
    {"error": ...}."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"{name} timed out after {timeout} s"}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": f"{name} exit {out.returncode}: {out.stderr.strip()[-500:]}"}
    result = json.loads(lines[-1])
    result["client_cpu_s"] = round(client_cpu, 3)  # the whole run, setup included
    if out.returncode != 0 and "error" not in result:
        result["error"] = f"{name} exit {out.returncode}"
    return result
