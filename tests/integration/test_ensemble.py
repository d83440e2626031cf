"""A replicated ensemble of real processes (3 voters + 1 observer) driven by kazoo.

One ensemble serves the whole module; a test that stops or kills members brings them back before
it ends (the `ensemble` fixture also restarts anything left down), so every test starts from a
full, serving ensemble. Roles come from srvr, as an operator reads them.
"""

import os
import subprocess
import threading
import time

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
from kazoo.protocol.states import EventType

import harness
import zkwire
from writer import Writer
from ensemble import Ensemble, mntr_of, mode_of

pytestmark = pytest.mark.skipif(harness.impl() != "zookube" and harness.impl() != "apache",
                                reason="unknown ZK_IMPL")

# ZooKeeper's leader keeps this many committed txns for DIFF; more than that behind means SNAP.
COMMIT_LOG_COUNT = 500


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with Ensemble(str(tmp_path_factory.mktemp("ensemble")), voters=3, observers=1) as ens:
        yield ens


@pytest.fixture
def ensemble(running):
    for member in running.members.values():
        if not member.alive():
            member.launch()
    running.wait_serving()
    return running


@pytest.fixture
def clients(client_factory):
    return client_factory


def probe(kind, member):
    """The server binary's own probe, as Kubernetes and Docker run it."""
    return subprocess.run([harness.zookube_binary(), "--probe", kind, member.hosts],
                          capture_output=True, text=True, timeout=10)


def unique(name):
    return f"/{name}_{os.getpid()}_{time.monotonic_ns()}"


def test_one_leader_two_followers_and_an_observer(ensemble):
    leader = ensemble.leader()
    roles = sorted(mode_of(m) for m in ensemble.members.values())
    assert roles == ["follower", "follower", "leader", "observer"]
    assert not leader.observer
    assert all(mode_of(m) == "observer" for m in ensemble.observers)


def test_mntr_reports_the_ensemble_from_every_member(ensemble):
    leader = ensemble.leader()
    stats = mntr_of(leader)
    assert stats["zk_server_state"] == "leader"
    assert stats["zk_peer_state"] == "leading - broadcast"
    assert stats["zk_quorum_size"] == "3"
    assert stats["zk_learners"] == "3"
    assert stats["zk_synced_followers"] == "2"
    assert stats["zk_synced_observers"] == "1"
    assert int(stats["zk_cnt_election_time"]) >= 1
    # an election on loopback with tickTime 200 ms takes well under a minute
    assert 0 <= int(stats["zk_max_election_time"]) < 60_000
    for follower in ensemble.followers():
        f = mntr_of(follower)
        assert f["zk_server_state"] == "follower"
        assert f["zk_peer_state"] == "following - broadcast"
        assert f["zk_quorum_size"] == "3"
        assert "zk_synced_followers" not in f
    o = mntr_of(ensemble.observers[0])
    assert o["zk_server_state"] == "observer"
    assert o["zk_peer_state"] == "observing - broadcast"


def test_a_write_on_any_member_reaches_every_member(ensemble, clients):
    path = unique("everywhere")
    writers = list(ensemble.members.values())
    conns = {m.myid: clients(m.hosts) for m in writers}
    conns[writers[0].myid].create(path, b"")
    for member in writers:
        conns[member.myid].create(f"{path}/from{member.myid}", str(member.myid).encode())
    for member in writers:
        zk = conns[member.myid]
        zk.sync(path)
        assert sorted(zk.get_children(path)) == sorted(f"from{m.myid}" for m in writers)
        for other in writers:
            data, stat = zk.get(f"{path}/from{other.myid}")
            assert data == str(other.myid).encode()


def test_a_client_reads_its_own_writes_on_a_follower_and_an_observer(ensemble, clients):
    for member in ensemble.followers()[:1] + ensemble.observers:
        zk = clients(member.hosts)
        path = zk.create(unique("ryw"), b"v0")
        for i in range(1, 30):
            zk.set(path, f"v{i}".encode())
            data, stat = zk.get(path)
            assert data == f"v{i}".encode()
            assert stat.version == i


