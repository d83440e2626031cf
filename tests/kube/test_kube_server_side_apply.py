"""Server-side apply in the stand-in (managed_fields.py) as kube-apiserver 1.28 does it, and the
operator under its rules: it owns what it applies, forces its own fields back, leaves alone what
other managers set, and what it stops applying goes away.
"""

import json
import urllib.error
import urllib.request

from test_kube_operator import (change_spec, cluster, converge, create_cluster, managed,
                                operator_writes, scale, with_members)

CM_PATH = "/api/v1/namespaces/default/configmaps"
STS_PATH = "/apis/apps/v1/namespaces/default/statefulsets"


def send(api, method, path, body, ctype="application/json", agent="test-client/1.0"):
    req = urllib.request.Request(api.url + path, method=method, data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {api.token}",
                                          "Content-Type": ctype, "User-Agent": agent})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def apply(api, path, body, manager, force=False):
    query = f"?fieldManager={manager}" + ("&force=true" if force else "")
    return send(api, "PATCH", path + query, body, "application/apply-patch+yaml")


def config_map(data, name="cfg"):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def entries(obj):
    """managedFields by (manager, operation, subresource)."""
    return {(e["manager"], e["operation"], e.get("subresource", "")): e
            for e in obj["metadata"].get("managedFields", [])}


def test_each_manager_owns_what_it_applied_and_keeps_what_others_did(api):
    assert apply(api, CM_PATH + "/cfg", config_map({"a": "1", "b": "2"}), "one")[0] == 201
    code, obj = apply(api, CM_PATH + "/cfg", config_map({"c": "3"}), "two")
    assert code == 200 and obj["data"] == {"a": "1", "b": "2", "c": "3"}
    owners = entries(obj)
    assert set(owners) == {("one", "Apply", ""), ("two", "Apply", "")}
    one = owners[("one", "Apply", "")]
    assert one["fieldsV1"] == {"f:data": {"f:a": {}, "f:b": {}}}
    assert (one["apiVersion"], one["fieldsType"]) == ("v1", "FieldsV1") and one["time"]
    # "one" drops b and keeps a: b goes (no one else owns it), c (two's) stays.
    code, obj = apply(api, CM_PATH + "/cfg", config_map({"a": "1"}), "one")
    assert code == 200 and obj["data"] == {"a": "1", "c": "3"}
    # The same apply again writes nothing.
    rv = obj["metadata"]["resourceVersion"]
    code, again = apply(api, CM_PATH + "/cfg", config_map({"a": "1"}), "one")
    assert code == 200 and again["metadata"]["resourceVersion"] == rv
    assert again["metadata"]["managedFields"] == obj["metadata"]["managedFields"]


def test_a_conflicting_apply_is_409_naming_manager_and_field_and_force_takes_it(api):
    assert apply(api, CM_PATH + "/cfg", config_map({"a": "1"}), "one")[0] == 201
    # The same value is no conflict: both own it.
    code, obj = apply(api, CM_PATH + "/cfg", config_map({"a": "1"}), "two")
    assert code == 200 and len(entries(obj)) == 2
    code, status = apply(api, CM_PATH + "/cfg", config_map({"a": "9"}), "three")
    assert code == 409, status
    assert status["reason"] == "Conflict"
    assert status["message"] == ('Apply failed with 2 conflicts: conflicts with "one":\n- .data.a\n'
                                 'conflicts with "two":\n- .data.a')
    assert sorted(c["message"] for c in status["details"]["causes"]) == [
        'conflict with "one"', 'conflict with "two"']
    assert {(c["type"], c["field"]) for c in status["details"]["causes"]} == {
        ("FieldManagerConflict", ".data.a")}
    code, obj = apply(api, CM_PATH + "/cfg", config_map({"a": "9"}), "three", force=True)
    assert code == 200 and obj["data"] == {"a": "9"}
    assert set(entries(obj)) == {("three", "Apply", "")}


def test_an_update_takes_the_fields_it_changes_and_conflicts_name_it(api):
    assert apply(api, CM_PATH + "/cfg", config_map({"a": "1", "b": "2"}), "one")[0] == 201
    code, obj = send(api, "PATCH", CM_PATH + "/cfg", {"data": {"a": "5"}},
                     "application/merge-patch+json", agent="kubectl-edit/v1.28.0 (linux/amd64)")
    assert code == 200
    owners = entries(obj)
    edit = owners[("kubectl-edit", "Update", "")]
    assert edit["apiVersion"] == "v1" and edit["fieldsV1"] == {"f:data": {"f:a": {}}}
    assert owners[("one", "Apply", "")]["fieldsV1"] == {"f:data": {"f:b": {}}}
    code, status = apply(api, CM_PATH + "/cfg", config_map({"a": "1", "b": "2"}), "one")
    assert code == 409
    assert status["message"] == ('Apply failed with 1 conflict: conflict with "kubectl-edit" '
                                 'using v1: .data.a')


def statefulset(containers, tolerations=None):
    spec = {"serviceName": "s", "selector": {"matchLabels": {"app": "s"}},
            "updateStrategy": {"type": "OnDelete"}, "replicas": 0,
            "template": {"metadata": {"labels": {"app": "s"}},
                         "spec": {"containers": containers}}}
    if tolerations is not None:
        spec["template"]["spec"]["tolerations"] = tolerations
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"},
            "spec": spec}


