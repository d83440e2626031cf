"""The client whose session the chaos run pauses (run by workloads.PausedSession).

Creates an ephemeral node, then keeps its session busy and prints "touch <monotonic start>" for
each request that succeeded on its original session: the server cannot expire the session sooner
than the session timeout after such a request was sent. Stops reporting once the session changed.
Usage: eph_client.py HOSTS PATH TIMEOUT_S
"""

import sys
import time

from kazoo.client import KazooClient


def main():
    hosts, path, timeout_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    zk = KazooClient(hosts=hosts, timeout=timeout_s,
                     connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
    zk.start(timeout=30)
    session = zk.client_id[0]
    zk.create(path, b"", ephemeral=True)
    print(f"ready {zk._session_timeout / 1000.0}", flush=True)
    deadline = time.monotonic() + 600  # bounded even if nobody kills it
    while time.monotonic() < deadline:
        start = time.monotonic()
        try:
            zk.exists_async(path).get(timeout=2)
            ok = zk.client_id is not None and zk.client_id[0] == session
        except Exception:  # noqa: BLE001 - only successes are reported
            ok = False
        if ok:
            print(f"touch {start}", flush=True)
        elif zk.client_id is not None and zk.client_id[0] != session:
            return
        time.sleep(0.1)


if __name__ == "__main__":
    main()
