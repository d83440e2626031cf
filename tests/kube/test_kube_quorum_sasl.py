"""spec.auth.quorum turned on for a running ensemble of real members (the kubelet stand-in runs
zookube-server for each pod, kubelet.py) while a kazoo client keeps writing.

What it shows: one spec change walks ZooKeeper's three rolling steps (enableSasl, then
learnerRequireSasl, then serverRequireSasl), each a roll that starts only once every member is
back in sync; status.quorumSASL says which step; no acknowledged write is lost, the writer sees no
error beyond reconnects, no quorum warning is raised. At the end every member has authenticated
its peers (mntr), a peer that does not authenticate is shut out, and the password the operator
made is in its own Secret and the members' JAAS file only.
"""

import base64
import copy
import json
import socket
import struct

from kazoo.client import KazooClient

from test_kube_operator import CLUSTER, ZK, change_spec, cluster
from test_kube_reconfig import (QUORUM_WARNINGS, Writer, four, history, operator_running, ports,
                                wait_until)

MEMBERS = ("demo-0", "demo-1", "demo-2")


def create(api):
    obj = copy.deepcopy(CLUSTER)
    obj["spec"].update({"voters": 3, "observers": 0, "ports": ports(),
                        "config": {"tickTime": "200", "initLimit": "20", "syncLimit": "10"}})
    with api.store.lock:
        api.store.create(*ZK, obj)


def quorum_sasl(api):
    return cluster(api).get("status", {}).get("quorumSASL", {})


def running(api):
    status = cluster(api).get("status", {})
    return status.get("phase") == "Running" and status.get("readyMembers") == 3


def mntr(kubelet, pod, key):
    for line in four(kubelet.client_port(pod), "mntr").splitlines():
        name, _, value = line.partition("\t")
        if name in (key, "zk_" + key):
            return int(float(value))
    return None


def stranger_is_shut_out(port):
    """An election connection from "member 9" that sends a vote where its SASL exchange should be:
    True when the member closes it."""
    body = struct.pack(">qi", 9, len("127.0.0.1:1")) + b"127.0.0.1:1"
    hello = struct.pack(">qi", -65536, len(body)) + body
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(hello + struct.pack(">i", 40) + b"\0" * 40)
        sock.settimeout(10)
        try:
            return sock.recv(100) == b""
        except ConnectionResetError:
            return True


def test_quorum_sasl_is_turned_on_in_three_rolls_under_writes(api, kubelet, tmp_path):
    create(api)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api), "3 voters running", log, kubelet)
        assert quorum_sasl(api) == {}
        zk = KazooClient(hosts=kubelet.connect_string(), timeout=10)
        zk.start(timeout=20)
        parent = zk.create("/quorum-sasl")
        seen = []

        def migrated():
            q = quorum_sasl(api)
            if q.get("migration") and (not seen or seen[-1] != q["migration"]):
                seen.append(q["migration"])
            done = any(s[:2] == ("event", "QuorumSASLEnabled") for s in history(api))
            return (q.get("stage") == "ServerRequired" and "migration" not in q and
                    running(api) and done)

        with Writer(zk, parent) as writer:
            writer.wait_for_more()
            change_spec(api, auth={"quorum": {"enabled": True}})
            wait_until(migrated, "the quorum to require SASL", log, kubelet, timeout=300)
            writer.wait_for_more()
        assert writer.failures == []
        assert writer.lost() == []
        zk.stop()
        zk.close()
        assert quorum_sasl(api)["mechanism"] == "DIGEST-MD5"
        steps = [s for s in seen if s.startswith("enabling, step")]
        assert [s[:19] for s in steps] == [f"enabling, step {i} of" for i in (1, 2, 3)], seen
        reasons = [s[1] for s in history(api) if s[0] == "event"]
        assert reasons.count("QuorumSASLStep") == 3 and "QuorumSASLEnabled" in reasons, reasons
        warned = [s for s in history(api) if s[0] == "event" and s[1] in QUORUM_WARNINGS]
        assert warned == [], warned
        # Three rolls, each restarting every member once.
        order = api.store.deleted_pods
        assert len(order) == 9, order
        for roll in (order[0:3], order[3:6], order[6:9]):
            assert sorted(roll) == list(MEMBERS), order
        # Every member, as it now runs, authenticated its peers (or was authenticated by them);
        # a peer that does not authenticate is closed and counted.
        for pod in MEMBERS:
            assert mntr(kubelet, pod, "quorum_sasl_auth_success") > 0, pod
            assert "quorum SASL: authenticated" in kubelet.log_of(pod), pod
        leader = cluster(api)["status"]["leader"]
        ordinal = int(leader.rsplit("-", 1)[1])
        failed = mntr(kubelet, leader, "quorum_sasl_auth_fail")
        election = cluster(api)["spec"]["ports"]["election"] + ordinal
        assert stranger_is_shut_out(election)
        wait_until(lambda: mntr(kubelet, leader, "quorum_sasl_auth_fail") > failed,
                   "the stranger counted as a failed quorum login", log, kubelet, timeout=10)
    with api.store.lock:
        cfg = api.store.get("v1", "configmaps", "default", "demo-config")["data"]["demo-1.cfg"]
        made = api.store.get("v1", "secrets", "default", "demo-quorum-auth")
        members = api.store.get("v1", "secrets", "default", "demo-super-digest")
        shown = json.dumps([o for o in api.store.objects.values()
                            if o["kind"] in ("ConfigMap", "Event", "ZkCluster", "StatefulSet")])
    assert "\nquorum.auth.serverRequireSasl=true\n" in cfg, cfg
    assert made["metadata"]["ownerReferences"][0]["kind"] == "ZkCluster"
    password = base64.b64decode(made["data"]["password"]).decode()
    assert len(password) >= 16 and password not in shown
    jaas = base64.b64decode(members["data"]["jaas.conf"]).decode()
    assert f'user_zookube-member="{password}"' in jaas and "QuorumLearner {" in jaas, jaas
