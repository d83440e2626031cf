"""Reads a server's metrics once a second while a benchmark runs, as a monitoring system would:
Prometheus scraping zookube's /metrics, or, for Debian's ZooKeeper 3.8, which lacks the
Prometheus provider, a poller sending the `mntr` four-letter word. Also the settings both the
container image and the operator give a member, so the benchmarks run what users run."""

import os
import socket
import threading
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INTERVAL_S = 1.0
TIMEOUT_S = 5.0


def image_zoo_cfg():
    """The zoo.cfg keys of the container image: examples/standalone.cfg, which the Dockerfile
    installs as /etc/zookube/zoo.cfg (it rewrites dataDir and clientPortAddress only)."""
    cfg = {}
    with open(os.path.join(REPO, "examples", "standalone.cfg")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                cfg[key.strip()] = value.strip()
    return cfg


# What operator/render/zoo_cfg.cpp writes into every member's zoo.cfg besides the ports, the
# dataDir and the server lines (which tests/integration/ensemble.py writes the same way).
OPERATOR_SETTINGS = {
    "4lw.commands.whitelist": "srvr,mntr,ruok,conf,isro,stat,envi",
    "standaloneEnabled": "false",
    "reconfigEnabled": "true",
}


def scrape_prometheus(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT_S) as r:
        body = r.read()
    if b"readlatency_count" not in body:
        raise ValueError("no readlatency_count in /metrics")
    return len(body)


def scrape_mntr(port):
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as s:
        s.sendall(b"mntr")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    body = b"".join(chunks)
    if b"zk_znode_count" not in body:
        raise ValueError(f"mntr answered {body[:80]!r}")
    return len(body)


class Scraper:
    """`with Scraper(targets):` reads every (kind, port) that targets() returns once a second on
    a thread of its own, kind "prometheus" or "mntr"; .summary() counts the reads and failures."""

    def __init__(self, targets):
        self.targets = targets
        self.ok = 0
        self.failed = 0
        self.last_error = None
        self.slowest_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        next_at = time.monotonic()
        while not self._stop.is_set():
            for kind, port in self.targets():
                t0 = time.monotonic()
                try:
                    (scrape_prometheus if kind == "prometheus" else scrape_mntr)(port)
                    self.ok += 1
                except (OSError, ValueError) as e:
                    self.failed += 1
                    self.last_error = f"{kind}:{port}: {e}"
                self.slowest_s = max(self.slowest_s, time.monotonic() - t0)
            next_at += INTERVAL_S
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=TIMEOUT_S * 4)

    def summary(self):
        out = {"scrapes": self.ok, "scrape_failures": self.failed,
               "slowest_scrape_s": round(self.slowest_s, 3)}
        if self.last_error:
            out["scrape_error"] = self.last_error[:200]
        return out


class NoScraper(Scraper):
    """For a server run with its metrics endpoint off, on purpose."""

    def __init__(self):
        super().__init__(lambda: [])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass
