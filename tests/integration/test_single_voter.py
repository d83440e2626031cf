"""An ensemble of one voter (issue 17, item 2): standaloneEnabled=false and a single participant
`server.1=...`, as the operator renders `voters: 1`. ZooKeeper 3.8 elects it leader at once and
serves; zookube looked for a leader for ever. Runs against both (ZK_IMPL), on the same zoo.cfg,
and grows it to three voters by reconfig.
"""

import time

import pytest

import harness
from ensemble import Ensemble, mntr_of, mode_of
from test_reconfig import SUPER, SUPER_PASSWORD, config_of, joiner, launch_until_serving

ELECTED_WITHIN_S = 10.0  # ZooKeeper: about 0.25 s after it listens


@pytest.mark.parametrize("observers", [0, 1])
def test_a_single_participant_elects_itself_and_serves(tmp_path, client_factory, observers):
    ens = Ensemble(str(tmp_path), voters=1, observers=observers, standaloneEnabled="false")
    for member in ens.members.values():
        member.launch()
    try:
        leader = ens.wait_serving(timeout=ELECTED_WITHIN_S)
        assert leader.myid == 1 and mode_of(leader) == "leader"
        assert mntr_of(leader)["zk_server_state"] == "leader"
        zk = client_factory(leader)
        zk.create("/one", b"alone")
        assert zk.get("/one")[0] == b"alone"
        for observer in ens.observers:
            assert mode_of(observer) == "observer"
            other = client_factory(observer)
            other.create("/from_observer", b"o")
            other.sync("/one")
            assert other.get("/one")[0] == b"alone"
            assert zk.get("/from_observer")[0] == b"o"
        # It comes back on its own data, alone again.
        leader.stop()
        leader.launch()
        ens.wait_serving(timeout=ELECTED_WITHIN_S)
        assert client_factory(leader).get("/one")[0] == b"alone"
    finally:
        ens.stop()


def test_a_single_voter_grows_to_three_by_reconfig(tmp_path, client_factory):
    ens = Ensemble(str(tmp_path), voters=1, standaloneEnabled="false", reconfigEnabled="true",
                   DigestAuthenticationProvider__superDigest=SUPER)
    joiners = []
    try:
        ens.start()
        admin = client_factory(ens.hosts)
        admin.add_auth("digest", f"super:{SUPER_PASSWORD}")
        admin.create("/before", b"1")
        # ZOOKEEPER-1783: a leader gives an unversioned configuration the zxid of its epoch, so a
        # joining server (whose zoo.cfg has no version) learns from the leader's votes that the
        # leader's view is newer, takes it, and follows without a vote. Alone, the leader's vote
        # is the only answer the joiner gets: without that, it would need a quorum of its own
        # two-voter view and look for ever.
        _, version = config_of(admin)
        assert version > 0, "the single voter's configuration has no version"
        for sid in (2, 3):
            member = joiner(ens, sid, observer=False)
            joiners.append(member)
            launch_until_serving(member)  # it follows without a vote
            admin.reconfig(joining=f"server.{sid}={member.spec}", leaving=None, new_members=None)
            assert sorted(config_of(admin)[0]) == list(range(1, sid + 1))
            harness.wait_until(
                lambda n=sid: mntr_of(ens.leader()).get("zk_quorum_size") == str(n), timeout=30,
                what=f"{sid} voters")
        harness.wait_until(lambda: all(mode_of(m) == "follower" for m in joiners), timeout=30,
                           what="both new voters following")
        admin.create("/after", b"3")
        for member in joiners:
            fresh = client_factory(member)
            fresh.sync("/after")
            assert fresh.get("/before")[0] == b"1" and fresh.get("/after")[0] == b"3"
        # Three voters now: the first one can go and a quorum of the others still writes.
        ens.members[1].stop()
        start = time.monotonic()
        survivor = client_factory(joiners[0], connection_retry={"max_tries": -1})
        harness.wait_until(lambda: mode_of(joiners[0]) in ("leader", "follower")
                           and mode_of(joiners[1]) in ("leader", "follower"), timeout=30,
                           what="the two new voters electing a leader")
        survivor.retry(survivor.create, "/without_the_first", b"2")
        assert time.monotonic() - start < 30
    finally:
        for member in joiners:
            member.kill9()
        ens.stop()
