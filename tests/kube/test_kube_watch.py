"""The operator's watch-driven mode (`--watch`) against the stand-in API server.

Resync and the requeue of a waiting plan are set to an hour, so whatever the operator does within
a test it did because a watch event told it to. Waits are on the stand-in's own condition
variable: every change, request and bookmark wakes them.
"""

import http.client
import json
import signal
import subprocess
import time
from collections import Counter
from urllib.parse import urlencode, urlsplit

import pytest

from test_kube_operator import (ROLES, change_spec, cluster, create_cluster, roll_order_ok,
                                with_members)

HOUR_MS = "3600000"
# The operator's streams: (plural, labelled). ConfigMaps are watched twice: its own, by label, and
# every one, for the users' ConfigMaps a cluster names.
STREAMS = {("zkclusters", False), ("pods", True), ("statefulsets", True), ("services", True),
           ("configmaps", True), ("poddisruptionbudgets", True), ("secrets", False),
           ("configmaps", False)}


class Watching:
    """zookube-kube-selftest --watch as a context manager: stopped with SIGTERM on exit."""

    def __init__(self, operator, tmp_path, identity=None, watch_timeout_s=300, resync_ms=HOUR_MS,
                 wait_requeue_ms=HOUR_MS, extra=()):
        cmd = operator.command(0, identity, interval_ms=200) + [
            "--watch", "--resync-ms", str(resync_ms), "--wait-requeue-ms", str(wait_requeue_ms),
            "--watch-timeout-s", str(watch_timeout_s), *extra]
        self.log_path = tmp_path / f"operator-{identity or 'solo'}.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.returncode = None

    def output(self):
        return self.log_path.read_text()

    def stop(self):
        if self.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.returncode = self.proc.wait(timeout=30)
            finally:
                if self.proc.poll() is None:
                    self.proc.kill()
                    self.proc.wait()
                self.log.close()
        return self.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def requests(api, stream, watch, code=200):
    """The operator's lists (watch=False) or watches of a stream, (plural, labelled) or a plural
    for both, in every namespace: its reflectors' requests, not the backend's reads of one
    cluster's pods or of one object."""
    plural, labelled = stream if isinstance(stream, tuple) else (stream, None)
    return sum(1 for r in list(api.store.requests)
               if r["verb"] == "GET" and r["plural"] == plural and r["ns"] is None
               and r["name"] is None and ("watch" in r["query"]) == watch and r["code"] == code
               and labelled in (None, "labelSelector" in r["query"]))


def wait_for(api, what, predicate, timeout=30):
    assert api.store.wait_for(predicate, timeout), f"timed out waiting for {what}"


def watching_everything(api, since=None):
    """Every stream the operator watches is open (more of them than `since` counted)."""
    since = since or Counter()
    return lambda: all(requests(api, k, watch=True) > since[k] for k in STREAMS)


def watch_counts(api):
    return Counter({k: requests(api, k, watch=True) for k in STREAMS})


def phase(api):
    return cluster(api).get("status", {}).get("phase")


def observers_at(api, n):
    def check():
        sts = api.store.objects.get(("apps/v1", "statefulsets", "default", "demo-observer"))
        pods = {k[3] for k in api.store.objects if k[1] == "pods"}
        return (sts is not None and sts["spec"]["replicas"] == n
                and {f"demo-observer-{i}" for i in range(n)} <= pods
                and f"demo-observer-{n}" not in pods)
    return check


def converged(api, operator, tmp_path, **kw):
    with_members(api)
    create_cluster(api)
    w = Watching(operator, tmp_path, **kw)
    wait_for(api, "the streams", watching_everything(api))
    wait_for(api, "phase Running", lambda: phase(api) == "Running")
    return w


