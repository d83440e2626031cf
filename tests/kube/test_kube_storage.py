"""A change of spec.storage: growing is carried out, shrinking and another class are refused.

Growing is what users of other operators do by hand: patch every claim, delete the StatefulSet
with propagationPolicy=Orphan and create it again with the new claim template; the pods keep
running (OnDelete: nothing restarts) and the new StatefulSet adopts them. The stand-in implements
the parts that make this safe or unsafe: bound claims may only grow, only where their class allows
expansion; an orphaning delete leaves the pods and drops their ownerReference; a StatefulSet adopts
the pods its selector matches.
"""

import copy

import pytest

from apiserver import ApiError
from test_kube_operator import (ROLES, ZK, change_spec, cluster, converge, create_cluster,
                                operator_writes, with_members)

CLAIMS = {f"data-{pod}" for pod in ROLES}


def condition(api, kind):
    return {c["type"]: c for c in cluster(api)["status"]["conditions"]}[kind]


def pod_uids(api):
    with api.store.lock:
        return {k[3]: o["metadata"]["uid"] for k, o in api.store.objects.items()
                if k[1] == "pods"}


def owners(api, pod):
    with api.store.lock:
        obj = api.store.objects[("v1", "pods", "default", pod)]
        sts = {k[3]: o["metadata"]["uid"] for k, o in api.store.objects.items()
               if k[1] == "statefulsets"}
    refs = obj["metadata"].get("ownerReferences", [])
    return [(r["name"], r["uid"] == sts.get(r["name"])) for r in refs]


def events(api, reason):
    with api.store.lock:
        return [o["message"] for o in api.store.objects.values()
                if o["kind"] == "Event" and o["reason"] == reason]


@pytest.fixture
def running(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    assert api.store.claim_sizes() == {c: "1Gi" for c in CLAIMS}
    return api


def test_growing_the_size_grows_every_claim_and_restarts_nothing(running, operator):
    api = running
    before = pod_uids(api)
    change_spec(api, storage={"size": "2Gi"})
    operator.run(3)
    assert api.store.claim_sizes() == {c: "2Gi" for c in CLAIMS}
    assert api.store.deleted_pods == []
    assert pod_uids(api) == before  # the same pods, never re-created
    with api.store.lock:
        sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
    claim = sts["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == "2Gi"
    # The new StatefulSets adopted the running pods.
    for pod in ROLES:
        assert [ok for _, ok in owners(api, pod)] == [True], owners(api, pod)
    assert events(api, "ExpandingVolumes") and events(api, "VolumesExpanded")
    status = cluster(api)["status"]
    assert status["phase"] == "Running", status
    # Done: the next pass changes nothing.
    writes = len(operator_writes(api))
    operator.run(1)
    assert [w for w in operator_writes(api)[writes:] if w["changed"]] == []


def test_a_size_the_server_writes_back_otherwise_grows_once_and_then_stays(running, operator):
    # The API server stores quantities in canonical form: 3072Mi reads back as 3Gi, in the
    # claims and in the StatefulSets' claim templates alike.
    api = running
    change_spec(api, storage={"size": "3072Mi"})
    operator.run(3)
    assert api.store.claim_sizes() == {c: "3Gi" for c in CLAIMS}
    with api.store.lock:
        sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"][
        "storage"] == "3Gi"
    assert len(events(api, "VolumesExpanded")) == 1
    writes = len(operator_writes(api))
    operator.run(2)
    assert [w for w in operator_writes(api)[writes:] if w["changed"]] == []
    assert api.store.deleted_pods == [] and cluster(api)["status"]["phase"] == "Running"


def test_an_operator_stopped_between_the_claims_and_the_statefulsets_finishes(running,
                                                                             operator):
    api = running
    change_spec(api, storage={"size": "3Gi"})
    # The first pass dies when it deletes the first StatefulSet: the claims are patched already.
    api.store.faults.append(("DELETE", "StatefulSet", 500))
    operator.run(1, expect_ok=False)
    assert api.store.claim_sizes() == {c: "3Gi" for c in CLAIMS}
    with api.store.lock:
        sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"][
        "storage"] == "1Gi"
    operator.run(2)
    with api.store.lock:
        for name in ("demo", "demo-observer"):
            sts = api.store.get("apps/v1", "statefulsets", "default", name)
            assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"][
                "storage"] == "3Gi"
    assert api.store.deleted_pods == []
    assert cluster(api)["status"]["phase"] == "Running"


