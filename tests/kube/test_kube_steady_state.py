"""A converged cluster stays still against an API server that defaults what it stores: every
built-in object the operator applies reads back with more than it sent (builtin_defaults.py),
and none of that may look like a difference to the operator. After convergence, further passes
write nothing (no object's resourceVersion moves) and restart no member."""

import pytest

from test_kube_operator import cluster, converge, create_cluster, with_members
from test_kube_status import put_secret

# Every part of the spec that reaches a built-in object the operator renders.
RICH_SPEC = {
    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
    "pod": {"labels": {"team": "storage"}, "annotations": {"owner": "ops"},
            "nodeSelector": {"disk": "ssd"},
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "zk",
                             "effect": "NoSchedule"}],
            "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {
                    "topologyKey": "kubernetes.io/hostname",
                    "labelSelector": {"matchLabels": {"app.kubernetes.io/instance": "demo"}}}}]}}},
    "networkPolicy": {"enabled": True},
    "imagePullPolicy": "Always",
}
# What adds Secrets, volumes, ports and a second container port to what the operator renders.
SECURED_SPEC = {
    "tls": {"client": "both", "clientAuth": "need"},
    "auth": {"sasl": {"users": [{"name": "alice", "passwordSecretRef": {"name": "zk-alice"}}]},
             "enforce": True},
}


def versions(api):
    with api.store.lock:
        return {key: obj["metadata"]["resourceVersion"] for key, obj in api.store.objects.items()}


@pytest.mark.parametrize("spec", [RICH_SPEC, SECURED_SPEC], ids=["pod-options", "tls-sasl"])
def test_passes_after_convergence_change_no_object_and_restart_no_member(api, operator, spec):
    with_members(api)
    put_secret(api, "zk-alice", {"password": "secret"})
    create_cluster(api, spec)
    converge(api, operator)
    with api.store.lock:
        sts = api.store.get("apps/v1", "statefulsets", "default", "demo")
    # The server's defaults are there to be read back (a pod spec's and a claim template's).
    assert sts["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    with api.store.lock:
        phases = {o["status"]["phase"] for o in api.store.objects.values()
                  if o["kind"] == "PersistentVolumeClaim"}
    assert phases == {"Bound"}  # created Pending, then bound by the volume binder
    before, deleted = versions(api), list(api.store.deleted_pods)
    operator.run(4)
    after = versions(api)
    moved = sorted(k for k in after if after[k] != before.get(k))
    assert moved == [], moved
    assert api.store.deleted_pods == deleted
    assert cluster(api)["status"]["phase"] == "Running"
