"""spec.tls.client: on in Kubernetes mode, with real members (the kubelet stand-in runs
zookube-server for each pod and mounts the operator's TLS Secret as files, kubelet.py).

What it shows: kazoo with a client certificate from the cluster's CA works and plaintext gets no
session; every member's readiness probe, as the pod template states it, passes over TLS; the
operator observes the members and reconfigures the ensemble through its TLS relay (the C client
it reconfigures with has no TLS, tls_relay.h); no member listens for plaintext clients.
"""

import base64
import copy
import subprocess

import pytest
from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError

from certs import make_ca
from kube_harness import find_binary
from roll_watch import RollWatch
from test_kube_operator import CLUSTER, ZK, change_spec, cluster
from test_kube_reconfig import (added, history, operator_running, ports, ports_below_ephemeral,
                                wait_until)
from writer import Writer


def create_tls_cluster(api, voters, tls):
    obj = copy.deepcopy(CLUSTER)
    p = ports()
    p["secureClient"] = ports_below_ephemeral.free_block(100)
    obj["spec"].update({"voters": voters, "observers": 0, "ports": p, "tls": tls,
                        "config": {"tickTime": "200", "initLimit": "20", "syncLimit": "10"}})
    with api.store.lock:
        api.store.create(*ZK, obj)


def secret_files(api, name):
    with api.store.lock:
        data = api.store.get("v1", "secrets", "default", name)["data"]
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


@pytest.fixture
def client_pki(api, tmp_path):
    """Returns a function writing the cluster CA and a client certificate it signs."""
    def make():
        ca = secret_files(api, "demo-zk-ca")
        d = tmp_path / "client"
        d.mkdir(exist_ok=True)
        (d / "ca.crt").write_text(ca["tls.crt"])
        (d / "ca.key").write_text(ca["tls.key"])
        run = dict(cwd=d, check=True, capture_output=True, timeout=60)
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client.key", "-out",
                        "client.csr", "-subj", "/CN=a client"], **run)
        subprocess.run(["openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt",
                        "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-out",
                        "client.crt"], **run)
        return d
    return make


def session(hosts, pki=None):
    """A started kazoo client, over TLS with the client certificate when `pki` is given."""
    kwargs = {}
    if pki:
        kwargs = dict(use_ssl=True, ca=str(pki / "ca.crt"), verify_certs=True,
                      certfile=str(pki / "client.crt"), keyfile=str(pki / "client.key"))
    zk = KazooClient(hosts=hosts, timeout=10, **kwargs)
    try:
        zk.start(timeout=6)
    except KazooTimeoutError:
        zk.close()
        return None
    return zk


def running(api, members):
    status = cluster(api).get("status", {})
    return status.get("phase") == "Running" and status.get("readyMembers") == members


