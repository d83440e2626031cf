"""zookube-operator --local with spec.auth: SASL users whose passwords are files laid out as a
Secret volume (<state-dir>/secrets/<name>/<key>), rendered into each member's JAAS file; with
enforce, a session without SASL is refused, one as the user works, and the operator's own
reconfig (its SASL relay, as its own user) still scales the ensemble. A missing password file is
reported as Kubernetes mode reports a missing Secret (phase Degraded, reason SecretMissing, a
warning naming the Secret, the user and the key) and nothing is started."""

import copy
import os

import pytest
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

import harness
import zkwire
from roll_watch import RollWatch
from writer import Writer
from test_operator_local import OPERATOR, LocalCluster  # noqa: F401

pytestmark = pytest.mark.skipif(
    harness.impl() != "zookube" or not os.path.exists(OPERATOR),
    reason="needs zookube-operator and zookube-server built")

SESSIONCLOSEDREQUIRESASLAUTH = -124
AUTH = {"sasl": {"users": [{"name": "alice", "passwordSecretRef": {"name": "zk-alice"}}]},
        "enforce": True}


def put_password(cluster, password):
    folder = os.path.join(cluster.state, "secrets", "zk-alice")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "password"), "w") as f:
        f.write(password + "\n")


def alice(cluster):
    zk = KazooClient(hosts=cluster.ensemble()["connect"], timeout=10.0,
                     connection_retry=KazooRetry(max_tries=3), command_retry=None,
                     sasl_options={"mechanism": "DIGEST-MD5", "username": "alice",
                                   "password": "alice-pw"})
    zk.start(timeout=20)
    return zk


def membership(zk):
    zk.sync("/zookeeper/config")
    data, _ = zk.get("/zookeeper/config")
    return sorted(int(line.split("=")[0][7:]) for line in data.decode().splitlines()
                  if line.startswith("server."))


def cluster_with_auth(tmp_path, auth):
    """A local cluster of three voters with spec.auth `auth`, not started."""
    c = LocalCluster(tmp_path)
    c.spec["spec"]["observers"] = 0
    c.spec["spec"]["auth"] = copy.deepcopy(auth)  # tests edit it; AUTH stays as written
    c.write_manifest()
    return c


@pytest.fixture
def cluster(tmp_path):
    c = cluster_with_auth(tmp_path, AUTH)
    yield c
    c.cleanup()


def degraded(cluster):
    return next((c for c in cluster.status().get("conditions", []) if c["type"] == "Degraded"),
                {})


def assert_secret_missing(cluster, *words):
    """Degraded SecretMissing with these words, and the same message said once as a warning."""
    harness.wait_until(lambda: degraded(cluster).get("reason") == "SecretMissing" and
                       all(w in degraded(cluster)["message"] for w in words),
                       timeout=30, what="SecretMissing saying %s" % (words,))
    d = degraded(cluster)
    assert d["status"] == "True", d
    assert cluster.status()["phase"] == "Degraded"
    line = "warning SecretMissing: " + d["message"]
    harness.wait_until(lambda: line in open(cluster.log_path).read(), timeout=10,
                       what="the warning for " + d["message"])
    assert open(cluster.log_path).read().count(line) == 1, "a warning per change, not per pass"


