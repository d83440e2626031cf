#!/usr/bin/python3
"""zookube against Apache ZooKeeper 3.8, side by side, in one run on this machine.

Both servers get the container image's zoo.cfg (examples/standalone.cfg, as the Dockerfile
installs it; dataDir under one temporary directory on the same filesystem, clientPortAddress
127.0.0.1) and the same load from zkbench. zookube runs with its Prometheus endpoint on, as the
image and the operator configure every member, and it is scraped once a second during every run;
Debian's ZooKeeper 3.8 lacks the Prometheus provider, so its `mntr` is read once a second
instead. What the endpoint costs (throughput and server CPU per op, against the same build with
it off) is measured apart, in short ABBA-ordered pairs (bench/metrics_overhead.py). For every
workload the server's CPU time and memory are read from /proc/<pid>. Then each server is loaded
with --znodes znodes of 100 bytes, its RSS is read, and it is restarted (three times; the median
counts) to time how long it takes from process start to the first successful request on the
recovered data. The two servers run side by side during the workloads and take turns, workload
by workload, so a change in the shared machine's load touches both sides of every ratio. The
disk's own fsync latency is measured in the same run so the write numbers can be judged
against it.

The TLS part (bench/tls_bench.py) serves both servers' client port over TLS as well, with
the same certificates, and loads each port with Apache ZooKeeper's own Java client (Debian's
libzookeeper-mt, which zkbench uses, has no TLS).

The ensemble part (bench/ensemble_bench.py) runs a 3-voter + 1-observer ensemble of each
implementation on loopback: write and mixed throughput over all members, and failover time.

Usage: /usr/bin/python3 bench/compare.py [--quick] [--part standalone|memory|tls|ensemble|all]
                                          [--znodes N] [--failover-trials N]
                                          [--only zookube|zookeeper] [--no-metrics-off]
                                          [--update-docs]
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import ensemble_bench  # noqa: E402
import scrape  # noqa: E402
import tls_bench  # noqa: E402
import launch  # noqa: E402
import metrics_overhead  # noqa: E402
import zkref  # noqa: E402
import zkwire  # noqa: E402
from measure import cpu_seconds, memory_kb, reset_peak_rss, run_zkbench  # noqa: E402

SERVERS = ("zookube", "zookeeper")
METRICS_OFF = metrics_overhead.OFF  # zookube with its metrics endpoint off
TICK_MS = 2000
START_DEADLINE_S = 180.0  # 1M znodes take a while to load
STOP_DEADLINE_S = 30.0

# ZooKeeper runs as its own scripts run it (zkServer.sh: default GC, full JIT), with a heap large
# enough for a million znodes instead of zkref's small test heap.
ZK_JAVA = ["/usr/bin/java", "-Xmx2g", "-XX:+HeapDumpOnOutOfMemoryError"]

# (name, zkbench arguments). Sessions and outstanding default to zkbench's 32 x 100.
WORKLOADS = [
    ("get", ["--workload", "get"]),
    ("set", ["--workload", "set"]),
    ("mixed", ["--workload", "mixed"]),
    ("create", ["--workload", "create"]),
    ("get 32x1", ["--workload", "get", "--outstanding", "1"]),
    ("set 32x1", ["--workload", "set", "--outstanding", "1"]),
    ("get 1x1", ["--workload", "get", "--outstanding", "1", "--sessions", "1"]),
    ("set 1x1", ["--workload", "set", "--outstanding", "1", "--sessions", "1"]),
    ("watch", ["--workload", "watch"]),
    ("session-churn", ["--workload", "session-churn", "--sessions", "8"]),
    ("ephemeral-churn", ["--workload", "ephemeral-churn", "--sessions", "8"]),
]


# ---------------------------------------------------------------- servers

def first_request(port, path, deadline):
    """Retries until an exists(path) succeeds; returns the monotonic time it did."""
    while time.monotonic() < deadline:
        try:
            client = zkwire.WireClient(port, timeout_ms=10000, io_timeout=2.0)
            try:
                err, _ = client.exists(path)
            finally:
                client.close()
            if err == 0:
                return time.monotonic()
        except (OSError, ConnectionError, zkwire.WireError):
            pass
        time.sleep(0.01)
    raise TimeoutError(f"no successful exists({path}) on port {port}")


# Keys of the image's zoo.cfg that each server here sets itself (directories and ports), or that
# ZooKeeper 3.8 cannot honour (no Prometheus provider in Debian's package).
PER_SERVER_KEYS = ("dataDir", "dataLogDir", "clientPort", "clientPortAddress",
                   "metricsProvider.httpPort")


def image_cfg():
    """The image's zoo.cfg without the keys each server sets for itself."""
    cfg = scrape.image_zoo_cfg()
    if int(cfg.get("tickTime", TICK_MS)) != TICK_MS:
        raise SystemExit("examples/standalone.cfg changed tickTime: update TICK_MS and the docs")
    return {k: v for k, v in cfg.items() if k not in PER_SERVER_KEYS}


