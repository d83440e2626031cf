"""Objects the operator made and no longer renders are deleted (by its ownerReference, never
someone else's): the NetworkPolicy once spec.networkPolicy is off, and a removed member's
cert-manager Certificate after a scale-down. Each deletion is a Normal Event, ObjectDeleted."""

import copy

from test_kube_member_tls import certificates, events, issue_as_cert_manager, user_pki
from test_kube_operator import change_spec, cluster, converge, create_cluster, with_members

NP = ("networking.k8s.io/v1", "networkpolicies", "default")
LABELS = {"app.kubernetes.io/name": "zookube", "app.kubernetes.io/instance": "demo"}


def network_policies(api):
    with api.store.lock:
        return {k[3] for k in api.store.objects if k[1] == "networkpolicies"}


def deleted(api):
    return sorted(e["message"] for e in events(api) if e["reason"] == "ObjectDeleted")


def put_policy(api, name, owner_uid=None):
    """A NetworkPolicy with the cluster's labels that the operator did not make."""
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": name, "namespace": "default", "labels": dict(LABELS)},
              "spec": {"podSelector": {"matchLabels": dict(LABELS)}, "policyTypes": ["Ingress"]}}
    if owner_uid:
        policy["metadata"]["ownerReferences"] = [{
            "apiVersion": "zookube.dev/v1alpha1", "kind": "ZkCluster", "name": "other",
            "uid": owner_uid, "controller": True}]
    with api.store.lock:
        api.store.create(*NP, policy)


def test_the_network_policy_goes_when_turned_off_and_only_the_operators(api, operator):
    with_members(api)
    create_cluster(api, {"networkPolicy": {"enabled": True}})
    converge(api, operator)
    put_policy(api, "users-own")
    put_policy(api, "another-clusters", owner_uid="0b0b0b0b-0000-4000-8000-000000000001")
    assert network_policies(api) == {"demo-zk", "users-own", "another-clusters"}
    operator.run(2)
    assert network_policies(api) == {"demo-zk", "users-own", "another-clusters"}
    assert deleted(api) == []
    change_spec(api, networkPolicy={"enabled": False})
    converge(api, operator, passes=3)
    assert network_policies(api) == {"users-own", "another-clusters"}
    assert deleted(api) == ["NetworkPolicy demo-zk deleted: spec.networkPolicy is not enabled"]
    # Gone for good: later passes neither make it again nor say it again.
    operator.run(2)
    assert network_policies(api) == {"users-own", "another-clusters"}
    assert len(deleted(api)) == 1


def test_a_removed_members_certificate_is_deleted_after_the_scale_down(api, operator, tmp_path):
    d = tmp_path / "cert-manager"
    d.mkdir()
    user_pki(d, "DNS:unused.example")
    with_members(api)
    create_cluster(api, {"tls": {"client": "both",
                                 "issuerRef": {"name": "zk-ca", "kind": "ClusterIssuer"}}})
    operator.run(2, expect_ok=False)  # cert-manager has not issued yet
    assert issue_as_cert_manager(api, d) == 4
    converge(api, operator)
    members = {"demo-0-tls", "demo-1-tls", "demo-2-tls"}
    assert set(certificates(api)) == members | {"demo-observer-0-tls"}
    change_spec(api, observers=0)
    operator.run(6)
    status = cluster(api)["status"]
    assert status["observers"] == 0 and status["phase"] == "Running", status
    assert set(certificates(api)) == members
    assert deleted(api) == ["Certificate demo-observer-0-tls deleted: its member left the "
                            "ensemble, or spec.tls names no issuerRef"]
    # The remaining Certificates are those the operator keeps applying, unchanged.
    before = copy.deepcopy(certificates(api))
    operator.run(2)
    assert {k: v["metadata"]["resourceVersion"] for k, v in certificates(api).items()} == \
        {k: v["metadata"]["resourceVersion"] for k, v in before.items()}