def test_tls_only_members_serve_tls_clients_and_the_operator_reconfigures_them(
        api, kubelet, tmp_path, client_pki):
    create_tls_cluster(api, 3, {"client": "on", "clientAuth": "need"})
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api, 3), "3 TLS-only voters running", log, kubelet)
        with api.store.lock:
            cm = api.store.get("v1", "configmaps", "default", "demo-config")["data"]
            sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
        for pod in ("demo-0", "demo-1", "demo-2"):
            assert "\nclientPort=" not in cm[f"{pod}.cfg"] and "secureClientPort=" in cm[
                f"{pod}.cfg"]
        # The pod template's probes, as the kubelet would run them in the container, where the
        # member's zoo.cfg is /data/zoo.cfg (kubelet.py's container_path: under the pod's root).
        container = sts["spec"]["template"]["spec"]["containers"][0]
        for probe in ("readinessProbe", "livenessProbe"):
            command = container[probe]["exec"]["command"]
            assert command[1:2] + command[3:] == ["--probe", "/data/zoo.cfg"], command
            for pod in ("demo-0", "demo-1", "demo-2"):
                result = subprocess.run(
                    [find_binary("zookube-server", "server"), *command[1:3],
                     kubelet.container_path(pod, "/data/zoo.cfg")],
                    capture_output=True, text=True, timeout=15)
                assert result.returncode == 0, (pod, probe, result.stderr)

        pki = client_pki()
        zk = session(kubelet.connect_string(), pki)
        assert zk is not None, "no TLS session with the cluster CA's client certificate"
        zk.create("/secure", b"over tls")
        assert session(kubelet.connect_string()) is None, "plaintext got a session"

        # The operator reaches every member through its relay: an observer joins by reconfig.
        change_spec(api, observers=1)
        wait_until(lambda: added(api, "demo-observer-0") is not None and running(api, 4),
                   "demo-observer-0 added by reconfig over TLS and 4 members running", log,
                   kubelet)
        assert zk.get("/secure")[0] == b"over tls"
        zk.stop()
        zk.close()
        status = cluster(api)["status"]
        assert status["leader"] and status["observers"] == 1
    # What the status says about the certificates, and the Event that issued them.
    tls = cluster(api)["status"]["tls"]
    assert (tls["client"], tls["source"]) == ("on", "operator")
    assert [m["name"] for m in tls["members"]] == ["demo-0", "demo-1", "demo-2",
                                                   "demo-observer-0"]
    assert tls["earliestNotAfter"] == min(m["notAfter"] for m in tls["members"])
    assert tls["nextRenewal"] < tls["earliestNotAfter"] < tls["caNotAfter"]
    conditions = {c["type"]: c for c in cluster(api)["status"]["conditions"]}
    assert conditions["TLSReady"]["status"] == "True", conditions["TLSReady"]
    assert conditions["TLSReady"]["reason"] == "CertificatesValid"
    assert conditions["CertificatesExpiring"]["status"] == "False"
    assert conditions["TLSReady"]["observedGeneration"] == cluster(api)["metadata"]["generation"]
    issued = [e for e in events(api) if e["reason"] == "CertificatesIssued"]
    assert issued and "demo-0" in issued[0]["message"], issued
    assert "next renewal is due at" in issued[0]["message"]


def client_access(api, pod):
    with api.store.lock:
        return api.store.get("v1", "pods", "default", pod)["metadata"]["annotations"].get(
            "zookube.dev/client-access")


def roll_tls_client_to(api, kubelet, log, tls):
    """Changes spec.tls to `tls` and waits until each of the 3 voters was restarted once onto
    it, watching that meanwhile the operator reached every member it had not restarted yet
    (roll_watch.py): through its TLS relay to those still on `on`, plaintext to the others."""
    mark = len(api.store.deleted_pods)

    def restarted():
        return api.store.deleted_pods[mark:]
    with RollWatch(lambda: cluster(api).get("status"), restarted, members=3) as watch:
        change_spec(api, tls=tls)
        want = f"tls={tls['client']},sasl=false,enforce=false"
        wait_until(lambda: len(restarted()) == 3 and running(api, 3) and all(
            client_access(api, p) == want for p in ("demo-0", "demo-1", "demo-2")),
            f"3 voters rolled onto tls.client {tls['client']}", log, kubelet, timeout=180)
    watch.check()
    assert sorted(restarted()) == ["demo-0", "demo-1", "demo-2"], restarted()


