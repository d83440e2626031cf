"""Watches: one-shot data/child/exists watches, event types, persistent and recursive watches."""

import queue

import pytest
from kazoo.protocol.states import EventType

from zkwire import EV_CHANGED, EV_CHILD, EV_CREATED, EV_DELETED, WireClient


def recorder():
    events = queue.Queue()
    return events, events.put


def next_event(events, timeout=10):
    try:
        return events.get(timeout=timeout)
    except queue.Empty:
        pytest.fail("expected watch event did not arrive")


def test_data_watch_fires_once_with_changed(zk, base):
    zk.create(base + "/d", b"0")
    events, cb = recorder()
    zk.get(base + "/d", watch=cb)
    zk.set(base + "/d", b"1")
    ev = next_event(events)
    assert (ev.type, ev.path) == (EventType.CHANGED, base + "/d")
    # One-shot: a second change must not reach the old watcher. A fresh watch set after it
    # fires on the third change; events of one session are ordered, so none can be pending.
    zk.set(base + "/d", b"2")
    fresh, cb2 = recorder()
    zk.get(base + "/d", watch=cb2)
    zk.set(base + "/d", b"3")
    next_event(fresh)
    assert events.empty()


def test_child_watch_fires_on_create_and_delete_of_child(zk, base):
    events, cb = recorder()
    assert zk.get_children(base, watch=cb) == []
    zk.create(base + "/c")
    ev = next_event(events)
    assert (ev.type, ev.path) == (EventType.CHILD, base)
    zk.get_children(base, watch=cb)
    zk.set(base + "/c", b"data")  # data change of a child is not a child event
    zk.delete(base + "/c")
    ev = next_event(events)
    assert (ev.type, ev.path) == (EventType.CHILD, base)


def test_exists_watch_on_missing_node_fires_created(zk, base):
    events, cb = recorder()
    assert zk.exists(base + "/later", watch=cb) is None
    zk.create(base + "/later")
    ev = next_event(events)
    assert (ev.type, ev.path) == (EventType.CREATED, base + "/later")


def test_delete_fires_data_and_child_watches(zk, base):
    zk.create(base + "/gone")
    data_events, on_data = recorder()
    child_events, on_child = recorder()
    zk.get(base + "/gone", watch=on_data)
    zk.get_children(base + "/gone", watch=on_child)
    zk.delete(base + "/gone")
    assert next_event(data_events).type == EventType.DELETED
    assert next_event(child_events).type == EventType.DELETED


def test_watch_fires_for_another_sessions_change(zk_server, zk, client_factory, base):
    zk.create(base + "/shared", b"0")
    other = client_factory(zk_server)
    events, cb = recorder()
    other.get(base + "/shared", watch=cb)
    zk.set(base + "/shared", b"1")
    assert next_event(events).type == EventType.CHANGED


def test_multi_fires_watches_for_each_op(zk, base):
    zk.create(base + "/m", b"0")
    data_events, on_data = recorder()
    child_events, on_child = recorder()
    zk.get(base + "/m", watch=on_data)
    zk.get_children(base, watch=on_child)
    t = zk.transaction()
    t.set_data(base + "/m", b"1")
    t.create(base + "/n")
    t.commit()
    assert next_event(data_events).type == EventType.CHANGED
    assert next_event(child_events).type == EventType.CHILD


@pytest.fixture
def wire(zk_server):
    client = WireClient(zk_server.port)
    yield client
    client.close()


def test_persistent_watch_fires_repeatedly_for_node_and_children(zk, wire, base):
    node = base + "/p"
    assert wire.add_watch(node, recursive=False)[0] == 0
    zk.create(node, b"0")
    zk.set(node, b"1")
    zk.set(node, b"2")
    zk.create(node + "/kid")
    zk.create(node + "/kid/grandkid")  # not a child of node: no event
    zk.delete(node + "/kid/grandkid")
    zk.delete(node + "/kid")
    zk.delete(node)
    got = [(e.type, e.path) for e in (wire.wait_event() for _ in range(6))]
    assert got == [(EV_CREATED, node), (EV_CHANGED, node), (EV_CHANGED, node),
                   (EV_CHILD, node), (EV_CHILD, node), (EV_DELETED, node)]
    # Still armed after NodeDeleted.
    zk.create(node)
    assert (wire.wait_event().type) == EV_CREATED


def test_persistent_recursive_watch_covers_the_subtree(zk, wire, base):
    root = base + "/r"
    zk.create(root)
    assert wire.add_watch(root, recursive=True)[0] == 0
    zk.create(root + "/a")
    zk.create(root + "/a/b", b"x")
    zk.set(root + "/a/b", b"y")
    zk.delete(root + "/a/b")
    zk.set(root, b"z")
    got = [(e.type, e.path) for e in (wire.wait_event() for _ in range(5))]
    # Recursive watches report node events only, never NodeChildrenChanged.
    assert got == [(EV_CREATED, root + "/a"), (EV_CREATED, root + "/a/b"),
                   (EV_CHANGED, root + "/a/b"), (EV_DELETED, root + "/a/b"),
                   (EV_CHANGED, root)]


def test_one_shot_and_persistent_watch_on_one_path_notify_once(zk, wire, base):
    node = base + "/both"
    marker = base + "/marker"
    zk.create(node, b"0")
    zk.create(marker)
    assert wire.add_watch(node, recursive=False)[0] == 0
    assert wire.get(node, watch=True)[0] == 0
    assert wire.exists(marker, watch=True)[0] == 0
    zk.set(node, b"1")
    zk.delete(marker)
    # One connection gets one notification per change, however many of its watches match.
    got = [(e.type, e.path) for e in (wire.wait_event() for _ in range(2))]
    assert got == [(EV_CHANGED, node), (EV_DELETED, marker)]
