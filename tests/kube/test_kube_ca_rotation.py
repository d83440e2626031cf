"""Rotating the operator's CA under a TLS quorum of real members (kubelet.py runs zookube-server
for each pod and rewrites the Secret volumes' files in place) while a kazoo client writes.

The zookube.dev/rotate-ca annotation starts it, and so does a new CA in the Secret that
spec.tls.caSecretRef names: both CAs trusted, then member certificates from the new one, then the
old one dropped, each step an Event and status.tls.caRotation; no member is restarted, no
acknowledged write is lost, no quorum warning is raised.
"""

import copy
import subprocess

from kazoo.client import KazooClient

from test_kube_member_tls import events, put_secret, secret_files, users_ca
from test_kube_operator import CLUSTER, ZK, cluster
from test_kube_reconfig import (QUORUM_WARNINGS, Writer, history, operator_running, ports,
                                ports_below_ephemeral, wait_until)


def create(api, **tls):
    obj = copy.deepcopy(CLUSTER)
    p = ports()
    p["secureClient"] = ports_below_ephemeral.free_block(100)
    obj["spec"].update({"voters": 3, "observers": 0, "ports": p,
                        "tls": {"client": "both", "clientAuth": "none", "quorum": True,
                                "caRotationStep": "4s", **tls},
                        "config": {"tickTime": "200", "initLimit": "20", "syncLimit": "10"}})
    with api.store.lock:
        api.store.create(*ZK, obj)


def annotate(api, value):
    def edit(old):
        old["metadata"].setdefault("annotations", {})["zookube.dev/rotate-ca"] = value
        return old
    with api.store.lock:
        api.store.write(*ZK, "demo", None, edit, "update", "kubectl")


def running(api):
    status = cluster(api).get("status", {})
    return status.get("phase") == "Running" and status.get("readyMembers") == 3


def issued_by(tmp_path, ca_pem, keystore):
    (tmp_path / "ca.pem").write_text(ca_pem)
    (tmp_path / "leaf.pem").write_text(keystore[keystore.index("-----BEGIN CERTIFICATE"):])
    r = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"),
                        str(tmp_path / "leaf.pem")], capture_output=True, timeout=30)
    return r.returncode == 0


def rotates_under_writes(api, kubelet, log, path, change):
    """Makes `change` while a kazoo client writes under `path`, and waits for the CA rotation it
    starts to complete: its three steps, no lost write, no restart, no quorum warning."""
    started = list(kubelet.starts)
    zk = KazooClient(hosts=kubelet.connect_string(), timeout=10)
    zk.start(timeout=20)
    parent = zk.create(path)
    phases = set()

    def rotated():
        phases.add(cluster(api)["status"].get("tls", {}).get("caRotation", ""))
        done = any(e["reason"] == "CARotationCompleted" for e in events(api))
        return done and running(api)

    with Writer(zk, parent) as writer:
        writer.wait_for_more()
        change()
        wait_until(rotated, "the CA rotated", log, kubelet, timeout=120)
        writer.wait_for_more()
    assert writer.failures == []
    assert writer.lost() == []
    zk.stop()
    zk.close()
    reasons = [e["reason"] for e in events(api)]
    for step in ("CARotationStarted", "CARotationSwitched", "CARotationCompleted"):
        assert step in reasons, reasons
    assert {"Trusting", "Switched"} <= phases, phases
    assert kubelet.starts == started, "a member was restarted"
    warned = [s for s in history(api) if s[0] == "event" and s[1] in QUORUM_WARNINGS]
    assert warned == [], warned


def test_an_annotation_rotates_the_ca_with_no_restart_and_no_lost_write(api, kubelet, tmp_path):
    create(api)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api), "3 voters with a TLS quorum running", log, kubelet)
        old_ca = secret_files(api, "demo-zk-ca")["tls.crt"]
        rotates_under_writes(api, kubelet, log, "/rotation",
                             lambda: annotate(api, "2026-12-05"))
    ca = secret_files(api, "demo-zk-ca")
    assert ca["tls.crt"] != old_ca
    assert not {"next.crt", "next.key", "previous.crt"} & set(ca), sorted(ca)
    members = secret_files(api, "demo-zk-tls")
    assert members["ca.crt"] == ca["tls.crt"]  # only the new CA is trusted
    for pod in ("demo-0", "demo-1", "demo-2"):
        assert issued_by(tmp_path, ca["tls.crt"], members[f"{pod}.pem"]), pod
        assert not issued_by(tmp_path, old_ca, members[f"{pod}.pem"]), pod


def secure_hosts(api):
    with api.store.lock:
        cfgs = api.store.get("v1", "configmaps", "default", "demo-config")["data"]
    ports = [line.split("=", 1)[1] for pod in ("demo-0", "demo-1", "demo-2")
             for line in cfgs[f"{pod}.cfg"].splitlines() if line.startswith("secureClientPort=")]
    return ",".join(f"127.0.0.1:{port}" for port in ports)


def test_a_new_ca_in_the_users_secret_is_rolled_to_in_three_steps(api, kubelet, tmp_path):
    first = users_ca(tmp_path / "first")
    put_secret(api, "users-ca", first)
    create(api, caSecretRef={"name": "users-ca"})
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api), "3 voters on the user's CA", log, kubelet)
        old_ca = (tmp_path / "first" / "ca.pem").read_text()
        members = secret_files(api, "demo-zk-tls")
        assert all(issued_by(tmp_path, old_ca, members[f"demo-{i}.pem"]) for i in range(3))
        second = {}

        def replace():
            second.update(users_ca(tmp_path / "second"))
            put_secret(api, "users-ca", second)
        rotates_under_writes(api, kubelet, log, "/users-rotation", replace)
        new_ca = (tmp_path / "second" / "ca.pem").read_text()
        # A client that trusts only the new CA gets a TLS session.
        secure = KazooClient(hosts=secure_hosts(api), timeout=10, use_ssl=True,
                             ca=str(tmp_path / "second" / "ca.pem"), verify_certs=True)
        secure.start(timeout=20)
        assert secure.exists("/users-rotation")
        secure.stop()
        secure.close()
        started_event = [e for e in events(api) if e["reason"] == "CARotationStarted"]
        assert len(started_event) == 1, started_event
        assert "Secret default/users-ca (spec.tls.caSecretRef) holds a new CA" in \
            started_event[0]["message"]
    with api.store.lock:
        assert api.store.get("v1", "secrets", "default", "users-ca")["data"] == second
    state = secret_files(api, "demo-zk-ca")
    assert state["tls.crt"].strip() == new_ca.strip()
    assert not {"next.crt", "next.key", "previous.crt"} & set(state), sorted(state)
    members = secret_files(api, "demo-zk-tls")
    assert members["ca.crt"].strip() == new_ca.strip()  # only the new CA is trusted
    for pod in ("demo-0", "demo-1", "demo-2"):
        assert issued_by(tmp_path, new_ca, members[f"{pod}.pem"]), pod
        assert not issued_by(tmp_path, old_ca, members[f"{pod}.pem"]), pod
