"""Running Apache ZooKeeper 3.8 (Debian's jars) as a reference: a standalone server with chosen
data directories, and its offline tools (TxnLogToolkit, SnapshotFormatter).

The classpath comes from refzk.py so there is one list of jars. Every process started here has a
deadline and is stopped (SIGTERM, then SIGKILL) when its `with` block ends.
"""

import os
import signal
import socket
import subprocess
import time

import launch
from ports import free_port  # noqa: F401 (re-exported to the tests)
import refzk

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 10.0
TOOL_DEADLINE_S = 60.0
CLASSPATH = refzk.CLASSPATH
JAVA = ["/usr/bin/java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


def available():
    return refzk.available()


def _ruok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"ruok")
            return s.recv(16) == b"imok"
    except OSError:
        return False


def run_tool(main_class, *args, timeout=TOOL_DEADLINE_S):
    """Runs a ZooKeeper main class to completion; returns (exit code, stdout + stderr)."""
    proc = subprocess.run([*JAVA, "-cp", CLASSPATH, main_class, *map(str, args)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


class ReferenceZooKeeper:
    """`with ReferenceZooKeeper(workdir, data_dir, log_dir, snapCount=10) as zk:` gives a
    running standalone ZooKeeper on zk.port (127.0.0.1); `cfg` adds zoo.cfg keys, extra keyword
    arguments become zookeeper.<key> system properties."""

    def __init__(self, workdir, data_dir, log_dir=None, cfg=None, **props):
        self.workdir = str(workdir)
        self.data_dir = str(data_dir)
        self.log_dir = str(log_dir or data_dir)
        self.props = props
        self.cfg = cfg or {}
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.workdir, "zookeeper.log")

    def __enter__(self):
        os.makedirs(self.workdir, exist_ok=True)
        log4j = os.path.join(self.workdir, "log4j.properties")
        with open(log4j, "w") as f:
            f.write(refzk.LOG4J)
        cfg = os.path.join(self.workdir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write(f"tickTime=2000\ndataDir={self.data_dir}\ndataLogDir={self.log_dir}\n"
                    f"clientPort={self.port}\nclientPortAddress=127.0.0.1\n"
                    "admin.enableServer=false\n4lw.commands.whitelist=ruok\n")
            f.writelines(f"{k}={v}\n" for k, v in self.cfg.items())
        props = [f"-Dzookeeper.{k}={v}" for k, v in self.props.items()]
        cmd = [*JAVA, f"-Dlog4j.configuration=file:{log4j}", *props, "-cp", CLASSPATH,
               "org.apache.zookeeper.server.ZooKeeperServerMain", cfg]
        with open(self.log_path, "w") as log:
            self.proc = launch.popen(cmd, log)
        deadline = time.monotonic() + START_DEADLINE_S
        while not _ruok(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"reference ZooKeeper did not start:\n{self.log_tail()}")
            time.sleep(0.1)
        return self

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_DEADLINE_S)

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, lines=60):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""
