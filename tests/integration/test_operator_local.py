"""zookube-operator --local on real processes: examples/zkcluster.yaml run as local members.

One ensemble serves the whole module, each test leaving it healthy for the next: creation, a
config change rolled under a continuous writer, a member killed with SIGKILL, the operator killed
with SIGKILL mid-roll, observers scaled 1 -> 3 -> 0 and voters 3 -> 5 -> 3 by reconfig under a
writer without restarting anyone, and SIGTERM stopping everything while keeping the data. The
operator's own records are the evidence: status.json (the planner's memory and a restart history),
ensemble.json, each member's starts.log and the operator's output; the ensemble's own
/zookeeper/config is the evidence of membership.
"""

import json
import os
import re
import signal
import subprocess
import threading
import urllib.request

import pytest
import yaml
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionClosedError, ConnectionLoss, NodeExistsError, \
    SessionExpiredError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.security import make_digest_acl_credential

import harness
import ports

OPERATOR = os.path.join(harness.build_dir(), "operator", "zookube-operator")
EXAMPLE = os.path.join(harness.REPO, "examples", "zkcluster.yaml")
WAIT_S = 60.0
# Port blocks: each member shifts its ports by its ordinal (observers by 7 + ordinal).
PORT_SPAN = 12
KINDS = ("client", "quorum", "election", "metrics", "admin")

pytestmark = pytest.mark.skipif(
    harness.impl() != "zookube" or not os.path.exists(OPERATOR),
    reason="needs zookube-operator and zookube-server built")


def pick_ports():
    """A base with PORT_SPAN free ports for each kind, plus one for the operator's metrics."""
    base = ports.free_block((len(KINDS) + 1) * PORT_SPAN)
    bases = [base + i * PORT_SPAN for i in range(len(KINDS) + 1)]
    return dict(zip(KINDS, bases)), bases[-1]


