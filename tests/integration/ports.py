"""Listening ports for test servers, chosen below the kernel's ephemeral range.

bind(port 0) hands out a port from the same range the kernel takes outgoing connections' source
ports from. A member restarted on such a port can find it held by some client's connection and
fail with EADDRINUSE until that connection closes: a rolling-restart test failed that way in CI
(a member's quorum port, 49601, taken while it was down). Ports below the range are only taken
by listeners that ask for them by number, as these tests do.
"""

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


def free_block(size):
    """The first of `size` consecutive free ports not handed out before, all below the
    ephemeral range."""
    top = ephemeral_start() - size
    for _ in range(2000):
        base = random.randrange(LOWEST, top)
        block = range(base, base + size)
        if _handed_out.isdisjoint(block) and all(bindable(p) for p in block):
            _handed_out.update(block)
            return base
    raise RuntimeError(f"no {size} free ports between {LOWEST} and {top + size}")
