"""spec.auth.kerberos on Kubernetes with real members and a real MIT KDC (tests/integration/kdc.py).

The kubelet stand-in (kubelet.py) runs each pod as the pod spec the operator renders says: the
keytab Secret's key laid out at the keytab volume's mountPath with its mode, the members' Secret
(each member's `<pod>.jaas.conf`) at /etc/zookube-super, the container's own shell command
putting zoo.cfg together, and no Kerberos setting of the test's environment (a container has
none): the member logs in from its keytab as zookeeper/{host}@REALM, {host} being its address on
loopback. A client with a ticket then authenticates over GSSAPI, a znode with a sasl ACL is its
alone, another principal and an unauthenticated session are refused it, the operator's reconfig
(as the digest super user: enforce needs auth.sasl) adds an observer that logs in as well, and a
re-keyed keytab rolls the members onto it.
"""

import base64
import json
import os
import stat
import sys

import pytest
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl

from apiserver import ApiError
from kube_harness import REPO
from test_kube_operator import cluster
from test_kube_reconfig import membership, operator_running, voters, wait_until
from test_kube_sasl import create, kazoo, observer_joins
from test_kube_status import degraded, put_config_map, put_secret

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from kdc import LOOPBACK_SERVICE, REALM, realm  # noqa: E402,F401 (realm: the KDC fixture)
from test_operator_local_kerberos import kerberos_identity, login_works  # noqa: E402

AUTH = {"kerberos": {"keytabSecretRef": {"name": "zk-keytab"},
                     "krb5ConfigRef": {"name": "zk-krb5"},
                     "principal": f"zookeeper/{{host}}@{REALM}"}}
MEMBERS = ("demo-0", "demo-1", "demo-2")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def assert_pod_files(kubelet, pod, keytab):
    """The pod's files where its container reads them (after a login): the keytab volume's one
    key with the volume's mode, the replay cache, and the JAAS file its zoo.cfg names, which
    names that keytab."""
    path = kubelet.container_path(pod, "/etc/zookube-keytab/keytab")
    assert read(path) == keytab, pod  # byte for byte through the Secret's base64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o440, oct(os.stat(path).st_mode)
    folder = kubelet.container_path(pod, "/etc/zookube-keytab")
    assert sorted(os.listdir(folder)) == sorted(
        ["..data", os.readlink(os.path.join(folder, "..data")), "keytab"]), os.listdir(folder)
    # The krb5.conf KRB5_CONFIG names, from the ConfigMap.
    conf = kubelet.container_path(pod, "/etc/zookube-krb5/krb5.conf")
    assert b"default_realm" in read(conf), conf
    # The acceptor's replay cache: on the data volume, the root filesystem being read-only.
    assert any(n.endswith(".rcache2") for n in os.listdir(kubelet.container_path(pod, "/data")))
    cfg = read(kubelet.container_path(pod, "/data/zoo.cfg")).decode()
    jaas_path = kubelet.container_path(pod, f"/etc/zookube-super/{pod}.jaas.conf")
    assert f"java.security.auth.login.config={jaas_path}\n" in cfg, cfg
    jaas = read(jaas_path).decode()
    assert f'keyTab="{path}"' in jaas, jaas
    assert f'principal="{LOOPBACK_SERVICE}@{REALM}"' in jaas, jaas


