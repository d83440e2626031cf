"""A client that keeps writing while a test breaks or changes the ensemble under it."""

import threading

from kazoo.exceptions import NodeExistsError

import harness


class Writer:
    """Creates <parent>/w000000, w000001, ... from one kazoo session until stopped. A create
    that fails only by connection loss is retried (kazoo's retry); NodeExists on a retry means
    the first attempt had succeeded. Every other failure is recorded."""

    def __init__(self, zk, parent):
        self.zk, self.parent = zk, parent
        self.acked, self.failures = [], []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        i = 0
        while not self.stop_flag.is_set():
            try:
                self.zk.retry(self.zk.create, self.name(i), b"x")
                self.acked.append(i)
            except NodeExistsError:
                self.acked.append(i)
            except Exception as e:  # noqa: BLE001 - every other failure is counted
                self.failures.append(repr(e))
            i += 1

    def name(self, i):
        return f"{self.parent}/w{i:06d}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(timeout=30)

    def wait_for_more(self, n=20):
        target = len(self.acked) + n
        harness.wait_until(lambda: len(self.acked) >= target, timeout=30,
                           what=f"{n} more acknowledged writes")

    def lost(self):
        """Acknowledged creates that are not there (call after stopping)."""
        self.zk.sync(self.parent)
        present = {f"{self.parent}/{c}" for c in self.zk.get_children(self.parent)}
        return [i for i in self.acked if self.name(i) not in present]
