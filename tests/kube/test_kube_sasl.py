"""spec.auth on Kubernetes with real members: SASL DIGEST-MD5 users from Secrets, sessions
without SASL refused (enforce), and the operator's own reconfig still going through (it
authenticates as its own user through its SASL relay, sasl_relay.h).

The kubelet stand-in (kubelet.py) starts each member with the JAAS file from the Secret the
operator renders; no password may show in the ConfigMap, an Event or the status.
"""

import base64
import copy
import json
import os
import sys

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from kube_harness import REPO
from roll_watch import RollWatch
from test_kube_member_tls import create_tls_cluster, running
from test_kube_operator import CLUSTER, ZK, change_spec, cluster, converge, with_members
from test_kube_reconfig import (added, four, membership, operator_running, ports, voters,
                                wait_until)
from test_kube_status import assert_reported, degraded, put_config_map, put_secret

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import zkwire  # noqa: E402

SESSIONCLOSEDREQUIRESASLAUTH = -124
ALICE_PASSWORD = "alice's \"quoted\" password"
AUTH = {"sasl": {"users": [{"name": "alice", "passwordSecretRef": {"name": "zk-alice"}}]},
        "enforce": True}


def create(api, voters_, auth):
    obj = copy.deepcopy(CLUSTER)
    obj["spec"].update({"voters": voters_, "observers": 0, "ports": ports(),
                        "config": {"tickTime": "200", "initLimit": "20", "syncLimit": "10"}})
    if auth is not None:
        obj["spec"]["auth"] = auth
    with api.store.lock:
        api.store.create(*ZK, obj)


def kazoo(kubelet, **sasl):
    zk = KazooClient(hosts=kubelet.connect_string(), timeout=10,
                     connection_retry=KazooRetry(max_tries=3), command_retry=None,
                     sasl_options=sasl or None)
    zk.start(timeout=20)
    return zk


def creates(kubelet, path, **options):
    """Whether a kazoo client made with `options` creates `path` within 10 s."""
    zk = KazooClient(hosts=kubelet.connect_string(), timeout=5,
                     connection_retry=KazooRetry(max_tries=1), command_retry=None, **options)
    try:
        zk.start(timeout=20)
        attempt = zk.create_async(path, b"")
        attempt.wait(10)
        return attempt.successful()
    except Exception:  # noqa: BLE001 - any failure to connect is a refusal here
        return False
    finally:
        zk.stop()
        zk.close()


def refused_without_sasl(port):
    """Whether a session that skips SASL is answered SESSIONCLOSEDREQUIRESASLAUTH (False while
    the member serves no session yet)."""
    try:
        anonymous = zkwire.WireClient(port)
    except OSError:
        return False
    try:
        reply = anonymous.call(zkwire.OP_GETDATA, zkwire.p_str("/") + zkwire.p_bool(False))
        return reply.err == SESSIONCLOSEDREQUIRESASLAUTH
    finally:
        anonymous.sock.close()


def observer_joins(api, kubelet, log):
    """Asks for one observer and waits until the operator's reconfig added it and it serves."""
    change_spec(api, observers=1)
    wait_until(lambda: membership(kubelet) == {**voters(1, 2, 3), 101: "observer"},
               "the observer in the ensemble", log, kubelet)
    wait_until(lambda: added(api, "demo-observer-0") is not None,
               "the MemberAdded event for the observer", log, kubelet)
    wait_until(lambda: "Mode: observer" in four(kubelet.client_port("demo-observer-0"), "srvr"),
               "the observer serving", log, kubelet)


def stored_text(api, kinds):
    with api.store.lock:
        return json.dumps([o for o in api.store.objects.values() if o["kind"] in kinds])