class Zookube:
    """zookube-server with the image's zoo.cfg; metrics=False leaves the endpoint off."""

    def __init__(self, binary, workdir, metrics=True, tls=None):
        self.name = "zookube" if metrics else METRICS_OFF
        self.binary = binary
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        self.port = zkref.free_port()
        self.metrics_port = zkref.free_port() if metrics else None
        # With a tls_bench.Setup: a TLS port too (secure_port), beside the plaintext one.
        self.secure_port = zkref.free_port() if tls else None
        self.extra_cfg = tls.server_cfg(self.secure_port, zookeeper=False) if tls else {}
        self.proc = None

    def scrape_targets(self):
        return [("prometheus", self.metrics_port)] if self.metrics_port else []

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        cfg = os.path.join(self.workdir, "zoo.cfg")
        with open(cfg, "w") as f:
            # The AdminServer is off as in ZooKeeper's run below (and 8080 is not ours to take).
            cfg_keys = {**image_cfg(), "dataDir": self.data_dir, "clientPort": str(self.port),
                        "clientPortAddress": "127.0.0.1", "admin.enableServer": "false"}
            if self.metrics_port:
                cfg_keys["metricsProvider.httpPort"] = str(self.metrics_port)
            cfg_keys.update(self.extra_cfg)
            f.writelines(f"{k}={v}\n" for k, v in cfg_keys.items())
        log = open(os.path.join(self.workdir, "server.log"), "ab")
        self.proc = launch.popen([self.binary, cfg], log)
        log.close()

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_DEADLINE_S)

    def log_tail(self, lines=20):
        with open(os.path.join(self.workdir, "server.log"), errors="replace") as f:
            return "".join(f.readlines()[-lines:])


class ZooKeeper:
    """Apache ZooKeeper through tests/integration/zkref.py (which writes the same zoo.cfg keys
    as common_cfg). zkref blocks in start() until ruok answers; callers time readiness with a
    real request on their own thread."""

    name = "zookeeper"

    def __init__(self, workdir, tls=None):
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        zkref.JAVA = ZK_JAVA
        zkref.START_DEADLINE_S = START_DEADLINE_S
        zkref.STOP_DEADLINE_S = STOP_DEADLINE_S
        # With a tls_bench.Setup: a TLS port too (secure_port), beside the plaintext one.
        self.secure_port = zkref.free_port() if tls else None
        cfg = {**image_cfg(), **(tls.server_cfg(self.secure_port, zookeeper=True) if tls else {})}
        # zkref writes dataDir, clientPort, clientPortAddress and admin.enableServer=false (its
        # AdminServer would need Jetty); the image's keys follow and win where they overlap.
        self.ref = zkref.ReferenceZooKeeper(workdir, self.data_dir, cfg=cfg)
        self.port = self.ref.port

    def scrape_targets(self):
        return [("mntr", self.port)]

    def start(self):
        os.makedirs(self.data_dir, exist_ok=True)
        self.ref.__enter__()

    @property
    def pid(self):
        return self.ref.proc.pid

    def alive(self):
        return self.ref.proc is not None and self.ref.proc.poll() is None

    def stop(self):
        self.ref.stop()

    def log_tail(self, lines=20):
        return self.ref.log_tail(lines)


