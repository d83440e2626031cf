#!/usr/bin/python3
"""One chaos run: an ensemble in network namespaces, client workloads, a seeded fault schedule,
then every check of checker.py over what the clients saw. Ends with one verdict line.

  /usr/bin/python3 tests/chaos/run.py --seed 7 --duration 60 --topology 5v|3v2o

On failure the history, the schedule (planned and as applied) and every member's log are kept
under tests/chaos/results/<run>/ and the seed is printed; --keep keeps them on success too.
Needs root (network namespaces).
"""

import argparse
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import checker  # noqa: E402
import cluster as cluster_mod  # noqa: E402
import faults  # noqa: E402
import netns  # noqa: E402
import workloads  # noqa: E402

TOPOLOGIES = {"5v": (5, 0), "3v2o": (3, 2)}
TICK_MS = 200
SESSION_TIMEOUT_S = 3.0  # within [2, 20] ticks, so granted as asked
KEYS = ["k0", "k1", "k2", "k3"]
RECOVERY_DEADLINE_S = 60.0


class Run:
    def __init__(self, seed, duration, topology, results_root, kinds=faults.KINDS,
                 impl="zookube"):
        self.impl = impl
        self.seed = seed
        self.duration = duration
        self.topology = topology
        self.voters, self.observers = TOPOLOGIES[topology]
        self.name = f"{impl}-{topology}-seed{seed}-{time.strftime('%Y%m%dT%H%M%S')}"
        self.results_dir = os.path.join(results_root, self.name)
        self.workdir = tempfile.mkdtemp(prefix=f"zkchaos-{self.name}-")
        self.rng = random.Random(seed)
        n = self.voters + self.observers
        self.schedule = faults.make_schedule(self.rng, duration, n, SESSION_TIMEOUT_S, kinds)
        self.applied = []
        self.history = workloads.History()
        self.stop = threading.Event()
        self.problems = []
        self.stats = {}
        self.eph_record = None
        self.started = time.monotonic()

    def log(self, event):
        self.applied.append(event)

    def execute(self):
        n = self.voters + self.observers
        logging.basicConfig(filename=os.path.join(self.workdir, "clients.log"), force=True,
                            level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        # Kazoo's BLATHER level logs each request's and reply's xid: the evidence for a report.
        logging.getLogger("kazoo").setLevel(5)
        with netns.Network(n, seed=self.seed) as net:
            cl = cluster_mod.Cluster(net, self.workdir, self.voters, self.observers, TICK_MS,
                                     impl=self.impl,
                                     disk_faults_on=any(f["kind"] == "disk_error"
                                                        for f in self.schedule))
            try:
                self._with_cluster(net, cl)
            finally:
                cl.close()

    def _with_cluster(self, net, cl):
        cl.start()
        cl.wait_serving(timeout=RECOVERY_DEADLINE_S)
        zk = workloads.connect(cl.hosts, SESSION_TIMEOUT_S)
        try:
            workloads.setup(zk, KEYS)
            eph = workloads.PausedSession(cl.hosts, SESSION_TIMEOUT_S, self.history, self.stop,
                                           os.path.join(self.workdir, "eph_client.log"))
            try:
                if not eph.ready.wait(30):
                    raise RuntimeError("the paused-session client did not start")
                self._workload(net, cl, zk, eph)
            finally:
                eph.close()
        finally:
            zk.stop()
            zk.close()

    def _workers(self, hosts):
        kinds = ([workloads.RegisterWorker] * 3 + [workloads.SequentialWorker]
                 + [workloads.LockWorker] * 3 + [workloads.CounterWorker] * 2)
        workers = []
        for i, kind in enumerate(kinds):
            args = (f"{kind.__name__[:-6].lower()}{i}", workloads.rotated(hosts, i), self.history,
                    random.Random(self.rng.random()), SESSION_TIMEOUT_S, self.stop)
            workers.append(kind(KEYS, *args) if kind is workloads.RegisterWorker else kind(*args))
        return workers

    def _workload(self, net, cl, zk, eph):
        self.eph_record = {"path": eph.path, "touches": eph.touches, "paused_at": None,
                           "observations": eph.observations}
        injector = faults.Injector(cl, net, self.log)
        workers = self._workers(cl.hosts)
        observer = threading.Thread(target=self._observe, args=(eph, zk), daemon=True)
        t0 = time.monotonic()
        self.log({"t": t0, "event": "workload start"})
        for w in workers:
            w.start()
        observer.start()
        pause_at = t0 + self.duration / 3
        try:
            for fault in self.schedule:
                self._sleep_until(t0 + fault["at"], eph, pause_at)
                injector.apply(fault)
                self._sleep_until(time.monotonic() + fault["hold"], eph, pause_at)
                injector.heal()
            self._sleep_until(t0 + self.duration, eph, pause_at)
        finally:
            injector.heal()
            self.problems += [f"member {sid} exited by itself with {code}"
                              for sid, code in injector.crashes]
        try:
            cl.wait_serving(timeout=RECOVERY_DEADLINE_S)
        except TimeoutError as e:
            self.problems.append(f"ensemble did not recover after healing: {e}")
        self.stop.set()
        for w in workers:
            w.join(timeout=30)
            if w.is_alive() or w.error:
                self.problems.append(f"worker {w.name} did not finish cleanly: {w.error}")
        observer.join(timeout=30)
        if not self.problems:
            self._final(cl, eph)

    def _sleep_until(self, when, eph, pause_at):
        while True:
            now = time.monotonic()
            if eph.paused_at is None and now >= pause_at:
                eph.pause()
                self.eph_record.update(paused_at=eph.paused_at, negotiated_s=eph.negotiated_s)
                self.log({"t": now, "event": "pause client", "path": eph.path,
                          "last_touch": eph.last_touch()})
            if now >= when:
                return
            time.sleep(min(0.05, when - now))

    def _observe(self, eph, zk):
        while not self.stop.is_set():
            eph.observe(zk)
            self.stop.wait(0.1)

    def _final(self, cl, eph):
        zk = workloads.connect(cl.hosts, SESSION_TIMEOUT_S)
        try:
            self.final = {}
            for key in KEYS:
                start = time.monotonic()
                zk.sync(f"/reg/{key}")
                data, stat = zk.get(f"/reg/{key}")
                self.final[key] = (data.decode(), stat.version)
                self.history.add({"proc": "final", "session": None, "f": "read", "key": key,
                                  "args": {"synced": True}, "start": start,
                                  "end": time.monotonic(), "outcome": "ok",
                                  "result": self.final[key]})
            self.final_seq = zk.get_children("/seq")
            self.final_counter = int(zk.get("/counter")[0].decode())
            deadline = time.monotonic() + SESSION_TIMEOUT_S + 15
            while zk.exists(eph.path) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.final_eph_exists = zk.exists(eph.path) is not None
        finally:
            zk.stop()
            zk.close()
        self._check(eph)

    def _check(self, eph):
        ops = self.history.ops
        reg = [o for o in ops if o["key"] in KEYS]
        linearizable = [o for o in reg if o["f"] != "read" or o["args"]["synced"]]
        self.problems += checker.check_registers(linearizable, workloads.INIT)
        self.problems += checker.check_final_versions(reg, self.final)
        self.problems += checker.check_session_order([o for o in reg if o["proc"] != "final"])
        creates = [o for o in ops if o["f"] == "create_seq"]
        self.problems += checker.check_sequential(creates, self.final_seq)
        self.problems += checker.check_lock(self.history.holds)
        incs = [o for o in ops if o["f"] == "incr"]
        reads = [dict(o, result=o["result"][0]) for o in ops
                 if o["f"] == "counter_read" and o["outcome"] == "ok"]
        self.problems += checker.check_counter(incs, reads, self.final_counter)
        last = eph.last_touch()
        if last is None:
            self.problems.append("paused-session client never reported a request")
        else:
            slack = cluster_mod.SYNC_LIMIT * TICK_MS / 1000
            self.problems += checker.check_ephemeral(eph.observations, last, eph.negotiated_s,
                                                     self.final_eph_exists, slack_s=slack)
        self._progress(ops)

    def _progress(self, ops):
        """A run where nothing succeeded would pass every check: count what succeeded."""
        for f in ("read", "write", "cas", "create_seq", "incr"):
            mine = [o for o in ops if o["f"] == f and o["proc"] != "final"]
            self.stats[f] = (sum(o["outcome"] == "ok" for o in mine),
                             sum(o["outcome"] == "info" for o in mine), len(mine))
            if self.stats[f][0] == 0:
                self.problems.append(f"no {f} succeeded during the run")
        self.stats["lock holds"] = len(self.history.holds)
        if not self.history.holds:
            self.problems.append("the lock was never held")

    def save(self, eph_info=None):
        os.makedirs(self.results_dir, exist_ok=True)
        with open(os.path.join(self.results_dir, "history.json"), "w") as f:
            json.dump({"ops": self.history.ops, "holds": self.history.holds,
                       "paused_session": self.eph_record}, f, default=str)
        with open(os.path.join(self.results_dir, "schedule.json"), "w") as f:
            json.dump({"seed": self.seed, "topology": self.topology, "duration": self.duration,
                       "planned": self.schedule, "applied": self.applied}, f, indent=1)
        with open(os.path.join(self.results_dir, "problems.txt"), "w") as f:
            f.writelines(p + "\n" for p in self.problems)
        for member in os.listdir(self.workdir):
            log = os.path.join(self.workdir, member, "server.log")
            if os.path.exists(log):
                shutil.copy(log, os.path.join(self.results_dir, f"{member}.log"))
        for name in ("clients.log", "eph_client.log"):
            if os.path.exists(os.path.join(self.workdir, name)):
                shutil.copy(os.path.join(self.workdir, name), self.results_dir)

    def verdict(self):
        kinds = sorted({e["kind"] for e in self.applied if e.get("event") == "apply"})
        ok_ops = sum(s[0] for s in self.stats.values() if isinstance(s, tuple))
        status = "PASS" if not self.problems else f"FAIL ({len(self.problems)} problems)"
        return (f"chaos {status}: impl={self.impl} seed={self.seed} topology={self.topology} "
                f"duration={self.duration}s faults={len(self.schedule)} {','.join(kinds)} "
                f"ok_ops={ok_ops} holds={self.stats.get('lock holds', 0)} "
                f"took={time.monotonic() - self.started:.0f}s")


def run_once(seed, duration, topology, results_root, keep=False, kinds=faults.KINDS,
             impl="zookube"):
    """Returns (passed, verdict line, results dir or None, problems)."""
    run = Run(seed, duration, topology, results_root, kinds, impl)
    try:
        run.execute()
    except Exception as e:  # noqa: BLE001 - the run's failure is the verdict, with its files
        run.problems.append(f"run aborted: {type(e).__name__}: {e}")
    except BaseException as e:
        # Ctrl-C or SIGTERM: the namespaces and members are gone already; keep the files.
        run.problems.append(f"run interrupted: {type(e).__name__}")
        print(f"interrupted; files: {run.results_dir}", file=sys.stderr)
        raise
    finally:
        passed = not run.problems
        kept = None
        if keep or not passed:
            run.save()
            kept = run.results_dir
        shutil.rmtree(run.workdir, ignore_errors=True)
    return passed, run.verdict(), kept, run.problems


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--topology", choices=sorted(TOPOLOGIES), default="5v")
    p.add_argument("--results", default=os.path.join(HERE, "results"))
    p.add_argument("--keep", action="store_true", help="keep the files of a passing run too")
    p.add_argument("--impl", choices=("zookube", "apache"), default="zookube",
                   help="apache runs ZooKeeper 3.8's jars instead, to compare on a schedule")
    p.add_argument("--kinds", default=",".join(faults.KINDS),
                   help="comma-separated fault kinds to draw from")
    args = p.parse_args()
    why_not = netns.available()
    if why_not:
        print(f"chaos SKIP: {why_not}")
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    passed, verdict, kept, problems = run_once(seed, args.duration, args.topology, args.results,
                                               args.keep, tuple(args.kinds.split(",")), args.impl)
    for problem in problems[:20]:
        print("  " + problem[:2000])
    if kept:
        print(f"  files: {kept}")
    if not passed:
        print(f"  reproduce: /usr/bin/python3 {os.path.relpath(__file__)} --seed {seed} "
              f"--duration {args.duration:g} --topology {args.topology} --impl {args.impl} "
              f"--kinds {args.kinds}")
    print(verdict)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
