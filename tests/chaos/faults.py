"""A seeded schedule of faults and the code that applies and heals them.

One fault at a time: it is applied, held for a while, healed, and the ensemble gets a quiet gap
before the next. Kinds, timings and random targets come from random.Random(seed), so a seed
replays the same schedule; a target named by role ("the leader") is resolved when the fault
starts and the resolved member is written into the log.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import disk_faults  # noqa: E402

KINDS = ("isolate_leader", "split", "bridge", "one_way", "kill", "kill_leader", "pause", "netem",
         "restart_all", "isolate_kill_leader", "disk_error")
# A member whose txn log fails exits with this status (server/util/fail_stop.h): expected after
# a "disk_error" fault, a crash anywhere else.
FAIL_STOP_EXIT = 3


NETWORK_KINDS = ("isolate_leader", "split", "bridge", "one_way", "netem")
# Kinds that may ride along with another fault; whole restarts and the staged leader kill stand
# alone so their own timing stays what it says.
OVERLAPPING = ("isolate_leader", "split", "bridge", "one_way", "netem", "kill", "kill_leader",
               "pause")


def make_schedule(rng, duration_s, n_members, session_timeout_s, kinds=KINDS, overlap=0.3):
    """A list of {"at", "kind", "hold", ..., ["also": a second fault]} covering duration_s from
    the workload start. With probability overlap a fault of the other category (network vs
    process) is applied together with it."""
    schedule = []
    t = rng.uniform(1.0, 3.0)
    # Every kind once (in a seeded order) before any repeats, so short runs still cover them.
    first = rng.sample(list(kinds), len(kinds))
    while t < duration_s - 2.0:
        kind = first.pop() if first else rng.choice(kinds)
        fault = {"at": round(t, 3), **_fault(rng, kind, n_members, session_timeout_s)}
        other = [k for k in kinds if k in OVERLAPPING
                 and (k in NETWORK_KINDS) != (kind in NETWORK_KINDS)]
        if other and kind in OVERLAPPING and rng.random() < overlap:
            fault["also"] = _fault(rng, rng.choice(other), n_members, session_timeout_s)
            fault["hold"] = max(fault["hold"], fault["also"]["hold"])
        schedule.append(fault)
        t += fault["hold"] + rng.uniform(1.0, 3.0)
    return schedule


def _fault(rng, kind, n_members, session_timeout_s):
    hold = rng.uniform(2.0, 6.0)
    fault = {"kind": kind}
    members = list(range(1, n_members + 1))
    if kind == "split":
        rng.shuffle(members)
        cut = rng.randrange(1, n_members // 2 + 1)
        fault["groups"] = [sorted(members[:cut]), sorted(members[cut:])]
    elif kind == "bridge":
        # Jepsen's bridge: two sides that cannot reach each other and one member that reaches
        # both, so each side may think the bridge is on its side of a majority.
        rng.shuffle(members)
        rest = members[1:]
        fault["bridge"] = members[0]
        fault["sides"] = [sorted(rest[:len(rest) // 2]), sorted(rest[len(rest) // 2:])]
    elif kind == "one_way":
        fault["pair"] = rng.sample(members, 2)
        fault["from_leader"] = rng.random() < 0.5
    elif kind == "kill":
        fault["targets"] = sorted(rng.sample(members, rng.choice((1, 1, 2))))
    elif kind == "pause":
        fault["target"] = rng.choice(members + ["leader"])
        hold = session_timeout_s * rng.uniform(1.3, 2.0)
    elif kind == "disk_error":
        fault["target"] = rng.choice(members + ["leader"])
    elif kind == "netem":
        fault["target"] = rng.choice(members)
        fault["shape"] = {"delay_ms": rng.randrange(20, 150), "jitter_ms": rng.randrange(0, 30),
                          "loss_pct": rng.choice((0, 1, 5, 15)),
                          "rate_kbit": rng.choice((32, 64, 128, 512))}
    fault["hold"] = round(hold, 3)
    return fault


class Injector:
    """Applies schedule entries to a cluster and its network, and heals everything."""

    def __init__(self, cluster, net, log):
        self.cluster = cluster
        self.net = net
        self.log = log  # callable(dict) recording what was done and when
        self.crashes = []
        self.disk_failed = set()  # members whose log writes fail until the next heal

    def _leader_or(self, fallback):
        leader = self.cluster.leader()
        return leader if leader is not None else fallback

    def apply(self, fault):
        kind = fault["kind"]
        members = sorted(self.cluster.members)
        done = {"kind": kind}
        if kind == "isolate_leader":
            leader = self._leader_or(members[0])
            self.net.partition([leader], [m for m in members if m != leader])
            done["target"] = leader
        elif kind == "split":
            self.net.partition(*fault["groups"])
            done["groups"] = fault["groups"]
        elif kind == "bridge":
            left, right = fault["sides"]
            for a in left:
                for b in right:
                    self.net.block(a, b)
                    self.net.block(b, a)
            done.update(bridge=fault["bridge"], sides=fault["sides"])
        elif kind == "one_way":
            src, dst = fault["pair"]
            if fault["from_leader"]:
                src = self._leader_or(src)
                dst = dst if dst != src else next(m for m in members if m != src)
            self.net.block(src, dst)
            done["pair"] = [src, dst]
        elif kind in ("kill", "kill_leader"):
            targets = fault.get("targets") or [self._leader_or(members[0])]
            for sid in targets:
                self.cluster.members[sid].kill9()
            done["targets"] = targets
        elif kind == "pause":
            target = fault["target"]
            target = self._leader_or(members[0]) if target == "leader" else target
            self.cluster.members[target].pause()
            done["target"] = target
        elif kind == "netem":
            qdisc = self.net.shape(fault["target"], **fault["shape"])
            done.update(target=fault["target"], qdisc=qdisc)
        elif kind == "isolate_kill_leader":
            # The cut-off leader may have logged proposals nobody else has: killed while alone
            # and restarted after healing, it must drop them (TRUNC) rather than spread them.
            leader = self._leader_or(members[0])
            self.net.partition([leader], [m for m in members if m != leader])
            time.sleep(fault["hold"] / 2)
            self.cluster.members[leader].kill9()
            done["target"] = leader
        elif kind == "disk_error":
            # Its next txn log write or fsync fails: the member must fail-stop (exit 3), and the
            # heal restarts it without the fault, to recover from its disk and resync.
            target = fault["target"]
            target = self._leader_or(members[0]) if target == "leader" else target
            disk_faults.arm(self.cluster.members[target].disk_trigger)
            self.disk_failed.add(target)
            done["target"] = target
        elif kind == "restart_all":
            for m in self.cluster.members.values():
                m.kill9()
            for m in self.cluster.members.values():
                m.launch()
        self.log({"t": time.monotonic(), "event": "apply", **done})
        if "also" in fault:
            self.apply(fault["also"])

    def heal(self):
        crashed = [(sid, code) for sid, code in self.cluster.dead_member_exits()
                   if not (sid in self.disk_failed and code == FAIL_STOP_EXIT)]
        for sid in self.disk_failed:
            disk_faults.disarm(self.cluster.members[sid].disk_trigger)
        self.disk_failed.clear()
        if crashed:
            # Exits nobody asked for: kept apart so a restart below cannot hide them.
            self.crashes.extend(crashed)
            self.log({"t": time.monotonic(), "event": "crash", "members": crashed})
        self.net.heal()
        for m in self.cluster.members.values():
            m.resume()
            if not m.alive():
                m.launch()
        self.log({"t": time.monotonic(), "event": "heal"})