def test_a_cluster_created_after_the_list_is_reconciled_from_the_watch(api, operator, tmp_path):
    with_members(api)
    with Watching(operator, tmp_path) as w:
        wait_for(api, "the streams", watching_everything(api))
        create_cluster(api)  # the operator's list was empty: only the watch can tell it
        wait_for(api, "phase Running", lambda: phase(api) == "Running")
        assert {k[3] for k in api.store.objects if k[1] == "pods"} == set(ROLES)
        assert requests(api, "zkclusters", watch=False) == 1, "it relisted"
    assert w.returncode == 0, w.output()


def test_a_spec_change_is_reconciled_without_a_resync(api, operator, tmp_path):
    with converged(api, operator, tmp_path) as w:
        lists = requests(api, "zkclusters", watch=False)
        change_spec(api, observers=3)
        wait_for(api, "three observers", observers_at(api, 3))
        wait_for(api, "status with three observers",
                 lambda: cluster(api)["status"].get("observers") == 3)
        assert requests(api, "zkclusters", watch=False) == lists
    assert w.returncode == 0, w.output()


def test_a_deleted_pod_is_noticed(api, operator, tmp_path):
    with converged(api, operator, tmp_path) as w:
        members = lambda: {m["name"]: m["ready"] for m in cluster(api)["status"]["members"]}
        assert all(members().values())
        # The pod goes; its StatefulSet brings it back, not serving yet.
        api.store.recreated_ready = False
        with api.store.lock:
            api.store.delete("v1", "pods", "default", "demo-0")
        wait_for(api, "demo-0 reported not ready", lambda: members()["demo-0"] is False)
        # It catches up: the pod turns Ready, and the operator sees that too.
        api.store.set_member("demo-0", ready=True)
        wait_for(api, "demo-0 reported ready again", lambda: members()["demo-0"] is True)
    assert w.returncode == 0, w.output()


@pytest.mark.parametrize("as_status", [False, True], ids=["error-event", "http-status"])
def test_410_gone_makes_the_operator_relist_and_converge(api, operator, tmp_path, as_status):
    api.store.gone_as_status = as_status
    with converged(api, operator, tmp_path) as w:
        lists = requests(api, "zkclusters", watch=False)
        with api.store.lock:
            # Streams drop, a change lands, and the history is compacted past it: resuming
            # from where the operator was can only answer 410, and only a list shows the change.
            api.store.break_watches()
            change_spec(api, observers=2)
            api.store.compact()
        wait_for(api, "two observers", observers_at(api, 2))
        assert api.store.gone_sent >= 1
        # Another kind's relist may queue the cluster first (its reconcile reads the cluster
        # itself): the ZkClusters' own relist follows its backoff.
        wait_for(api, "the ZkClusters listed again",
                 lambda: requests(api, "zkclusters", watch=False) > lists)
        assert "listing again" in w.output()
    assert w.returncode == 0, w.output()


def test_a_broken_stream_is_resumed_from_its_resource_version(api, operator, tmp_path):
    with converged(api, operator, tmp_path) as w:
        lists = Counter({k: requests(api, k, watch=False) for k in STREAMS})
        watches = watch_counts(api)
        api.store.break_watches()
        change_spec(api, observers=2)  # while the operator is reconnecting
        wait_for(api, "two observers", observers_at(api, 2))
        wait_for(api, "the streams again", watching_everything(api, watches))
        assert Counter({k: requests(api, k, watch=False) for k in STREAMS}) == lists
        assert api.store.gone_sent == 0
    assert w.returncode == 0, w.output()