def test_on_back_to_both_then_off_keeps_every_member_in_reach_under_writes(
        api, kubelet, tmp_path, client_pki):
    """Issue 22's client migration in reverse, one spec change a step, under a write load: a TLS
    client on the secure ports through on -> both, a plaintext one on the client ports through
    both -> off; no acknowledged write lost, no failure beyond reconnects, the roll never
    stalls, and the operator still reconfigures at the end (an observer joins)."""
    create_tls_cluster(api, 3, {"client": "on", "clientAuth": "need"})
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api, 3), "3 TLS-only voters running", log, kubelet)
        secure = session(kubelet.connect_string(), client_pki())
        assert secure is not None
        with Writer(secure, secure.create("/back")) as writer:
            writer.wait_for_more()
            roll_tls_client_to(api, kubelet, log, {"client": "both", "clientAuth": "need"})
            writer.wait_for_more()
        assert writer.failures == [] and writer.lost() == []
        secure.stop()
        secure.close()
        plain = session(kubelet.connect_string())  # the client ports, plaintext beside TLS
        assert plain is not None, "no plaintext session on `both`"
        with Writer(plain, plain.create("/plain")) as writer:
            writer.wait_for_more()
            roll_tls_client_to(api, kubelet, log, {"client": "off"})
            writer.wait_for_more()
        assert writer.failures == [] and writer.lost() == []
        assert len(plain.get_children("/back")) > 0
        plain.stop()
        plain.close()
        with api.store.lock:
            cfg = api.store.get("v1", "configmaps", "default", "demo-config")["data"]["demo-0.cfg"]
        assert "secureClientPort" not in cfg and "\nclientPort=" in cfg, cfg
        change_spec(api, observers=1)
        wait_until(lambda: added(api, "demo-observer-0") is not None and running(api, 4),
                   "demo-observer-0 added by reconfig over plaintext", log, kubelet)


def events(api):
    with api.store.lock:
        return [o for o in api.store.objects.values() if o["kind"] == "Event"]


def test_renewal_rewrites_the_secret_and_restarts_no_member(api, kubelet, tmp_path, client_pki):
    """60 s certificates renewed when 50 s are left: every 10 s or so a renewal, each an Event;
    the kubelet rewrites the files in place and the members take them on the next handshake."""
    create_tls_cluster(api, 3, {"client": "on", "duration": "60s", "renewBefore": "50s"})
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api, 3), "3 TLS-only voters running", log, kubelet)
        first = cluster(api)["status"]["tls"]["earliestNotAfter"]
        started = list(kubelet.starts)
        wait_until(lambda: any(e["reason"] == "CertificatesRenewed" for e in events(api)),
                   "a CertificatesRenewed event", log, kubelet)
        renewed = next(e for e in events(api) if e["reason"] == "CertificatesRenewed")
        assert "renewed the certificates of demo-" in renewed["message"], renewed
        assert "next renewal is due at" in renewed["message"]
        wait_until(lambda: cluster(api)["status"]["tls"]["earliestNotAfter"] > first and
                   running(api, 3), "status.tls showing the renewed certificates", log, kubelet)
        # The member serves the renewed certificate to a new handshake, with no restart.
        pki = client_pki()
        zk = session(kubelet.connect_string(), pki)
        assert zk is not None
        zk.stop()
        zk.close()
        assert kubelet.starts == started


def user_pki(d, san):
    """A user's CA and a certificate for `san`, in cert-manager's Secret layout."""
    run = dict(cwd=d, check=True, capture_output=True, timeout=60)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    subprocess.run(["openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt",
                    "-days", "2", "-subj", "/CN=user CA"], **run)
    subprocess.run(["openssl", "req", *ec, "-keyout", "tls.key", "-out", "tls.csr", "-subj",
                    "/CN=zookeeper"], **run)
    (d / "ext").write_text(f"subjectAltName={san}\n")
    subprocess.run(["openssl", "x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey",
                    "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out",
                    "tls.crt"], **run)
    # A client certificate from the same CA, for kazoo.
    subprocess.run(["openssl", "req", *ec, "-keyout", "client.key", "-out", "client.csr",
                    "-subj", "/CN=a client"], **run)
    subprocess.run(["openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey",
                    "ca.key", "-CAcreateserial", "-days", "2", "-out", "client.crt"], **run)
    return {k: base64.b64encode((d / k).read_bytes()).decode()
            for k in ("tls.crt", "tls.key", "ca.crt")}


def users_ca(d):
    """A CA as a user makes one (openssl req -x509: ca.pem, ca.key in `d`), in a Secret's
    data."""
    d.mkdir()
    make_ca(d, "ca")
    return {"tls.crt": base64.b64encode((d / "ca.pem").read_bytes()).decode(),
            "tls.key": base64.b64encode((d / "ca.key").read_bytes()).decode()}


