"""The ensemble part of compare.py: 3 voters + 1 observer on loopback, zookube's or Apache
ZooKeeper 3.8's, started by tests/integration/ensemble.py (the same launcher the ensemble tests
use, so both implementations get the same zoo.cfg apart from what ZooKeeper needs as -D flags).

Settings for both: tickTime 2000, initLimit 10, syncLimit 5 (ensemble.py fixes the two limits;
they are checked here so a change there cannot pass unnoticed), forceSync=yes, every member's
dataDir under one temporary directory, and what the operator writes into every member's zoo.cfg
(its 4lw whitelist, standaloneEnabled=false, reconfigEnabled=true; zookube members with
metricsProvider.httpPort). From start to stop, the whole part included, every running member is
scraped once a second: zookube's /metrics, ZooKeeper's `mntr` (Debian's 3.8 has no Prometheus
provider). It measures zkbench write and mixed workloads with the
sessions spread over all four members by the connect string, then failover: kill -9 of the leader
to the first write that succeeds through any of the remaining members.
"""

import contextlib
import os
import statistics
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import ensemble  # noqa: E402
import harness  # noqa: E402
import scrape  # noqa: E402
import refzk  # noqa: E402
import zkwire  # noqa: E402
from measure import cpu_seconds, memory_kb, reset_peak_rss, run_zkbench  # noqa: E402

VOTERS, OBSERVERS = 3, 1
TICK_MS, INIT_LIMIT, SYNC_LIMIT = 2000, 10, 5
START_DEADLINE_S = 120.0  # four JVMs starting on a small shared machine, then an election
FAILOVER_DEADLINE_S = 60.0  # one trial; generous, as loopback failovers take about a second
ATTEMPT_IO_S = 1.0  # one connect + setData attempt; a hung attempt is retried after this
IMPL_ENV = {"zookube": "zookube", "zookeeper": "apache"}
SERVERS = tuple(IMPL_ENV)
PROBE_PATH = "/zkbench-failover"
ZNODEEXISTS = -110

# (row name, zkbench arguments); zkbench's default 32 sessions x 100 requests in flight, except
# 32x1: one write in flight per session, so latency is the quorum round trip, not queueing.
WORKLOADS = [
    ("ensemble set", ["--workload", "set"]),
    ("ensemble set 32x1", ["--workload", "set", "--outstanding", "1"]),
    ("ensemble create", ["--workload", "create"]),
    ("ensemble mixed", ["--workload", "mixed"]),
]


@contextlib.contextmanager
def benchmark_jvm(java):
    """refzk gives ZooKeeper a small test JVM (256 MiB, serial GC, C1 only); for figures it runs
    with `java` flags instead, as the standalone part does. refzk.prepare is swapped for the
    duration only."""
    original = refzk.prepare

    def prepare(workdir, cfg, quorum=False):
        zk_cfg, cmd = original(workdir, cfg, quorum)
        cut = cmd.index("-cp")
        kept = [a for a in cmd[1:cut] if not a.startswith("-X")]
        return zk_cfg, [*java, *kept, *cmd[cut:]]

    refzk.prepare = prepare
    try:
        yield
    finally:
        refzk.prepare = original


def start(name, workdir):
    """Launches all members of `name`'s ensemble and waits for one leader and all serving."""
    os.environ["ZK_IMPL"] = IMPL_ENV[name]  # harness.Server reads it when a member is made
    # harness.Server takes "a__b" for the key "a.b"; the container check interval goes back from
    # the tests' 200 ms to the default, as the operator leaves it.
    operator_cfg = {k.replace(".", "__"): v for k, v in scrape.OPERATOR_SETTINGS.items()}
    ens = ensemble.Ensemble(workdir, voters=VOTERS, observers=OBSERVERS, tick_ms=TICK_MS,
                            forceSync="yes", znode__container__checkIntervalMs="60000",
                            **operator_cfg)
    if name == "zookube":
        for member in ens.members.values():
            member.cfg["metricsProvider.httpPort"] = str(harness.free_port())
    for member in ens.members.values():
        limits = (member.cfg["initLimit"], member.cfg["syncLimit"])
        if limits != (str(INIT_LIMIT), str(SYNC_LIMIT)):
            raise SystemExit(f"ensemble.py now sets initLimit, syncLimit = {limits}; "
                             "update INIT_LIMIT/SYNC_LIMIT and docs/benchmarks.md")
    try:
        for member in ens.members.values():
            member.launch()
        ens.wait_serving(timeout=START_DEADLINE_S)
    except Exception as e:
        logs = "\n".join(f"-- member {sid}:\n{m.log_tail(15)}" for sid, m in ens.members.items())
        ens.stop()
        raise RuntimeError(f"{name} ensemble did not start: {e}\n{logs}") from None
    return ens