def test_bookmarks_keep_a_quiet_watch_resumable_after_compaction(api, operator, tmp_path):
    api.store.bookmark_seconds = 1.0  # a minute in Kubernetes
    with converged(api, operator, tmp_path) as w:
        # Changes the operator's streams do not carry (a ConfigMap outside its selector)...
        for i in range(5):
            cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"other-{i}"},
                  "data": {"a": "b"}}
            with api.store.lock:
                api.store.create("v1", "configmaps", "default", cm)
        # ...reach the operator as bookmarks, so it resumes after them. Two bookmarks at the
        # newest resourceVersion on every stream: the first was read a second before the test
        # compacts, in the same hold of the lock, so nothing can land in between.
        def bookmarked_twice():
            at_top = Counter((p, labelled) for p, labelled, rv in api.store.bookmarks
                             if rv == api.store.last_rv)
            return all(at_top[k] >= 2 for k in STREAMS)
        with api.store.changed:
            assert api.store.changed.wait_for(bookmarked_twice, 30), "no bookmarks at the top"
            lists = requests(api, "zkclusters", watch=False)
            watches = watch_counts(api)
            api.store.compact()
            api.store.break_watches()
        wait_for(api, "the streams again", watching_everything(api, watches))
        assert api.store.gone_sent == 0
        assert requests(api, "zkclusters", watch=False) == lists
    assert w.returncode == 0, w.output()


def test_the_server_ending_a_watch_starts_the_next_one(api, operator, tmp_path):
    with converged(api, operator, tmp_path, watch_timeout_s=1) as w:
        watches = watch_counts(api)
        wait_for(api, "a second round of streams", watching_everything(api, watches))
        change_spec(api, observers=2)
        wait_for(api, "two observers", observers_at(api, 2))
        assert api.store.gone_sent == 0
    assert w.returncode == 0, w.output()


def test_sigterm_stops_the_controller_and_gives_the_lease_up(api, operator, tmp_path):
    with_members(api)
    create_cluster(api)
    lease = lambda: api.store.objects.get(
        ("coordination.k8s.io/v1", "leases", "default", "zookube-operator"))
    with Watching(operator, tmp_path, identity="op-a") as w:
        wait_for(api, "the Lease held by op-a",
                 lambda: lease() and lease()["spec"].get("holderIdentity") == "op-a")
        wait_for(api, "phase Running", lambda: phase(api) == "Running")
        assert w.stop() == 0, w.output()
    assert lease()["spec"]["holderIdentity"] == ""
    assert "giving the Lease up" in w.output()


def test_a_standby_does_not_act_and_takes_over_when_the_leader_stops(api, operator, tmp_path):
    with_members(api)
    create_cluster(api)
    lease = lambda: api.store.objects.get(
        ("coordination.k8s.io/v1", "leases", "default", "zookube-operator"))
    acts = lambda who: [w for w in api.store.writes
                        if w["agent"] == "zookube-operator/" + who and w["kind"] != "Lease"]
    with Watching(operator, tmp_path, identity="op-a") as a:
        wait_for(api, "op-a leading",
                 lambda: lease() and lease()["spec"]["holderIdentity"] == "op-a")
        wait_for(api, "phase Running", lambda: phase(api) == "Running")
        with Watching(operator, tmp_path, identity="op-b") as b:
            # Every request wakes the wait, so op-b's own Lease reads bring its log line in.
            wait_for(api, "op-b in standby", lambda: "standby" in b.output())
            change_spec(api, observers=2)
            wait_for(api, "two observers from op-a", observers_at(api, 2))
            assert acts("op-b") == []
            assert a.stop() == 0, a.output()
            wait_for(api, "op-b leading", lambda: lease()["spec"]["holderIdentity"] == "op-b")
            change_spec(api, observers=1)
            wait_for(api, "one observer from op-b", observers_at(api, 1))
            assert acts("op-b"), "op-b never acted after taking over"


def test_a_change_that_raises_no_event_is_seen_at_the_resync(api, operator, tmp_path):
    with converged(api, operator, tmp_path, resync_ms=300) as w:
        assert cluster(api)["status"]["leader"] == "demo-1"
        with api.store.lock:  # srvr answers change; no object does
            api.store.members["demo-1"]["mode"] = "follower"
            api.store.members["demo-0"]["mode"] = "leader"
        wait_for(api, "the new leader in status",
                 lambda: cluster(api)["status"].get("leader") == "demo-0")
    assert w.returncode == 0, w.output()