def put_secret(api, name, data):
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
              "metadata": {"name": name, "namespace": "default"}, "data": data}
    with api.store.lock:
        if ("v1", "secrets", "default", name) in api.store.objects:
            api.store.write("v1", "secrets", "default", name, None,
                            lambda old: dict(old, data=data), "update", "kubectl")
        else:
            api.store.create("v1", "secrets", "default", secret)


def test_a_users_secret_is_checked_then_mounted(api, kubelet, tmp_path):
    wrong, right = tmp_path / "wrong", tmp_path / "right"
    wrong.mkdir()
    right.mkdir()
    put_secret(api, "zk-certs", user_pki(wrong, "DNS:somewhere.else.example"))
    create_tls_cluster(api, 3, {"client": "on", "secretRef": {"name": "zk-certs"}})
    with operator_running(api, kubelet, tmp_path) as log:
        def degraded():
            conds = {c["type"]: c for c in cluster(api).get("status", {}).get("conditions", [])}
            return conds.get("Degraded", {}).get("status") == "True" and conds["Degraded"]
        wait_until(degraded, "Degraded for the certificate", log, kubelet)
        d = degraded()
        assert d["reason"] == "CertificateInvalid", d
        assert "zk-certs" in d["message"]
        assert "does not name demo-0.demo-headless.default.svc" in d["message"], d
        # The Event follows the status write in the same pass.
        wait_until(lambda: any(e["reason"] == "CertificateInvalid" and e["type"] == "Warning"
                               for e in events(api)), "a CertificateInvalid Warning Event", log,
                   kubelet)
        with api.store.lock:
            assert not [k for k in api.store.objects if k[1] == "statefulsets"]
        # A wildcard certificate for the headless Service's names fixes it.
        put_secret(api, "zk-certs", user_pki(right, "DNS:*.demo-headless.default.svc"))
        wait_until(lambda: running(api, 3), "3 voters on the user's certificate", log, kubelet)
        zk = session(kubelet.connect_string(), right)
        assert zk is not None, "no TLS session with the user's CA"
        zk.create("/users-cert", b"")
        zk.stop()
        zk.close()
    tls = cluster(api)["status"]["tls"]
    assert tls["source"] == "secret" and "nextRenewal" not in tls
    assert any(e["reason"] == "CertificatesUpdated" for e in events(api))


def certificates(api):
    with api.store.lock:
        return {k[3]: o for k, o in api.store.objects.items() if k[1] == "certificates"}


def issue_as_cert_manager(api, d):
    """Plays cert-manager's controller: every Certificate without its Secret gets one, signed by
    the test's CA for the Certificate's dnsNames and ipAddresses. Returns how many it issued."""
    certs = certificates(api).values()
    with api.store.lock:
        have = {k[3] for k in api.store.objects if k[1] == "secrets"}
    run = dict(cwd=d, check=True, capture_output=True, timeout=60)
    made = 0
    for cert in certs:
        spec = cert["spec"]
        if spec["secretName"] in have:
            continue
        name = spec["secretName"]
        sans = [f"DNS:{n}" for n in spec["dnsNames"]] + [f"IP:{i}" for i in spec["ipAddresses"]]
        (d / f"{name}.ext").write_text(f"subjectAltName={','.join(sans)}\n")
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
                        f"/CN={spec['commonName']}"], **run)
        subprocess.run(["openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt",
                        "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile",
                        f"{name}.ext", "-out", f"{name}.crt"], **run)
        data = {"tls.crt": (d / f"{name}.crt").read_bytes(),
                "tls.key": (d / f"{name}.key").read_bytes(), "ca.crt": (d / "ca.crt").read_bytes()}
        put_secret(api, name, {k: base64.b64encode(v).decode() for k, v in data.items()})
        made += 1
    return made