def test_sessions_without_sasl_are_refused_and_the_operator_still_reconfigures(api, kubelet,
                                                                              tmp_path):
    put_secret(api, "zk-alice", {"password": ALICE_PASSWORD})
    put_secret(api, "zk-peers", {"peer-password": "peers' \"hush\" word"})
    # The members also authenticate each other (spec.auth.quorum), from the start.
    create(api, 3, {**AUTH, "quorum": {"enabled": True, "passwordSecretRef": {
        "name": "zk-peers", "key": "peer-password"}}})
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3), "3 voters", log, kubelet)
        assert cluster(api)["status"]["quorumSASL"] == {"stage": "ServerRequired",
                                                       "mechanism": "DIGEST-MD5"}
        for pod in ("demo-0", "demo-1", "demo-2"):
            wait_until(lambda: refused_without_sasl(kubelet.client_port(pod)),
                       f"{pod} refusing a session without SASL", log, kubelet)
        # kazoo without SASL: its first request is answered with the code above and the
        # connection closed, so the create never succeeds (alice checks it is not there).
        assert not creates(kubelet, "/anonymous")
        # kazoo as alice, with the password from her Secret (quotes and all).
        alice = kazoo(kubelet, mechanism="DIGEST-MD5", username="alice", password=ALICE_PASSWORD)
        alice.create("/alice", b"written with SASL")
        assert not alice.exists("/anonymous")
        # A wrong password gets nowhere either.
        assert not creates(kubelet, "/wrong", sasl_options={
            "mechanism": "DIGEST-MD5", "username": "alice", "password": "wrong"})
        assert not alice.exists("/wrong")
        # The operator's reconfig authenticates too: an observer joins.
        observer_joins(api, kubelet, log)
        wait_until(lambda: refused_without_sasl(kubelet.client_port("demo-observer-0")),
                   "the observer refusing a session without SASL", log, kubelet)
        assert alice.get("/alice")[0] == b"written with SASL"
        # The observer joined by authenticating to the leader; nothing was rolled to get there.
        assert "quorum SASL: authenticated" in kubelet.log_of("demo-observer-0")
        assert api.store.deleted_pods == []
        alice.stop()
        alice.close()
    # The password is in the operator's Secret only: never in a ConfigMap, Event or status.
    text = stored_text(api, {"ConfigMap", "Event", "ZkCluster", "StatefulSet"})
    assert "alice's" not in text and "quoted" not in text and "hush" not in text
    assert "jaas.conf" in stored_text(api, {"ConfigMap"})  # the file is named, not inlined
    with api.store.lock:
        secret = api.store.objects[("v1", "secrets", "default", "demo-super-digest")]
    jaas = base64.b64decode(secret["data"]["jaas.conf"]).decode()
    assert 'user_alice="alice\'s \\"quoted\\" password"' in jaas
    assert "user_zookube-operator=" in jaas
    assert 'user_zookube-member="peers\' \\"hush\\" word"' in jaas, jaas
    assert secret["metadata"]["ownerReferences"][0]["kind"] == "ZkCluster"


def test_a_new_sasl_password_rolls_the_members_onto_it(api, kubelet, tmp_path):
    put_secret(api, "zk-alice", {"password": "first"})
    create(api, 3, AUTH)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3) and
                   cluster(api).get("status", {}).get("phase") == "Running",
                   "3 voters running", log, kubelet)
        put_secret(api, "zk-alice", {"password": "second"})
        # Each member reads its JAAS file only when it starts: all three restart, in the roll.
        wait_until(lambda: len(api.store.deleted_pods) == 3 and
                   cluster(api)["status"].get("phase") == "Running" and
                   (cluster(api)["status"].get("roll") or {}).get("completed"),
                   "the roll onto the new password", log, kubelet, timeout=120)
        alice = kazoo(kubelet, mechanism="DIGEST-MD5", username="alice", password="second")
        alice.create("/second", b"")
        alice.stop()
        alice.close()


def test_a_missing_password_secret_or_key_is_reported(api, operator):
    with_members(api)
    create(api, 3, AUTH)
    operator.run(1, expect_ok=False)
    assert_reported(api, "SecretMissing", "Secret default/zk-alice",
                    "spec.auth.sasl.users[alice].passwordSecretRef", "does not exist")
    with api.store.lock:
        assert not any(o["kind"] == "StatefulSet" for o in api.store.objects.values())
    put_secret(api, "zk-alice", {"other": "x"})
    operator.run(1, expect_ok=False)
    reported = degraded(api)
    assert (reported["status"], reported["reason"]) == ("True", "SecretMissing"), reported
    assert 'Secret default/zk-alice' in reported["message"], reported
    assert 'has no key "password"' in reported["message"], reported
    put_secret(api, "zk-alice", {"password": "now"})
    converge(api, operator)
    assert degraded(api)["status"] == "False"