def test_lists_merge_by_their_keys_and_atomic_lists_are_replaced_whole(api):
    zk = {"name": "zk", "image": "zk:1", "ports": [{"containerPort": 2181}],
          "env": [{"name": "A", "value": "1"}]}
    mine = statefulset([zk], [{"key": "a", "operator": "Exists"}])
    assert apply(api, STS_PATH + "/s", mine, "op")[0] == 201
    # A sidecar injector adds a container, an env var to zk, and its own tolerations.
    theirs = statefulset([{"name": "zk", "env": [{"name": "B", "value": "2"}]},
                          {"name": "proxy", "image": "proxy:1"}],
                         [{"key": "b", "operator": "Exists"}])
    code, status = apply(api, STS_PATH + "/s", theirs, "injector")
    assert code == 409 and status["details"]["causes"] == [{
        "type": "FieldManagerConflict", "message": 'conflict with "op"',
        "field": ".spec.template.spec.tolerations"}]
    code, obj = apply(api, STS_PATH + "/s", theirs, "injector", force=True)
    assert code == 200, obj
    pod = obj["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["zk", "proxy"]
    assert pod["containers"][0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert pod["containers"][0]["image"] == "zk:1"
    assert pod["tolerations"] == [{"key": "b", "operator": "Exists"}]  # atomic: replaced whole
    fields = entries(obj)[("op", "Apply", "")]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]
    container = fields["f:containers"]['k:{"name":"zk"}']
    assert container["f:ports"] == {'k:{"containerPort":2181,"protocol":"TCP"}': {
        ".": {}, "f:containerPort": {}}}
    assert container["f:env"] == {'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}}}
    assert "f:tolerations" not in fields  # forced away from op
    # op stops setting env A: it goes; the injector's B and container stay.
    mine["spec"]["template"]["spec"]["containers"][0]["env"] = []
    del mine["spec"]["template"]["spec"]["tolerations"]
    code, obj = apply(api, STS_PATH + "/s", mine, "op")
    assert code == 200, obj
    pod = obj["spec"]["template"]["spec"]
    assert pod["containers"][0]["env"] == [{"name": "B", "value": "2"}]
    assert [c["name"] for c in pod["containers"]] == ["zk", "proxy"]


def test_the_scale_subresource_records_who_scaled(api):
    with_members(api)
    create_cluster(api)
    scale(api, 3)
    owners = entries(cluster(api))
    scaled = owners[("Python-urllib", "Update", "scale")]
    assert scaled["fieldsV1"] == {"f:spec": {"f:observers": {}}}
    assert scaled["apiVersion"] == "zookube.dev/v1alpha1"


# --- the operator under these rules ---------------------------------------------------------------

STS = ("apps/v1", "statefulsets", "default", "demo")


def test_the_operator_leaves_what_other_managers_set_and_drops_what_it_no_longer_applies(
        api, operator):
    with_members(api)
    create_cluster(api, {"pod": {"annotations": {"team": "storage"}}})
    converge(api, operator)
    sts = managed(api)[("StatefulSet", "demo")]
    mine = entries(sts)[("zookube-operator", "Apply", "")]["fieldsV1"]
    assert "f:team" in mine["f:spec"]["f:template"]["f:metadata"]["f:annotations"]
    # `kubectl label` and `kubectl rollout restart` write fields the operator does not apply.
    path = STS_PATH + "/demo"
    restarted = {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2026-12-05T00:00:00Z"}}}}}
    assert send(api, "PATCH", path, {"metadata": {"labels": {"backup": "daily"}}},
                "application/merge-patch+json", "kubectl-label/v1.28.0")[0] == 200
    assert send(api, "PATCH", path, restarted, "application/merge-patch+json",
                "kubectl-rollout/v1.28.0")[0] == 200
    before = len(api.store.writes)
    operator.run(2)
    # Not fought over: the operator's applies change nothing.
    after = api.store.writes[before:]
    assert [w for w in after if w["changed"] and w["agent"].startswith("zookube-operator/")] == []
    assert [w for w in after if w["changed"] and w["kind"] == "StatefulSet"] == []
    sts = managed(api)[("StatefulSet", "demo")]
    assert sts["metadata"]["labels"]["backup"] == "daily"
    annotations = sts["spec"]["template"]["metadata"]["annotations"]
    assert annotations["kubectl.kubernetes.io/restartedAt"] == "2026-12-05T00:00:00Z"
    # The user drops the annotation from the spec: the operator stops applying it, and it goes,
    # while what the others set stays.
    change_spec(api, pod={})
    operator.run(3)
    sts = managed(api)[("StatefulSet", "demo")]
    annotations = sts["spec"]["template"]["metadata"]["annotations"]
    assert "team" not in annotations
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    assert sts["metadata"]["labels"]["backup"] == "daily"


def test_the_operator_forces_its_own_fields_back_and_a_scaled_cluster_stays_scaled(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    # Another manager takes the observers' replicas by a forced apply.
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "demo-observer"},
            "spec": {"replicas": 4}}
    code, obj = apply(api, STS_PATH + "/demo-observer", body, "intruder", force=True)
    assert code == 200 and obj["spec"]["replicas"] == 4
    # `kubectl scale` of the cluster: a field of the ZkCluster, which the operator never writes.
    scale(api, 2)
    operator.run(6)
    sts = managed(api)[("StatefulSet", "demo-observer")]
    assert sts["spec"]["replicas"] == 2
    owners = entries(sts)
    assert "f:replicas" in owners[("zookube-operator", "Apply", "")]["fieldsV1"]["f:spec"]
    assert ("intruder", "Apply", "") not in owners  # it owned only replicas, now taken back
    zk = cluster(api)
    assert zk["spec"]["observers"] == 2
    assert "f:observers" in entries(zk)[("Python-urllib", "Update", "scale")]["fieldsV1"]["f:spec"]
    # The operator writes only the status of its ZkCluster, and owns all of it.
    status_owner = entries(zk)[("zookube-operator", "Apply", "status")]
    assert set(status_owner["fieldsV1"]) == {"f:status"}
    assert not [w for w in operator_writes(api) if w["kind"] == "ZkCluster" and w["sub"] is None]
