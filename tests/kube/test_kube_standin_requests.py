"""Requests users' tools send that the operator itself does not, answered by the stand-in as
kube-apiserver 1.28 answers them: CRD defaulting, the built-in kinds' defaults, `kubectl scale`
(a merge patch of /scale), server-side apply of a Scale, a status merge patch, a list at a
resourceVersion the server has not reached yet, and managedFields sent in a request body.
"""

import threading

from test_kube_operator import ZK, cluster, create_cluster, with_members
from test_kube_server_side_apply import apply, config_map, entries, send, statefulset

ZK_PATH = "/apis/zookube.dev/v1alpha1/namespaces/default/zkclusters"
CM_PATH = "/api/v1/namespaces/default/configmaps"
STS_PATH = "/apis/apps/v1/namespaces/default/statefulsets"
SVC_PATH = "/api/v1/namespaces/default/services"
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


# --- built-in defaults --------------------------------------------------------------------------

def member_container(**extra):
    return dict({"name": "zk", "image": "zookube/zookube-server:0.1.0",
                 "ports": [{"name": "client", "containerPort": 2181}],
                 "readinessProbe": {"httpGet": {"port": 8080}},
                 "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath":
                                                                   "metadata.name"}}}]},
                **extra)


def test_a_statefulset_reads_back_with_its_defaults_and_the_applier_owns_none_of_them(api):
    sts = statefulset([member_container(resources={"limits": {"cpu": "0.5", "memory": "1024Mi"}}),
                       {"name": "side", "image": "busybox"}])
    del sts["spec"]["updateStrategy"], sts["spec"]["replicas"]
    sts["spec"]["template"]["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "c"}},
                                                  {"name": "scratch"}]
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    code, obj = apply(api, STS_PATH + "/s", sts, "deployer")
    assert code == 201, obj
    spec = obj["spec"]
    assert (spec["replicas"], spec["podManagementPolicy"], spec["revisionHistoryLimit"]) == \
        (1, "OrderedReady", 10)
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain",
                                                            "whenScaled": "Retain"}
    pod = spec["template"]["spec"]
    assert (pod["restartPolicy"], pod["terminationGracePeriodSeconds"], pod["dnsPolicy"],
            pod["schedulerName"], pod["securityContext"]) == \
        ("Always", 30, "ClusterFirst", "default-scheduler", {})
    zk, side = pod["containers"]
    assert (zk["imagePullPolicy"], side["imagePullPolicy"]) == ("IfNotPresent", "Always")
    assert (zk["terminationMessagePath"], zk["terminationMessagePolicy"]) == \
        ("/dev/termination-log", "File")
    assert zk["ports"][0]["protocol"] == "TCP"
    # Quantities come back in canonical form; a template's requests are not taken from its
    # limits (a Pod's are).
    assert zk["resources"] == {"limits": {"cpu": "500m", "memory": "1Gi"}}
    assert side["resources"] == {}
    assert zk["readinessProbe"] == {"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
                                    "timeoutSeconds": 1, "periodSeconds": 10,
                                    "successThreshold": 1, "failureThreshold": 3}
    assert zk["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert pod["volumes"] == [{"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}},
                              {"name": "scratch", "emptyDir": {}}]
    claim = spec["volumeClaimTemplates"][0]
    assert (claim["apiVersion"], claim["kind"], claim["spec"]["volumeMode"],
            claim["status"]) == ("v1", "PersistentVolumeClaim", "Filesystem",
                                 {"phase": "Pending"})
    # Defaulted after the applier's fields were recorded: no one owns them.
    mine = entries(obj)[("deployer", "Apply", "")]["fieldsV1"]["f:spec"]
    assert "f:podManagementPolicy" not in mine and "f:updateStrategy" not in mine
    container = mine["f:template"]["f:spec"]["f:containers"]['k:{"name":"zk"}']
    assert "f:imagePullPolicy" not in container and "f:terminationMessagePath" not in container
    # Applying the same manifest again is a no-op: the defaults are no difference.
    before = obj["metadata"]["resourceVersion"]
    code, again = apply(api, STS_PATH + "/s", sts, "deployer")
    assert code == 200 and again["metadata"]["resourceVersion"] == before


