"""Pod Security admission in the stand-in (pod_security.py), and member pods that pass it.

A real API server refused every member pod in a namespace labelled
pod-security.kubernetes.io/enforce=restricted (no seccompProfile); the stand-in now enforces the
baseline and restricted levels on every pod created, the StatefulSet controller's included, and
answers as the real one does: 403 for a direct create, a FailedCreate Event for a controller's.
"""

import copy

import pytest

import pod_security
from apiserver import ApiError
from test_kube_operator import CLUSTER, ROLES, ZK, cluster, converge, with_members

RESTRICTED = {pod_security.ENFORCE: "restricted"}
BASELINE = {pod_security.ENFORCE: "baseline"}


def pod(spec, name="p", annotations=None):
    meta = {"name": name, "namespace": "default"}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


GOOD_CONTAINER = {"name": "c", "image": "x", "securityContext": {
    "allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"}}}


def with_container(**security):
    c = copy.deepcopy(GOOD_CONTAINER)
    c["securityContext"].update(security)
    return {"containers": [c]}


# (pod spec, level that refuses it, the check's name as the API server prints it)
VIOLATIONS = [
    (dict(with_container(), hostNetwork=True), "baseline", "host namespaces (hostNetwork=true)"),
    (with_container(privileged=True), "baseline", "privileged (container \"c\" must not set "
                                                  "securityContext.privileged=true)"),
    (with_container(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}), "baseline",
     "non-default capabilities"),
    (dict(with_container(), volumes=[{"name": "h", "hostPath": {"path": "/"}}]), "baseline",
     'hostPath volumes (volume "h")'),
    ({"containers": [dict(GOOD_CONTAINER, ports=[{"containerPort": 80, "hostPort": 80}])]},
     "baseline", 'hostPort (container "c" uses hostPort 80)'),
    (with_container(seccompProfile={"type": "Unconfined"}), "baseline", "seccompProfile"),
    (dict(with_container(), securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}),
     "baseline", "forbidden sysctls (kernel.msgmax)"),
    (with_container(procMount="Unmasked"), "baseline", "procMount"),
    (with_container(seLinuxOptions={"type": "spc_t"}), "baseline", "seLinuxOptions"),
    (with_container(allowPrivilegeEscalation=True), "restricted",
     'allowPrivilegeEscalation != false (container "c" must set '
     'securityContext.allowPrivilegeEscalation=false)'),
    (with_container(runAsNonRoot=None), "restricted",
     'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)'),
    (with_container(runAsUser=0), "restricted", "runAsUser=0"),
    (with_container(seccompProfile=None), "restricted",
     'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to '
     '"RuntimeDefault" or "Localhost")'),
    (with_container(capabilities={}), "restricted",
     'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"])'),
    (dict(with_container(), volumes=[{"name": "n", "nfs": {"server": "s", "path": "/"}}]),
     "restricted", 'restricted volume types (volume "n" uses restricted volume type "nfs")'),
]


def drop_none(spec):
    for c in spec["containers"]:
        c["securityContext"] = {k: v for k, v in c["securityContext"].items() if v is not None}
    return spec


@pytest.mark.parametrize("spec, level, check", VIOLATIONS, ids=[v[2].split(" (")[0] + "-" + v[1]
                                                                for v in VIOLATIONS])
def test_each_check_refuses_at_its_level_only(api, spec, level, check):
    spec = drop_none(copy.deepcopy(spec))
    api.store.label_namespace("default", {pod_security.ENFORCE: level})
    with pytest.raises(ApiError) as refused:
        api.store.create("v1", "pods", "default", pod(spec))
    assert refused.value.code == 403
    assert refused.value.message.startswith(
        f'pods "p" is forbidden: violates PodSecurity "{level}:latest": ')
    assert check in refused.value.message
    if level == "restricted":  # baseline lets it through
        api.store.label_namespace("default", BASELINE)
        api.store.create("v1", "pods", "default", pod(spec))


def test_a_pod_that_passes_restricted_is_admitted_and_unlabelled_namespaces_admit_all(api):
    api.store.label_namespace("default", RESTRICTED)
    api.store.create("v1", "pods", "default", pod(with_container(), name="good"))
    api.store.label_namespace("default", {})
    api.store.create("v1", "pods", "default", pod(
        drop_none(with_container(privileged=True, seccompProfile=None)), name="anything"))


def test_an_unknown_level_is_refused_not_ignored(api):
    with pytest.raises(ApiError):
        api.store.label_namespace("default", {pod_security.ENFORCE: "strict"})


def test_the_statefulset_controller_reports_a_refused_pod_as_failed_create(api):
    """What a real cluster did to the members before they set seccompProfile: the StatefulSet
    is stored, its pods are not, and a FailedCreate Event says why."""
    api.store.label_namespace("default", RESTRICTED)
    old = {"containers": [{"name": "zookube", "image": "x", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000}}
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": "old", "namespace": "default"},
           "spec": {"replicas": 1, "serviceName": "old", "selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}}, "spec": old}}}
    api.store.create("apps/v1", "statefulsets", "default", sts)
    assert ("v1", "pods", "default", "old-0") not in api.store.objects
    (name, message), = api.store.refused_pods
    assert name == "old-0"
    assert 'seccompProfile (pod or container "zookube" must set' in message
    events = [o for o in api.store.objects.values() if o["kind"] == "Event"]
    assert [(e["reason"], e["involvedObject"]["name"]) for e in events] == [("FailedCreate", "old")]
    assert events[0]["message"].startswith("create Pod old-0 in StatefulSet old failed error: "
                                           'pods "old-0" is forbidden: violates PodSecurity')


@pytest.mark.parametrize("labels", [RESTRICTED, BASELINE], ids=["restricted", "baseline"])
@pytest.mark.parametrize("pod_context", [None, {"runAsUser": 2000, "fsGroup": 2000}],
                         ids=["default-context", "user-context"])
def test_a_zkcluster_runs_in_a_namespace_that_enforces(api, operator, labels, pod_context):
    api.store.label_namespace("default", labels)
    with_members(api)
    obj = copy.deepcopy(CLUSTER)
    if pod_context:
        obj["spec"]["pod"] = {"securityContext": pod_context}
    with api.store.lock:
        api.store.create(*ZK, obj)
    converge(api, operator)
    assert api.store.refused_pods == []
    pods = {k[3] for k in api.store.objects if k[1] == "pods"}
    assert pods == set(ROLES)
    assert cluster(api)["status"]["readyMembers"] == len(ROLES)