def test_cert_manager_certificates_are_made_and_their_secrets_mounted(api, kubelet, tmp_path):
    d = tmp_path / "cert-manager"
    d.mkdir()
    user_pki(d, "DNS:unused.example")  # the issuer's CA, and a client certificate from it
    create_tls_cluster(api, 3, {"client": "on", "issuerRef": {"name": "zk-ca",
                                                              "kind": "ClusterIssuer"}})
    with operator_running(api, kubelet, tmp_path) as log:
        # Until cert-manager has issued them, the members wait, and the status says why.
        wait_until(lambda: len(certificates(api)) == 3, "three Certificates", log, kubelet)
        wait_until(lambda: any(c["type"] == "Degraded" and c["reason"] == "SecretMissing" and
                               "cert-manager has not issued it" in c["message"]
                               for c in cluster(api)["status"].get("conditions", [])),
                   "SecretMissing while cert-manager has not issued", log, kubelet)
        certs = certificates(api)
        assert set(certs) == {"demo-0-tls", "demo-1-tls", "demo-2-tls"}
        spec = certs["demo-1-tls"]["spec"]
        assert spec["issuerRef"] == {"name": "zk-ca", "kind": "ClusterIssuer",
                                     "group": "cert-manager.io"}
        assert spec["secretName"] == "demo-1-tls"
        assert "demo-1.demo-headless.default.svc" in spec["dnsNames"]
        assert {"server auth", "client auth"} <= set(spec["usages"])
        assert certs["demo-1-tls"]["metadata"]["ownerReferences"][0]["kind"] == "ZkCluster"
        # Every write was validated against cert-manager's CRD; check the stored ones again.
        for cert in certs.values():
            schema = api.store.custom_schemas[("cert-manager.io/v1", "Certificate")]
            assert api.store.schemas.validate(cert, schema, "Certificate") == []
        wait_until(lambda: issue_as_cert_manager(api, d) >= 0 and running(api, 3),
                   "3 voters on cert-manager's certificates", log, kubelet)
        zk = session(kubelet.connect_string(), d)
        assert zk is not None, "no TLS session with the issuer's CA"
        zk.stop()
        zk.close()
    tls = cluster(api)["status"]["tls"]
    assert tls["source"] == "cert-manager"
    assert any(e["reason"] == "CertificatesUpdated" and "cert-manager" in e["message"]
               for e in events(api))


def test_turning_tls_off_deletes_the_operators_secrets_once_no_member_mounts_them(
        api, kubelet, tmp_path):
    users = users_ca(tmp_path / "users-ca")
    put_secret(api, "users-ca", users)
    create_tls_cluster(api, 3, {"client": "both", "caSecretRef": {"name": "users-ca"}})
    mine = ("demo-zk-ca", "demo-zk-tls")

    def secrets():
        with api.store.lock:
            return {k[3] for k in api.store.objects if k[1] == "secrets"}

    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api, 3), "3 voters on TLS", log, kubelet)
        assert set(mine) <= secrets()
        change_spec(api, tls={"client": "off", "caSecretRef": {"name": "users-ca"}})
        wait_until(lambda: running(api, 3) and not set(mine) & secrets(),
                   "the roll to plaintext and the operator's TLS Secrets deleted", log, kubelet,
                   timeout=120)
        zk = session(kubelet.connect_string())
        assert zk is not None, "no plaintext session after TLS was turned off"
        zk.stop()
        zk.close()
    steps = history(api)
    deleted = [i for i, s in enumerate(steps) if s[:2] == ("event", "ObjectDeleted")]
    assert sorted(steps[i][2].split()[1] for i in deleted) == sorted(mine), steps
    assert all("spec.tls is off and no member mounts it" in steps[i][2] for i in deleted)
    # Only after the last member restarted without the Secret's volume.
    created = [i for i, s in enumerate(steps) if s[:2] == ("pod", "create")]
    assert len(api.store.deleted_pods) == 3 and created[-1] < min(deleted), steps
    with api.store.lock:
        assert api.store.get("v1", "secrets", "default", "users-ca")["data"] == users
        pods = [o for o in api.store.objects.values() if o["kind"] == "Pod"]
    for pod in pods:
        assert not [v for v in pod["spec"].get("volumes", []) if v.get("name") == "tls"], pod