def test_a_failed_reconcile_is_retried_with_backoff(api, operator, tmp_path):
    with converged(api, operator, tmp_path) as w:
        with api.store.lock:
            # The worker's read of the cluster fails three times, so nothing is written and no
            # event follows: only the retries can get it done. (A timeout is not used here:
            # cpprest sends a request that timed out on a kept-alive connection again.)
            api.store.faults += [("GET", "ZkCluster", 500)] * 3
        change_spec(api, observers=2)
        wait_for(api, "two observers", observers_at(api, 2))
        assert api.store.faults == []
        assert "default/demo: retry 3\n" in w.output()
        assert "default/demo: retry 4\n" not in w.output()
    assert w.returncode == 0, w.output()


def observations(api):
    """How often the backend has read the cluster's pods: once per reconcile."""
    return sum(1 for r in list(api.store.requests)
               if r["plural"] == "pods" and r["ns"] == "default" and r["name"] is None)


def test_a_roll_waiting_on_members_is_looked_at_again_without_events(api, operator, tmp_path):
    with converged(api, operator, tmp_path, wait_requeue_ms=100) as w:
        api.store.recreated_ready = False
        change_spec(api, config={"tickTime": "3000"})
        members = lambda: {m["name"]: m["ready"] for m in cluster(api)["status"]["members"]}
        for n in range(1, len(ROLES) + 1):
            wait_for(api, f"restart {n}", lambda: len(api.store.deleted_pods) >= n)
            assert len(api.store.deleted_pods) == n, "a second member went while one was out"
            out = api.store.deleted_pods[-1]
            wait_for(api, f"{out} reported down", lambda: members().get(out) is False)
            # Nothing changes in the API now, yet the operator keeps looking...
            seen = observations(api)
            wait_for(api, "the operator looking again", lambda: observations(api) >= seen + 3)
            with api.store.lock:  # ...so it notices the member back in sync, which is silent
                api.store.members[out]["ready"] = True
        wait_for(api, "the roll completed",
                 lambda: cluster(api)["status"].get("roll", {}).get("completed") is True)
        roll_order_ok(api.store.deleted_pods)
    assert w.returncode == 0, w.output()


# --- the stand-in's watch, over HTTP -------------------------------------------------------


def http_get(api, path, query):
    url = urlsplit(api.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", path + "?" + urlencode(query),
                 headers={"Authorization": f"Bearer {api.token}"})
    return conn, conn.getresponse()


def events(api, path, query):
    """Every event of a watch until the server ends it."""
    conn, resp = http_get(api, path, query)
    try:
        assert resp.status == 200, resp.read()
        assert resp.getheader("Transfer-Encoding") == "chunked"
        return [json.loads(line) for line in resp.read().decode().splitlines()]
    finally:
        conn.close()


CM_PATH = "/api/v1/namespaces/default/configmaps"


def configmap(name, app, data="1"):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"app": app}}, "data": {"v": data}}


def relabel(api, name, app=None, data=None):
    def edit(old):
        if app:
            old["metadata"]["labels"]["app"] = app
        if data:
            old["data"]["v"] = data
        return old
    with api.store.lock:
        api.store.write("v1", "configmaps", "default", name, None, edit, "update", "test")