def test_members_log_in_from_the_mounted_keytab_and_reconfig_still_works(api, kubelet, tmp_path,
                                                                          realm):
    # enforce needs auth.sasl: the API server refuses it with Kerberos alone (a CEL rule).
    with pytest.raises(ApiError) as refused:
        create(api, 3, dict(AUTH, enforce=True))
    assert "spec.auth.enforce: needs auth.sasl" in str(refused.value.message)
    # A stock image (no krb5.conf, no KRB5_CONFIG: kubelet.image_env stays empty): the pods
    # read the realm's krb5.conf from the ConfigMap krb5ConfigRef names, which the operator
    # mounts. Without it MIT Kerberos would canonicalize 127.0.0.1 to localhost and find no realm.
    assert kubelet.image_env == {}
    put_config_map(api, "zk-krb5", {"krb5.conf": read(realm.krb5_conf).decode()})
    keytab = read(realm.service_keytab)
    put_secret(api, "zk-keytab", {"keytab": keytab, "other-key": "not projected"})
    create(api, 3, AUTH)
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3) and
                   cluster(api).get("status", {}).get("phase") == "Running" and
                   degraded(api)["status"] == "False", "3 voters running", log, kubelet)
        for pod in MEMBERS:
            # The member accepts the client's ticket for its principal: the realm is dropped.
            assert kerberos_identity(kubelet.client_port(pod)) == [("sasl", "client")], pod
            assert_pod_files(kubelet, pod, keytab)
        # kazoo over GSSAPI (python-gssapi, pure-sasl) writes a node only its principal may read.
        client = kazoo(kubelet, mechanism="GSSAPI")
        client.create("/kerberos", b"k", acl=[make_acl("sasl", "client", all=True)])
        # Another principal authenticates, and is refused the node.
        realm.kinit("other", realm.other_keytab)
        other = kazoo(kubelet, mechanism="GSSAPI")
        assert other.exists("/kerberos") is not None
        with pytest.raises(NoAuthError):
            other.get("/kerberos")
        with pytest.raises(NoAuthError):
            other.set("/kerberos", b"other")
        # So is a session without SASL (no enforce: it connects, and reads what is open).
        anonymous = kazoo(kubelet)
        with pytest.raises(NoAuthError):
            anonymous.get("/kerberos")
        assert client.get("/kerberos")[0] == b"k"
        realm.kinit("client", realm.client_keytab)
        # The operator's reconfig still goes through: an observer joins, with its own JAAS file.
        observer_joins(api, kubelet, log)
        wait_until(lambda: login_works(kubelet.client_port("demo-observer-0")),
                   "the observer accepting a ticket", log, kubelet)
        assert_pod_files(kubelet, "demo-observer-0", keytab)
        for zk in (client, other, anonymous):
            zk.stop()
            zk.close()
        # The service re-keyed: the new keytab rolls every member onto it.
        rekeyed = os.path.join(realm.dir, "rekeyed.keytab")
        realm._run("kadmin.local", "-r", REALM, "-q", f"ktadd -k {rekeyed} {LOOPBACK_SERVICE}")
        put_secret(api, "zk-keytab", {"keytab": read(rekeyed)})
        wait_until(lambda: len(api.store.deleted_pods) == 4 and
                   cluster(api)["status"].get("phase") == "Running" and
                   (cluster(api)["status"].get("roll") or {}).get("completed"),
                   "the roll onto the new keytab", log, kubelet, timeout=150)
        realm.kinit("client", realm.client_keytab)  # a ticket for the new key
        for pod in MEMBERS + ("demo-observer-0",):
            assert read(kubelet.container_path(pod, "/etc/zookube-keytab/keytab")) == \
                read(rekeyed)
            wait_until(lambda: login_works(kubelet.client_port(pod)),
                       f"{pod} accepting tickets for the new key", log, kubelet)
        client = kazoo(kubelet, mechanism="GSSAPI")
        assert client.get("/kerberos")[0] == b"k"
        client.stop()
        client.close()
    # The keytab's bytes are in its Secret only, never in what the operator writes.
    with api.store.lock:
        text = json.dumps([o for o in api.store.objects.values()
                           if o["kind"] in {"ConfigMap", "StatefulSet", "Event", "ZkCluster"}
                           or o["metadata"]["name"] == "demo-super-digest"])
    for secret in (keytab, read(rekeyed)):
        assert base64.b64encode(secret).decode() not in text


def test_members_authenticate_each_other_with_their_kerberos_keys(api, kubelet, tmp_path, realm):
    """spec.auth.quorum with kerberos: each member's JAAS file gets QuorumServer and QuorumLearner
    sections with its own key, and zoo.cfg the service principal's _HOST form; the members log in
    to each other over GSSAPI on every election and quorum connection."""
    put_config_map(api, "zk-krb5", {"krb5.conf": read(realm.krb5_conf).decode()})
    put_secret(api, "zk-keytab", {"keytab": read(realm.service_keytab)})
    create(api, 3, dict(AUTH, quorum={"enabled": True}))
    with operator_running(api, kubelet, tmp_path) as log:
        wait_until(lambda: membership(kubelet) == voters(1, 2, 3) and
                   cluster(api).get("status", {}).get("phase") == "Running",
                   "3 voters requiring Kerberos between them", log, kubelet)
        assert cluster(api)["status"]["quorumSASL"] == {"stage": "ServerRequired",
                                                       "mechanism": "GSSAPI"}
        for pod in MEMBERS:
            cfg = read(kubelet.container_path(pod, "/data/zoo.cfg")).decode()
            assert "quorum.auth.kerberos.servicePrincipal=zookeeper/_HOST\n" in cfg, cfg
            # A link is authenticated by the member that accepts it (it logs the peer's principal)
            # and reported by the one that dialled: which of the two a member was depends on
            # the sids and who leads, so each member needs one authenticated link either way.
            wait_until(lambda: "quorum SASL: authenticated " in kubelet.log_of(pod),
                       f"{pod} in an authenticated quorum link", log, kubelet, timeout=20)
        wait_until(lambda: any(f"as {LOOPBACK_SERVICE}@{REALM}" in kubelet.log_of(pod)
                               for pod in MEMBERS),
                   "a member authenticating a peer's ticket", log, kubelet, timeout=20)
        assert api.store.deleted_pods == []
