"""Every client operation through kazoo (and the raw wire client where kazoo 2.8 lacks one)."""

import re

import pytest
from kazoo.exceptions import (BadArgumentsError, BadVersionError, NodeExistsError,
                              NoAuthError, NoChildrenForEphemeralsError, NoNodeError,
                              NotEmptyError,
                              RolledBackError, RuntimeInconsistency)

from kazoo.security import OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, make_acl

from harness import wait_until
from zkwire import OP_GETCHILDREN, OP_GETDATA, WireClient

NONODE, NODEEXISTS, BADARGUMENTS = -101, -110, -8


@pytest.fixture
def wire(zk_server):
    client = WireClient(zk_server.port)
    yield client
    client.close()


def test_create_persistent_and_ephemeral(zk, base):
    assert zk.create(base + "/p", b"data") == base + "/p"
    assert zk.exists(base + "/p").ephemeralOwner == 0
    zk.create(base + "/e", ephemeral=True)
    assert zk.exists(base + "/e").ephemeralOwner == zk.client_id[0]
    with pytest.raises(NodeExistsError):
        zk.create(base + "/p")
    with pytest.raises(NoNodeError):
        zk.create(base + "/missing/child")
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(base + "/e/child")


def test_sequential_suffix_is_ten_digits_from_parent_cversion(zk, base):
    zk.create(base + "/x")
    zk.create(base + "/y")
    zk.delete(base + "/x")
    # The suffix comes from the parent's cversion. Live ZooKeeper 3.8 numbers from its
    # prepare-stage record, where the delete has not bumped cversion (-> 2); the applied tree
    # says 3. Either is accepted; the numbers must then run on from it.
    first = zk.create(base + "/s-", sequence=True)
    assert first in (base + "/s-0000000002", base + "/s-0000000003")
    n = int(first[-10:])
    second = zk.create(base + "/e-", ephemeral=True, sequence=True)
    assert second == base + f"/e-{n + 1:010d}"
    names = zk.get_children(base)
    assert sorted(names) == sorted(["y", first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]])


def test_create2_returns_the_new_stat(zk, base):
    path, stat = zk.create(base + "/n", b"abc", include_data=True)
    assert path == base + "/n"
    assert stat.czxid == stat.mzxid == stat.pzxid > 0
    assert stat.ctime == stat.mtime > 0
    assert (stat.version, stat.cversion, stat.aversion) == (0, 0, 0)
    assert (stat.dataLength, stat.numChildren, stat.ephemeralOwner) == (3, 0, 0)
    assert zk.exists(base + "/n") == stat


def test_stat_fields_across_create_set_and_child_delete(zk, base):
    parent = base + "/parent"
    _, created = zk.create(parent, b"12345", include_data=True)
    _, child = zk.create(parent + "/c", include_data=True)
    after_child = zk.exists(parent)
    assert after_child.cversion == 1 and after_child.numChildren == 1
    assert after_child.pzxid == child.czxid
    assert after_child.mzxid == created.mzxid, "a child create must not touch mzxid"

    set_stat = zk.set(parent, b"xy")
    assert set_stat.version == 1 and set_stat.dataLength == 2
    assert set_stat.mzxid > child.czxid and set_stat.mtime >= created.ctime
    assert set_stat.czxid == created.czxid and set_stat.ctime == created.ctime
    assert set_stat.pzxid == child.czxid

    zk.delete(parent + "/c")
    after_delete = zk.exists(parent)
    assert after_delete.cversion == 2 and after_delete.numChildren == 0
    assert after_delete.pzxid > set_stat.mzxid
    assert after_delete.version == 1 and after_delete.mzxid == set_stat.mzxid
    later = zk.set(parent, b"z")
    assert later.mzxid > after_delete.pzxid


def test_delete_versions_and_errors(zk, base):
    zk.create(base + "/d", b"v")
    zk.set(base + "/d", b"w")
    with pytest.raises(BadVersionError):
        zk.delete(base + "/d", version=0)
    zk.create(base + "/d/child")
    with pytest.raises(NotEmptyError):
        zk.delete(base + "/d")
    zk.delete(base + "/d/child", version=0)
    zk.delete(base + "/d", version=1)
    assert zk.exists(base + "/d") is None
    with pytest.raises(NoNodeError):
        zk.delete(base + "/d")


