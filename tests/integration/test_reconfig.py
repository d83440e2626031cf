"""Dynamic reconfiguration (reconfigEnabled=true) on real processes, driven by kazoo's reconfig:
servers join as an observer and as a voter and leave again while a client keeps writing.

A joining server is started with the ensemble's current configuration plus itself, as
ZooKeeper's documentation says; it follows the leader without a vote until `reconfig -add`.
"""

import os

import pytest
from kazoo.exceptions import BadArgumentsError, BadVersionError, NoAuthError
from kazoo.security import make_digest_acl_credential

import harness
import refzk
from writer import Writer
from ensemble import Ensemble, mntr_of, mode_of

SUPER_PASSWORD = "reconfig-secret"
SUPER = make_digest_acl_credential("super", SUPER_PASSWORD)


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with Ensemble(str(tmp_path_factory.mktemp("reconfig")), voters=3, reconfigEnabled="true",
                  DigestAuthenticationProvider__superDigest=SUPER) as ens:
        yield ens


@pytest.fixture
def admin(running, client_factory):
    zk = client_factory(running.hosts)
    zk.add_auth("digest", f"super:{SUPER_PASSWORD}")
    return zk


def config_of(zk):
    data, _ = zk.get("/zookeeper/config")
    lines = data.decode().splitlines()
    servers = {int(line.split("=")[0][len("server."):]): line.split("=", 1)[1]
               for line in lines if line.startswith("server.")}
    version = int([line for line in lines if line.startswith("version=")][0][8:], 16)
    return servers, version


def joiner(ens, sid, observer):
    """A server not yet in the configuration: zoo.cfg has the current members plus itself."""
    member = harness.Server(os.path.join(ens.workdir, f"joiner{sid}"), tick_ms=200, initLimit=10,
                            syncLimit=5, reconfigEnabled="true",
                            DigestAuthenticationProvider__superDigest=SUPER)
    member.myid = sid
    member.quorum_port = harness.free_port()
    member.election_port = harness.free_port()
    member.observer = observer
    for other_id, other in ens.members.items():
        member.cfg[f"server.{other_id}"] = other.cfg[f"server.{other_id}"]
    role = "observer" if observer else "participant"
    member.spec = (f"127.0.0.1:{member.quorum_port}:{member.election_port}:{role}"
                   f";127.0.0.1:{member.port}")
    member.cfg[f"server.{sid}"] = member.spec
    if observer:
        member.cfg["peerType"] = "observer"
    return member


def launch_until_serving(joiner):
    """Starts a server outside the configuration and waits until it follows (without a vote)."""
    joiner.launch()
    harness.wait_until(lambda: mode_of(joiner) is not None, timeout=30,
                       what=f"server {joiner.myid} to sync before it is added")


def points_at(member, dynamic):
    """zoo.cfg names `dynamic` as its dynamicConfigFile (ZooKeeper may write the real path)."""
    if not os.path.exists(dynamic):
        return False
    with open(os.path.join(member.workdir, "zoo.cfg")) as f:
        static = f.read()
    return any(f"dynamicConfigFile={p}" in static for p in (dynamic, os.path.realpath(dynamic)))


def test_the_configuration_is_published_on_every_member(running, client_factory):
    views = [config_of(client_factory(m.hosts)) for m in running.members.values()]
    assert all(v == views[0] for v in views)
    servers, _ = views[0]
    assert sorted(servers) == sorted(running.members)
    for sid, member in running.members.items():
        assert servers[sid] == member.cfg[f"server.{sid}"]
    acl, _ = client_factory(running.hosts).get_acls("/zookeeper/config")
    assert [a.perms for a in acl] == [1]  # world: read only


def test_reconfig_needs_the_super_user(running, client_factory):
    zk = client_factory(running.hosts)
    with pytest.raises(NoAuthError):
        zk.reconfig(joining=None, leaving="3", new_members=None)
    assert sorted(config_of(zk)[0]) == [1, 2, 3]


def test_the_right_to_reconfigure_is_checked_last(running, client_factory):
    """ZooKeeper checks the version and the arguments before the ACL of /zookeeper/config, so an
    unauthenticated client hears BADVERSION or BADARGUMENTS first (kazoo's own TestReconfig)."""
    zk = client_factory(running.hosts)
    _, version = config_of(zk)
    with pytest.raises(BadVersionError):
        zk.reconfig(joining=None, leaving="3", new_members=None, from_config=version + 1)
    with pytest.raises(BadArgumentsError):
        zk.reconfig(joining="some thing", leaving=None, new_members=None)
    with pytest.raises(BadArgumentsError):
        zk.reconfig(joining="server.100=127.0.0.1:bad", leaving=None, new_members=None)
    with pytest.raises(BadArgumentsError):
        zk.reconfig(joining=None, leaving="1,2,3", new_members=None)
    with pytest.raises(NoAuthError):
        zk.reconfig(joining=None, leaving="3", new_members=None, from_config=version)
    assert sorted(config_of(zk)[0]) == [1, 2, 3]


