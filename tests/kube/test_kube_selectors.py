"""Label selectors (set-based too) and lists and watches without a resourceVersion in the stand-in,
as kube-apiserver 1.28 serves them."""

import json
import threading

import pytest

from test_kube_watch import CM_PATH, configmap, events, http_get


def names(api, selector):
    conn, resp = http_get(api, CM_PATH, {"labelSelector": selector})
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 200, body
    return sorted(o["metadata"]["name"] for o in body["items"])


@pytest.fixture
def labelled(api):
    with api.store.lock:
        for name, labels in (("zk", {"app": "zk", "tier": "db"}), ("web", {"app": "web"}),
                             ("bare", {}), ("num", {"app": "zk", "rank": "7"})):
            obj = configmap(name, "x")
            obj["metadata"]["labels"] = labels
            api.store.create("v1", "configmaps", "default", obj)
    return api


@pytest.mark.parametrize("selector,want", [
    ("app=zk", ["num", "zk"]),
    ("app==zk", ["num", "zk"]),
    ("app!=zk", ["bare", "web"]),               # != matches where the key is absent
    ("app in (zk, web)", ["num", "web", "zk"]),
    ("app notin (zk)", ["bare", "web"]),        # so does notin
    ("tier", ["zk"]),
    ("!tier", ["bare", "num", "web"]),
    ("app in (zk),!tier", ["num"]),
    ("rank>5", ["num"]),
    ("rank<5", []),
    ("", ["bare", "num", "web", "zk"]),
])
def test_set_based_selectors_select_as_the_real_server_does(labelled, selector, want):
    assert names(labelled, selector) == want


@pytest.mark.parametrize("selector,message", [
    ("app in zk", "unable to parse requirement: found 'zk' expected: '('"),
    ("app,", "found '', expected: identifier after ','"),
    ("app zk", "unable to parse requirement: found 'zk', expected: '=', '!=', '==', 'in', "
               "notin'"),
    ("!app=zk", "found '=', expected: ',' or 'end of string'"),
    ("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
    ("rank>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' "
               "operators, the value must be an integer"),
    ("a+b=c", 'unable to parse requirement: <nil>: Invalid value: "a+b": name part must consist'),
    ("app=a b", "found 'b', expected: ',' or 'end of string'"),
])
def test_a_selector_the_real_parser_refuses_is_a_400_with_its_message(api, selector, message):
    for query in ({"labelSelector": selector},
                  {"labelSelector": selector, "watch": "1", "resourceVersion": "1"}):
        conn, resp = http_get(api, CM_PATH, query)
        status = json.loads(resp.read())
        conn.close()
        assert (resp.status, status["reason"]) == (400, "BadRequest"), status
        assert status["message"].startswith(message), status["message"]


def test_a_list_without_a_resource_version_is_the_latest_state(labelled):
    api = labelled
    for query in ({}, {"resourceVersion": "0"}, {"resourceVersion": "2"}):
        conn, resp = http_get(api, CM_PATH, query)
        body = json.loads(resp.read())
        conn.close()
        assert resp.status == 200, body
        assert body["metadata"]["resourceVersion"] == str(api.store.last_rv)
        assert len(body["items"]) == 4


@pytest.mark.parametrize("version", [None, "0"])
def test_a_watch_without_a_resource_version_starts_with_the_state_as_added(labelled, version):
    api = labelled
    query = {"watch": "1", "labelSelector": "app=zk", "timeoutSeconds": "2"}
    if version is not None:
        query["resourceVersion"] = version
    start = api.store.last_rv
    seen = threading.Event()

    def change_after_the_stream_opened():
        api.store.wait_for(lambda: any("watch" in r["query"] for r in api.store.requests), 10)
        with api.store.lock:
            api.store.create("v1", "configmaps", "default", configmap("late", "zk"))
        seen.set()
    writer = threading.Thread(target=change_after_the_stream_opened)
    writer.start()
    got = events(api, CM_PATH, query)
    writer.join()
    assert seen.is_set()
    added = [(e["type"], e["object"]["metadata"]["name"]) for e in got]
    # The state first (synthetic ADDED, as of the start), then what changed after it.
    assert sorted(added[:2]) == [("ADDED", "num"), ("ADDED", "zk")]
    assert added[2:] == [("ADDED", "late")]
    assert int(got[2]["object"]["metadata"]["resourceVersion"]) > start