def scrape_targets(ens):
    """What Prometheus (zookube) or a mntr poller (ZooKeeper) reads on the running members."""
    out = []
    for member in ens.members.values():
        if member.alive():
            port = member.cfg.get("metricsProvider.httpPort")
            out.append(("prometheus", int(port)) if port else ("mntr", member.port))
    return out


def running_pids(ens):
    return [m.proc.pid for m in ens.members.values() if m.alive()]


def connections(ens):
    """Client connections per member from mntr (shows that sessions are spread)."""
    out = {}
    for sid, member in ens.members.items():
        try:
            out[sid] = int(ensemble.mntr_of(member).get("zk_num_alive_connections", -1))
        except (OSError, ValueError):
            out[sid] = None
    return out


def measured_run(zkbench, name, ens, args, settings):
    """One zkbench run over the whole connect string, with CPU and memory summed over members."""
    timing = ["--duration", str(settings["duration"]), "--warmup", str(settings["warmup"])]
    timeout = settings["duration"] + settings["warmup"] + 120
    pids = running_pids(ens)
    for pid in pids:
        reset_peak_rss(pid)
    cpu0 = sum(cpu_seconds(pid) for pid in pids)
    seen = {}
    sampler = threading.Timer(settings["warmup"] + settings["duration"] / 2,
                              lambda: seen.update(connections(ens)))
    sampler.start()
    try:
        result = run_zkbench(zkbench, ens.hosts, f"{name}-ensemble", [*args, *timing], timeout)
    finally:
        sampler.cancel()
        sampler.join()
    if running_pids(ens) != pids:
        result["error"] = f"a member died: roles {ens.roles()}"
        return result
    result["server_cpu_s"] = round(sum(cpu_seconds(pid) for pid in pids) - cpu0, 3)
    mems = [memory_kb(pid) for pid in pids]
    result["rss_kb"] = sum(m["VmRSS"] for m in mems)
    result["hwm_kb"] = sum(m["VmHWM"] for m in mems)
    result["connections"] = seen
    if result.get("ops"):
        result["cpu_us_per_op"] = round(result["server_cpu_s"] * 1e6 / result["ops"], 2)
    return result


def write_until(member, found, deadline):
    """Retries connect + setData on one member until one succeeds, another member's attempt
    succeeded first, or the deadline passes."""
    while not found["done"].is_set() and time.monotonic() < deadline:
        try:
            client = zkwire.WireClient(member.port, timeout_ms=10000, io_timeout=ATTEMPT_IO_S)
            err = None
            try:
                err, _ = client.set(PROBE_PATH, b"failover")
                now = time.monotonic()
            finally:
                # A session that wrote is closed properly; a stuck one is left to expire.
                client.close(send_close=err == 0)
            if err == 0:
                with found["lock"]:
                    if not found["done"].is_set():
                        found["at"], found["via"] = now, member.myid
                        found["done"].set()
                return
        except (OSError, ConnectionError, zkwire.WireError):
            pass
        found["done"].wait(0.01)


def failover_trial(ens):
    """Kills the leader with SIGKILL; returns seconds to the first successful write through the
    other members, then brings the killed member back so the next trial starts whole."""
    leader = ens.wait_serving(timeout=START_DEADLINE_S)
    rest = [m for m in ens.members.values() if m is not leader]
    found = {"done": threading.Event(), "lock": threading.Lock()}
    t0 = time.monotonic()
    leader.kill9()
    deadline = t0 + FAILOVER_DEADLINE_S
    threads = [threading.Thread(target=write_until, args=(m, found, deadline)) for m in rest]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = {"killed": leader.myid}
    if "at" in found:
        result.update(failover_s=round(found["at"] - t0, 3), via=found["via"])
        result["new_leader"] = ens.wait_serving(timeout=START_DEADLINE_S).myid
    else:
        result["error"] = f"no write succeeded within {FAILOVER_DEADLINE_S} s; roles {ens.roles()}"
    leader.launch()
    ens.wait_serving(timeout=START_DEADLINE_S)
    return result


