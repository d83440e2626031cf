"""A private network of hosts made of Linux network namespaces, for fault injection.

Layout of one run (prefix P = "zkc<pid>", unique per process):
  - namespace P-br holds bridge br0;
  - namespace P-<i> is host i, with eth0 = 10.A.B.i/24 whose peer h<i> sits on br0;
  - the root namespace gets veth P-r = 10.A.B.254/24 whose peer sits on br0, so the test process
    (and its kazoo clients) reaches every host through the bridge like any other host would.

Deleting a namespace deletes the veth ends inside it and with them their peers, so cleanup is
"delete every namespace of the prefix" plus the root veth. Cleanup runs from close(), from an
atexit hook and on SIGINT/SIGTERM, and tolerates half-built states.

Faults live here because they are properties of the network: partitions are per-host routes
(`ip route add blackhole <peer>/32` inside the sender's namespace: its packets to that peer are
dropped silently, as a cut cable would), and latency/loss is `tc qdisc ... netem` on a host's
eth0 (a tbf rate limit where the kernel lacks netem).
No iptables or nftables is needed.
"""

import atexit
import ipaddress
import os
import random
import signal
import subprocess

ROOT_HOST = 254


def run(*cmd, check=True):
    """Runs a command with a deadline; raises with its stderr on failure when check is set."""
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done


