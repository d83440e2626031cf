"""The operator's Kubernetes mode over real HTTP against the stand-in API server (apiserver.py).

The stand-in validates every object strictly against the Kubernetes 1.28 OpenAPI documents and the
ZkCluster CRD, and refuses what it does not implement, so these tests fail on any request the real
API server would refuse.
"""

import copy
import json
import time
import subprocess
import urllib.error
import urllib.request

import pytest
import yaml

from apiserver import ApiError
from kube_harness import find_binary

ZK = ("zookube.dev/v1alpha1", "zkclusters", "default")
CLUSTER = {
    "apiVersion": "zookube.dev/v1alpha1", "kind": "ZkCluster",
    "metadata": {"name": "demo", "namespace": "default"},
    "spec": {"voters": 3, "observers": 1, "config": {"tickTime": "2000"},
             "storage": {"size": "1Gi"}},
}
ROLES = {"demo-0": "follower", "demo-1": "leader", "demo-2": "follower",
         "demo-observer-0": "observer"}
MANAGED_KINDS = {"Service", "ConfigMap", "StatefulSet", "PodDisruptionBudget"}
ROLLOUT_HASH = "zookube.dev/rollout-hash"


def with_members(api, zxid=0x100):
    for pod, mode in ROLES.items():
        api.store.members[pod] = {"mode": mode, "zxid": zxid, "ready": True}


def create_cluster(api, spec=None):
    obj = copy.deepcopy(CLUSTER)
    if spec:
        obj["spec"].update(spec)
    with api.store.lock:
        api.store.create(*ZK, obj)


def cluster(api):
    with api.store.lock:
        return api.store.get(*ZK, "demo")


def change_spec(api, **changes):
    """What `kubectl apply` of an edited manifest does: the spec changes, generation goes up."""
    def edit(old):
        old["spec"].update(changes)
        return old
    with api.store.lock:
        api.store.write(*ZK, "demo", None, edit, "update", "kubectl")


def managed(api):
    with api.store.lock:
        return {(o["kind"], o["metadata"]["name"]): o for o in api.store.objects.values()
                if o["kind"] in MANAGED_KINDS}


def operator_writes(api):
    return [w for w in api.store.writes if w["agent"].startswith("zookube-operator/")]


def converge(api, operator, passes=12):
    operator.run(passes)
    status = cluster(api)["status"]
    assert status["phase"] == "Running", status


