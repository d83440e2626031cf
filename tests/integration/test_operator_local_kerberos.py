"""zookube-operator --local with spec.auth.kerberos against a real MIT KDC (kdc.py): the keytab
is a file laid out as a Secret volume (<state-dir>/secrets/<name>/<key>); each member gets its
own copy (0600) beside a JAAS file naming it and the member's principal, service/{host}@REALM
with {host} the address it listens on. A Kerberos client then authenticates over GSSAPI and gets
its sasl id (realm dropped, the default); a missing keytab is SecretMissing as on Kubernetes and
nothing starts; a new keytab (the service re-keyed) rolls the members onto it. enforce with
Kerberos alone is refused: the operator has no Kerberos login for its own sessions."""

import json
import os
import shutil

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.retry import KazooRetry
from kazoo.security import make_acl

import harness
import zkwire
from kdc import LOOPBACK_SERVICE, REALM, realm  # noqa: F401 (realm: the KDC fixture)
from test_operator_local import OPERATOR
from test_operator_local_sasl import assert_secret_missing, cluster_with_auth, degraded
from test_sasl import sasl_login

pytestmark = pytest.mark.skipif(
    harness.impl() != "zookube" or not os.path.exists(OPERATOR),
    reason="needs zookube-operator and zookube-server built")

HOST = "127.0.0.1"  # local mode's members all listen here: their principal's {host}
SERVICE = LOOPBACK_SERVICE
AUTH = {"kerberos": {"keytabSecretRef": {"name": "zk-keytab"},
                     "krb5ConfigRef": {"name": "zk-krb5"},
                     "principal": f"zookeeper/{{host}}@{REALM}"}}


@pytest.fixture
def cluster(tmp_path, realm):
    c = cluster_with_auth(tmp_path, AUTH)
    yield c
    c.cleanup()


def put_keytab(cluster, keytab):
    folder = os.path.join(cluster.state, "secrets", "zk-keytab")
    os.makedirs(folder, exist_ok=True)
    shutil.copyfile(keytab, os.path.join(folder, "keytab.tmp"))
    os.replace(os.path.join(folder, "keytab.tmp"), os.path.join(folder, "keytab"))


def put_krb5_conf(cluster, krb5_conf):
    """krb5ConfigRef's ConfigMap, laid out as a ConfigMap volume: configmaps/<name>/<key>."""
    folder = os.path.join(cluster.state, "configmaps", "zk-krb5")
    os.makedirs(folder, exist_ok=True)
    shutil.copyfile(krb5_conf, os.path.join(folder, "krb5.conf"))


def process_env(cluster, member):
    with open(os.path.join(cluster.state, "members", member, "process.json")) as f:
        pid = json.load(f)["pid"]
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(e.decode().split("=", 1) for e in f.read().split(b"\0") if e)


def port_of(member):
    return int(member["client"].rsplit(":", 1)[1])


def kerberos_identity(port):
    """The sasl ids a session gets after a GSSAPI login to the member on `port`."""
    wire = zkwire.WireClient(port)
    try:
        assert sasl_login(wire, "GSSAPI", host=HOST) == 0
        err, ids = wire.whoami()
        assert err == 0
        return [i for i in ids if i[0] == "sasl"]
    finally:
        wire.close()


def kazoo(cluster, **options):
    zk = KazooClient(hosts=cluster.ensemble()["connect"], timeout=10.0,
                     connection_retry=KazooRetry(max_tries=3), command_retry=None, **options)
    zk.start(timeout=20)
    return zk


def test_members_log_in_from_the_keytab_and_a_kerberos_client_gets_its_sasl_id(cluster, realm):
    cluster.start_operator()
    assert_secret_missing(cluster, "Secret zk-keytab", "spec.auth.kerberos.keytabSecretRef",
                          "does not exist", 'key "keytab"', "secrets/zk-keytab/keytab")
    assert not os.listdir(os.path.join(cluster.state, "members"))
    put_keytab(cluster, realm.service_keytab)
    assert_secret_missing(cluster, "ConfigMap zk-krb5", "spec.auth.kerberos.krb5ConfigRef",
                          "does not exist", 'key "krb5.conf"', "configmaps/zk-krb5/krb5.conf")
    put_krb5_conf(cluster, realm.krb5_conf)
    members = cluster.wait_healthy(observers=0)
    assert degraded(cluster)["status"] == "False", degraded(cluster)
    with open(realm.service_keytab, "rb") as f:
        keytab = f.read()
    for m in members:
        folder = os.path.join(cluster.state, "members", m["name"])
        copy = os.path.join(folder, "krb5.keytab")
        assert os.stat(copy).st_mode & 0o777 == 0o600
        assert os.stat(os.path.join(folder, "jaas.conf")).st_mode & 0o777 == 0o600
        with open(copy, "rb") as f:
            assert f.read() == keytab  # byte for byte: no newline dropped from a binary file
        with open(os.path.join(folder, "jaas.conf")) as f:
            jaas = f.read()
        assert f'keyTab="{copy}"' in jaas and f'principal="{SERVICE}@{REALM}"' in jaas, jaas
        # krb5ConfigRef's file, copied beside them and named by the process's KRB5_CONFIG.
        conf = os.path.join(folder, "krb5.conf")
        with open(conf, "rb") as f, open(realm.krb5_conf, "rb") as want:
            assert f.read() == want.read()
        assert process_env(cluster, m["name"])["KRB5_CONFIG"] == conf
        # Each member accepts the client's ticket for its principal: the realm is dropped.
        assert kerberos_identity(port_of(m)) == [("sasl", "client")]
    # kazoo over GSSAPI writes a node only its principal may read.
    zk = kazoo(cluster, sasl_options={"mechanism": "GSSAPI"})
    zk.create("/kerberos", b"k", acl=[make_acl("sasl", "client", all=True)])
    anonymous = kazoo(cluster)
    assert anonymous.exists("/kerberos") is not None
    with pytest.raises(NoAuthError):
        anonymous.get("/kerberos")
    for client in (zk, anonymous):
        client.stop()
        client.close()
    # The service re-keyed: a new keytab rolls every member onto it (they log in at start).
    starts = cluster.starts()
    rekeyed = os.path.join(realm.dir, "rekeyed.keytab")
    realm._run("kadmin.local", "-r", REALM, "-q", f"ktadd -k {rekeyed} {SERVICE}")
    put_keytab(cluster, rekeyed)
    harness.wait_until(lambda: all(cluster.starts().get(m["name"], 0) > starts[m["name"]]
                                   for m in members), timeout=120,
                       what="every member restarted onto the new keytab")
    members = cluster.wait_healthy(observers=0)
    realm.kinit("client", realm.client_keytab)  # a fresh ticket, for the new key
    for m in members:
        harness.wait_until(lambda: login_works(port_of(m)), timeout=30,
                           what=f"{m['name']} accepting tickets for the new key")


def login_works(port):
    try:
        return kerberos_identity(port) == [("sasl", "client")]
    except (OSError, AssertionError):
        return False


def test_enforce_with_kerberos_alone_is_refused_by_name(cluster):
    cluster.spec["spec"]["auth"] = dict(AUTH, enforce=True)
    cluster.write_manifest()
    cluster.start_operator()
    harness.wait_until(lambda: "it has no Kerberos login" in cluster.output(), timeout=30,
                       what="the refusal of enforce without auth.sasl")
    assert "spec.auth.enforce: needs auth.sasl" in cluster.output()
    assert not os.listdir(os.path.join(cluster.state, "members"))
