"""Starts, stops and crashes one server (zookube or Apache ZooKeeper) for integration tests.

Every server gets its own directory, a free 127.0.0.1 port and a zoo.cfg; its stdout and stderr
go to server.log in that directory so a failing test can show them. Readiness is "ruok" answered
with "imok"; every wait has a deadline.
"""

import os
import signal
import socket
import subprocess
import time

import launch
from ports import free_port  # noqa: F401 (re-exported to the tests)
import refzk

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
START_DEADLINE_S = 20.0
STOP_DEADLINE_S = 10.0


def impl():
    return os.environ.get("ZK_IMPL", "zookube")


def build_dir():
    return os.environ.get("ZOOKUBE_BUILD_DIR", os.path.join(REPO, "build"))


def zookube_binary():
    return os.path.join(build_dir(), "server", "zookube-server")


def four_letter(port, cmd, timeout=5.0, host="127.0.0.1"):
    """Sends a four-letter word and returns the whole answer (the server closes after it)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd.encode())
        out = bytearray()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out.decode(errors="replace")


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a truthy value; raises TimeoutError at the deadline."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class ServerError(Exception):
    pass


class Server:
    """One server process. cfg holds zoo.cfg keys on top of the defaults below."""

    def __init__(self, workdir, tick_ms=250, **cfg):
        self.workdir = workdir
        self.impl = impl()
        self.port = free_port()
        self.data_dir = os.path.join(workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(workdir, "server.log")
        self.cfg = {
            "tickTime": str(tick_ms),
            "dataDir": self.data_dir,
            "clientPort": str(self.port),
            "clientPortAddress": "127.0.0.1",
            "4lw.commands.whitelist": "*",
            "extendedTypesEnabled": "true",
            "znode.container.checkIntervalMs": "200",
            # Both servers default to an AdminServer on 8080, which many servers on one host
            # cannot share; tests that want it turn it on with a port of its own.
            "admin.enableServer": "false",
        }
        self.cfg.update({k.replace("__", "."): str(v) for k, v in cfg.items()})
        self.proc = None
        self.starts = 0
        self.myid = None  # set for an ensemble member: written to dataDir/myid at start
        self.env = {}  # extra environment of the next launch (e.g. a fault injector)
        self.cfg_changed = False  # set after changing cfg: the next launch writes zoo.cfg anew

    @property
    def hosts(self):
        return f"127.0.0.1:{self.port}"

    @property
    def tick_ms(self):
        return int(self.cfg["tickTime"])

    def _command(self):
        cfg_path = os.path.join(self.workdir, "zoo.cfg")
        if self.impl == "apache":
            cfg, cmd = refzk.prepare(self.workdir, self.cfg, quorum=self.myid is not None)
        elif self.impl == "zookube":
            binary = zookube_binary()
            if not os.access(binary, os.X_OK):
                raise ServerError(f"{binary} not built (set ZOOKUBE_BUILD_DIR or ZK_IMPL=apache)")
            cfg, cmd = self.cfg, [binary, cfg_path]
        else:
            raise ServerError(f"unknown ZK_IMPL={self.impl!r}")
        # Written once: a restart reads what the server left there (ZooKeeper rewrites zoo.cfg
        # itself after a reconfig), as a real deployment's restart would; unless the test
        # changed the configuration, as an operator editing zoo.cfg between restarts.
        if self.starts == 0 or self.cfg_changed:
            with open(cfg_path, "w") as f:
                f.writelines(f"{k}={v}\n" for k, v in cfg.items())
            self.cfg_changed = False
        if self.myid is not None:
            with open(os.path.join(self.data_dir, "myid"), "w") as f:
                f.write(f"{self.myid}\n")
        return cmd

    def start(self):
        self.launch()
        self.wait_ready()
        return self

    def launch(self):
        """Starts the process without waiting for it to serve (an ensemble member cannot serve
        before a quorum of its peers runs)."""
        cmd = self._command()
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"==== start #{self.starts}: {' '.join(cmd)}\n".encode())
        log.flush()
        self.proc = launch.popen(cmd, log, self.env)
        log.close()
        return self

    def _ruok(self):
        if self.proc.poll() is not None:
            raise ServerError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
        try:
            if four_letter(self.port, "ruok", timeout=1.0) != "imok":
                return False
            # ZooKeeper answers ruok while its database is still loading; srvr tells.
            return "not currently serving" not in four_letter(self.port, "srvr", timeout=1.0)
        except OSError:
            return False

    def wait_ready(self):
        try:
            wait_until(self._ruok, timeout=START_DEADLINE_S, interval=0.1, what="ruok -> imok")
        except TimeoutError:
            self.kill9()
            raise ServerError(f"server not ready in {START_DEADLINE_S}s:\n{self.log_tail()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM and wait; returns the exit code (SIGKILL after the deadline)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_DEADLINE_S)
        code = self.proc.returncode
        self.proc = None
        return code

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_DEADLINE_S)
        self.proc = None

    def restart(self, crash=False):
        """Restarts on the same dataDir and port, after a clean stop or a kill -9."""
        if crash:
            self.kill9()
        else:
            self.stop()
        return self.start()

    def four(self, cmd):
        return four_letter(self.port, cmd)

    def log_tail(self, lines=60):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"