def rendered(tmp_path, spec=None):
    obj = copy.deepcopy(CLUSTER)
    if spec:
        obj["spec"].update(spec)
    manifest = tmp_path / "demo.yaml"
    manifest.write_text(yaml.safe_dump(obj))
    render = find_binary("zookube-render", "operator", "main/operator")
    out = subprocess.run([render, str(manifest)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return {(o["kind"], o["metadata"]["name"]): o for o in json.loads(out.stdout)}


def test_first_reconcile_creates_exactly_the_rendered_objects(api, operator, tmp_path):
    with_members(api)
    create_cluster(api)
    operator.run(1)
    want = rendered(tmp_path)
    have = managed(api)
    assert set(have) == set(want)
    for key, obj in want.items():
        if key[0] == "StatefulSet":
            # The operator's rollout hash also covers the super digest, which only it can read.
            obj, have[key] = copy.deepcopy(obj), copy.deepcopy(have[key])
            hashes = [o["spec"]["template"]["metadata"]["annotations"].pop(ROLLOUT_HASH)
                      for o in (obj, have[key])]
            assert hashes[0] != hashes[1] and len(hashes[1]) == 16, hashes
        # Stored as the API server stores it: with its kind's defaults (and a Service's
        # allocations) filled in.
        obj = api.store.with_defaults(obj, have[key])
        body = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
        assert {k: have[key][k] for k in body} == body, key
        assert have[key]["metadata"]["labels"] == obj["metadata"]["labels"], key
        owner = have[key]["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["uid"]) == ("ZkCluster", cluster(api)["metadata"]["uid"])
    # The stand-in's StatefulSet controller made the pods from the applied templates.
    pods = {k[3] for k in api.store.objects if k[1] == "pods"}
    assert pods == set(ROLES)
    assert all(w["verb"] != "delete" for w in operator_writes(api))


def test_a_second_pass_changes_nothing(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    before = len(api.store.writes)
    operator.run(1)
    after = api.store.writes[before:]
    assert after, "the pass applied nothing at all"
    assert [w for w in after if w["changed"]] == []


def test_status_goes_through_the_status_subresource(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    obj = cluster(api)
    status = obj["status"]
    assert status["observedGeneration"] == obj["metadata"]["generation"]
    assert status["leader"] == "demo-1"
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Available"]["status"] == "True"
    assert conditions["Degraded"]["status"] == "False"
    assert all(c["observedGeneration"] == obj["metadata"]["generation"]
               for c in conditions.values())
    assert {m["name"]: m["role"] for m in status["members"]} == ROLES
    zk_writes = [w for w in operator_writes(api) if w["kind"] == "ZkCluster"]
    assert zk_writes and all(w["sub"] == "status" for w in zk_writes)
    # The operator never changed the spec: generation stays where the user left it.
    assert obj["metadata"]["generation"] == 1


def roll_order_ok(deleted):
    assert sorted(deleted) == sorted(ROLES), deleted  # every member once, none twice
    assert deleted[0] == "demo-observer-0"
    assert deleted[-1] == "demo-1"  # the leader last


def test_a_config_change_rolls_members_in_the_planners_order(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    change_spec(api, config={"tickTime": "3000"})
    operator.run(30)
    roll_order_ok(api.store.deleted_pods)
    status = cluster(api)["status"]
    assert status["roll"]["completed"] is True
    assert status["observedGeneration"] == 2
    # Every pod now runs the new template.
    sts = managed(api)[("StatefulSet", "demo")]
    want = sts["spec"]["template"]["metadata"]["annotations"]["zookube.dev/rollout-hash"]
    for key, pod in api.store.objects.items():
        if key[1] == "pods":
            assert pod["metadata"]["annotations"]["zookube.dev/rollout-hash"] == want


def test_one_member_down_at_a_time_and_a_restarted_operator_resumes(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    change_spec(api, config={"tickTime": "3000"})
    api.store.recreated_ready = False  # a restarted member stays out until we let it back
    seen = 0
    while seen < len(ROLES):
        # A fresh operator process each time: the roll's progress can only come from status.
        operator.run(4)
        deleted = api.store.deleted_pods
        assert len(deleted) == seen + 1, f"expected one more restart, got {deleted}"
        status = cluster(api)["status"]
        assert status["roll"]["current"] == deleted[-1]
        operator.run(2)
        assert len(api.store.deleted_pods) == seen + 1, "restarted a second member while one is out"
        api.store.members[deleted[-1]]["ready"] = True
        seen += 1
    operator.run(4)
    roll_order_ok(api.store.deleted_pods)
    assert cluster(api)["status"]["roll"]["completed"] is True


def test_only_the_leader_acts(api, operator):
    with_members(api)
    create_cluster(api)
    procs = [operator.start(25, identity=name, interval_ms=40) for name in ("op-a", "op-b")]
    outputs = []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=60)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    acting = {w["agent"] for w in operator_writes(api) if w["kind"] != "Lease"}
    assert len(acting) == 1, acting
    lease = api.store.get("coordination.k8s.io/v1", "leases", "default", "zookube-operator")
    assert acting == {"zookube-operator/" + lease["spec"]["holderIdentity"]}
    standby = [o for o in outputs if "standby" in o]
    assert len(standby) == 1 and "leading" not in standby[0]
    assert cluster(api)["status"]["phase"] == "Running"


def test_a_released_lease_is_taken_over(api, operator):
    with_members(api)
    create_cluster(api)
    operator.run(2, identity="op-a")
    lease = api.store.get("coordination.k8s.io/v1", "leases", "default", "zookube-operator")
    assert lease["spec"]["holderIdentity"] == "op-a"
    out = operator.run(2, identity="op-b")  # op-a's lease is fresh: op-b waits
    assert "leading" not in out
    p = operator.start(0, identity="op-a")
    try:
        line = ""
        while not line.startswith("pass 0"):
            line = p.stdout.readline()
            assert line, "op-a exited before its first pass"
        assert line.startswith("pass 0: leading")
    finally:
        p.terminate()  # SIGTERM: op-a gives the Lease up
        p.wait(timeout=30)
    assert "leading" in operator.run(1, identity="op-b")
    lease = api.store.get("coordination.k8s.io/v1", "leases", "default", "zookube-operator")
    assert lease["spec"]["holderIdentity"] == "op-b"
    assert lease["spec"]["leaseTransitions"] == 1


def request(api, method, path, body=None, ctype="application/json"):
    req = urllib.request.Request(api.url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {api.token}",
                                          "Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_the_stand_in_refuses_what_it_does_not_implement(api):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}
    code, created = request(api, "POST", "/api/v1/namespaces/default/configmaps", cm)
    assert code == 201
    stale = created["metadata"]["resourceVersion"]
    update = dict(cm, metadata={"name": "x", "resourceVersion": stale}, data={"a": "c"})
    assert request(api, "PUT", "/api/v1/namespaces/default/configmaps/x", update)[0] == 200
    cases = [
        ("GET", "/apis/apps/v1/namespaces/default/deployments", None, "application/json", 404),
        ("GET", "/api/v1/namespaces/default/pods?watch=1&sendInitialEvents=true", None,
         "application/json", 400),
        ("PATCH", "/api/v1/namespaces/default/configmaps/x", {"data": {"a": "c"}},
         "application/strategic-merge-patch+json", 415),
        ("DELETE", "/api/v1/namespaces/default/configmaps/x?propagationPolicy=Later", None,
         "application/json", 400),
        ("PATCH", "/api/v1/namespaces/default/configmaps/x", cm, "application/apply-patch+yaml",
         422),  # no fieldManager: as the real server answers
        ("POST", "/api/v1/namespaces/default/configmaps",
         dict(cm, metadata={"name": "y"}, bogus=1), "application/json", 422),
        ("PUT", "/api/v1/namespaces/default/configmaps/x", update, "application/json", 409),
    ]
    for method, path, body, ctype, code in cases:
        got, status = request(api, method, path, body, ctype)
        assert got == code, (method, path, status)
        assert status["kind"] == "Status" and status["code"] == code


def test_an_invalid_object_is_refused_with_422(api):
    bad = copy.deepcopy(CLUSTER)
    bad["spec"]["voters"] = 4
    with api.store.lock, pytest.raises(ApiError) as e:
        api.store.create(*ZK, bad)
    assert e.value.code == 422 and "odd" in e.value.message


def scale(api, replicas):
    path = "/apis/zookube.dev/v1alpha1/namespaces/default/zkclusters/demo/scale"
    code, current = request(api, "GET", path)
    assert code == 200
    current["spec"]["replicas"] = replicas
    code, body = request(api, "PUT", path, current)
    assert code == 200, body


def observer_pods(api):
    return sorted(k[3] for k in api.store.objects if k[1] == "pods" and "-observer-" in k[3])


def test_the_scale_subresource_scales_observers(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    for replicas in (3, 1):
        scale(api, replicas)
        operator.run(6)
        assert observer_pods(api) == [f"demo-observer-{i}" for i in range(replicas)]
        sts = managed(api)[("StatefulSet", "demo-observer")]
        assert sts["spec"]["replicas"] == replicas
        status = cluster(api)["status"]
        assert status["observers"] == replicas and status["phase"] == "Running"
        code, got = request(api, "GET",
                            "/apis/zookube.dev/v1alpha1/namespaces/default/zkclusters/demo/scale")
        assert got["status"]["replicas"] == replicas
    # Scaling observers restarts no one.
    assert api.store.deleted_pods == []
    events = [o for o in api.store.objects.values() if o["kind"] == "Event"]
    assert any(e["reason"] == "ScaledObservers" for e in events)


def test_an_invalid_stored_spec_degrades_and_touches_nothing(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    before = copy.deepcopy(managed(api))
    # A resource stored before the CRD refused this (the schema can no longer produce it).
    with api.store.lock:
        stored = api.store.objects[(*ZK, "demo")]
        stored["spec"]["voters"] = 4
        stored["metadata"]["generation"] += 1
    operator.run(3)
    assert managed(api) == before
    assert api.store.deleted_pods == []
    status = cluster(api)["status"]
    degraded = {c["type"]: c for c in status["conditions"]}["Degraded"]
    assert degraded["status"] == "True" and "spec.voters" in degraded["message"]
    assert degraded["observedGeneration"] == 2


def test_a_failed_request_fails_the_pass_and_the_next_pass_recovers(api, operator):
    with_members(api)
    api.store.faults.append(("PATCH", "StatefulSet", 500))
    create_cluster(api)
    out = operator.run(1, expect_ok=False)
    assert "injected failure" in out
    # The backend stops at the first failure: what comes after the voters' StatefulSet waits.
    assert ("StatefulSet", "demo") not in managed(api)
    assert ("PodDisruptionBudget", "demo-voters") not in managed(api)
    converge(api, operator)
    assert api.store.faults == []
    assert len(managed(api)) == len(MANAGED_KINDS) + 2  # two Services, two StatefulSets


def test_the_events_of_a_pass_whose_status_was_written_are_told_though_an_action_failed(
        api, operator):
    """The roll's start is in the status the pass wrote before its apply failed: the next pass
    does not decide it again, so its Event is told by this one."""
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    change_spec(api, config={"tickTime": "3000"})
    api.store.faults.append(("PATCH", "StatefulSet", 500))
    assert "injected failure" in operator.run(1, expect_ok=False)
    assert api.store.faults == []
    assert cluster(api)["status"]["roll"]["completed"] is False  # the status was written
    with api.store.lock:
        reasons = [o["reason"] for o in api.store.objects.values() if o["kind"] == "Event"]
    assert "RollStarted" in reasons, reasons


def test_a_request_that_times_out_fails_the_pass_and_the_next_recovers(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    # Observing hangs past the client's timeout. Twice: cpprest resends a request that failed on
    # a reused connection once, on a fresh one.
    api.store.hang_seconds = 6
    api.store.faults += [("GET", "Pod", 0), ("GET", "Pod", 0)]
    start = time.monotonic()
    out = operator.run(1, expect_ok=False)
    assert time.monotonic() - start < api.store.hang_seconds
    assert "observe failed" in out
    with api.store.lock:
        api.store.faults.clear()  # the second hang is left over when no resend happened
    converge(api, operator, passes=2)


def test_an_edit_of_an_owned_field_is_put_back(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    path = ("apps/v1", "statefulsets", "default", "demo-observer")
    want = api.store.objects[path]["spec"]["replicas"]

    def edit(old):
        old["spec"]["replicas"] = want + 2
        return old
    with api.store.lock:
        api.store.write(*path, None, edit, "update", "kubectl")
    assert len(observer_pods(api)) == want + 2
    operator.run(1)
    assert api.store.objects[path]["spec"]["replicas"] == want
    assert len(observer_pods(api)) == want


@pytest.mark.parametrize("reclaim", ["Retain", "Delete"])
def test_deleting_the_cluster_collects_what_it_owns(api, operator, reclaim):
    with_members(api)
    create_cluster(api, {"storage": {"size": "1Gi", "reclaimPolicy": reclaim}})
    converge(api, operator)
    code, _ = request(api, "DELETE", "/apis/zookube.dev/v1alpha1/namespaces/default/zkclusters/demo")
    assert code == 200
    left = {(o["kind"], o["metadata"]["name"]) for o in api.store.objects.values()
            if o["kind"] not in ("Event", "Lease")}
    # The volumes go with the StatefulSets only when the retention policy says Delete.
    kept = {("PersistentVolumeClaim", f"data-{pod}") for pod in ROLES}
    assert left == (kept if reclaim == "Retain" else set())
    out = operator.run(1)
    assert "0 clusters" in out and managed(api) == {}


def test_the_roll_pauses_and_reports_degraded_without_quorum(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    for pod in ("demo-0", "demo-2"):  # two of three voters out: no quorum
        api.store.members[pod]["ready"] = False
    change_spec(api, config={"tickTime": "3000"})
    operator.run(4)
    voters_deleted = [p for p in api.store.deleted_pods if "observer" not in p]
    assert voters_deleted == []
    status = cluster(api)["status"]
    degraded = {c["type"]: c for c in status["conditions"]}["Degraded"]
    assert degraded["status"] == "True", status
    for pod in ("demo-0", "demo-2"):
        api.store.members[pod]["ready"] = True
    operator.run(30)
    roll_order_ok(api.store.deleted_pods)


def test_a_terminating_member_counts_as_down_until_it_is_gone(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    change_spec(api, config={"tickTime": "3000"})
    api.store.graceful = True
    seen = 0
    while seen < len(ROLES):
        operator.run(3)
        deleted = api.store.deleted_pods
        assert len(deleted) == seen + 1, deleted
        pod = api.store.get("v1", "pods", "default", deleted[-1])
        assert "deletionTimestamp" in pod["metadata"]
        # Still answering srvr while it terminates, yet nothing else is restarted, and it is
        # not deleted a second time.
        operator.run(3)
        assert len(api.store.deleted_pods) == seen + 1, api.store.deleted_pods
        api.store.finish_termination(deleted[-1])
        seen += 1
    operator.run(4)
    roll_order_ok(api.store.deleted_pods)
    assert cluster(api)["status"]["roll"]["completed"] is True