def start_and_time(server, probe_path):
    """Starts the server; returns seconds from process start to a successful exists(probe)."""
    start = time.monotonic()
    result = {}

    def probe():
        try:
            result["ready"] = first_request(server.port, probe_path, start + START_DEADLINE_S)
        except TimeoutError as e:
            result["error"] = str(e)

    t = threading.Thread(target=probe)
    t.start()
    try:
        server.start()
    finally:
        t.join()
    if "error" in result:
        raise RuntimeError(f"{server.name}: {result['error']}\n{server.log_tail()}")
    return result["ready"] - start


# ---------------------------------------------------------------- zkbench runs

def zkbench_runner(zkbench):
    """A load runner for measured_run: (hosts, label, args, timeout) -> zkbench's result."""
    return lambda hosts, label, args, timeout: run_zkbench(zkbench, hosts, label, args, timeout)


def measured_run(runner, server, args, timeout, secure=False):
    """One load run (on the server's TLS port if `secure`) with the server's CPU time and memory
    around it."""
    reset_peak_rss(server.pid)
    cpu0 = cpu_seconds(server.pid)
    port = server.secure_port if secure else server.port
    with scrape.Scraper(server.scrape_targets) as scraper:
        result = runner(f"127.0.0.1:{port}", server.name, args, timeout)
    result.update(scraper.summary())
    if not server.alive():
        result["error"] = f"server died: {server.log_tail()}"
        return result
    result["server_cpu_s"] = round(cpu_seconds(server.pid) - cpu0, 3)
    mem = memory_kb(server.pid)
    result["rss_kb"], result["hwm_kb"] = mem["VmRSS"], mem["VmHWM"]
    if result.get("ops"):
        result["cpu_us_per_op"] = round(result["server_cpu_s"] * 1e6 / result["ops"], 2)
    return result


def scrape_cost(server, count=200):
    """Server CPU per read of its metrics (µs): `count` reads back to back on the idle server.
    Unlike the on/off difference of two loaded runs, this is not drowned by a shared machine's
    noise: at one read a second it bounds what the endpoint can cost a workload."""
    targets = server.scrape_targets()
    if not targets:
        return None
    kind, port = targets[0]
    read = scrape.scrape_prometheus if kind == "prometheus" else scrape.scrape_mntr
    read(port)  # warm: the first read sets up what later ones reuse
    cpu0 = cpu_seconds(server.pid)
    for _ in range(count):
        read(port)
    return {"scrapes": count, "cpu_us_per_scrape": round((cpu_seconds(server.pid) - cpu0) * 1e6
                                                         / count, 1)}


def freeze(server, frozen):
    """SIGSTOP or SIGCONT a whole server process (a JVM's GC and JIT threads too)."""
    if server.alive():
        os.kill(server.pid, signal.SIGSTOP if frozen else signal.SIGCONT)


def run_workloads(servers, turns, settings, record, round_length=None):
    """Every workload on every server, the servers taking turns workload by workload (and
    swapping who goes first each time), so a change in the shared host's load between minutes
    lands on both sides of a ratio instead of on one server's whole half of the run. The server
    not being measured is stopped (SIGSTOP, no sessions open), so it keeps its warm state but
    takes no CPU: an idle JVM's collector and compiler threads would otherwise run beside
    zookube's runs, and nothing of zookube's beside ZooKeeper's. turns: (name, load generator
    arguments, runner, secure) for every run, in order.

    With round_length, every zookube process is started afresh after each round_length turns.
    One process's memory layout can move its loaded runs by several percent for as long as it
    lives: the metrics-on and metrics-off processes once differed by 9% on get in both rounds of
    one run, while fresh processes differed by under 2%. New processes each round spread that
    over the rounds' median. ZooKeeper keeps its process, so its JIT stays warm."""
    timing = ["--duration", str(settings["duration"]), "--warmup", str(settings["warmup"])]
    timeout = settings["duration"] + settings["warmup"] + 120
    try:
        for server in servers:
            start_and_time(server, "/")
        for server in servers:
            for other in servers:
                freeze(other, other is not server)
            cost = scrape_cost(server)
            if cost:
                record(server.name, "scrape-cost", cost)
        for i, (name, args, runner, secure) in enumerate(turns):
            if round_length and i and i % round_length == 0:
                for server in servers:
                    if isinstance(server, Zookube):
                        freeze(server, False)
                        server.stop()
                        start_and_time(server, "/")
            for server in (servers if i % 2 == 0 else servers[::-1]):
                for other in servers:
                    freeze(other, other is not server)
                result = measured_run(runner, server, [*args, *timing], timeout, secure)
                record(server.name, name, result)
                if not server.alive():  # recorded as an error above; go on with a fresh process
                    start_and_time(server, "/")
    finally:
        for server in servers:
            freeze(server, False)
            server.stop()