def test_get_set_with_versions(zk, base):
    zk.create(base + "/g", b"one")
    data, stat = zk.get(base + "/g")
    assert (data, stat.version) == (b"one", 0)
    assert zk.set(base + "/g", b"two", version=0).version == 1
    with pytest.raises(BadVersionError):
        zk.set(base + "/g", b"three", version=0)
    assert zk.get(base + "/g")[0] == b"two"
    zk.set(base + "/g", b"")
    assert zk.get(base + "/g")[0] == b""
    with pytest.raises(NoNodeError):
        zk.get(base + "/nope")
    assert zk.exists(base + "/nope") is None


def test_large_value_round_trips(zk, base):
    value = bytes(range(256)) * 2000  # 512000 bytes, under jute.maxbuffer
    zk.create(base + "/big", value)
    assert zk.get(base + "/big")[0] == value


def test_acl_get_set_bumps_aversion(zk, base):
    zk.create(base + "/a")
    acls, stat = zk.get_acls(base + "/a")
    assert [(a.perms, a.id.scheme, a.id.id) for a in acls] == [(31, "world", "anyone")]
    assert stat.aversion == 0
    read_admin = [make_acl("world", "anyone", read=True, admin=True)]
    assert zk.set_acls(base + "/a", read_admin, version=0).aversion == 1
    with pytest.raises(BadVersionError):
        zk.set_acls(base + "/a", OPEN_ACL_UNSAFE, version=0)
    acls, stat = zk.get_acls(base + "/a")
    assert [a.perms for a in acls] == [17] and stat.aversion == 1
    assert stat.version == 0, "setACL must not touch the data version"
    zk.set_acls(base + "/a", READ_ACL_UNSAFE)
    with pytest.raises(NoAuthError):
        zk.set_acls(base + "/a", OPEN_ACL_UNSAFE)


def test_children_and_children2(zk, base):
    for name in ("b", "a", "c"):
        zk.create(f"{base}/{name}")
    assert sorted(zk.get_children(base)) == ["a", "b", "c"]
    children, stat = zk.get_children(base, include_data=True)
    assert sorted(children) == ["a", "b", "c"]
    assert stat.numChildren == 3 and stat.cversion == 3
    with pytest.raises(NoNodeError):
        zk.get_children(base + "/nope")


def test_sync_returns_path(zk, base):
    assert zk.sync(base) == base


def test_get_all_children_number_and_ephemerals(zk, wire, base):
    zk.create(base + "/x/y/z", makepath=True)
    zk.create(base + "/x/w")
    assert wire.all_children_number(base) == (0, 4)
    assert wire.all_children_number(base + "/x/y/z") == (0, 0)
    assert wire.all_children_number(base + "/nope")[0] == NONODE

    wire.create(base + "/x/eph1", flags=1)
    wire.create(base + "/x/y/eph2", flags=1)
    zk.create(base + "/x/other", ephemeral=True)  # another session's
    err, paths = wire.get_ephemerals(base + "/x")
    assert err == 0
    assert sorted(paths) == [base + "/x/eph1", base + "/x/y/eph2"]
    err, paths = wire.get_ephemerals(base + "/x/y")
    assert paths == [base + "/x/y/eph2"]


def test_container_is_reaped_after_its_last_child_goes(zk, wire, base):
    assert wire.create(base + "/never", flags=4, op=19)[0] == 0
    err, (path, stat) = wire.create(base + "/box", flags=4, op=19)
    assert err == 0 and path == base + "/box"
    zk.create(base + "/box/item")
    zk.delete(base + "/box/item")
    wait_until(lambda: zk.exists(base + "/box") is None, timeout=15, what="container reaped")
    # A container that never had children is kept (the reaper ran since it was made).
    assert zk.exists(base + "/never") is not None


def test_ttl_node_is_reaped(zk, wire, base):
    err, (path, _) = wire.create(base + "/ttl", b"t", flags=5, ttl=300)
    assert err == 0 and path == base + "/ttl"
    err, (seq, _) = wire.create(base + "/ttlseq-", flags=6, ttl=300)
    assert err == 0 and re.fullmatch(re.escape(base) + r"/ttlseq-\d{10}", seq)
    err, (keep, _) = wire.create(base + "/kept", flags=5, ttl=300)
    zk.create(keep + "/child")  # a TTL node with children is not reaped
    wait_until(lambda: zk.exists(base + "/ttl") is None and zk.exists(seq) is None,
               timeout=15, what="TTL nodes reaped")
    assert zk.exists(keep) is not None


