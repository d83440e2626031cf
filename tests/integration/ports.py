"""Listening ports for test servers, chosen below the kernel's ephemeral range.

bind(port 0) hands out a port from the same range the kernel takes outgoing connections' source
ports from. A member restarted on such a port can find it held by some client's connection and
fail with EADDRINUSE until that connection closes: a rolling-restart test failed that way in CI
(a member's quorum port, 49601, taken while it was down). Ports below the range are only taken
by listeners that ask for them by number, as these tests do.

Under pytest-xdist each worker takes its own slice of that range, so two workers cannot pick the
same port (each one only remembers what it handed out itself).
"""

import os

import random
import socket

LOWEST = 10000
_handed_out = set()  # never give the same port twice in one test process


def ephemeral_start():
    """The first port of the kernel's ephemeral range (ip_local_port_range)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def bindable(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port():
    return free_block(1)


def worker_slice(lowest, highest):
    """[low, high) of the ports this process may hand out: the whole range, or under
    pytest-xdist the worker's own share of it (PYTEST_XDIST_WORKER is gw0, gw1, ...)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count <= 1:
        return lowest, highest
    index = int(worker[2:])
    share = (highest - lowest) // count
    return lowest + index * share, lowest + (index + 1) * share


def free_block(size):
    """The first of `size` consecutive free ports not handed out before, all below the
    ephemeral range and in this worker's slice of it."""
    low, high = worker_slice(LOWEST, ephemeral_start())
    top = high - size
    for _ in range(200):
        base = random.randrange(low, top)
        block = range(base, base + size)
        if _handed_out.isdisjoint(block) and all(bindable(p) for p in block):
            _handed_out.update(block)
            return base
    # Random blocks leave gaps too small for a large one: look at every gap in turn.
    base = first_fit(low, top, size)
    if base is None:
        raise RuntimeError(f"no {size} free ports between {low} and {high}")
    _handed_out.update(range(base, base + size))
    return base


def first_fit(low, top, size):
    """The lowest base in [low, top) whose `size` ports are neither handed out nor bound."""
    base = low
    while base < top:
        block = range(base, base + size)
        clash = next((p for p in reversed(block) if p in _handed_out or not bindable(p)), None)
        if clash is None:
            return base
        base = clash + 1
    return None


def handed_out():
    """A mark of what this process has handed out so far, for give_back_since."""
    return frozenset(_handed_out)


def give_back_since(mark):
    """Ports handed out since `mark` may be handed out again: their servers are gone (a port
    still bound, or with connections lingering on it, is not bindable and stays skipped)."""
    _handed_out.intersection_update(mark)