def test_a_stale_config_version_is_refused(running, admin):
    _, version = config_of(admin)
    with pytest.raises(BadVersionError):
        admin.reconfig(joining=None, leaving="3", new_members=None, from_config=version + 1)
    assert sorted(config_of(admin)[0]) == [1, 2, 3]


def test_observer_and_voter_join_and_leave_while_a_client_writes(running, admin,
                                                                 client_factory):
    observer, voter = joiner(running, 4, observer=True), joiner(running, 5, observer=False)
    writer_zk = client_factory(running.hosts)
    parent = writer_zk.create(f"/reconfig_{os.getpid()}")
    try:
        with Writer(writer_zk, parent) as writer:
            for member in (observer, voter):
                launch_until_serving(member)
            writer.wait_for_more()

            _, before = config_of(admin)
            data, _ = admin.reconfig(joining=f"server.4={observer.spec}", leaving=None,
                                     new_members=None, from_config=before)
            servers, version = config_of(admin)
            assert servers[4] == observer.spec and version > before
            assert f"server.4={observer.spec}" in data.decode()
            harness.wait_until(lambda: mode_of(observer) == "observer", timeout=30,
                               what="the new observer to observe")
            # `conf` states the membership the member runs, with its version (the operator
            # reads the leader's).
            conf = running.leader().four("conf")
            assert f"server.4={observer.spec}" in conf
            assert f"version={version:x}" in conf.splitlines()
            # As ZooKeeper does: "<zoo.cfg>.dynamic.<version>" holds it, zoo.cfg points there.
            for member in running.members.values():
                dynamic = os.path.join(member.workdir, f"zoo.cfg.dynamic.{version:x}")
                harness.wait_until(lambda m=member, d=dynamic: points_at(m, d), timeout=10,
                                   what=f"zoo.cfg of member {member.myid} to point at {dynamic}")
                with open(dynamic) as f:
                    written = f.read()
                assert f"server.4={observer.spec}" in written
                assert "version=" not in written  # its name holds it: ZooKeeper refuses it inside
                with open(os.path.join(member.workdir, "zoo.cfg")) as f:
                    assert "server.1=" not in f.read()
            writer.wait_for_more()

            admin.reconfig(joining=f"server.5={voter.spec}", leaving=None, new_members=None)
            harness.wait_until(lambda: running.wait_serving() and mntr_of(
                running.leader()).get("zk_quorum_size") == "4", timeout=30,
                what="four voters")
            assert mode_of(voter) in ("follower", "leader")
            writer.wait_for_more()
            # the new members serve the same data
            for member in (observer, voter):
                fresh = client_factory(member.hosts)
                fresh.sync(parent)
                assert fresh.exists(parent) is not None

            admin.reconfig(joining=None, leaving="4,5", new_members=None)
            servers, _ = config_of(admin)
            assert sorted(servers) == [1, 2, 3]
            # Removed servers no longer vote; as in ZooKeeper they may follow on without a vote
            # until they are stopped.
            def voting_followers():
                m = mntr_of(running.leader())
                return int(m["zk_synced_followers"]) - int(m["zk_synced_non_voting_followers"])

            harness.wait_until(lambda: mntr_of(running.leader()).get("zk_quorum_size") == "3",
                               timeout=30, what="three voters again")
            harness.wait_until(lambda: voting_followers() == 2, timeout=30,
                               what="two voting followers again")
            writer.wait_for_more()
        assert writer.failures == []
        assert writer.lost() == []
    finally:
        observer.kill9()
        voter.kill9()


