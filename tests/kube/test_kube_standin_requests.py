"""Requests users' tools send that the operator itself does not, answered by the stand-in as
kube-apiserver 1.28 answers them: CRD defaulting, `kubectl scale` (a merge patch of /scale),
server-side apply of a Scale, a status merge patch, and a list at a resourceVersion the server
has not reached yet.
"""

import threading

from test_kube_operator import ZK, cluster, create_cluster, with_members
from test_kube_server_side_apply import apply, entries, send

ZK_PATH = "/apis/zookube.dev/v1alpha1/namespaces/default/zkclusters"
CM_PATH = "/api/v1/namespaces/default/configmaps"
MERGE = "application/merge-patch+json"


def test_a_created_cluster_carries_every_default_of_the_crd(api):
    with_members(api)
    create_cluster(api)
    spec = cluster(api)["spec"]
    # A default of {} picks up its properties' defaults, as the structural defaulter fills it.
    assert spec["ports"] == {"client": 2181, "quorum": 2888, "election": 3888, "metrics": 7000,
                             "admin": 8080, "secureClient": 2281}
    assert spec["voters"] == 3 and spec["observers"] == 1  # given, not defaulted over
    assert spec["image"] == "zookube/zookube-server:0.1.0"
    assert spec["storage"]["size"] == "1Gi" and spec["storage"]["reclaimPolicy"] == "Retain"


def test_an_applier_owns_only_what_it_applied_and_a_dropped_field_returns_to_its_default(api):
    manifest = {"apiVersion": "zookube.dev/v1alpha1", "kind": "ZkCluster",
                "metadata": {"name": "demo"}, "spec": {"voters": 5}}
    code, obj = apply(api, ZK_PATH + "/demo", manifest, "kubectl")
    assert code == 201, obj
    assert obj["spec"]["voters"] == 5 and obj["spec"]["ports"]["client"] == 2181
    assert entries(obj)[("kubectl", "Apply", "")]["fieldsV1"] == {"f:spec": {"f:voters": {}}}
    # The manifest stops naming voters: the applier gave it up, so it goes, and the defaulter
    # puts the CRD's default back.
    manifest["spec"] = {"observers": 2}
    code, obj = apply(api, ZK_PATH + "/demo", manifest, "kubectl")
    assert code == 200, obj
    assert obj["spec"]["voters"] == 3 and obj["spec"]["observers"] == 2


def test_kubectl_scale_merge_patches_the_scale_subresource(api):
    with_members(api)
    create_cluster(api)
    code, scale = send(api, "PATCH", ZK_PATH + "/demo/scale", {"spec": {"replicas": 3}}, MERGE,
                       "kubectl/v1.28.0")
    assert code == 200, scale
    assert (scale["kind"], scale["spec"]["replicas"]) == ("Scale", 3)
    zk = cluster(api)
    assert zk["spec"]["observers"] == 3
    assert "f:observers" in entries(zk)[("kubectl", "Update", "scale")]["fieldsV1"]["f:spec"]
    code, status = send(api, "PATCH", ZK_PATH + "/demo/scale", {"spec": {"replicas": "many"}},
                        MERGE)
    assert code == 422 and "replicas" in status["message"]
    assert cluster(api)["spec"]["observers"] == 3


def test_a_scale_applied_server_side_is_owned_under_the_scale_subresource(api):
    with_members(api)
    create_cluster(api)
    body = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "demo"},
            "spec": {"replicas": 2}}
    # The creator of the ZkCluster owns spec.observers: a different value conflicts with it,
    # naming the field as the ZkCluster has it, until the applier forces.
    code, status = apply(api, ZK_PATH + "/demo/scale", body, "hpa")
    assert code == 409, status
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "test" using ' \
                                'zookube.dev/v1alpha1: .spec.observers'
    code, scale = apply(api, ZK_PATH + "/demo/scale", body, "hpa", force=True)
    assert code == 200 and scale["spec"]["replicas"] == 2, scale
    owners = entries(cluster(api))
    assert owners[("hpa", "Apply", "scale")]["fieldsV1"] == {"f:spec": {"f:observers": {}}}
    assert "f:observers" not in owners[("test", "Update", "")]["fieldsV1"]["f:spec"]
    body["spec"]["replicas"] = 4
    code, status = apply(api, ZK_PATH + "/demo/scale", body, "other")
    assert code == 409 and 'conflict with "hpa" with subresource "scale"' in status["message"]
    code, _ = apply(api, ZK_PATH + "/demo/scale", dict(body, kind="ZkCluster"), "hpa")
    assert code == 400
    assert cluster(api)["spec"]["observers"] == 2


def test_a_status_merge_patch_changes_the_status_only(api):
    with_members(api)
    create_cluster(api)
    patch = {"status": {"phase": "Running"}, "spec": {"voters": 5}}
    code, obj = send(api, "PATCH", ZK_PATH + "/demo/status", patch, MERGE)
    assert code == 200, obj
    zk = cluster(api)
    assert zk["status"]["phase"] == "Running" and zk["spec"]["voters"] == 3
    # On the main resource the status part of a patch is dropped, the spec part kept.
    patch = {"status": {"phase": "Failed"}, "spec": {"voters": 5}}
    assert send(api, "PATCH", ZK_PATH + "/demo", patch, MERGE)[0] == 200
    zk = cluster(api)
    assert zk["status"]["phase"] == "Running" and zk["spec"]["voters"] == 5


def test_a_list_at_a_future_resource_version_waits_for_it(api):
    with api.store.lock:
        future = api.store.last_rv + 1
    got = {}
    lister = threading.Thread(target=lambda: got.update(
        answer=send(api, "GET", f"{CM_PATH}?resourceVersion={future}", None)))
    lister.start()
    # The list is answered once a write reaches that version, with that write in it.
    with api.store.lock:
        assert api.store.wait_for(lambda: api.store.waiting_lists == 1, 10)
        api.store.create("v1", "configmaps", "default",
                         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}})
    lister.join(10)
    code, body = got["answer"]
    assert code == 200 and [o["metadata"]["name"] for o in body["items"]] == ["late"]
    assert int(body["metadata"]["resourceVersion"]) >= future


def test_a_list_at_a_version_never_reached_is_a_504_naming_both_versions(api):
    with api.store.lock:
        current = api.store.last_rv
    code, status = send(api, "GET", f"{CM_PATH}?resourceVersion={current + 50}", None)
    assert code == 504 and status["reason"] == "Timeout"
    assert status["message"] == f"Too large resource version: {current + 50}, current: {current}"
    assert status["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
    assert status["details"]["retryAfterSeconds"] == 1
