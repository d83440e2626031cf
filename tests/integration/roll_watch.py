"""Watches a ZkCluster's status through a roll for members the operator lost sight of.

A roll restarts the members one at a time, the leader last. Until the leader's turn nothing
elects, so every member but the one restarting serves and the status must say so: a member the
operator speaks the wrong protocol to (the spec's new one to a member still on the old one, or
the reverse) shows as not ready, and with the leader among them the status loses its leader.
Samples are judged until the leader is restarted (its own restart elects another, when members
briefly serve no one). Used by local mode's and Kubernetes mode's tests: `status` reads the
status, `restarted` the names of members restarted since the watch began."""

import threading


class RollWatch(threading.Thread):
    def __init__(self, status, restarted, members, interval=0.05):
        super().__init__(daemon=True)
        self.status, self.restarted, self.members = status, restarted, members
        self.interval = interval
        self.leader = (status() or {}).get("leader")
        assert self.leader, "no leader before the roll"
        self.samples = []  # (phase, leader, readyMembers) until the leader's restart
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(self.interval):
            s = self.status() or {}
            if self.leader in self.restarted():
                continue
            self.samples.append((s.get("phase"), s.get("leader"), s.get("readyMembers")))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self._stop_event.set()
        self.join(timeout=10)

    def check(self):
        """Before the leader's restart: at most one member not ready, the same leader, and the
        cluster never Degraded."""
        assert self.samples, "no status seen before the leader's restart"
        bad = [s for s in self.samples
               if s[1] != self.leader or (s[2] or 0) < self.members - 1 or
               s[0] not in ("Rolling", "Running")]
        assert not bad, f"members out of reach mid-roll: {bad[:5]} of {len(self.samples)}"