def overhead(binary, runner, settings, workdir, record):
    """The metrics endpoint's cost, in pairs of short runs (bench/metrics_overhead.py)."""
    timing = ["--duration", str(settings["overhead_duration"]),
              "--warmup", str(settings["overhead_warmup"])]
    timeout = settings["overhead_duration"] + settings["overhead_warmup"] + 120

    def start(metrics, directory):
        server = Zookube(binary, directory, metrics=metrics)
        start_and_time(server, "/")
        return server

    def run(server, args):
        return measured_run(runner, server, [*args, *timing], timeout)

    metrics_overhead.measure(WORKLOADS, settings["overhead_pairs"], start, run, freeze, workdir,
                             record)


def big_database(server, zkbench, settings, record):
    """Loads --znodes znodes, reads RSS, then times restarts on that data (the median of
    settings["restarts"] is reported: one restart's time varies from run to run)."""
    n = settings["znodes"]
    start_and_time(server, "/")
    try:
        populate = ["--workload", "populate", "--keys", str(n), "--duration", "900"]
        result = measured_run(zkbench_runner(zkbench), server, populate, 1000)
        record(server.name, "populate", result)
        if server.alive():
            time.sleep(2)  # let background work (snapshots, GC) settle before reading RSS
            record(server.name, "rss-loaded", {"znodes": n, **memory_kb(server.pid)})
    finally:
        server.stop()
    last = f"/zkbench/p/b{(n - 1) // 1000}/n{(n - 1) % 1000}"
    trials = []
    try:
        for _ in range(settings["restarts"]):
            trials.append(round(start_and_time(server, last), 3))
            time.sleep(2)
            memory = memory_kb(server.pid)
            server.stop()
        record(server.name, "restart", {"znodes": n, "restart_s": statistics.median(trials),
                                        "trials_s": trials, **memory})
    except RuntimeError as e:
        record(server.name, "restart", {"znodes": n, "error": str(e)[-800:]})
    finally:
        server.stop()


# ---------------------------------------------------------------- disk and machine