def test_sasl_over_tls_only_members_and_the_operator_chains_its_relays(api, kubelet, tmp_path):
    """tls.client on and auth.enforce together: the operator's SASL relay dials its TLS relay,
    so a voter still joins by reconfig."""
    put_secret(api, "zk-alice", {"password": ALICE_PASSWORD})
    create_tls_cluster(api, 3, {"client": "on", "clientAuth": "need"})
    change_spec(api, auth=AUTH)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api, 3), "3 TLS-only voters running", log, kubelet)
        with api.store.lock:
            cfg = api.store.get("v1", "configmaps", "default", "demo-config")["data"]["demo-0.cfg"]
        assert "enforce.auth.schemes=sasl" in cfg and "secureClientPort=" in cfg
        change_spec(api, observers=1)
        wait_until(lambda: added(api, "demo-observer-0") is not None and running(api, 4),
                   "demo-observer-0 added by reconfig over TLS and SASL", log, kubelet)


def without_auth(api):
    """kubectl apply of the manifest with spec.auth deleted."""
    def edit(old):
        old["spec"].pop("auth", None)
        return old
    with api.store.lock:
        api.store.write(*ZK, "demo", None, edit, "update", "kubectl")


def roll_auth_to(api, kubelet, log, auth, pods):
    """Sets spec.auth to `auth` (None: none) and waits until each pod was restarted once onto
    it, watching that meanwhile the operator reached every member it had not restarted yet
    (roll_watch.py)."""
    mark = len(api.store.deleted_pods)

    def restarted():
        return api.store.deleted_pods[mark:]
    on = auth is not None
    want = f"tls=off,sasl={str(on).lower()},enforce={str(on).lower()}"

    def rolled():
        with api.store.lock:
            access = [api.store.get("v1", "pods", "default", p)["metadata"]["annotations"].get(
                "zookube.dev/client-access") for p in pods]
        return len(restarted()) == len(pods) and running(api, len(pods)) and \
            access == [want] * len(pods)
    with RollWatch(lambda: cluster(api).get("status"), restarted, members=len(pods)) as watch:
        if on:
            change_spec(api, auth=auth)
        else:
            without_auth(api)
        wait_until(rolled, f"{pods} rolled onto {want}", log, kubelet, timeout=180)
    watch.check()
    assert sorted(restarted()) == sorted(pods), restarted()


def test_sasl_and_enforce_turned_on_together_then_off_on_a_running_ensemble(api, kubelet,
                                                                           tmp_path):
    """One spec change turns sasl and enforce on, another turns both off: mid-roll some members
    enforce and some do not, and the operator logs in with SASL only to those that do (each
    pod's zookube.dev/client-access annotation). After each roll every member is ready and the
    operator's reconfig works: an observer joins, then leaves."""
    put_secret(api, "zk-alice", {"password": ALICE_PASSWORD})
    create(api, 3, None)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: running(api, 3), "3 plaintext voters running", log, kubelet)
        roll_auth_to(api, kubelet, log, AUTH, ["demo-0", "demo-1", "demo-2"])
        for pod in ("demo-0", "demo-1", "demo-2"):
            wait_until(lambda: refused_without_sasl(kubelet.client_port(pod)),
                       f"{pod} refusing a session without SASL", log, kubelet)
        observer_joins(api, kubelet, log)
        wait_until(lambda: running(api, 4), "4 members running", log, kubelet)
        everyone = ["demo-0", "demo-1", "demo-2", "demo-observer-0"]
        roll_auth_to(api, kubelet, log, None, everyone)
        assert not any(refused_without_sasl(kubelet.client_port(p)) for p in everyone)
        change_spec(api, observers=0)
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3) and running(api, 3),
                   "the observer removed by reconfig", log, kubelet)


KERBEROS = {"kerberos": {"keytabSecretRef": {"name": "zk-keytab"},
                         "principal": "zookeeper/{host}@EXAMPLE.COM"}}


def rollout_hash(api):
    with api.store.lock:
        sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
    return sts["spec"]["template"]["metadata"]["annotations"]["zookube.dev/rollout-hash"]