def failover(ens, trials, name, record):
    """`trials` failover trials, each recorded, then their median and max."""
    client = zkwire.WireClient(ens.leader().port, timeout_ms=10000)
    try:
        err, _ = client.create(PROBE_PATH, b"")
    finally:
        client.close()
    if err not in (0, ZNODEEXISTS):
        raise RuntimeError(f"create {PROBE_PATH}: error {err}")
    times = []
    for i in range(trials):
        try:
            result = failover_trial(ens)
        except (RuntimeError, TimeoutError, OSError, harness.ServerError) as e:
            result = {"error": str(e)[-800:]}
        record(name, f"ensemble failover #{i + 1}", result)
        if "failover_s" in result:
            times.append(result["failover_s"])
        elif "killed" not in result:
            break  # the ensemble did not come back; later trials would measure nothing
    summary = {"trials": trials, "times_s": times}
    if times:
        summary.update(median_s=statistics.median(times), max_s=max(times))
    # Failed trials carry their own error records; the summary covers the ones that worked.
    summary["failed_trials"] = trials - len(times)
    record(name, "ensemble failover", summary)


def bench(name, workdir, zkbench, settings, record, java):
    """The whole ensemble part for one implementation."""
    with benchmark_jvm(java):
        try:
            ens = start(name, workdir)
        except RuntimeError as e:
            record(name, "ensemble start", {"error": str(e)[-1500:]})
            return
        scraper = scrape.Scraper(lambda: scrape_targets(ens))
        try:
            record(name, "ensemble start", {"leader": ens.leader().myid, "roles": ens.roles()})
            with scraper:
                for row, args in WORKLOADS:
                    record(name, row, measured_run(zkbench, name, ens, args, settings))
                    ens.wait_serving(timeout=START_DEADLINE_S)
                failover(ens, settings["failover_trials"], name, record)
            # Failed reads are expected while a killed member restarts: not an anomaly.
            record(name, "ensemble scrapes", {"ok": scraper.ok, "failed": scraper.failed,
                                              "slowest_s": round(scraper.slowest_s, 3)})
        except (TimeoutError, RuntimeError, OSError, harness.ServerError) as e:
            # The other implementation's part still runs; this one is reported as broken.
            record(name, "ensemble aborted", {"error": str(e)[-1500:]})
        finally:
            ens.stop()


def mib(kb):
    return None if kb is None else kb / 1024


def rows(get):
    """Table rows (label, zookube, ZooKeeper) for compare.py's report, given get(server,
    workload, key)."""
    names = [n for n, _ in WORKLOADS]

    def per(key, label):
        return [(f"{n} {label}", get("zookube", n, key), get("zookeeper", n, key)) for n in names]

    return [
        *per("ops_per_sec", "(ops/s)"),
        *per("p99_us", "p99 (µs)"),
        *per("p50_us", "p50 (µs)"),
        *per("cpu_us_per_op", "CPU/op, all members (µs)"),
        *per("client_cpu_s", "zkbench CPU (s)"),
        *[(f"{n} peak RSS, all members (MiB)", *[mib(get(s, n, "hwm_kb")) for s in SERVERS])
          for n in names],
        ("failover median (s)", get("zookube", "ensemble failover", "median_s"),
         get("zookeeper", "ensemble failover", "median_s")),
        ("failover max (s)", get("zookube", "ensemble failover", "max_s"),
         get("zookeeper", "ensemble failover", "max_s")),
        ("reads of /metrics (zookube) or mntr (ZooKeeper), all members, whole part",
         get("zookube", "ensemble scrapes", "ok"), get("zookeeper", "ensemble scrapes", "ok")),
        ("of which failed (a killed member restarting)",
         get("zookube", "ensemble scrapes", "failed"),
         get("zookeeper", "ensemble scrapes", "failed")),
    ]
