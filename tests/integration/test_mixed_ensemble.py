"""zookube and Apache ZooKeeper 3.8 members in one ensemble: the election, quorum packets, txn
log and snapshots are ZooKeeper's own formats, so either can lead the other, a member catches up
from the other implementation by DIFF or SNAP, and an ensemble can be migrated member by member
on the same data directories while clients keep working."""

import os

import pytest

import refzk
from writer import Writer
from ensemble import Ensemble, mode_of

pytestmark = pytest.mark.skipif(not refzk.available(),
                                reason="Apache ZooKeeper (Debian's zookeeper) is not installed")

COMMIT_LOG_COUNT = 500  # beyond this many txns behind, a leader sends SNAP


def mixed(tmp_path, impls, **cfg):
    ens = Ensemble(str(tmp_path), voters=len(impls), **cfg)
    for member, impl in zip(ens.members.values(), impls):
        member.impl = impl
    return ens


@pytest.fixture
def ensembles():
    made = []
    yield made
    for ens in made:
        ens.stop()


def write_past_commit_log(zk, data=b"v"):
    """Creates more children of /snap than a leader's commit log holds, so that a learner that
    missed them gets SNAP; returns the parent and the children's sorted names."""
    parent = zk.create("/snap")
    for i in range(COMMIT_LOG_COUNT + 200):
        zk.create_async(f"{parent}/n{i:04d}", data)
    zk.sync(parent)
    return parent, sorted(zk.get_children(parent))


def written_everywhere(ens, client_factory, path):
    for member in ens.members.values():
        zk = client_factory(member.hosts)
        zk.sync(path)
        assert zk.exists(path) is not None, f"{path} missing on {member.impl} member {member.myid}"


def test_zookube_leads_zookeeper_followers_and_either_takes_over(tmp_path, ensembles,
                                                                 client_factory):
    ens = mixed(tmp_path, ["apache", "apache", "zookube"])
    ensembles.append(ens)
    ens.start()
    leader = ens.leader()
    assert leader.impl == "zookube"  # equal histories: the highest id wins, as in ZooKeeper
    for member in ens.members.values():
        client_factory(member.hosts).create(f"/from_{member.impl}_{member.myid}")
    for member in ens.members.values():
        written_everywhere(ens, client_factory, f"/from_{member.impl}_{member.myid}")

    leader.kill9()
    successor = ens.wait_serving()
    assert successor.impl == "apache"
    client_factory(successor.hosts).create("/under_zookeeper")
    leader.launch()  # zookube rejoins a ZooKeeper leader and catches up (DIFF)
    ens.wait_serving()
    assert mode_of(leader) == "follower"
    written_everywhere(ens, client_factory, "/under_zookeeper")


@pytest.mark.parametrize("lagging", ["zookube", "apache"])
def test_a_member_far_behind_catches_up_by_snapshot_from_the_other_implementation(
        tmp_path, ensembles, client_factory, lagging):
    # The highest id leads (equal histories), so member 1 is the lagging implementation and the
    # leader is the other one.
    impls = ["zookube", "apache", "apache"] if lagging == "zookube" else \
        ["apache", "zookube", "zookube"]
    ens = mixed(tmp_path, impls)
    ensembles.append(ens)
    ens.start()
    behind = ens.members[1]
    assert behind.impl == lagging and ens.leader().impl != lagging
    zk = client_factory(",".join(m.hosts for m in ens.members.values() if m is not behind))
    behind.stop()
    ens.wait_serving()
    parent, expected = write_past_commit_log(zk)
    behind.launch()
    ens.wait_serving()
    caught_up = client_factory(behind.hosts)
    caught_up.sync(parent)
    assert sorted(caught_up.get_children(parent)) == expected


def test_a_zookeeper_ensemble_migrates_to_zookube_member_by_member_under_load(
        tmp_path, ensembles, client_factory):
    ens = mixed(tmp_path, ["apache", "apache", "apache"])
    ensembles.append(ens)
    ens.start()
    zk = client_factory(ens.hosts)
    with Writer(zk, zk.create("/migration")) as writer:
        # followers first, the leader last, as an operator would roll them
        order = [m for m in ens.members.values() if mode_of(m) != "leader"] + [ens.leader()]
        for member in order:
            member.stop()
            member.impl = "zookube"  # same dataDir, zoo.cfg and myid: it reads ZooKeeper's files
            member.launch()
            ens.wait_serving()
            writer.wait_for_more()
    assert all(m.impl == "zookube" for m in ens.members.values())
    assert writer.failures == []
    assert writer.lost() == []
    for member in ens.members.values():
        assert os.path.exists(os.path.join(member.data_dir, "version-2"))