def fsync_latency(directory, count):
    """write(100 bytes) + fdatasync into a preallocated file, as a txn log append does."""
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.posix_fallocate(fd, 0, 64 * 1024 * 1024)
        os.fsync(fd)
        samples = []
        for i in range(count):
            t0 = time.perf_counter()
            os.pwrite(fd, b"x" * 100, i * 100)
            os.fdatasync(fd)
            samples.append((time.perf_counter() - t0) * 1e6)
    finally:
        os.close(fd)
        os.unlink(path)
    samples.sort()
    return {"count": count, "p50_us": round(samples[len(samples) // 2], 1),
            "p99_us": round(samples[int(len(samples) * 0.99) - 1], 1),
            "mean_us": round(statistics.fmean(samples), 1)}


def filesystem_of(path):
    out = subprocess.run(["df", "-T", path], capture_output=True, text=True, check=False)
    rows = out.stdout.splitlines()
    return " ".join(rows[1].split()[:2]) if len(rows) > 1 else "unknown"


def machine(tmp):
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model, "mem_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "filesystem": filesystem_of(tmp),
            "loadavg_start": os.getloadavg()[0]}


def java_version():
    out = subprocess.run(["/usr/bin/java", "-version"], capture_output=True, text=True,
                         check=False)
    return (out.stderr.splitlines() or ["unknown"])[0]


# ---------------------------------------------------------------- report

def ratio(a, b):
    if a is None or b in (None, 0):
        return ""
    return f"{a / b:.2f}"


def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if v < 10:
            return f"{v:.3g}"  # seconds of failover or restart need more than one decimal
        return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"
    return f"{v:,}"


def table(title, rows):
    """rows: (label, zookube, ZooKeeper) or, with several rounds, (label, zookube median,
    ZooKeeper median, [the ratio of each round]); then the ratio shown is the median of the
    rounds' ratios, with their range."""
    lines = [f"**{title}**", "", "| workload | zookube | ZooKeeper | zookube/ZooKeeper |",
             "|---|---:|---:|---:|"]
    for label, a, b, *per_round in rows:
        ratios = per_round[0] if per_round else []
        shown = ratio(a, b)
        if len(ratios) > 1:
            shown = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        lines.append(f"| {label} | {fmt(a)} | {fmt(b)} | {shown} |")
    return "\n".join(lines) + "\n"


def report(results, settings, parts_run):
    """results: (server, workload) -> one result per round, in order."""
    def values(server, workload, key):
        runs = results.get((server, workload), [])
        return [None if "error" in r else r.get(key) for r in runs]

    def get(server, workload, key):
        ok = [v for v in values(server, workload, key) if v is not None]
        return statistics.median(ok) if ok else None

    def rows(key, names, scale=1.0):
        out = []
        for n in names:
            a, b = get("zookube", n, key), get("zookeeper", n, key)
            # Round i of both servers ran back to back: their ratio is the fair pairing.
            pairs = zip(values("zookube", n, key), values("zookeeper", n, key))
            ratios = [x / y for x, y in pairs if x is not None and y]
            out.append((n, None if a is None else a * scale, None if b is None else b * scale,
                        ratios))
        return out

    names = [n for n, _ in WORKLOADS]
    mb = 1 / 1024
    n = settings["znodes"]
    parts = []
    if "standalone" in parts_run:
        parts += [
            table("Throughput (ops/s; watch = notifications/s, churn = sessions/s)",
                  rows("ops_per_sec", names)),
            table("p99 latency (µs; watch = set sent -> notification received, session-churn = "
                  "connect, ephemeral-churn = whole cycle)", rows("p99_us", names)),
            table("p50 latency (µs)", rows("p50_us", names)),
            table("Server CPU per operation (µs of user+system time)",
                  rows("cpu_us_per_op", names)),
            table("Server peak RSS during the run (MiB)", rows("hwm_kb", names, mb)),
            table("zkbench (client) CPU seconds for the whole run, setup included",
                  rows("client_cpu_s", names)),
        ]
        if any(s == METRICS_OFF for s, _ in results):
            parts.append(metrics_overhead.table(
                results, names, get("zookube", "scrape-cost", "cpu_us_per_scrape"),
                get("zookube", "scrape-cost", "scrapes"), fmt, settings))
    if "standalone" in parts_run or "memory" in parts_run:
        parts.append(table(f"Large database: {n:,} znodes of 100 bytes", [
            ("populate rate (creates/s)", get("zookube", "populate", "ops_per_sec"),
             get("zookeeper", "populate", "ops_per_sec")),
            ("RSS after populate (MiB)", *[(get(s, "rss-loaded", "VmRSS") or 0) * mb or None
                                          for s in SERVERS]),
            ("peak RSS while populating (MiB)", *[(get(s, "populate", "hwm_kb") or 0) * mb or None
                                                 for s in SERVERS]),
            ("restart: process start -> first request (s)",
             get("zookube", "restart", "restart_s"), get("zookeeper", "restart", "restart_s")),
            ("RSS after restart (MiB)", *[(get(s, "restart", "VmRSS") or 0) * mb or None
                                         for s in SERVERS]),
        ]))
    if "tls" in parts_run:
        tls_names = tls_bench.names()
        parts += [
            table("TLS on the client port, Apache ZooKeeper's Java client: throughput (ops/s)",
                  rows("ops_per_sec", tls_names)),
            table("TLS on the client port: p99 latency (µs)", rows("p99_us", tls_names)),
            table("TLS on the client port: server CPU per operation (µs)",
                  rows("cpu_us_per_op", tls_names)),
            table("TLS on the client port: Java client CPU seconds for the whole run",
                  rows("client_cpu_s", tls_names)),
        ]
    if "ensemble" in parts_run:
        parts.append(table("Ensemble: 3 voters + 1 observer, sessions over all members; failover ="
                           " kill -9 of the leader -> first successful write",
                           ensemble_bench.rows(get)))
    every = [(s, w, r) for (s, w), runs in results.items() for r in runs]
    errors = [f"- {s} {w}: {r['error'][:300]}" for s, w, r in every if "error" in r]
    errors += [f"- {s} {w}: {r['errors']} failed requests" for s, w, r in every if r.get("errors")]
    errors += [f"- {s} {w}: {r['scrape_failures']} failed scrapes ({r.get('scrape_error')})"
               for s, w, r in every if r.get("scrape_failures")]
    if errors:
        parts.append("**Anomalies**\n\n" + "\n".join(errors) + "\n")
    return "\n".join(parts)


def ensemble_text(settings):
    e = ensemble_bench
    return [
        f"- Ensemble, both servers: {e.VOTERS} voters + {e.OBSERVERS} observer on 127.0.0.1,"
        f" tickTime={e.TICK_MS}, initLimit={e.INIT_LIMIT}, syncLimit={e.SYNC_LIMIT},"
        " forceSync=yes, every member's dataDir (= dataLogDir) under the same temporary directory;"
        " the operator's settings (" +
        ", ".join(f"{k}={v}" for k, v in scrape.OPERATOR_SETTINGS.items()) +
        "; zookube members with metricsProvider.httpPort), every running member scraped once a"
        " second from start to stop, failover trials included (zookube: /metrics; ZooKeeper:"
        " mntr);"
        " zkbench gets all four members in its connect string (the C client shuffles them);"
        f" failover: {settings['failover_trials']} trials, each bounded by"
        f" {e.FAILOVER_DEADLINE_S:.0f} s, writes retried on every remaining member in parallel",
    ]


def settings_text(settings, env, fsync, parts_run):
    m = env["machine"]
    return "\n".join([
        f"- Run: {env['date']}, command `{env['command']}`",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem_gib']} GiB RAM, Linux {m['kernel']},"
        f" data on {m['filesystem']}; load average {m['loadavg_start']:.2f} at start,"
        f" {env['loadavg_end']:.2f} at end (the machine is shared)",
        *[f"- Disk before the {name} runs: write(100 B) + fdatasync on a preallocated file,"
          f" {f['count']} times: p50 {f['p50_us']} µs, p99 {f['p99_us']} µs, mean {f['mean_us']} µs"
          for name, f in fsync.items()],
        *([f"- Standalone, both servers: the container image's zoo.cfg (examples/standalone.cfg:"
           f" {', '.join(f'{k}={v}' for k, v in image_cfg().items())}), dataDir (= dataLogDir)"
           " under one temporary directory, clientPortAddress=127.0.0.1, forceSync=yes (default);"
           " zookube with metricsProvider.httpPort set, as the image and the operator run it,"
           " and GET /metrics once a second during every run (what Prometheus does); ZooKeeper"
           " (Debian's 3.8 has no Prometheus provider) with `mntr` read once a second instead"
           "; the servers run side by side and take turns workload by workload (who goes first"
           " alternates; the others are frozen with SIGSTOP meanwhile), then each in turn is"
           f" loaded with the large database and restarted {settings['restarts']} times on it"
           " (the median is reported)"]
          if "standalone" in parts_run else []),
        *([f"- Large database only (`--part memory`): each server in turn, tickTime={TICK_MS},"
           " forceSync=yes, dataDir = dataLogDir, is loaded with the large database and restarted"
           f" {settings['restarts']} times on it (the median is reported)"]
          if "memory" in parts_run else []),
        *([tls_bench.settings_line(settings)] if "tls" in parts_run else []),
        *(ensemble_text(settings) if "ensemble" in parts_run else []),
        f"- ZooKeeper: Debian's 3.8 jars, `{' '.join(ZK_JAVA)}` ({env['java']})",
        f"- zookube: `{env['zookube']}` (build type {env['build_type']}, source {env['revision']})",
        ("- Scheduling: every server process in a session of its own (`--own-sessions`): with"
         " autogroup scheduling each gets a fixed share of the CPUs apart from the load generator"
         if settings["own_sessions"] else
         "- Scheduling: servers and zkbench in one session, so one CPU group under the kernel's"
         " autogroup scheduling: CPU goes to whichever process is runnable, as when a client runs"
         " elsewhere; `--own-sessions` gives each server its own group instead"),
        *([f"- Load: zkbench (libzookeeper-mt async API), {settings['warmup']} s warm-up +"
           f" {settings['duration']} s measured per workload; 32 sessions x 100 requests in"
           " flight unless the name says sessions x in-flight (`32x1`, `1x1`); churn uses 8"
           " threads; values of 100 bytes over 1000 keys"]
          if {"standalone", "ensemble"} & set(parts_run) else []),
        *([f"- Rounds: the standalone workloads ran {settings['rounds']} times over, the servers"
           " taking turns as above; the standalone tables show each server's median over the"
           " rounds, and each ratio as the median of the rounds' own ratios (zookube's round i"
           " over ZooKeeper's round i, which ran right after or before it) with their range in"
           " brackets; each round after the first starts the zookube processes afresh (one"
           " process's memory layout can move its runs by several percent for its whole life),"
           " while ZooKeeper's JVM stays up and warm"]
          if settings["rounds"] > 1 and "standalone" in parts_run else []),
    ]) + "\n"


def update_docs(text):
    path = os.path.join(REPO, "docs", "benchmarks.md")
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    with open(path) as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        raise SystemExit(f"{path} lacks the {begin} / {end} markers")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(f"{head}{begin}\n{text}\n{end}{tail}")


# ---------------------------------------------------------------- main

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3 s per workload, 100k znodes")
    p.add_argument("--part", choices=("standalone", "memory", "tls", "ensemble", "all"),
                   default="all",
                   help="the standalone part; only its large-database measurements (RSS and"
                        " restart time with --znodes znodes); the client port over TLS, loaded by"
                        " the Java client; the 3+1 ensemble part; or standalone, TLS and"
                        " ensemble (default)")
    p.add_argument("--failover-trials", type=int,
                   help="leader kills in the ensemble part (5; 3 with --quick)")
    p.add_argument("--znodes", type=int, help="znodes for the RSS and restart test (1000000)")
    p.add_argument("--rounds", type=int, default=1,
                   help="run the standalone workloads this many times over (default 1), with"
                        " fresh zookube processes each round: the table shows medians, and each"
                        " ratio as the median of the rounds' ratios with their range")
    p.add_argument("--only", choices=SERVERS, help="run one server only")
    p.add_argument("--no-metrics-off", action="store_true",
                   help="leave out the runs with zookube's metrics endpoint off (and the"
                        " overhead table)")
    p.add_argument("--overhead-pairs", type=int,
                   help="on/off pairs per workload for the metrics overhead table (8; 2 with"
                        " --quick)")
    p.add_argument("--build-dir", default=os.environ.get("ZOOKUBE_BUILD_DIR",
                                                         os.path.join(REPO, "build")))
    p.add_argument("--zkbench", help="zkbench binary (default <build-dir>/bench/zkbench)")
    p.add_argument("--tmp", default=tempfile.gettempdir(), help="parent of the data directories")
    p.add_argument("--keep", action="store_true", help="keep the data directories and logs")
    p.add_argument("--update-docs", action="store_true", help="rewrite docs/benchmarks.md results")
    p.add_argument("--own-sessions", action="store_true",
                   help="start each server in a session of its own: under autogroup scheduling"
                        " that gives each server process a fixed half of the machine and the"
                        " load generator the other half (the default keeps them in one group)")
    return p.parse_args()


def build_type(build_dir):
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def git_revision():
    out = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


def main():
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so every server started so far is stopped in a finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings = {"duration": 3 if args.quick else 10, "warmup": 1 if args.quick else 2,
                "znodes": args.znodes or (100_000 if args.quick else 1_000_000),
                "failover_trials": args.failover_trials or (3 if args.quick else 5),
                "restarts": 1 if args.quick else 3, "own_sessions": args.own_sessions,
                "rounds": args.rounds, "metrics_off": not args.no_metrics_off,
                "overhead_pairs": args.overhead_pairs or (2 if args.quick else 8),
                "overhead_duration": 2 if args.quick else 3, "overhead_warmup": 1}
    parts_run = ("standalone", "tls", "ensemble") if args.part == "all" else (args.part,)
    if args.update_docs and args.part != "all":
        raise SystemExit("--update-docs rewrites the whole results section: use --part all")
    launch.OWN_SESSION = args.own_sessions
    # harness.Server (ensemble part) finds the zookube binary through this variable.
    os.environ["ZOOKUBE_BUILD_DIR"] = os.path.abspath(args.build_dir)
    binary = os.path.join(args.build_dir, "server", "zookube-server")
    zkbench = args.zkbench or os.path.join(args.build_dir, "bench", "zkbench")
    for path in (binary, zkbench):
        if not os.access(path, os.X_OK):
            raise SystemExit(f"{path} is not built")
    if args.only != "zookube" and not zkref.available():
        raise SystemExit("Apache ZooKeeper (Debian package) or java is missing")

    tmp = tempfile.mkdtemp(prefix="zkcompare-", dir=args.tmp)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
    out_path = os.path.join(REPO, "bench", "results", f"compare-{stamp}.jsonl")
    env = {"date": stamp, "command": "/usr/bin/python3 bench/compare.py " + " ".join(sys.argv[1:]),
           "machine": machine(tmp), "java": java_version(), "zookube": binary,
           "build_type": build_type(args.build_dir), "revision": git_revision()}
    results = {}
    out = open(out_path, "w")

    def record(server, workload, result):
        runs = results.setdefault((server, workload), [])
        runs.append(result)
        # The row's name last: zkbench's own "workload" field ("get" for "get 1x1") must not
        # replace it.
        out.write(json.dumps({**result, "server": server, "workload": workload,
                              "round": len(runs)}) + "\n")
        out.flush()
        keys = ("ops_per_sec", "p99_us", "cpu_us_per_op", "hwm_kb", "VmRSS", "restart_s",
                "leader", "failover_s", "median_s", "max_s", "connections", "scrapes",
                "scrape_failures", "errors", "error")
        summary = {k: result.get(k) for k in keys if k in result}
        print(f"{server:10} {workload:16} {json.dumps(summary)[:300]}", flush=True)

    fsync = {}
    names = [n for n in SERVERS if not args.only or args.only == n]
    probes = 200 if args.quick else 1000

    def probe_disk(key, part):
        # The disk is shared, so its fsync latency is taken again before each part and server.
        fsync[key] = fsync_latency(tmp, probes)
        record(key, f"disk-fsync {part}", fsync[key])

    try:
        out.write(json.dumps(env) + "\n")
        if "standalone" in parts_run or "memory" in parts_run:
            servers = []
            for name in names:
                workdir = os.path.join(tmp, f"{name}-standalone")
                os.makedirs(workdir)
                servers.append(Zookube(binary, workdir) if name == "zookube"
                               else ZooKeeper(workdir))
            if "standalone" in parts_run:
                probe_disk("standalone", "standalone")
                runner = zkbench_runner(zkbench)
                plan = [(name, args, runner, False)
                        for _ in range(settings["rounds"]) for name, args in WORKLOADS]
                # stops every server it started
                run_workloads(servers, plan, settings, record, round_length=len(WORKLOADS))
                if settings["metrics_off"] and "zookube" in names:
                    overhead(binary, runner, settings, os.path.join(tmp, "overhead"), record)
            for server in servers:
                probe_disk(f"{server.name} large database", "standalone")
                big_database(server, zkbench, settings, record)
        if "tls" in parts_run:
            probe_disk("tls", "tls")
            tls = tls_bench.Setup(tmp)
            servers = []
            for name in names:
                workdir = os.path.join(tmp, f"{name}-tls")
                os.makedirs(workdir)
                servers.append(Zookube(binary, workdir, tls=tls) if name == "zookube"
                               else ZooKeeper(workdir, tls=tls))
            plan = [(name, args, tls.runner(secure), secure)
                    for name, args, secure in tls_bench.turns(settings["rounds"])]
            run_workloads(servers, plan, settings, record)  # stops every server it started
        if "ensemble" in parts_run:
            for name in names:
                probe_disk(f"{name} ensemble", "ensemble")
                workdir = os.path.join(tmp, f"{name}-ensemble")
                os.makedirs(workdir)
                ensemble_bench.bench(name, workdir, zkbench, settings, record, ZK_JAVA)
    finally:
        out.close()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    env["loadavg_end"] = os.getloadavg()[0]
    text = (settings_text(settings, env, fsync, parts_run) + "\n" +
            report(results, settings, parts_run))
    print("\n" + text)
    print(f"results: {out_path}")
    if args.update_docs:
        update_docs(text)
        print("updated docs/benchmarks.md")


if __name__ == "__main__":
    main()