def test_sequential_names_are_unique_across_members(ensemble, clients):
    parent = unique("seq")
    conns = [clients(m.hosts) for m in ensemble.members.values()]
    conns[0].create(parent)
    names = []
    lock = threading.Lock()

    def create_many(zk):
        for _ in range(25):
            name = zk.create(f"{parent}/n-", sequence=True)
            with lock:
                names.append(name)

    threads = [threading.Thread(target=create_many, args=(zk,)) for zk in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(names) == 25 * len(conns)
    assert len(set(names)) == len(names)
    conns[0].sync(parent)
    assert sorted(conns[0].get_children(parent)) == sorted(n.rsplit("/", 1)[1] for n in names)


def test_a_watch_set_on_one_member_fires_for_a_write_on_another(ensemble, clients):
    follower, observer = ensemble.followers()[0], ensemble.observers[0]
    watcher, writer = clients(observer.hosts), clients(follower.hosts)
    path = writer.create(unique("watched"), b"a")
    watcher.sync(path)
    fired = threading.Event()
    events = []

    def on_change(event):
        events.append(event)
        fired.set()

    watcher.get(path, watch=on_change)
    writer.set(path, b"b")
    assert fired.wait(10), "the observer never delivered the data watch"
    assert events[0].type == EventType.CHANGED
    assert watcher.get(path)[0] == b"b"


def test_a_client_moving_to_another_member_keeps_its_session_ephemerals_and_watches(
        ensemble, clients):
    follower = ensemble.followers()[0]
    others = [m for m in ensemble.members.values() if m is not follower]
    zk = clients(follower.hosts)
    session_before = zk.client_id[0]
    eph = zk.create(unique("eph"), b"mine", ephemeral=True)
    watched = zk.create(unique("watched_across_move"), b"0")
    fired = threading.Event()
    zk.get(watched, watch=lambda event: fired.set())

    zk.set_hosts(",".join(m.hosts for m in others))
    follower.stop()  # its clients must move; the ensemble keeps its quorum
    try:
        harness.wait_until(lambda: zk.connected and zk.client_id[0] == session_before
                           and _serving_exists(zk, eph),
                           timeout=30, what="client reconnected to another member")
        assert zk.get(eph)[1].ephemeralOwner == session_before
        other = clients(others[0].hosts)
        other.set(watched, b"1")
        assert fired.wait(10), "the watch did not survive the move"
    finally:
        follower.launch()
        ensemble.wait_serving()


def _serving_exists(zk, path):
    try:
        return zk.exists(path) is not None
    except Exception:  # noqa: BLE001 - connection still moving
        return False


def test_closing_a_session_on_one_member_removes_its_ephemerals_everywhere(ensemble, clients):
    owner_member, reader_member = ensemble.observers[0], ensemble.followers()[0]
    owner = KazooClient(hosts=owner_member.hosts, timeout=10.0)
    owner.start(timeout=20)
    path = owner.create(unique("short_lived"), ephemeral=True)
    reader = clients(reader_member.hosts)
    reader.sync(path)
    assert reader.exists(path) is not None
    gone = threading.Event()
    reader.exists(path, watch=lambda event: gone.set())
    owner.stop()
    owner.close()
    assert gone.wait(10)
    assert reader.exists(path) is None


def test_leader_crash_elects_a_new_leader_and_loses_no_acknowledged_write(ensemble, clients):
    old = ensemble.leader()
    follower = ensemble.followers()[0]
    zk = clients(",".join(m.hosts for m in ensemble.members.values() if m is not old))
    parent = zk.create(unique("failover"))
    with Writer(zk, parent) as writer:
        writer.wait_for_more(50)
        old.kill9()
        new = ensemble.wait_serving()
        assert new is not old and not new.observer
        writer.wait_for_more(50)
    reader = clients(follower.hosts)
    reader.sync(parent)
    present = set(reader.get_children(parent))
    lost = [i for i in writer.acked if writer.name(i).rsplit("/", 1)[1] not in present]
    assert not lost, f"acknowledged writes lost in failover: {lost[:10]}"

    old.launch()  # the old leader rejoins as a learner and catches up
    ensemble.wait_serving()
    assert mode_of(old) == "follower"
    rejoined = clients(old.hosts)
    rejoined.sync(parent)
    assert set(rejoined.get_children(parent)) == present


@pytest.mark.parametrize("behind", [20, COMMIT_LOG_COUNT + 100], ids=["diff", "snapshot"])
def test_a_restarted_follower_catches_up(ensemble, clients, behind):
    follower = ensemble.followers()[0]
    zk = clients(ensemble.leader().hosts)
    parent = zk.create(unique(f"catchup{behind}"))
    follower.stop()
    ensemble.wait_serving()
    for i in range(behind):
        zk.create_async(f"{parent}/c{i:05d}", b"y")
    zk.sync(parent)
    expected = sorted(zk.get_children(parent))
    assert len(expected) == behind
    follower.launch()
    ensemble.wait_serving()
    caught_up = clients(follower.hosts)
    assert sorted(caught_up.get_children(parent)) == expected


def test_a_minority_serves_no_writes_and_recovers_with_its_quorum(ensemble, clients):
    leader = ensemble.leader()
    stopped = [m for m in ensemble.voters if m is not leader]
    for member in stopped:
        member.stop()
    # the lone voter loses its quorum: it stops serving, and so does the observer
    harness.wait_until(lambda: all(mode_of(m) is None for m in ensemble.members.values()),
                       timeout=30, what="the minority to stop serving")
    # still alive for a liveness probe (a restart would not help), but not ready for clients
    assert probe("live", leader).returncode == 0
    not_ready = probe("ready", leader)
    assert not_ready.returncode == 1 and "not serving" in not_ready.stderr
    client = KazooClient(hosts=leader.hosts, timeout=4.0)
    with pytest.raises(Exception):
        client.start(timeout=3)
    client.stop()
    client.close()
    for member in stopped:
        member.launch()
    ensemble.wait_serving()
    assert probe("ready", leader).returncode == 0
    zk = clients(leader.hosts)
    assert zk.create(unique("after_minority"))


def test_data_survives_a_whole_ensemble_restart(ensemble, clients):
    zk = clients(ensemble.hosts)
    path = zk.create(unique("durable"), b"kept")
    for member in ensemble.members.values():
        member.kill9()
    for member in ensemble.members.values():
        member.launch()
    ensemble.wait_serving()
    for member in ensemble.members.values():
        fresh = clients(member.hosts)
        assert fresh.get(path)[0] == b"kept"


def test_unknown_path_errors_the_same_on_every_member(ensemble, clients):
    for member in ensemble.members.values():
        with pytest.raises(NoNodeError):
            clients(member.hosts).get(unique("missing"))


def test_sessions_are_global_a_pinging_session_lives_and_a_silent_one_expires(ensemble, clients):
    observer, follower = ensemble.observers[0], ensemble.followers()[0]
    reader = clients(follower.hosts)
    # A session held on the observer: the leader decides expiry from what the observer reports.
    silent = zkwire.WireClient(observer.port, timeout_ms=1000)
    lively = zkwire.WireClient(observer.port, timeout_ms=1000)
    try:
        base = unique("global_sessions")
        assert silent.create(base + "_silent", flags=1)[0] == 0  # ephemeral
        assert lively.create(base + "_lively", flags=1)[0] == 0
        silent_path, lively_path = base + "_silent", base + "_lively"
        reader.sync(silent_path)
        assert reader.exists(silent_path) and reader.exists(lively_path)
        expired = threading.Event()
        reader.exists(silent_path, watch=lambda event: expired.set())
        # The lively session pings (as any client does) for 3 timeouts while the silent one says
        # nothing; the leader must expire exactly the silent one.
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            assert lively.call(zkwire.OP_EXISTS, zkwire.p_str(lively_path) +
                               zkwire.p_bool(False)).err == 0
            time.sleep(0.2)  # the ping interval of a client with a 1 s session
        assert expired.wait(10), "the silent session never expired"
        assert reader.exists(silent_path) is None
        reader.sync(lively_path)
        assert reader.exists(lively_path).ephemeralOwner == lively.session_id
    finally:
        lively.close()
        silent.close(send_close=False)


def test_a_member_refuses_a_client_that_has_seen_a_newer_zxid(ensemble):
    follower = ensemble.followers()[0]
    with pytest.raises((ConnectionError, OSError, zkwire.WireError)):
        zkwire.WireClient(follower.port, last_zxid=(0x7fff << 32) | 1, io_timeout=5.0)
    fine = zkwire.WireClient(follower.port, last_zxid=0)
    fine.close()


def test_members_restart_one_by_one_in_quorum_safe_order_under_load(ensemble, clients):
    leader = ensemble.leader()
    order = ensemble.observers + ensemble.followers() + [leader]
    zk = clients(ensemble.hosts)
    with Writer(zk, zk.create(unique("roll"))) as writer:
        for member in order:
            member.stop()
            member.launch()
            ensemble.wait_serving()
            writer.wait_for_more()
    assert writer.failures == []
    assert writer.lost() == []


def test_epochs_are_kept_beside_the_snapshots(tmp_path, client_factory):
    """acceptedEpoch and currentEpoch live in dataDir/version-2, where ZooKeeper 3.8 keeps them
    (its snapDir), so a data directory moves between the two servers with its epochs."""
    ens = Ensemble(str(tmp_path), voters=3)
    try:
        ens.start()
        zk = client_factory(ens.hosts)
        zk.create("/epoch-probe", b"")
        epoch = zk.exists("/epoch-probe").czxid >> 32
        for member in ens.members.values():
            version2 = os.path.join(member.data_dir, "version-2")
            for name in ("acceptedEpoch", "currentEpoch"):
                harness.wait_until(lambda p=os.path.join(version2, name): os.path.exists(p),
                                   timeout=10, what=f"{name} of server {member.myid}")
                with open(os.path.join(version2, name)) as f:
                    assert int(f.read().strip()) == epoch
                assert not os.path.exists(os.path.join(member.data_dir, name))
    finally:
        ens.stop()