def test_a_class_that_cannot_expand_is_reported_and_nothing_is_touched(api, operator):
    with_members(api)
    create_cluster(api, {"storage": {"size": "1Gi", "storageClassName": "fixed"}})
    converge(api, operator)
    api.store.fixed_size_classes.add("fixed")
    change_spec(api, storage={"size": "2Gi", "storageClassName": "fixed"})
    operator.run(1, expect_ok=False)
    degraded = condition(api, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "VolumeExpansionRefused")
    assert "must support resize" in degraded["message"], degraded
    assert cluster(api)["status"]["phase"] == "Degraded"
    assert events(api, "VolumeExpansionRefused")
    writes = len(operator_writes(api))
    operator.run(3)  # not tried again until the spec changes; nothing else is applied
    assert [w for w in operator_writes(api)[writes:] if w["changed"]] == []
    assert api.store.claim_sizes() == {c: "1Gi" for c in CLAIMS}
    with api.store.lock:
        assert ("apps/v1", "statefulsets", "default", "demo") in api.store.objects
    assert api.store.deleted_pods == []
    change_spec(api, storage={"size": "1Gi", "storageClassName": "fixed"})  # set back
    operator.run(2)
    assert condition(api, "Degraded")["status"] == "False"
    assert cluster(api)["status"]["phase"] == "Running"


def test_shrinking_is_refused_with_the_field_and_both_sizes(running, operator):
    api = running
    change_spec(api, storage={"size": "1Gi"})  # same size in other words: nothing to do
    operator.run(1)
    change_spec(api, storage={"size": "512Mi"})
    operator.run(2)
    degraded = condition(api, "Degraded")
    assert degraded["reason"] == "StorageChangeRefused"
    assert degraded["message"] == ("spec.storage.size: 1Gi -> 512Mi: volumes cannot shrink; set "
                                   "it back to 1Gi or more")
    assert degraded["observedGeneration"] == cluster(api)["metadata"]["generation"]
    assert api.store.claim_sizes() == {c: "1Gi" for c in CLAIMS}
    assert api.store.deleted_pods == []
    with api.store.lock:
        sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"][
        "storage"] == "1Gi"


def test_the_crd_refuses_another_storage_class(running):
    api = running
    before = cluster(api)["spec"]["storage"]
    for storage in ({"size": "1Gi", "storageClassName": "other"},):
        with pytest.raises(ApiError) as refused:
            change_spec(api, storage=storage)
        assert refused.value.code == 422
        assert "storageClassName cannot change" in refused.value.message
    assert cluster(api)["spec"]["storage"] == before
    assert "storageClassName" not in before


def test_the_stand_in_refuses_what_kubernetes_refuses_on_a_claim(running):
    api = running
    key = ("v1", "persistentvolumeclaims", "default", "data-demo-0")

    def resize(size):
        def edit(old):
            old["spec"]["resources"]["requests"]["storage"] = size
            return old
        return edit
    with api.store.lock:
        with pytest.raises(ApiError) as shrink:
            api.store.write(*key, None, resize("500Mi"), "patch", "test")
        assert shrink.value.code == 422

        def other_mode(old):
            old = copy.deepcopy(old)
            old["spec"]["accessModes"] = ["ReadWriteMany"]
            return old
        with pytest.raises(ApiError) as immutable:
            api.store.write(*key, None, other_mode, "patch", "test")
        assert immutable.value.code == 422
    assert api.store.claim_sizes()["data-demo-0"] == "1Gi"


def test_claims_still_go_with_the_cluster_after_growing_with_reclaim_delete(api, operator):
    with_members(api)
    create_cluster(api, {"storage": {"size": "1Gi", "reclaimPolicy": "Delete"}})
    converge(api, operator)
    change_spec(api, storage={"size": "2Gi", "reclaimPolicy": "Delete"})
    operator.run(3)
    assert api.store.claim_sizes() == {c: "2Gi" for c in CLAIMS}
    with api.store.lock:
        api.store.delete(*ZK, "demo")
    assert api.store.claim_sizes() == {}
