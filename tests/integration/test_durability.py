"""Crash safety: every acknowledged write survives kill -9 and a restart on the same dataDir."""

import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.handlers.threading import KazooTimeoutError

LOAD_SECONDS = 2.5
CRASHES = 3
WRITERS = 4
REPLY_TIMEOUT_S = 5


class Writer(threading.Thread):
    """Creates sequential nodes and sets a counter node; records only what the server acked."""

    def __init__(self, server, index, round_no, stop):
        super().__init__(daemon=True)
        self.server, self.index, self.round, self.stop = server, index, round_no, stop
        self.acked_creates = []
        self.acked_value = None

    def run(self):
        client = KazooClient(hosts=self.server.hosts, timeout=10, connection_retry=None,
                             command_retry=None)
        try:
            client.start(timeout=10)
            base = f"/load/w{self.index}"
            client.ensure_path(base)
            n = 0
            while not self.stop.is_set():
                n += 1
                value = f"{self.round}:{n}".encode()
                # Bounded waits: a request queued while kazoo reconnects to a dead server
                # would otherwise wait for ever.
                path = client.create_async(f"{base}/item-", value,
                                           sequence=True).get(timeout=REPLY_TIMEOUT_S)
                self.acked_creates.append((path, value))
                client.set_async(base, value).get(timeout=REPLY_TIMEOUT_S)
                self.acked_value = value
        except (KazooException, OSError, RuntimeError, KazooTimeoutError):
            pass  # the crash cut us off; what was acked so far is what counts
        finally:
            try:
                client.stop()
                client.close()
            except Exception:  # noqa: BLE001
                pass


def run_load_then_crash(server, round_no):
    stop = threading.Event()
    writers = [Writer(server, i, round_no, stop) for i in range(WRITERS)]
    for w in writers:
        w.start()
    deadline = time.monotonic() + LOAD_SECONDS
    while time.monotonic() < deadline and any(w.is_alive() for w in writers):
        time.sleep(0.05)  # pacing the load window, not waiting for a condition
    server.kill9()  # crash mid-load: writers are still writing
    stop.set()
    for w in writers:
        w.join(timeout=30)
        assert not w.is_alive(), "writer thread did not finish"
    return writers


def test_acknowledged_writes_survive_kill_9(server_factory):
    server = server_factory()
    expected = {}
    last_values = {}
    for round_no in range(CRASHES):
        writers = run_load_then_crash(server, round_no)
        assert sum(len(w.acked_creates) for w in writers) > 0, "the load made no progress"
        for w in writers:
            expected.update(w.acked_creates)
            if w.acked_value is not None:
                last_values[f"/load/w{w.index}"] = w.acked_value
        server.start()
        check_recovered(server, expected, last_values)


def check_recovered(server, expected, last_values):
    client = KazooClient(hosts=server.hosts, timeout=10)
    client.start(timeout=15)
    try:
        for path, data in expected.items():
            got = client.exists(path)
            assert got is not None, f"acknowledged create {path} lost after kill -9"
        for path, data in list(expected.items())[:: max(1, len(expected) // 200)]:
            assert client.get(path)[0] == data
        for parent, value in last_values.items():
            # A set may have been applied but not acknowledged, so the value can only be ahead.
            assert as_pair(client.get(parent)[0]) >= as_pair(value)
            children = client.get_children(parent)
            assert len(children) == len(set(children))
            numbers = sorted(int(c.rsplit("-", 1)[1]) for c in children)
            assert len(numbers) == len(set(numbers)), "a sequence number was handed out twice"
            values = [client.get(f"{parent}/{c}")[0] for c in children]
            assert len(values) == len(set(values)), "one acked create appears twice"
    finally:
        client.stop()
        client.close()


def as_pair(value):
    round_no, n = value.decode().split(":")
    return int(round_no), int(n)
