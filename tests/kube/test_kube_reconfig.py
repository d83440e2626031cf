"""Voters and observers join and leave by reconfig on Kubernetes, and a roll restarts them, with
real members.

The stand-in API server plays Kubernetes; a kubelet stand-in (kubelet.py) runs a real
zookube-server for every pod, configured from the ConfigMap and the super digest Secret the
operator applied. The operator reads the membership from the leader's `conf` and reconfigures
through the members' client ports as the super user, as it does in a cluster.
"""

import base64
import contextlib
import copy
import os
import socket
import subprocess
import sys
import time

import pytest
from kazoo.client import KazooClient

from kube_harness import REPO, Operator
from test_kube_operator import CLUSTER, ZK, change_spec, cluster

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from writer import Writer  # noqa: E402
import ports as ports_below_ephemeral  # noqa: E402


@pytest.fixture(autouse=True)
def pods_gone(api):
    """Pods a StatefulSet's scale-down removes, with how many writes came before: the stand-in
    drops them without a write of their own."""
    gone = []
    drop = api.store.drop

    def recording_drop(key):
        if key[1] == "pods":
            gone.append((len(api.store.writes), key[3]))
        return drop(key)
    api.store.drop = recording_drop
    return gone


def ports():
    """Ports no other test uses at the same time; members add their own offset (render.h)."""
    base = ports_below_ephemeral.free_block(500)
    return {"client": base, "quorum": base + 100, "election": base + 200,
            "metrics": base + 300, "admin": base + 400}


def create(api, voters, observers=0, secret=None):
    obj = copy.deepcopy(CLUSTER)
    obj["spec"].update({"voters": voters, "observers": observers, "ports": ports(),
                        "config": {"tickTime": "200", "initLimit": "20", "syncLimit": "10"}})
    if secret:
        obj["spec"]["superUserSecret"] = {"name": secret}
    with api.store.lock:
        api.store.create(*ZK, obj)


def put_password(api, name, password):
    secret = {"apiVersion": "v1", "kind": "Secret",
              "metadata": {"name": name, "namespace": "default"},
              "data": {"password": base64.b64encode(password.encode()).decode()}}
    with api.store.lock:
        if ("v1", "secrets", "default", name) in api.store.objects:
            api.store.write("v1", "secrets", "default", name, None,
                            lambda old: dict(old, data=secret["data"]), "update", "kubectl")
        else:
            api.store.create("v1", "secrets", "default", secret)


def four(port, word):
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(word.encode())
        out = b""
        while chunk := s.recv(4096):
            out += chunk
    return out.decode()


def membership(kubelet):
    """{myid: "participant" | "observer"} as the leader states it; {} while none leads."""
    for pod in list(kubelet.processes):
        try:
            if "Mode: leader" not in four(kubelet.client_port(pod), "srvr"):
                continue
            conf = four(kubelet.client_port(pod), "conf")
        except (OSError, KeyError):
            continue
        out = {}
        for line in conf.splitlines():
            if line.startswith("server."):
                sid, spec = line[len("server."):].split("=", 1)
                out[int(sid)] = spec.split(";")[0].rsplit(":", 1)[1]
        return out
    return {}


def voters(*ids):
    return {i: "participant" for i in ids}


@contextlib.contextmanager
def operator_running(api, kubelet, tmp_path):
    """The operator reconciling every 200 ms until the block ends (SIGTERM)."""
    op = Operator(api, real_members=kubelet)
    log_path = tmp_path / "operator.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(op.command(0, interval_ms=200), stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        yield log_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_until(predicate, what, log_path, kubelet, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)  # polls a condition the members decide; the deadline bounds it
    logs = "\n".join(f"--- {p}\n{kubelet.log_of(p)[-3000:]}" for p in list(kubelet.processes))
    refused = f"--- pods the kubelet stand-in refused: {kubelet.refusals}\n" \
        if kubelet.refusals else ""
    pytest.fail(f"{what} within {timeout} s\n{refused}--- operator\n"
                f"{log_path.read_text()[-6000:]}\n{logs}")


# Warnings that mean something happened that the operator did not plan.
QUORUM_WARNINGS = {"QuorumLost", "QuorumUnhealthy"}
UNPLANNED = QUORUM_WARNINGS | {"MembersNotReady"}


def history(api, pods_gone=()):
    """What happened, in order: ("event", reason, message), ("pod", "create" | "delete", name)
    and ("pod", "gone", name) for a pod its StatefulSet's scale-down removed."""
    with api.store.lock:
        events = {o["metadata"]["name"]: o for o in api.store.objects.values()
                  if o["kind"] == "Event"}
        gone = sorted(pods_gone)
        out = []
        for i, w in enumerate(api.store.writes):
            out += [("pod", "gone", name) for before, name in gone if before == i]
            if w["kind"] == "Event" and w["name"] in events:
                out.append(("event", events[w["name"]]["reason"], events[w["name"]]["message"]))
            elif w["kind"] == "Pod" and w["verb"] in ("create", "delete"):
                out.append(("pod", w["verb"], w["name"]))
        out += [("pod", "gone", name) for before, name in gone if before >= len(api.store.writes)]
        return out


def position(steps, step):
    assert step in steps, steps
    return steps.index(step)


def added(api, pod):
    """The MemberAdded event for `pod`, or None while there is none."""
    return next((s for s in history(api) if s[:2] == ("event", "MemberAdded") and
                 s[2].startswith(pod + " ")), None)


def test_voters_join_and_leave_one_at_a_time_by_reconfig(api, kubelet, tmp_path, pods_gone):
    create(api, voters=3)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3), "3 voters", log, kubelet)
        zk = KazooClient(hosts=kubelet.connect_string(), timeout=10)
        zk.start(timeout=20)
        zk.create("/kept", b"before scaling")
        change_spec(api, voters=5)
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3, 4, 5), "5 voters", log,
                   kubelet)
        wait_until(lambda: cluster(api).get("status", {}).get("phase") == "Running",
                   "Running with 5 voters", log, kubelet)
        steps = history(api)
        # demo-4's pod exists only once demo-3 has a vote: one member joins at a time.
        assert position(steps, added(api, "demo-3")) < position(steps, ("pod", "create", "demo-4"))
        assert position(steps, ("pod", "create", "demo-4")) < position(steps, added(api, "demo-4"))
        zk.set("/kept", b"with five voters")

        change_spec(api, voters=3)
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3) and
                   not {"demo-3", "demo-4"} & set(kubelet.processes),
                   "back to 3 voters, the two pods gone", log, kubelet)
        steps = history(api, pods_gone)
        removed = [s for s in steps if s[:2] == ("event", "MemberRemoved")]
        assert [s[2].split(" ")[0] for s in removed] == ["demo-4", "demo-3"], removed
        # Out of the ensemble before its pod goes, never the other way round.
        for pod, event in zip(("demo-4", "demo-3"), removed):
            assert position(steps, event) < position(steps, ("pod", "gone", pod))
        assert position(steps, ("pod", "gone", "demo-4")) < position(steps, removed[1])
        value, _ = zk.get("/kept")
        assert value == b"with five voters"
        zk.stop()
        zk.close()
    # Nobody named a Secret: the operator made a password once, owned by the cluster.
    with api.store.lock:
        made = api.store.get("v1", "secrets", "default", "demo-super")
    owner = made["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("ZkCluster", "demo")


def test_an_observer_joins_by_reconfig_with_the_users_credentials(api, kubelet, tmp_path):
    put_password(api, "zk-admin", "the users own password")
    create(api, voters=3, secret="zk-admin")
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3), "3 voters", log, kubelet)
        wait_until(lambda: cluster(api).get("status", {}).get("readyMembers") == 3,
                   "3 members ready", log, kubelet)
        # What happened from here on is the addition's alone (the creation's own waits for
        # members to start are not what this test is about).
        before = len(history(api))
        change_spec(api, observers=1)
        wait_until(lambda: membership(kubelet) == {**voters(1, 2, 3), 101: "observer"},
                   "the observer in the ensemble", log, kubelet)
        # The ensemble shows the observer as soon as the reconfig commits; the operator's
        # event follows once the reconfig call has returned to it.
        wait_until(lambda: added(api, "demo-observer-0") is not None,
                   "the MemberAdded event for the observer", log, kubelet)
        assert "as an observer" in added(api, "demo-observer-0")[2]
        wait_until(lambda: "Mode: observer" in four(kubelet.client_port("demo-observer-0"),
                                                    "srvr"),
                   "the observer serving", log, kubelet)
        wait_until(lambda: cluster(api)["status"]["readyMembers"] == 4, "4 members ready", log,
                   kubelet)
        # Adding it was planned: no warning that members are not ready.
        warned = [s for s in history(api)[before:] if s[0] == "event" and s[1] in UNPLANNED]
        assert warned == [], warned
    with api.store.lock:
        assert ("v1", "secrets", "default", "demo-super") not in api.store.objects