def test_the_stand_in_streams_changes_as_the_selector_sees_them(api):
    api.store.bookmark_seconds = 0.2
    start = api.store.list("v1", "configmaps", "default", "")["metadata"]["resourceVersion"]
    with api.store.lock:
        api.store.create("v1", "configmaps", "default", configmap("a", "x"))
        api.store.create("v1", "configmaps", "default", configmap("other", "y"))
    relabel(api, "a", app="y")   # leaves the selector: DELETED
    relabel(api, "a", app="x")   # back: ADDED
    relabel(api, "a", data="2")  # MODIFIED
    relabel(api, "other", data="2")  # never matched: nothing
    with api.store.lock:
        api.store.delete("v1", "configmaps", "default", "a")
    got = events(api, CM_PATH, {"watch": "1", "resourceVersion": start, "labelSelector": "app=x",
                                "allowWatchBookmarks": "true", "timeoutSeconds": "3"})
    changes = [e for e in got if e["type"] != "BOOKMARK"]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in changes] == [
        ("ADDED", "a"), ("DELETED", "a"), ("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in changes]
    assert rvs == sorted(set(rvs)) and rvs[0] > int(start)
    bookmarks = [e for e in got if e["type"] == "BOOKMARK"]
    assert bookmarks, "a quiet watch that asked for bookmarks got none before its timeout"
    assert int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]) == api.store.last_rv
    # Without allowWatchBookmarks there are none.
    quiet = events(api, CM_PATH, {"watch": "1", "resourceVersion": str(api.store.last_rv),
                                  "timeoutSeconds": "1"})
    assert quiet == []


@pytest.mark.parametrize("as_status", [False, True], ids=["error-event", "http-status"])
def test_the_stand_in_answers_410_for_a_compacted_resource_version(api, as_status):
    api.store.gone_as_status = as_status
    old = str(api.store.last_rv)
    with api.store.lock:
        api.store.create("v1", "configmaps", "default", configmap("a", "x"))
    api.store.compact()
    query = {"watch": "1", "resourceVersion": old, "timeoutSeconds": "5"}
    if as_status:
        conn, resp = http_get(api, CM_PATH, query)
        status = json.loads(resp.read())
        conn.close()
        assert (resp.status, status["code"], status["reason"]) == (410, 410, "Expired")
    else:
        got = events(api, CM_PATH, query)
        assert [(e["type"], e["object"]["code"]) for e in got] == [("ERROR", 410)]
    # From the compacted revision on, a watch works.
    assert events(api, CM_PATH, dict(query, resourceVersion=str(api.store.last_rv),
                                     timeoutSeconds="1")) == []


@pytest.mark.parametrize("path,query,code", [
    (CM_PATH + "/a", {"watch": "1", "resourceVersion": "1"}, 400),  # one object
    (CM_PATH, {"watch": "1", "resourceVersion": "1", "fieldSelector": "a=b"}, 400),
    (CM_PATH, {"watch": "1", "sendInitialEvents": "true"}, 400),  # WatchList: off in 1.28
    (CM_PATH, {"resourceVersionMatch": "Exact", "resourceVersion": "1"}, 400),
    (CM_PATH, {"labelSelector": "app in x"}, 400),  # the real parser's 400
    ("/apis/apps/v1/namespaces/default/deployments", {"watch": "1", "resourceVersion": "1"},
     404),
])
def test_the_stand_in_refuses_watches_it_does_not_implement(api, path, query, code):
    conn, resp = http_get(api, path, query)
    status = json.loads(resp.read())
    conn.close()
    assert (resp.status, status["kind"], status["code"]) == (code, "Status", code)


def test_bookmarks_come_at_the_real_servers_rate(api):
    """One a minute, and the last 2 s before the timeout: a 3 s watch gets exactly one, at 1 s."""
    assert api.store.bookmark_seconds == 60
    conn, resp = http_get(api, CM_PATH, {"watch": "1", "resourceVersion": str(api.store.last_rv),
                                         "allowWatchBookmarks": "true", "timeoutSeconds": "3"})
    start = time.monotonic()
    try:
        event = json.loads(resp.readline())  # http.client undoes the chunking
        at = time.monotonic() - start
        rest = resp.read().decode().splitlines()
        ended = time.monotonic() - start
    finally:
        conn.close()
    assert event["type"] == "BOOKMARK", event
    assert 0.8 <= at <= 1.8, at
    assert rest == [], rest
    assert 2.8 <= ended <= 4, ended