def test_a_reconfig_survives_a_restart_of_the_whole_ensemble(running, admin, client_factory):
    observer = joiner(running, 6, observer=True)
    try:
        launch_until_serving(observer)
        admin.reconfig(joining=f"server.6={observer.spec}", leaving=None, new_members=None)
        expected = config_of(admin)
        for member in list(running.members.values()) + [observer]:
            member.kill9()
        for member in list(running.members.values()) + [observer]:
            member.launch()  # zoo.cfg of 1-3 still lists only 1-3: the data holds the change
        running.wait_serving()
        harness.wait_until(lambda: mode_of(observer) is not None, timeout=30,
                           what="server 6 back")
        for member in running.members.values():
            assert config_of(client_factory(member.hosts)) == expected
        admin_again = client_factory(running.hosts)
        admin_again.add_auth("digest", f"super:{SUPER_PASSWORD}")
        admin_again.reconfig(joining=None, leaving="6", new_members=None)
    finally:
        observer.kill9()


@pytest.mark.skipif(harness.impl() != "zookube" or not refzk.available(),
                    reason="a zookube-written file read by Apache ZooKeeper")
def test_zookeeper_starts_from_the_dynamic_config_file_zookube_wrote(running, admin,
                                                                     client_factory):
    """Moving a member back to ZooKeeper keeps working after a reconfig zookube recorded."""
    observer = joiner(running, 8, observer=True)
    try:
        launch_until_serving(observer)
        admin.reconfig(joining=f"server.8={observer.spec}", leaving=None, new_members=None)
        expected = config_of(admin)
        dynamic = os.path.join(observer.workdir, f"zoo.cfg.dynamic.{expected[1]:x}")
        harness.wait_until(lambda: points_at(observer, dynamic), timeout=10,
                           what="the observer's zoo.cfg to point at its dynamic file")
        observer.kill9()
        observer.impl = "apache"
        observer.launch()
        harness.wait_until(lambda: mode_of(observer) == "observer", timeout=60,
                           what="ZooKeeper observing from zookube's files")
        assert config_of(client_factory(observer.hosts)) == expected
        admin.reconfig(joining=None, leaving="8", new_members=None)
    finally:
        observer.kill9()


def test_an_observer_is_promoted_to_voter_and_demoted_again(running, admin, client_factory):
    member = joiner(running, 7, observer=True)
    try:
        launch_until_serving(member)
        admin.reconfig(joining=f"server.7={member.spec}", leaving=None, new_members=None)
        harness.wait_until(lambda: mode_of(member) == "observer", timeout=30,
                           what="server 7 to observe")
        voter_spec = member.spec.replace(":observer;", ":participant;")
        admin.reconfig(joining=f"server.7={voter_spec}", leaving=None, new_members=None)
        harness.wait_until(lambda: mntr_of(running.leader()).get("zk_quorum_size") == "4",
                           timeout=30, what="server 7 to vote")
        harness.wait_until(lambda: mode_of(member) == "follower", timeout=30,
                           what="server 7 to follow as a voter")
        client_factory(member.hosts).create(f"/promoted_{os.getpid()}")
        admin.reconfig(joining=f"server.7={member.spec}", leaving=None, new_members=None)
        harness.wait_until(lambda: mntr_of(running.leader()).get("zk_quorum_size") == "3",
                           timeout=30, what="server 7 to stop voting")
        harness.wait_until(lambda: mode_of(member) == "observer", timeout=30,
                           what="server 7 to observe again")
        admin.reconfig(joining=None, leaving="7", new_members=None)
    finally:
        member.kill9()


def test_shrinking_is_refused_below_two_voters_and_works_down_to_three(tmp_path,
                                                                      client_factory):
    with Ensemble(str(tmp_path), voters=5, reconfigEnabled="true",
                  DigestAuthenticationProvider__superDigest=SUPER) as ens:
        zk = client_factory(ens.hosts)
        zk.add_auth("digest", f"super:{SUPER_PASSWORD}")
        keep = ens.leader().myid
        others = [sid for sid in ens.members if sid != keep]
        # standaloneEnabled (the default) forbids a single voter, as in ZooKeeper
        with pytest.raises(BadArgumentsError):
            zk.reconfig(joining=None, leaving=",".join(map(str, others)), new_members=None)
        assert len(config_of(zk)[0]) == 5
        zk.reconfig(joining=None, leaving=",".join(map(str, others[:2])), new_members=None)
        assert sorted(config_of(zk)[0]) == sorted([keep] + others[2:])
        harness.wait_until(lambda: mntr_of(ens.leader()).get("zk_quorum_size") == "3",
                           timeout=30, what="three voters")
        # The removed servers follow on without a vote; every member still serves.
        harness.wait_until(lambda: all(mode_of(m) for m in ens.members.values()), timeout=30,
                           what="every member serving")
        for member in ens.members.values():
            client_factory(member.hosts).create(f"/after_shrink_{member.myid}")