def test_a_new_password_rolls_the_members_onto_it(api, kubelet, tmp_path):
    put_password(api, "zk-admin", "first password")
    create(api, voters=3, secret="zk-admin")
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3) and
                   cluster(api).get("status", {}).get("phase") == "Running",
                   "3 voters running", log, kubelet)
        leader = cluster(api)["status"]["leader"]
        # Each member reads the digest only when it starts: a new password restarts them all,
        # leader last, and the operator's next reconfig goes through with it.
        put_password(api, "zk-admin", "the second password")
        wait_until(lambda: len(api.store.deleted_pods) == 3 and
                   (cluster(api)["status"].get("roll") or {}).get("completed") and
                   cluster(api)["status"]["phase"] == "Running",
                   "the roll onto the new password", log, kubelet, timeout=120)
        assert api.store.deleted_pods[-1] == leader, api.store.deleted_pods
        change_spec(api, observers=1)
        wait_until(lambda: membership(kubelet) == {**voters(1, 2, 3), 101: "observer"},
                   "the observer added with the new password", log, kubelet)
    assert not [s for s in history(api) if s[:2] == ("event", "ReconfigFailed")]


def test_a_refused_reconfig_is_reported_and_removes_nothing(api, kubelet, tmp_path):
    put_password(api, "zk-admin", "the operators password")
    # The members run with a digest the operator does not know (their config edited by hand).
    kubelet.digest_override = ("DigestAuthenticationProvider.superDigest="
                               "super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n")
    create(api, voters=3, secret="zk-admin")
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3), "3 voters", log, kubelet)
        change_spec(api, voters=1)
        wait_until(lambda: any(s[:2] == ("event", "ReconfigFailed") for s in history(api)),
                   "a ReconfigFailed event", log, kubelet)
        failed = next(s for s in history(api) if s[:2] == ("event", "ReconfigFailed"))
        assert failed[2].startswith("removing demo-2: "), failed
        assert "NOAUTH" in failed[2] or "auth" in failed[2].lower(), failed
        assert membership(kubelet) == voters(1, 2, 3)
        assert not [s for s in history(api) if s[:2] == ("pod", "delete")]
        assert {"demo-0", "demo-1", "demo-2"} <= set(kubelet.processes)


def test_a_roll_restarts_real_members_leader_last_and_loses_no_write(api, kubelet, tmp_path):
    create(api, voters=3, observers=1)
    with operator_running(api, kubelet, tmp_path) as log:
        everyone = {**voters(1, 2, 3), 101: "observer"}
        wait_until(lambda: membership(kubelet) == everyone and
                   cluster(api).get("status", {}).get("phase") == "Running",
                   "3 voters and an observer running", log, kubelet)
        leader = cluster(api)["status"]["leader"]
        zk = KazooClient(hosts=kubelet.connect_string(), timeout=10)
        zk.start(timeout=20)
        parent = zk.create("/roll")
        with Writer(zk, parent) as writer:
            writer.wait_for_more()
            change_spec(api, config={"tickTime": "250", "initLimit": "20", "syncLimit": "10"})
            wait_until(lambda: (cluster(api)["status"].get("roll") or {}).get("completed") and
                       len(api.store.deleted_pods) == 4 and
                       cluster(api)["status"]["phase"] == "Running",
                       "the roll to finish", log, kubelet, timeout=120)
            writer.wait_for_more()
        order = api.store.deleted_pods
        assert order[0] == "demo-observer-0" and order[-1] == leader, order
        # Every restart was planned, the leader's election included: no quorum warning.
        warned = [s for s in history(api) if s[0] == "event" and s[1] in QUORUM_WARNINGS]
        assert warned == [], warned
        assert writer.failures == []
        assert writer.lost() == []
        assert len(writer.acked) >= 40
        zk.stop()
        zk.close()
    # Every member was restarted once, onto the new config.
    assert sorted(kubelet.starts) == sorted(
        ["demo-0", "demo-1", "demo-2", "demo-observer-0"] * 2), kubelet.starts