def available():
    """None if namespaces can be made here, else the reason why not."""
    if os.geteuid() != 0:
        return "not root: network namespaces need CAP_SYS_ADMIN"
    probe = f"zkcprobe{os.getpid()}"
    try:
        done = run("ip", "netns", "add", probe, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return f"ip netns unavailable: {e}"
    if done.returncode != 0:
        return f"ip netns add failed: {done.stderr.strip()}"
    run("ip", "netns", "del", probe, check=False)
    return None


def _used_networks():
    out = run("ip", "-4", "-o", "addr", "show").stdout + run("ip", "-4", "route").stdout
    nets = []
    for word in out.split():
        try:
            nets.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue
    return nets


def pick_subnet(rng):
    """A 10.A.B.0/24 not overlapping anything the root namespace already routes."""
    used = _used_networks()
    for _ in range(200):
        net = ipaddress.ip_network(f"10.{rng.randrange(100, 250)}.{rng.randrange(1, 250)}.0/24")
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net
    raise RuntimeError("no free 10.x.y.0/24 subnet")


class Network:
    """Hosts 1..n on one bridge. Use as a context manager or call close()."""

    def __init__(self, n, seed=None):
        self.prefix = f"zkc{os.getpid() % 100000}"
        self.subnet = pick_subnet(random.Random(seed if seed is not None else os.getpid()))
        self.n = n
        self.blocked = set()  # (src, dst) pairs whose packets are dropped
        self.shaped = {}  # host -> qdisc arguments
        self.netem = False  # whether the kernel has sch_netem, probed in _build
        self._closed = False
        atexit.register(self.close)
        self._old_handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for s in self._old_handlers:
            signal.signal(s, self._on_signal)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _on_signal(self, signum, frame):
        self.close()
        previous = self._old_handlers.get(signum)
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt if signum == signal.SIGINT else SystemExit(128 + signum)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def bridge_ns(self):
        return f"{self.prefix}-br"

    @property
    def root_link(self):
        return f"{self.prefix}-r"

    def ns(self, host):
        return f"{self.prefix}-{host}"

    def ip(self, host):
        return str(self.subnet.network_address + host)

    def exec_prefix(self, host):
        """The argv prefix that runs a command inside host's namespace."""
        return ["ip", "netns", "exec", self.ns(host)]

    def _build(self):
        plen = self.subnet.prefixlen
        run("ip", "netns", "add", self.bridge_ns)
        self._in(self.bridge_ns, "ip", "link", "set", "lo", "up")
        self._in(self.bridge_ns, "ip", "link", "add", "br0", "type", "bridge")
        self._in(self.bridge_ns, "ip", "link", "set", "br0", "up")
        for host in range(1, self.n + 1):
            ns = self.ns(host)
            run("ip", "netns", "add", ns)
            self._in(ns, "ip", "link", "set", "lo", "up")
            self._in(ns, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", f"h{host}",
                     "netns", self.bridge_ns)
            self._in(ns, "ip", "addr", "add", f"{self.ip(host)}/{plen}", "dev", "eth0")
            self._in(ns, "ip", "link", "set", "eth0", "up")
            self._attach(f"h{host}")
        self.netem = self._in(self.ns(1), "tc", "qdisc", "add", "dev", "eth0", "root", "netem",
                              "delay", "1ms", check=False).returncode == 0
        self._in(self.ns(1), "tc", "qdisc", "del", "dev", "eth0", "root", check=False)
        run("ip", "link", "add", self.root_link, "type", "veth", "peer", "name", "root", "netns",
            self.bridge_ns)
        run("ip", "addr", "add", f"{self.ip(ROOT_HOST)}/{plen}", "dev", self.root_link)
        run("ip", "link", "set", self.root_link, "up")
        self._attach("root")

    def _attach(self, link):
        self._in(self.bridge_ns, "ip", "link", "set", link, "master", "br0")
        self._in(self.bridge_ns, "ip", "link", "set", link, "up")

    def _in(self, ns, *cmd, check=True):
        return run("ip", "netns", "exec", ns, *cmd, check=check)

    def close(self):
        if self._closed:
            return
        self._closed = True
        run("ip", "link", "del", self.root_link, check=False)
        for host in range(1, self.n + 1):
            run("ip", "netns", "del", self.ns(host), check=False)
        run("ip", "netns", "del", self.bridge_ns, check=False)
        for s, h in self._old_handlers.items():
            signal.signal(s, h)

    # --- faults -------------------------------------------------------------------------------

    def block(self, src, dst):
        """Drops every packet src sends to dst (one direction)."""
        if (src, dst) in self.blocked:
            return
        self._in(self.ns(src), "ip", "route", "add", "blackhole", f"{self.ip(dst)}/32")
        self.blocked.add((src, dst))

    def unblock(self, src, dst):
        if (src, dst) not in self.blocked:
            return
        self._in(self.ns(src), "ip", "route", "del", "blackhole", f"{self.ip(dst)}/32", check=False)
        self.blocked.discard((src, dst))

    def partition(self, *groups):
        """Cuts every link between hosts of different groups, both ways. The root namespace (the
        clients) still reaches everyone: only the members are split."""
        for i, a in enumerate(groups):
            for b in groups[i + 1:]:
                for x in a:
                    for y in b:
                        self.block(x, y)
                        self.block(y, x)

    def heal(self):
        for src, dst in list(self.blocked):
            self.unblock(src, dst)
        for host in list(self.shaped):
            self.unshape(host)

    def shape(self, host, delay_ms, jitter_ms, loss_pct, rate_kbit):
        """Slows host's outgoing packets: tc netem delay/jitter/loss where the kernel has netem;
        where it does not (sch_netem missing), a tbf rate limit whose queue holds packets up to
        4x delay_ms and drops beyond it — slow and lossy under load, but not the same fault.
        Returns the qdisc arguments used."""
        if self.netem:
            args = ["netem", "delay", f"{delay_ms}ms", f"{jitter_ms}ms", "loss", f"{loss_pct}%"]
        else:
            args = ["tbf", "rate", f"{rate_kbit}kbit", "burst", "4kb", "latency",
                    f"{4 * delay_ms}ms"]
        self.unshape(host)
        self._in(self.ns(host), "tc", "qdisc", "add", "dev", "eth0", "root", *args)
        self.shaped[host] = args
        return args

    def unshape(self, host):
        if self.shaped.pop(host, None) is not None:
            self._in(self.ns(host), "tc", "qdisc", "del", "dev", "eth0", "root", check=False)
