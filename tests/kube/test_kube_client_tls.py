"""spec.tls in Kubernetes mode against the stand-in API server: the operator's CA Secret, the
members' keystores Secret (every object validated by the stand-in against the OpenAPI documents),
the pod template mounting it read-only, and a second pass that rewrites nothing. End-to-end
kazoo over TLS against members run by the kubelet stand-in: test_kube_member_tls.py.
"""

import base64
import datetime
import os
import re
import subprocess
import sys
import time
import urllib.request

from kube_harness import REPO, find_binary
from test_kube_operator import ROLES, ZK, create_cluster, with_members

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import ports  # noqa: E402


def secret(api, name):
    with api.store.lock:
        return api.store.get("v1", "secrets", "default", name)


def files(obj):
    return {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}


def verifies(tmp_path, ca_pem, cert_pem):
    (tmp_path / "ca.crt").write_text(ca_pem)
    (tmp_path / "leaf.pem").write_text(cert_pem)
    r = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "ca.crt"),
                        str(tmp_path / "leaf.pem")], capture_output=True, text=True, timeout=30)
    return r.returncode == 0


def test_operator_issues_a_ca_and_every_members_keystore_once(api, operator, tmp_path):
    with_members(api)
    create_cluster(api, {"tls": {"client": "both", "clientAuth": "need"}})
    operator.run(2)
    ca = files(secret(api, "demo-zk-ca"))
    assert set(ca) == {"tls.crt", "tls.key"}
    tls = secret(api, "demo-zk-tls")
    keystores = files(tls)
    assert set(keystores) == {"ca.crt"} | {f"{pod}.pem" for pod in ROLES}
    assert keystores["ca.crt"].strip() == ca["tls.crt"].strip()
    for pod in ROLES:
        text = keystores[f"{pod}.pem"]
        assert text.index("PRIVATE KEY") < text.index("BEGIN CERTIFICATE")
        assert verifies(tmp_path, ca["tls.crt"], text)
    with api.store.lock:
        sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
    pod_spec = sts["spec"]["template"]["spec"]
    assert {"name": "tls", "secret": {"secretName": "demo-zk-tls", "defaultMode": 0o440}} in \
        pod_spec["volumes"]
    mount = next(m for m in pod_spec["containers"][0]["volumeMounts"] if m["name"] == "tls")
    assert mount == {"name": "tls", "mountPath": "/etc/zookube/tls", "readOnly": True}
    ports = {p["name"] for p in pod_spec["containers"][0]["ports"]}
    assert {"client", "client-tls"} <= ports
    # Nothing is due: further passes leave both Secrets as they are.
    operator.run(2)
    assert secret(api, "demo-zk-tls")["metadata"]["resourceVersion"] == \
        tls["metadata"]["resourceVersion"]
    assert files(secret(api, "demo-zk-ca")) == ca


def test_a_missing_users_secret_holds_everything_and_says_which(api, operator):
    """spec.tls.secretRef naming no Secret: Degraded SecretMissing, nothing applied."""
    with_members(api)
    create_cluster(api, {"tls": {"client": "on", "secretRef": {"name": "zk-certs"}}})
    operator.run(2, expect_ok=False)
    with api.store.lock:
        status = api.store.get("zookube.dev/v1alpha1", "zkclusters", "default", "demo")["status"]
        sts = [k for k in api.store.objects if k[1] == "statefulsets"]
        events = [o for o in api.store.objects.values() if o["kind"] == "Event"]
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True" and degraded["reason"] == "SecretMissing", degraded
    assert "Secret default/zk-certs (spec.tls.secretRef) does not exist" in degraded["message"]
    assert [e["reason"] for e in events if e["type"] == "Warning"] == ["SecretMissing"]
    assert sts == []


def not_after(tmp_path, pem):
    """A certificate's notAfter as Unix time, read by openssl."""
    (tmp_path / "cert.pem").write_text(pem)
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in",
                          str(tmp_path / "cert.pem")], capture_output=True, text=True, timeout=30,
                         check=True).stdout
    when = out.strip().split("=", 1)[1]
    return int(datetime.datetime.strptime(when, "%Y-%m-%d %H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def test_kubernetes_mode_exports_each_members_certificate_expiry(api, tmp_path):
    """zookube-operator itself (not the self-test) in Kubernetes mode: its /metrics has
    zookube_certificate_expiry_seconds per member, the notAfter of the certificate in the
    members' Secret; status.tls says the same."""
    with_members(api)
    create_cluster(api, {"tls": {"client": "both"}})
    port = ports.free_port()
    binary = find_binary("zookube-operator", "operator")
    log_path = tmp_path / "operator.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, "--kubeconfig", api.kubeconfig, "--namespace", "default",
                                 "--metrics-address", f"127.0.0.1:{port}",
                                 "--resync-seconds", "1"], stdout=log, stderr=subprocess.STDOUT)
    try:
        def exported():
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                              timeout=5).read().decode()
            except OSError:
                return None
            found = dict(re.findall(r'zookube_certificate_expiry_seconds\{cluster="demo",'
                                    r'member="([a-z0-9-]+)"\} ([0-9.e+]+)', text))
            return found if set(found) == set(ROLES) else None
        deadline = time.monotonic() + 60
        found = exported()
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)  # polls the operator's metrics; the deadline bounds it
            found = exported()
        assert found, log_path.read_text()[-4000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    keystores = files(secret(api, "demo-zk-tls"))
    with api.store.lock:
        tls = api.store.get(*ZK, "demo")["status"]["tls"]
    listed = {m["name"]: m["notAfter"] for m in tls["members"]}
    for member, value in found.items():
        expected = not_after(tmp_path, keystores[f"{member}.pem"])
        assert float(value) == expected, (member, value, expected)
        assert listed[member] == datetime.datetime.fromtimestamp(
            expected, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