def test_enforced_sasl_refuses_anonymous_sessions_and_the_operator_still_scales(cluster):
    # The members also authenticate each other, with a password the operator makes up.
    cluster.spec["spec"]["auth"]["quorum"] = {"enabled": True}
    cluster.write_manifest()
    cluster.start_operator()
    # No password Secret yet: reported as in Kubernetes mode, and no member started.
    assert_secret_missing(cluster, "Secret zk-alice", "spec.auth.sasl.users[alice]",
                          "does not exist", 'key "password"', "secrets/zk-alice/password")
    # The Secret without the key the user names.
    os.makedirs(os.path.join(cluster.state, "secrets", "zk-alice"))
    assert_secret_missing(cluster, "Secret zk-alice", "spec.auth.sasl.users[alice]",
                          'has no key "password"')
    assert not cluster.ensemble()["members"]
    assert not os.listdir(os.path.join(cluster.state, "members"))
    put_password(cluster, "alice-pw")
    members = cluster.wait_healthy(observers=0)
    assert degraded(cluster)["status"] == "False", degraded(cluster)
    for m in members:
        jaas = os.path.join(cluster.state, "members", m["name"], "jaas.conf")
        assert os.stat(jaas).st_mode & 0o077 == 0
        anonymous = zkwire.WireClient(int(m["client"].rsplit(":", 1)[1]))
        reply = anonymous.call(zkwire.OP_GETDATA, zkwire.p_str("/") + zkwire.p_bool(False))
        anonymous.sock.close()
        assert reply.err == SESSIONCLOSEDREQUIRESASLAUTH
    zk = alice(cluster)
    zk.create("/alice", b"with SASL")
    assert membership(zk) == [1, 2, 3]
    # The operator reconfigures through its SASL relays: two voters join.
    cluster.spec["spec"]["voters"] = 5
    cluster.write_manifest()
    cluster.wait_healthy(observers=0, voters=5)
    assert membership(zk) == [1, 2, 3, 4, 5]
    assert zk.get("/alice")[0] == b"with SASL"
    zk.stop()
    zk.close()
    assert "alice-pw" not in open(cluster.log_path).read()
    # Quorum SASL from the start: each member's JAAS file has the made-up password, and the
    # voters that joined later authenticated to their peers with it.
    assert cluster.status()["quorumSASL"] == {"stage": "ServerRequired", "mechanism": "DIGEST-MD5"}
    with open(os.path.join(cluster.state, "quorum.secret")) as f:
        password = f.read().strip()
    for name in ("demo-0", "demo-4"):
        folder = os.path.join(cluster.state, "members", name)
        with open(os.path.join(folder, "jaas.conf")) as f:
            assert f'user_zookube-member="{password}"' in f.read()
        with open(os.path.join(folder, "zoo.cfg")) as f:
            assert "quorum.auth.serverRequireSasl=true\n" in f.read()
        with open(os.path.join(folder, "server.log"), errors="replace") as f:
            assert "quorum SASL: authenticated" in f.read(), name
    assert password not in open(cluster.log_path).read()


def anonymous_refused(port):
    client = zkwire.WireClient(port)
    try:
        reply = client.call(zkwire.OP_GETDATA, zkwire.p_str("/") + zkwire.p_bool(False))
    finally:
        client.sock.close()
    return reply.err == SESSIONCLOSEDREQUIRESASLAUTH


def roll_auth_to(cluster, auth, members):
    """Sets spec.auth to `auth` (None: no auth) and waits for the roll to restart every member
    once, watching that the operator reaches each as it runs meanwhile (roll_watch.py): with
    SASL through its relay only where the member enforces it."""
    before = len(cluster.history())
    said = len(cluster.output())

    def restarted():
        return [h["member"] for h in cluster.history()[before:]]
    with RollWatch(cluster.status, restarted, members=members) as watch:
        if auth is None:
            cluster.spec["spec"].pop("auth", None)
        else:
            cluster.spec["spec"]["auth"] = copy.deepcopy(auth)
        cluster.write_manifest()
        harness.wait_until(lambda: len(restarted()) == members and
                           cluster.healthy(observers=members - 3), timeout=120, interval=0.2,
                           what=f"rolled onto spec.auth {auth}")
    watch.check()
    assert len(set(restarted())) == members, restarted()
    # The operator reads /zookeeper/config every pass: never refused for skipping SASL where a
    # member enforces it, nor failing a SASL login where a member has none.
    refused = [line for line in cluster.output()[said:].splitlines()
               if "cannot read the ensemble's membership" in line and
               ("SASL" in line or "authenticating" in line)]
    assert refused == [], refused