def test_ttl_rejected_for_non_ttl_mode_and_bad_ttl(wire, base):
    assert wire.create(base + "/bad", flags=0, ttl=1000)[0] == BADARGUMENTS
    assert wire.create(base + "/bad", flags=5, ttl=0)[0] == BADARGUMENTS


def test_transaction_commits_all_ops(zk, base):
    zk.create(base + "/k", b"0")
    t = zk.transaction()
    t.check(base + "/k", 0)
    t.create(base + "/n1", b"a")
    t.set_data(base + "/k", b"1")
    t.create(base + "/n2")
    t.delete(base + "/n2")
    results = t.commit()
    assert results[0] is True and results[1] == base + "/n1"
    assert results[2].version == 1 and results[4] is True
    assert zk.get(base + "/k")[0] == b"1"
    assert zk.exists(base + "/n2") is None


def test_transaction_failure_is_atomic_with_per_op_errors(zk, base):
    zk.create(base + "/k", b"0")
    t = zk.transaction()
    t.create(base + "/made", b"x")
    t.set_data(base + "/k", b"changed")
    t.check(base + "/k", 7)  # fails
    t.create(base + "/after")
    results = t.commit()
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], RolledBackError)
    assert isinstance(results[2], BadVersionError)
    assert isinstance(results[3], RuntimeInconsistency)
    assert zk.exists(base + "/made") is None
    assert zk.get(base + "/k") [0] == b"0"
    assert zk.exists(base + "/k").version == 0


def test_transaction_sees_its_own_earlier_ops(zk, base):
    t = zk.transaction()
    t.create(base + "/a")
    t.create(base + "/a/b")
    t.check(base + "/a/b", 0)
    t.delete(base + "/a/b")
    t.delete(base + "/a")
    assert all(r is True or isinstance(r, str) for r in t.commit())
    assert zk.get_children(base) == []


def test_multi_read(zk, wire, base):
    zk.create(base + "/r", b"val")
    zk.create(base + "/r/kid")
    err, results = wire.multi_read([(OP_GETDATA, base + "/r"), (OP_GETCHILDREN, base + "/r"),
                                    (OP_GETDATA, base + "/missing")])
    assert err == 0
    assert results[0][1] == 0 and results[0][2][0] == b"val"
    assert results[1][2] == ["kid"]
    assert results[2][0] == -1 and results[2][1] == NONODE


def test_whoami(wire):
    err, infos = wire.whoami()
    assert err == 0
    assert ("ip", "127.0.0.1") in infos
    assert wire.add_auth("digest", "alice:pw")[0] == 0
    err, infos = wire.whoami()
    assert ("digest", "alice") in infos


@pytest.mark.parametrize("suffix", ["", "/", "\u0000x", "/x\u0000y"])
def test_malformed_paths_are_bad_arguments(wire, base, suffix):
    path = "relative" if suffix == "" else base + suffix
    assert wire.create(path)[0] == BADARGUMENTS
    assert wire.children(base)[1][0] == []
    assert wire.exists(base)[0] == 0, "the session survives a bad path"


@pytest.mark.parametrize("suffix", ["//b", "/./b", "/../b", "/x/."])
def test_non_canonical_paths_are_refused(wire, base, suffix):
    # ZooKeeper looks the parent up before validating the whole path, so a parent like
    # "/base/" answers NONODE there; BADARGUMENTS is just as correct.
    assert wire.create(base + suffix)[0] in (BADARGUMENTS, NONODE)
    assert wire.children(base)[1][0] == []


def test_special_zookeeper_nodes_cannot_be_deleted(zk):
    assert zk.exists("/zookeeper") is not None
    for special in ("/zookeeper/quota", "/zookeeper/config", "/zookeeper"):
        with pytest.raises((BadArgumentsError, NotEmptyError)):
            zk.delete(special)
    assert zk.exists("/zookeeper/quota") is not None