def test_kerberos_mounts_the_keytab_and_the_members_secret_holds_each_jaas(api, operator):
    """spec.auth.kerberos passes the CRD (its key defaulted); a missing keytab Secret is
    SecretMissing and nothing is applied; with it, the pods (as the stand-in's OpenAPI schema
    checks them) mount its key read-only, the members' Secret holds each member's JAAS file at
    the path its zoo.cfg names, and a new keytab changes the rollout hash."""
    with_members(api)
    create(api, 3, KERBEROS)
    assert cluster(api)["spec"]["auth"]["kerberos"]["keytabSecretRef"]["key"] == "keytab"
    operator.run(1, expect_ok=False)
    assert_reported(api, "SecretMissing", "Secret default/zk-keytab",
                    "spec.auth.kerberos.keytabSecretRef", "does not exist", '"keytab"')
    with api.store.lock:
        assert not any(o["kind"] == "StatefulSet" for o in api.store.objects.values())
    put_secret(api, "zk-keytab", {"keytab": "keytab one", "unrelated": "not mounted"})
    converge(api, operator)
    assert degraded(api)["status"] == "False"
    with api.store.lock:
        sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
        secret = api.store.get("v1", "secrets", "default", "demo-super-digest")
        cfg = api.store.get("v1", "configmaps", "default", "demo-config")["data"]["demo-1.cfg"]
    pod = sts["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "keytab")
    assert volume["secret"] == {"secretName": "zk-keytab", "defaultMode": 0o440,
                                "items": [{"key": "keytab", "path": "keytab"}]}, volume
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "keytab")
    assert mount == {"name": "keytab", "mountPath": "/etc/zookube-keytab", "readOnly": True}
    assert "java.security.auth.login.config=/etc/zookube-super/demo-1.jaas.conf" in cfg, cfg
    assert "kerberos.removeRealmFromPrincipal=true" in cfg, cfg
    for member in ("demo-0", "demo-1", "demo-2"):
        jaas = base64.b64decode(secret["data"][f"{member}.jaas.conf"]).decode()
        assert "com.sun.security.auth.module.Krb5LoginModule required" in jaas, jaas
        assert 'keyTab="/etc/zookube-keytab/keytab"' in jaas, jaas
        assert f'principal="zookeeper/{member}.' in jaas and '@EXAMPLE.COM";' in jaas, jaas
    assert "keytab one" not in stored_text(api, {"ConfigMap", "StatefulSet", "Secret", "Event"})
    before = rollout_hash(api)
    put_secret(api, "zk-keytab", {"keytab": "keytab two"})
    operator.run(1)
    assert rollout_hash(api) != before


def test_kerberos_krb5_config_map_is_mounted_named_by_krb5_config_and_rolls_the_members(
        api, operator):
    """kerberos.krb5ConfigRef passes the CRD (its key defaulted); a missing ConfigMap, then a
    missing key, is SecretMissing naming it; with it, the pods mount its one key read-only and
    KRB5_CONFIG names it, and a changed krb5.conf changes the rollout hash."""
    with_members(api)
    put_secret(api, "zk-keytab", {"keytab": "keytab one"})
    spec = {"kerberos": dict(KERBEROS["kerberos"], krb5ConfigRef={"name": "zk-krb5"})}
    create(api, 3, spec)
    assert cluster(api)["spec"]["auth"]["kerberos"]["krb5ConfigRef"]["key"] == "krb5.conf"
    operator.run(1, expect_ok=False)
    assert_reported(api, "SecretMissing", "ConfigMap default/zk-krb5",
                    "spec.auth.kerberos.krb5ConfigRef", "does not exist", '"krb5.conf"')
    put_config_map(api, "zk-krb5", {"other": "x"})
    operator.run(1, expect_ok=False)
    d = degraded(api)
    assert 'ConfigMap default/zk-krb5 (spec.auth.kerberos.krb5ConfigRef) has no key ' \
        '"krb5.conf"' in d["message"], d
    put_config_map(api, "zk-krb5", {"krb5.conf": "[libdefaults]\n default_realm = ONE\n"})
    converge(api, operator)
    assert degraded(api)["status"] == "False"
    with api.store.lock:
        sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
    pod = sts["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "krb5-config")
    assert volume["configMap"]["name"] == "zk-krb5", volume
    assert volume["configMap"]["items"] == [{"key": "krb5.conf", "path": "krb5.conf"}], volume
    container = pod["containers"][0]
    mount = next(m for m in container["volumeMounts"] if m["name"] == "krb5-config")
    assert mount == {"name": "krb5-config", "mountPath": "/etc/zookube-krb5", "readOnly": True}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KRB5_CONFIG"] == "/etc/zookube-krb5/krb5.conf", env
    before = rollout_hash(api)
    put_config_map(api, "zk-krb5", {"krb5.conf": "[libdefaults]\n default_realm = TWO\n"})
    operator.run(1)
    assert rollout_hash(api) != before