def test_sasl_and_enforce_turned_on_together_then_off_keep_the_operator_in_reach(tmp_path):
    """One spec change turns sasl and enforce on in a running ensemble, another turns both off:
    mid-roll some members enforce and some do not, and the operator's sessions (it reads
    /zookeeper/config every pass) log in with SASL only where the member enforces it. After each
    roll the operator still reconfigures (an observer joins, then leaves)."""
    cluster = cluster_with_auth(tmp_path, AUTH)
    cluster.spec["spec"].pop("auth")
    cluster.write_manifest()
    try:
        put_password(cluster, "alice-pw")
        cluster.start_operator()
        cluster.wait_healthy(observers=0)
        zk = cluster.client()
        zk.start(timeout=15)
        zk.create("/before", b"plain")
        zk.stop()
        zk.close()
        roll_auth_to(cluster, AUTH, 3)
        for m in cluster.ensemble()["members"]:
            assert anonymous_refused(int(m["client"].rsplit(":", 1)[1])), m
        cluster.spec["spec"]["observers"] = 1
        cluster.write_manifest()
        cluster.wait_healthy(observers=1)
        zk = alice(cluster)
        assert membership(zk) == [1, 2, 3, 101]
        assert zk.get("/before")[0] == b"plain"
        zk.stop()
        zk.close()
        roll_auth_to(cluster, None, 4)
        for m in cluster.ensemble()["members"]:
            assert not anonymous_refused(int(m["client"].rsplit(":", 1)[1])), m
        cluster.spec["spec"]["observers"] = 0
        cluster.write_manifest()
        cluster.wait_healthy(observers=0)
        assert sorted(cluster.membership()) == [1, 2, 3]
    finally:
        cluster.cleanup()


def quorum_sasl_stage(cluster):
    """status.quorumSASL's stage; "Off" once it is gone from the status."""
    return (cluster.status().get("quorumSASL") or {}).get("stage", "Off")


def test_quorum_sasl_turned_off_walks_back_one_stage_per_roll_without_losing_a_write(tmp_path):
    """Quorum SASL turned off on a running ensemble goes back the way ZooKeeper documents it
    on: ServerRequired, LearnerRequired, Enabled, Off, a roll of every member for each step,
    under a writing client. At the end no member's zoo.cfg asks for quorum SASL, and nothing
    acknowledged is lost."""
    cluster = cluster_with_auth(tmp_path, {"quorum": {"enabled": True}})
    try:
        cluster.start_operator()
        cluster.wait_healthy(observers=0)
        assert quorum_sasl_stage(cluster) == "ServerRequired"
        zk = cluster.client()
        zk.start(timeout=15)
        seen = []

        def walked_back():
            stage = quorum_sasl_stage(cluster)
            if not seen or seen[-1] != stage:
                seen.append(stage)
            return stage == "Off" and cluster.healthy(observers=0)
        before = len(cluster.history())
        with Writer(zk, zk.create("/writes")) as writer:
            writer.wait_for_more()
            cluster.spec["spec"].pop("auth")
            cluster.write_manifest()
            harness.wait_until(walked_back, timeout=180, interval=0.1,
                               what="quorum SASL turned off, stage by stage")
            writer.wait_for_more()
        assert seen == ["ServerRequired", "LearnerRequired", "Enabled", "Off"], seen
        restarts = [h["member"] for h in cluster.history()[before:]]
        assert sorted(restarts) == sorted(["demo-0", "demo-1", "demo-2"] * 3), restarts
        assert writer.failures == []
        assert writer.lost() == []
        zk.stop()
        zk.close()
        for m in cluster.ensemble()["members"]:
            with open(os.path.join(cluster.state, "members", m["name"], "zoo.cfg")) as f:
                cfg = f.read()
            assert "quorum.auth.enableSasl=true" not in cfg, m["name"]
    finally:
        cluster.cleanup()
