"""zookube-server members, one per network namespace host, configured as ZooKeeper is (zoo.cfg with
server.N lines, myid in dataDir). Every member listens on its host's own address with the standard
ports; its output goes to <workdir>/member<N>/server.log.

Process faults live here: kill -9, restart, SIGSTOP/SIGCONT. Every wait has a deadline and every
process started is killed by close() (also from an atexit hook).
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import disk_faults  # noqa: E402
import harness  # noqa: E402
import launch  # noqa: E402
import refzk  # noqa: E402

CLIENT_PORT = 2181
QUORUM_PORT = 2888
ELECTION_PORT = 3888
SYNC_LIMIT = 5


class Member:
    def __init__(self, net, sid, workdir, observer, cfg, binary, disk_faults_on=False):
        self.net = net
        self.sid = sid
        self.observer = observer
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(workdir, "server.log")
        self.cfg_path = os.path.join(workdir, "zoo.cfg")
        self.cfg = cfg
        self.binary = binary
        self.proc = None
        self.paused = False
        self.starts = 0
        # In a run that may inject disk errors, every member runs with the disk-error shim
        # preloaded, disarmed until the "disk_error" fault creates the trigger file; then its txn
        # log writes fail with EIO. Other runs (and the sanitized server, into which the shim
        # cannot be preloaded) run without it.
        self.disk_trigger = os.path.join(workdir, "fail-io.armed")
        self.env = None
        if disk_faults_on:
            self.env = disk_faults.disk_error_env(harness.build_dir(),
                                                  os.path.join(self.data_dir, "version-2", "log."),
                                                  self.disk_trigger)

    @property
    def ip(self):
        return self.net.ip(self.sid)

    @property
    def hosts(self):
        return f"{self.ip}:{CLIENT_PORT}"

    def launch(self):
        if self.binary is None:  # Apache ZooKeeper, for comparing behaviour on the same schedule
            cfg, command = refzk.prepare(self.workdir, self.cfg, quorum=True)
        else:
            cfg, command = self.cfg, [self.binary, self.cfg_path]
        if self.starts == 0:
            with open(self.cfg_path, "w") as f:
                f.writelines(f"{k}={v}\n" for k, v in cfg.items())
        with open(os.path.join(self.data_dir, "myid"), "w") as f:
            f.write(f"{self.sid}\n")
        self.starts += 1
        cmd = self.net.exec_prefix(self.sid) + command
        with open(self.log_path, "ab") as log:
            log.write(f"==== start #{self.starts} at {time.monotonic():.3f}\n".encode())
            log.flush()
            self.proc = launch.popen(cmd, log, self.env)
        self.paused = False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # `ip netns exec` execs the server, so the pid is the server's own.
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None
        self.paused = False

    def pause(self):
        if self.alive() and not self.paused:
            self.proc.send_signal(signal.SIGSTOP)
            self.paused = True

    def resume(self):
        if self.alive() and self.paused:
            self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def mode(self):
        """srvr's Mode, or None while the member does not serve."""
        if not self.alive() or self.paused:
            return None
        try:
            answer = harness.four_letter(CLIENT_PORT, "srvr", timeout=1.0, host=self.ip)
        except OSError:
            return None
        for line in answer.splitlines():
            if line.startswith("Mode: "):
                return line[len("Mode: "):].strip()
        return None


class Cluster:
    def __init__(self, net, workdir, voters, observers, tick_ms=200, extra_cfg=None,
                 impl="zookube", disk_faults_on=False):
        self.net = net
        self.members = {}
        self.binary = None
        if impl == "zookube":
            # A private copy: others may relink the build tree's binary in the middle of a run.
            self.binary = os.path.join(workdir, "zookube-server")
            shutil.copy2(harness.zookube_binary(), self.binary)
        servers = {}
        for sid in range(1, voters + observers + 1):
            kind = "observer" if sid > voters else "participant"
            servers[f"server.{sid}"] = (f"{net.ip(sid)}:{QUORUM_PORT}:{ELECTION_PORT}:{kind}"
                                        f";{net.ip(sid)}:{CLIENT_PORT}")
        for sid in range(1, voters + observers + 1):
            mdir = os.path.join(workdir, f"member{sid}")
            cfg = {
                "tickTime": str(tick_ms),
                "initLimit": "10",
                "syncLimit": str(SYNC_LIMIT),
                "dataDir": os.path.join(mdir, "data"),
                "clientPort": str(CLIENT_PORT),
                "clientPortAddress": net.ip(sid),
                "4lw.commands.whitelist": "*",
            }
            cfg.update(servers)
            if sid > voters:
                cfg["peerType"] = "observer"
            cfg.update(extra_cfg or {})
            self.members[sid] = Member(net, sid, mdir, sid > voters, cfg, self.binary,
                                       disk_faults_on)
        atexit.register(self.close)

    @property
    def hosts(self):
        return ",".join(m.hosts for m in self.members.values())

    def start(self):
        for m in self.members.values():
            m.launch()

    def close(self):
        for m in self.members.values():
            try:
                m.resume()
                m.kill9()
            except (OSError, subprocess.SubprocessError):
                pass

    def roles(self):
        return {sid: m.mode() for sid, m in self.members.items()}

    def leader(self):
        """The sid every serving member agrees is leader by srvr Mode, else None."""
        leaders = [sid for sid, mode in self.roles().items() if mode == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    def wait_serving(self, timeout=30.0):
        """Waits until every running member serves under exactly one leader."""
        def settled():
            running = [m for m in self.members.values() if m.alive() and not m.paused]
            modes = [m.mode() for m in running]
            if None in modes or "read-only" in modes:
                return None
            return modes.count("leader") == 1
        try:
            harness.wait_until(settled, timeout=timeout, interval=0.2,
                               what="every running member serving under one leader")
        except TimeoutError as e:
            raise TimeoutError(f"{e}; roles now {self.roles()}") from None

    def dead_member_exits(self):
        """Members that exited by themselves (not by our kill), as (sid, returncode)."""
        return [(sid, m.proc.returncode) for sid, m in self.members.items()
                if m.proc is not None and m.proc.poll() is not None]