def server_pids_under(path):
    """zookube-server processes whose command line names a file under `path`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"zookube-server") and any(path.encode() in a for a in args):
            pids.append(int(entry))
    return pids


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


class LocalCluster:
    def __init__(self, workdir):
        self.workdir = str(workdir)
        self.state = os.path.join(self.workdir, "state")
        self.manifest = os.path.join(self.workdir, "zkcluster.yaml")
        self.log_path = os.path.join(self.workdir, "operator.log")
        ports, self.metrics_port = pick_ports()
        with open(EXAMPLE) as f:
            self.spec = yaml.safe_load(f)
        self.spec["spec"]["config"]["tickTime"] = "200"
        self.spec["spec"]["ports"] = ports
        self.write_manifest()
        self.proc = None

    # --- the manifest and the operator ---

    def write_manifest(self):
        tmp = self.manifest + ".tmp"
        with open(tmp, "w") as f:
            yaml.safe_dump(self.spec, f)
        os.replace(tmp, self.manifest)

    def start_operator(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [OPERATOR, "--local", self.manifest, "--state-dir", self.state,
             "--server-binary", harness.zookube_binary(),
             "--metrics-address", f"127.0.0.1:{self.metrics_port}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def kill9_operator(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        for pid in server_pids_under(self.state):
            os.kill(pid, signal.SIGKILL)
        harness.wait_until(lambda: not server_pids_under(self.state), timeout=10,
                           what="member processes gone")

    # --- what the operator records ---

    def _json(self, name):
        try:
            with open(os.path.join(self.state, name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def status(self):
        state = self._json("status.json")
        return state["status"] if state else {}

    def history(self):
        state = self._json("status.json")
        return state["history"] if state else []

    def ensemble(self):
        return self._json("ensemble.json") or {"members": [], "connect": ""}

    def starts(self):
        counts = {}
        members = os.path.join(self.state, "members")
        for name in os.listdir(members):
            path = os.path.join(members, name, "starts.log")
            if os.path.exists(path):
                with open(path) as f:
                    counts[name] = len(f.read().splitlines())
        return counts

    def metrics(self):
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode()

    # --- waiting ---

    def healthy(self, observers, voters=3):
        """Running with no roll under way, `voters` voters (one leader) and `observers`
        observers."""
        s = self.status()
        members = self.ensemble()["members"]
        roles = sorted(m["role"] for m in members)
        want = sorted(["leader"] + ["follower"] * (voters - 1) + ["observer"] * observers)
        roll = s.get("roll") or {}
        rolling = roll.get("target") and not roll.get("completed")
        alive = all(pid_alive(m["pid"]) for m in members)
        if s.get("phase") == "Running" and roles == want and not rolling and alive:
            return members
        return None

    def wait_healthy(self, observers=1, voters=3):
        return harness.wait_until(lambda: self.healthy(observers, voters), timeout=WAIT_S,
                                  interval=0.1,
                                  what=f"{voters} voters + {observers} observers running")

    def client(self):
        return KazooClient(hosts=self.ensemble()["connect"], timeout=10.0)

    def membership(self):
        """/zookeeper/config as the ensemble publishes it: {id: "participant" | "observer"}."""
        zk = self.client()
        zk.start(timeout=15)
        try:
            zk.sync("/zookeeper/config")
            data, _ = zk.get("/zookeeper/config")
        finally:
            zk.stop()
            zk.close()
        out = {}
        for line in data.decode().splitlines():
            if line.startswith("server."):
                key, spec = line.split("=", 1)
                role = "observer" if ":observer" in spec.split(";")[0] else "participant"
                out[int(key[len("server."):])] = role
        return out

    def member(self, role):
        return next(m for m in self.ensemble()["members"] if m["role"] == role)


def roll_of(status):
    return status.get("roll") or {}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = LocalCluster(tmp_path_factory.mktemp("operator-local"))
    c.start_operator()
    yield c
    try:
        c.cleanup()
    finally:
        print("---- operator output ----\n" + c.output()[-6000:])


class Writer(threading.Thread):
    """Creates /w/<n> one after another; a write counts once the server acknowledged it.
    `client_options` go to KazooClient (TLS).

    A write whose answer was lost to a reconnect is retried under the same name, so NodeExists
    on the retry means the first attempt was applied. Any other error is a failed write."""

    def __init__(self, connect, **client_options):
        super().__init__(daemon=True)
        self.zk = KazooClient(hosts=connect, timeout=10.0,
                              connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.5},
                              **client_options)
        self.zk.start(timeout=15)
        self.zk.ensure_path("/w")
        self.acked, self.reconnects, self.errors = [], 0, []
        self.stop_event = threading.Event()

    def run(self):
        n = 0
        while not self.stop_event.is_set():
            path = f"/w/{n:06d}"
            try:
                self.zk.create_async(path, str(n).encode()).get(timeout=5)
            except NodeExistsError:
                pass  # our own earlier attempt landed
            except (ConnectionLoss, ConnectionClosedError, SessionExpiredError,
                    KazooTimeoutError):
                self.reconnects += 1
                self.stop_event.wait(0.05)
                continue
            except Exception as e:  # noqa: BLE001 - every other failure is reported
                self.errors.append(repr(e))
                n += 1
                continue
            self.acked.append(path)
            n += 1

    def finish(self):
        self.stop_event.set()
        self.join(timeout=15)
        assert not self.is_alive(), "writer did not stop"


def test_creates_three_voters_and_one_observer(cluster):
    members = cluster.wait_healthy(observers=1)
    ids = sorted(m["id"] for m in members)
    assert ids == [1, 2, 3, 101]
    for m in members:
        port = int(m["client"].rsplit(":", 1)[1])
        assert "Mode: " + m["role"] in harness.four_letter(port, "srvr")
    ens = cluster.ensemble()
    assert ens["connect"].split(",") == [m["client"] for m in members]
    assert ens["operator_metrics"] == f"127.0.0.1:{cluster.metrics_port}"
    assert "zkCli.sh -server" in cluster.output()
    text = cluster.metrics()
    leader = cluster.member("leader")
    assert re.search(r'zookube_member_up\{[^}]*member="demo-%d"[^}]*role="leader"[^}]*\} 1'
                     % (leader["id"] - 1), text), text
    assert re.search(r"zookube_quorum_healthy\{[^}]*\} 1", text)
    assert re.search(r"zookube_operator_reconcile_total\{[^}]*\} [1-9]", text)
    # Each member serves its own metrics too, where ensemble.json says.
    host, port = leader["metrics"].split(":")
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as r:
        assert r.status == 200 and r.read()


def test_members_know_a_super_user_whose_password_only_the_operator_can_read(cluster):
    members = cluster.wait_healthy(observers=1)
    secret = os.path.join(cluster.state, "super.secret")
    assert os.stat(secret).st_mode & 0o777 == 0o600
    with open(secret) as f:
        password = f.read().strip()
    assert len(password) >= 32
    digest = make_digest_acl_credential("super", password)
    for m in members:
        with open(os.path.join(cluster.state, "members", m["name"], "zoo.cfg")) as f:
            cfg = f.read()
        assert f"DigestAuthenticationProvider.superDigest={digest}\n" in cfg
        assert "reconfigEnabled=true\n" in cfg
    assert cluster.membership() == {1: "participant", 2: "participant", 3: "participant",
                                    101: "observer"}


def test_config_change_rolls_observers_followers_leader_last_without_losing_writes(cluster):
    cluster.wait_healthy(observers=1)
    starts = cluster.starts()
    history_before = len(cluster.history())
    writer = Writer(cluster.ensemble()["connect"])
    writer.start()
    harness.wait_until(lambda: len(writer.acked) >= 20, timeout=WAIT_S, what="writes flowing")
    cluster.spec["spec"]["config"]["maxClientCnxns"] = "250"
    cluster.write_manifest()
    harness.wait_until(lambda: len(cluster.history()) > history_before, timeout=WAIT_S,
                       what="the roll to start")
    members = cluster.wait_healthy(observers=1)
    acked_during = len(writer.acked)
    harness.wait_until(lambda: len(writer.acked) >= acked_during + 20, timeout=WAIT_S,
                       what="writes after the roll")
    writer.finish()

    restarts = cluster.history()[history_before:]
    assert sorted(r["member"] for r in restarts) == sorted(m["name"] for m in members)
    order = {"observer": 0, "follower": 1, "leader": 2}
    roles = [r["role"] for r in restarts]
    assert roles == sorted(roles, key=order.__getitem__), roles
    assert roles[-1] == "leader"
    stepped_down = restarts[-1]["member"]
    assert {name: n - starts[name] for name, n in cluster.starts().items()} == \
        {m["name"]: 1 for m in members}
    # Each member was back in sync before the operator restarted the next.
    out = cluster.output()
    tail = out[out.index("manifest " + cluster.manifest + " changed"):]
    events = re.findall(r"member (\S+) \(\w+\): restarting|member (\S+) back in sync", tail)
    sequence = [("restart", a) if a else ("synced", b) for a, b in events]
    for i, (kind, name) in enumerate(sequence[:-1]):
        if kind == "restart":
            assert sequence[i + 1] == ("synced", name), sequence

    # No acknowledged write lost; no write failed other than by a reconnect.
    assert writer.errors == []
    assert set(writer.acked) <= set("/w/" + c for c in writer.zk.get_children("/w"))
    writer.zk.stop()
    writer.zk.close()
    # The operator's metrics saw the leader restarted last step down.
    text = cluster.metrics()
    assert re.search(r'zookube_member_up\{[^}]*member="%s"[^}]*role="leader"[^}]*\} 0'
                     % stepped_down, text)
    assert re.search(r"zookube_leader_changes_total\{[^}]*\} [1-9]", text)


def test_killed_member_is_restarted_and_rejoins(cluster):
    cluster.wait_healthy(observers=1)
    victim = cluster.member("follower")
    starts = cluster.starts()
    os.kill(victim["pid"], signal.SIGKILL)

    def back():
        m = next(m for m in cluster.ensemble()["members"] if m["name"] == victim["name"])
        return m["pid"] != victim["pid"] and m["role"] in ("follower", "leader")
    harness.wait_until(back, timeout=WAIT_S, what=f"{victim['name']} restarted")
    cluster.wait_healthy(observers=1)
    after = cluster.starts()
    assert after[victim["name"]] == starts[victim["name"]] + 1
    assert {k: v for k, v in after.items() if k != victim["name"]} == \
        {k: v for k, v in starts.items() if k != victim["name"]}
    # The operator's metrics show the recovery, so a member in a crash loop is visible.
    recovered = re.findall(r'zookube_member_restarts_total\{([^}]*)\} (\S+)', cluster.metrics())
    counts = {labels: float(v) for labels, v in recovered if 'reason="recovered"' in labels}
    assert [v for labels, v in counts.items() if f'member="{victim["name"]}"' in labels] == [1.0]
    assert len(counts) == 1, counts
    assert 'role="standalone"' not in cluster.metrics()


def test_operator_killed_mid_roll_finishes_without_restarting_anyone_twice(cluster):
    members = cluster.wait_healthy(observers=1)
    starts = cluster.starts()
    history_before = len(cluster.history())
    cluster.spec["spec"]["config"]["maxClientCnxns"] = "300"
    cluster.write_manifest()
    # Two members restarted: the observer and a follower; the other two are still to go.
    harness.wait_until(lambda: len(cluster.history()) >= history_before + 2, timeout=WAIT_S,
                       interval=0.02, what="the roll half way")
    cluster.kill9_operator()
    target = roll_of(cluster.status()).get("target")
    assert target and not roll_of(cluster.status()).get("completed")
    cluster.start_operator()
    cluster.wait_healthy(observers=1)
    assert roll_of(cluster.status())["target"] == target
    assert {name: n - starts[name] for name, n in cluster.starts().items()} == \
        {m["name"]: 1 for m in members}
    # A restart the killed operator had begun (SIGTERM sent, process still stopping) may be
    # recorded again by the new one; it still starts the member only once, as counted above.
    restarted = {r["member"] for r in cluster.history()[history_before:]}
    assert restarted == {m["name"] for m in members}


def check_writes(writer):
    """No write failed other than by a reconnect, and every acknowledged write is there."""
    writer.finish()
    try:
        assert writer.errors == []
        writer.zk.sync("/w")
        present = set("/w/" + c for c in writer.zk.get_children("/w"))
        assert [p for p in writer.acked if p not in present] == []
    finally:
        writer.zk.stop()
        writer.zk.close()


def voter_starts(cluster, voters=3):
    starts = cluster.starts()
    return {f"demo-{i}": starts[f"demo-{i}"] for i in range(voters)}


def test_observers_scale_by_reconfig_without_restarting_anyone(cluster):
    cluster.wait_healthy(observers=1)
    voters_before = voter_starts(cluster)
    observer0_before = cluster.starts()["demo-observer-0"]
    writer = Writer(cluster.ensemble()["connect"])
    writer.start()
    harness.wait_until(lambda: len(writer.acked) >= 20, timeout=WAIT_S, what="writes flowing")

    cluster.spec["spec"]["observers"] = 3
    cluster.write_manifest()
    members = cluster.wait_healthy(observers=3)
    assert sorted(m["id"] for m in members if m["role"] == "observer") == [101, 102, 103]
    assert cluster.status()["observers"] == 3
    assert cluster.membership() == {1: "participant", 2: "participant", 3: "participant",
                                    101: "observer", 102: "observer", 103: "observer"}
    assert cluster.starts()["demo-observer-0"] == observer0_before
    # A client on a new observer reads what was written before it existed.
    port = next(m for m in members if m["id"] == 103)["client"].rsplit(":", 1)[1]
    zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10.0)
    zk.start(timeout=15)
    try:
        zk.sync("/w")
        assert zk.exists("/w/000000")
    finally:
        zk.stop()
        zk.close()
    acked = len(writer.acked)
    harness.wait_until(lambda: len(writer.acked) >= acked + 20, timeout=WAIT_S,
                       what="writes after scaling up")

    observer_pids = [m["pid"] for m in members if m["role"] == "observer"]
    cluster.spec["spec"]["observers"] = 0
    cluster.write_manifest()
    cluster.wait_healthy(observers=0)
    harness.wait_until(lambda: not any(pid_alive(p) for p in observer_pids), timeout=WAIT_S,
                       what="observer processes gone")
    assert cluster.status()["observers"] == 0
    assert [m["id"] for m in cluster.ensemble()["members"]] == [1, 2, 3]
    assert cluster.membership() == {1: "participant", 2: "participant", 3: "participant"}
    acked = len(writer.acked)
    harness.wait_until(lambda: len(writer.acked) >= acked + 20, timeout=WAIT_S,
                       what="writes after scaling down")
    check_writes(writer)
    assert voter_starts(cluster) == voters_before
    out = cluster.output()
    for name in ("demo-observer-1", "demo-observer-2"):
        assert f"member {name}: added to the ensemble as an observer" in out
    for name in ("demo-observer-0", "demo-observer-1", "demo-observer-2"):
        assert f"member {name}: removed from the ensemble" in out


def test_voters_scale_one_at_a_time_by_reconfig_while_a_client_writes(cluster):
    cluster.wait_healthy(observers=0)
    voters_before = voter_starts(cluster)
    history_before = len(cluster.history())
    writer = Writer(cluster.ensemble()["connect"])
    writer.start()
    harness.wait_until(lambda: len(writer.acked) >= 20, timeout=WAIT_S, what="writes flowing")

    cluster.spec["spec"]["voters"] = 5
    cluster.write_manifest()
    members = cluster.wait_healthy(observers=0, voters=5)
    assert sorted(m["id"] for m in members) == [1, 2, 3, 4, 5]
    assert cluster.membership() == {i: "participant" for i in range(1, 6)}
    assert cluster.status()["voters"] == 5 and cluster.status()["quorumSize"] == 3
    # The new voters joined through the ensemble, one after the other.
    out = cluster.output()
    add4 = out.index("member demo-3: added to the ensemble as a voter")
    assert out.index("member demo-4: added to the ensemble as a voter") > add4
    acked = len(writer.acked)
    harness.wait_until(lambda: len(writer.acked) >= acked + 20, timeout=WAIT_S,
                       what="writes with five voters")

    leaving = [m["pid"] for m in members if m["id"] in (4, 5)]
    cluster.spec["spec"]["voters"] = 3
    cluster.write_manifest()
    members = cluster.wait_healthy(observers=0, voters=3)
    harness.wait_until(lambda: not any(pid_alive(p) for p in leaving), timeout=WAIT_S,
                       what="the removed voters stopped")
    assert sorted(m["id"] for m in members) == [1, 2, 3]
    assert cluster.membership() == {i: "participant" for i in range(1, 4)}
    assert cluster.status()["quorumSize"] == 2
    acked = len(writer.acked)
    harness.wait_until(lambda: len(writer.acked) >= acked + 20, timeout=WAIT_S,
                       what="writes with three voters again")
    check_writes(writer)
    # Membership changed by reconfig alone: no voter restarted, nothing rolled.
    assert voter_starts(cluster) == voters_before
    assert len(cluster.history()) == history_before


def test_operator_killed_while_adding_voters_takes_the_membership_from_the_ensemble(cluster):
    cluster.wait_healthy(observers=0)
    starts = cluster.starts()
    history_before = len(cluster.history())
    cluster.spec["spec"]["voters"] = 5
    cluster.write_manifest()
    added = "member demo-3: added to the ensemble as a voter"
    seen = cluster.output().count(added)
    harness.wait_until(lambda: cluster.output().count(added) > seen, timeout=WAIT_S,
                       interval=0.02, what="demo-3 added")
    cluster.kill9_operator()
    # Nothing about membership is in the operator's files: the ensemble has it.
    assert cluster.membership()[4] == "participant"
    cluster.start_operator()
    cluster.wait_healthy(observers=0, voters=5)
    assert cluster.membership() == {i: "participant" for i in range(1, 6)}
    after = cluster.starts()
    assert {name: after[name] - starts.get(name, 0) for name in after if name.startswith(
        "demo-") and not name.startswith("demo-observer")} == \
        {"demo-0": 0, "demo-1": 0, "demo-2": 0, "demo-3": 1, "demo-4": 1}

    cluster.spec["spec"]["voters"] = 3
    cluster.write_manifest()
    cluster.wait_healthy(observers=0, voters=3)
    assert cluster.membership() == {i: "participant" for i in range(1, 4)}
    assert len(cluster.history()) == history_before


def test_invalid_manifest_is_refused_and_what_runs_keeps_running(cluster):
    members = cluster.wait_healthy(observers=0)
    starts = cluster.starts()
    good = json.loads(json.dumps(cluster.spec))
    cluster.spec["spec"]["voters"] = 4
    cluster.spec["spec"]["config"]["dataDir"] = "/elsewhere"
    cluster.write_manifest()
    harness.wait_until(lambda: cluster.status().get("phase") == "Invalid", timeout=WAIT_S,
                       what="status Invalid")
    out = cluster.output()
    assert "spec.voters: must be odd, got 4" in out
    assert "spec.config.dataDir: is set by the operator and cannot be overridden" in out
    degraded = next(c for c in cluster.status()["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True" and degraded["reason"] == "InvalidSpec"

    # A member that dies meanwhile is started again on the last rendering that was applied.
    victim = next(m for m in members if m["role"] == "follower")
    os.kill(victim["pid"], signal.SIGKILL)
    harness.wait_until(lambda: cluster.starts()[victim["name"]] == starts[victim["name"]] + 1,
                       timeout=WAIT_S, what="the killed member started again")
    assert cluster.status()["phase"] == "Invalid"

    cluster.spec = good
    cluster.write_manifest()
    after = cluster.wait_healthy(observers=0)
    assert sorted(m["name"] for m in after) == sorted(m["name"] for m in members)
    starts[victim["name"]] += 1
    assert cluster.starts() == starts


def test_sigterm_stops_every_member_and_keeps_the_data(cluster):
    cluster.wait_healthy(observers=0)
    cluster.proc.send_signal(signal.SIGTERM)
    assert cluster.proc.wait(timeout=WAIT_S) == 0
    assert server_pids_under(cluster.state) == []
    cluster.start_operator()
    members = cluster.wait_healthy(observers=0)
    zk = KazooClient(hosts=",".join(m["client"] for m in members), timeout=10.0)
    zk.start(timeout=15)
    try:
        assert zk.exists("/w/000000")
    finally:
        zk.stop()
        zk.close()
