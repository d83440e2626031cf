"""Client workloads that record what they saw, for checker.py.

Each worker is a thread with its own kazoo session; its host list starts at a different member so
the sessions are spread over the ensemble and fail over when their member goes away. Every request
is bounded by OP_TIMEOUT_S; an answer the server did not give (timeout, connection loss, session
lost while in flight) is recorded as "info": it may or may not have taken effect.
"""

import logging
import os
import subprocess
import sys
import threading
import time
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError, NotEmptyError

OP_TIMEOUT_S = 5.0
INIT = "init"
ROOTS = ("/reg", "/seq", "/lock", "/counter", "/eph")
EPH_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eph_client.py")


def rotated(hosts, i):
    parts = hosts.split(",")
    k = i % len(parts)
    return ",".join(parts[k:] + parts[:k])


def connect(hosts, timeout_s, name="client"):
    # A logger per worker so clients.log says which worker each connection event belongs to.
    zk = KazooClient(hosts=hosts, timeout=timeout_s, randomize_hosts=False,
                     logger=logging.getLogger(f"kazoo.{name}"),
                     connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
    zk.start(timeout=30)
    return zk


def setup(zk, keys):
    for root in ROOTS:
        zk.ensure_path(root)
    for key in keys:
        zk.create(f"/reg/{key}", INIT.encode())
    zk.set("/counter", b"0")


class History:
    def __init__(self):
        self.ops = []
        self.holds = []
        self._lock = threading.Lock()

    def add(self, op):
        with self._lock:
            self.ops.append(op)

    def add_hold(self, hold):
        with self._lock:
            self.holds.append(hold)


class Worker(threading.Thread):
    """Runs step() until stopped; subclasses record their ops with call()."""

    def __init__(self, name, hosts, history, rng, session_timeout_s, stop):
        super().__init__(name=name, daemon=True)
        self.hosts = hosts
        self.history = history
        self.rng = rng
        self.timeout_s = session_timeout_s
        self.stop_event = stop
        self.zk = None
        self.seq = 0
        self.error = None

    def run(self):
        try:
            self.zk = connect(self.hosts, self.timeout_s, self.name)
            while not self.stop_event.is_set():
                self.step()
                self.stop_event.wait(self.rng.uniform(0.005, 0.05))
        except Exception as e:  # noqa: BLE001 - a worker that dies is reported, not hidden
            self.error = repr(e)
        finally:
            if self.zk is not None:
                try:
                    self.zk.stop()
                    self.zk.close()
                except Exception:  # noqa: BLE001
                    pass

    def session(self):
        cid = self.zk.client_id
        return cid[0] if cid else None

    def call(self, f, key, args, fn, definite=()):
        """Runs fn (returning the recorded result); records ok / fail (definite exceptions) /
        info. Returns (outcome, result)."""
        op = {"proc": self.name, "session": self.session(), "f": f, "key": key, "args": args,
              "start": time.monotonic(), "end": None, "outcome": "info", "result": None}
        try:
            op["result"] = fn()
            op["outcome"] = "ok"
        except definite as e:
            op["outcome"] = "fail"
            op["result"] = type(e).__name__
        except Exception as e:  # noqa: BLE001 - anything else leaves the effect unknown
            op["result"] = type(e).__name__
        if op["outcome"] != "info":
            op["end"] = time.monotonic()
        self.history.add(op)
        return op["outcome"], op["result"]

    def wait(self, async_result):
        return async_result.get(timeout=OP_TIMEOUT_S)


class RegisterWorker(Worker):
    """Reads (plain, or after sync), blind writes, and CAS on per-key registers."""

    def __init__(self, keys, *a):
        super().__init__(*a)
        self.keys = keys

    def read(self, key, synced):
        def fn():
            if synced:
                self.wait(self.zk.sync_async(f"/reg/{key}"))
            data, stat = self.wait(self.zk.get_async(f"/reg/{key}"))
            return (data.decode(), stat.version)
        return self.call("read", key, {"synced": synced}, fn)

    def step(self):
        key = self.rng.choice(self.keys)
        self.seq += 1
        value = f"{self.name}-{self.seq}"
        roll = self.rng.random()
        if roll < 0.4:
            self.read(key, synced=roll < 0.25)
        elif roll < 0.65:
            self.call("write", key, {"value": value}, lambda: self.wait(
                self.zk.set_async(f"/reg/{key}", value.encode())).version)
        else:
            outcome, seen = self.read(key, synced=False)
            if outcome != "ok":
                return
            # Sometimes a wrong version, for definite BadVersion answers; never -1 ("any").
            version = seen[1]
            if self.rng.random() < 0.2:
                version = abs(seen[1] + self.rng.choice((-1, 1)))
            self.call("cas", key, {"version": version, "value": value},
                      lambda: self.wait(self.zk.set_async(f"/reg/{key}", value.encode(),
                                                          version=version)).version,
                      definite=(BadVersionError,))


class SequentialWorker(Worker):
    def step(self):
        self.call("create_seq", "/seq", {}, lambda: self.wait(
            self.zk.create_async("/seq/s-", b"", sequence=True)).rsplit("/", 1)[1])


class CounterWorker(Worker):
    """Increments /counter by read-then-CAS; the recorded result is the value written."""

    def step(self):
        outcome, seen = self.call("counter_read", "/counter", {}, lambda: self._get())
        if outcome != "ok":
            return
        value, version = seen
        self.call("incr", "/counter", {"version": version},
                  lambda: self._set(value + 1, version), definite=(BadVersionError,))

    def _set(self, value, version):
        self.wait(self.zk.set_async("/counter", str(value).encode(), version=version))
        return value

    def _get(self):
        data, stat = self.wait(self.zk.get_async("/counter"))
        return (int(data.decode()), stat.version)


class LockWorker(Worker):
    """The ephemeral-sequential lock recipe, polling for its turn. A hold is confirmed when the
    holder's own node is deleted by the holder (checker.check_lock says why that matters)."""

    def step(self):
        prefix = f"{self.name}-{uuid.uuid4().hex[:8]}-"
        try:
            mine = self.wait(self.zk.create_async(f"/lock/{prefix}", b"", ephemeral=True,
                                                  sequence=True)).rsplit("/", 1)[1]
            deadline = time.monotonic() + 10
            while not self.stop_event.is_set() and time.monotonic() < deadline:
                children = self.wait(self.zk.get_children_async("/lock"))
                if mine not in children:
                    return  # session lost: the node went with it
                if min(children, key=lambda c: c[-10:]) == mine:
                    acquired = time.monotonic()
                    self.stop_event.wait(self.rng.uniform(0.02, 0.2))
                    released = time.monotonic()
                    self.wait(self.zk.delete_async(f"/lock/{mine}"))
                    self.history.add_hold({"proc": self.name, "acquired": acquired,
                                           "released": released, "confirmed": True})
                    return
                time.sleep(0.02)
            self._abandon(prefix)
        except (NoNodeError, NotEmptyError, NodeExistsError):
            return
        except Exception:  # noqa: BLE001 - connection trouble: give the node up
            self._abandon(prefix)

    def _abandon(self, prefix):
        """Deletes our node if it is there; if that cannot be confirmed, starts a new session so
        an orphan node of ours cannot block the lock forever."""
        try:
            for child in self.wait(self.zk.get_children_async("/lock")):
                if child.startswith(prefix):
                    self.wait(self.zk.delete_async(f"/lock/{child}"))
        except NoNodeError:
            pass
        except Exception:  # noqa: BLE001
            self.zk.stop()
            self.zk.close()
            self.zk = connect(self.hosts, self.timeout_s, self.name)


class PausedSession:
    """A client in its own process (so it can be SIGSTOPped) that owns an ephemeral node and
    reports each successful request; an observer thread watches the node from outside."""

    def __init__(self, hosts, timeout_s, history, stop, log_path):
        self.path = f"/eph/{uuid.uuid4().hex[:8]}"
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, EPH_CLIENT, hosts, self.path, str(timeout_s)],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True)
        self.touches = []
        self.negotiated_s = None
        self.paused_at = None
        self.history = history
        self.stop_event = stop
        self.observations = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            word, _, rest = line.strip().partition(" ")
            if word == "ready":
                self.negotiated_s = float(rest)
                self.ready.set()
            elif word == "touch":
                self.touches.append(float(rest))

    def pause(self):
        self.proc.send_signal(19)  # SIGSTOP
        self.paused_at = time.monotonic()

    def last_touch(self):
        before = [t for t in self.touches if self.paused_at is None or t <= self.paused_at]
        return before[-1] if before else None

    def observe(self, zk):
        """Records one exists() of the node by zk."""
        op = {"proc": "observer", "f": "exists", "key": self.path, "args": {},
              "start": time.monotonic(), "end": None, "outcome": "info", "result": None}
        try:
            # Synced: a plain read may come from a member that has not applied the create yet.
            zk.sync_async(self.path).get(timeout=OP_TIMEOUT_S)
            op["result"] = zk.exists_async(self.path).get(timeout=OP_TIMEOUT_S) is not None
            op["outcome"] = "ok"
            op["end"] = time.monotonic()
        except Exception:  # noqa: BLE001
            pass
        self.observations.append(op)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