def test_a_service_gets_its_defaults_and_keeps_its_cluster_ip(api):
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "zk"},
           "spec": {"selector": {"app": "zk"}, "ports": [{"name": "client", "port": 2181}]}}
    code, obj = send(api, "POST", SVC_PATH, svc)
    assert code == 201, obj
    spec = obj["spec"]
    assert spec["ports"] == [{"name": "client", "port": 2181, "protocol": "TCP",
                              "targetPort": 2181}]
    assert (spec["type"], spec["sessionAffinity"], spec["internalTrafficPolicy"],
            spec["ipFamilyPolicy"], spec["ipFamilies"]) == \
        ("ClusterIP", "None", "Cluster", "SingleStack", ["IPv4"])
    assert spec["clusterIPs"] == [spec["clusterIP"]] and spec["clusterIP"].startswith("10.96.")
    # A replace that leaves the cluster IP out keeps it; one that changes it is refused.
    svc["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
    code, replaced = send(api, "PUT", SVC_PATH + "/zk", svc)
    assert code == 200 and replaced["spec"]["clusterIP"] == spec["clusterIP"], replaced
    svc["spec"]["clusterIP"] = "10.96.200.200"
    del svc["metadata"]["resourceVersion"]
    code, refused = send(api, "PUT", SVC_PATH + "/zk", svc)
    assert code == 422 and "immutable" in refused["message"]


def test_network_policy_and_secret_defaults(api):
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "p"},
              "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 2181}]}],
                       "egress": [{}]}}
    code, obj = send(api, "POST", "/apis/networking.k8s.io/v1/namespaces/default/"
                                  "networkpolicies", policy)
    assert code == 201, obj
    assert obj["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert obj["spec"]["ingress"][0]["ports"] == [{"port": 2181, "protocol": "TCP"}]
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    code, obj = send(api, "POST", "/api/v1/namespaces/default/secrets", secret)
    assert code == 201 and obj["type"] == "Opaque", obj
    # The type is immutable, and a replace that leaves it out asks for the default.
    tls = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"},
           "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}
    assert send(api, "POST", "/api/v1/namespaces/default/secrets", tls)[0] == 201
    del tls["type"]
    code, status = send(api, "PUT", "/api/v1/namespaces/default/secrets/t", tls)
    assert code == 422 and "immutable" in status["message"], status


def test_only_the_kinds_whose_strategy_sets_it_carry_a_generation(api):
    """As the 1.28 registry: a StatefulSet's generation counts spec changes; a ConfigMap or a
    Secret has none, whatever changes."""
    code, sts = apply(api, STS_PATH + "/g", dict(statefulset([member_container()]),
                                                 metadata={"name": "g"}), "deployer")
    assert code == 201 and sts["metadata"]["generation"] == 1, sts
    changed = statefulset([member_container(image="zookube:other")])
    code, sts = apply(api, STS_PATH + "/g", dict(changed, metadata={"name": "g"}), "deployer")
    assert code == 200 and sts["metadata"]["generation"] == 2, sts
    cm_path = "/api/v1/namespaces/default/configmaps/gen"
    code, cm = apply(api, cm_path, config_map({"a": "1"}, "gen"), "d")
    assert code == 201 and "generation" not in cm["metadata"], cm
    code, cm = apply(api, cm_path, config_map({"a": "2"}, "gen"), "d")
    assert code == 200 and "generation" not in cm["metadata"], cm


def test_a_volume_whose_defaults_the_stand_in_lacks_is_refused_not_stored(api):
    sts = statefulset([member_container()])
    sts["spec"]["template"]["spec"]["volumes"] = [
        {"name": "disk", "iscsi": {"targetPortal": "10.0.0.1", "iqn": "iqn.x", "lun": 0}}]
    code, status = send(api, "POST", STS_PATH, sts)
    assert code == 400 and "iscsi" in status["message"], status
    assert ("apps/v1", "statefulsets", "default", "s") not in api.store.objects


# --- managedFields in a request body ------------------------------------------------------------

def test_an_apply_that_carries_managed_fields_is_a_400(api):
    body = config_map({"a": "1"})
    body["metadata"]["managedFields"] = []
    code, status = apply(api, CM_PATH + "/cfg", body, "one")
    assert (code, status["reason"], status["message"]) == \
        (400, "BadRequest", "metadata.managedFields must be nil")


def test_an_update_may_replace_or_reset_the_managed_fields_but_not_drop_them_by_accident(api):
    assert apply(api, CM_PATH + "/cfg", config_map({"a": "1", "b": "2"}), "one")[0] == 201
    # A merge patch that does not name managedFields keeps them.
    code, obj = send(api, "PATCH", CM_PATH + "/cfg", {"data": {"c": "3"}}, MERGE, "two/1")
    assert code == 200 and set(entries(obj)) == {("one", "Apply", ""), ("two", "Update", "")}
    # Entries that do not decode (no fieldsType, an unknown operation) are ignored likewise.
    for bad in ([{"manager": "x", "operation": "Update", "apiVersion": "v1"}],
                [{"manager": "x", "operation": "Delete", "apiVersion": "v1",
                  "fieldsType": "FieldsV1", "fieldsV1": {}}]):
        code, obj = send(api, "PATCH", CM_PATH + "/cfg", {"metadata": {"managedFields": bad}},
                         MERGE, "two/1")
        assert code == 200 and set(entries(obj)) == {("one", "Apply", ""),
                                                      ("two", "Update", "")}, obj
    # Valid entries replace the tracked set: "one" no longer owns data.a, so a later apply
    # that drops it leaves it where it is.
    given = [{"manager": "one", "operation": "Apply", "apiVersion": "v1",
              "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:b": {}}}}]
    code, obj = send(api, "PATCH", CM_PATH + "/cfg", {"metadata": {"managedFields": given}},
                     MERGE, "two/1")
    assert code == 200, obj
    assert [(e["manager"], e["fieldsV1"]) for e in obj["metadata"]["managedFields"]] == \
        [("one", {"f:data": {"f:b": {}}})]
    code, obj = apply(api, CM_PATH + "/cfg", config_map({"b": "2"}), "one")
    assert code == 200 and obj["data"] == {"a": "1", "b": "2", "c": "3"}, obj
    # A list of one empty entry (or an empty list) resets them: nothing is tracked any more.
    for reset in ([{}], []):
        code, obj = send(api, "PATCH", CM_PATH + "/cfg",
                         {"metadata": {"managedFields": reset}}, MERGE, "two/1")
        assert code == 200 and "managedFields" not in obj["metadata"], obj
        assert apply(api, CM_PATH + "/cfg", config_map({"b": "2"}), "one")[0] == 200
    # A replace (PUT) follows the same rule: its body's managedFields reset them.
    current = api.store.get("v1", "configmaps", "default", "cfg")
    current["metadata"]["managedFields"] = [{}]
    code, obj = send(api, "PUT", CM_PATH + "/cfg", current, agent="three/1")
    assert code == 200 and "managedFields" not in obj["metadata"], obj


def test_a_pod_takes_its_requests_from_its_limits_and_links_services(api):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [
        member_container(resources={"limits": {"cpu": "1000m"}, "requests": {"memory": "0.5Gi"}})]}}
    code, obj = send(api, "POST", "/api/v1/namespaces/default/pods", pod)
    assert code == 201, obj
    assert obj["spec"]["enableServiceLinks"] is True
    assert obj["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "1"},
                                                        "requests": {"cpu": "1",
                                                                     "memory": "512Mi"}}
