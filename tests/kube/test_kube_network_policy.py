"""spec.networkPolicy against the stand-in API server: the NetworkPolicy is applied (validated
against the Kubernetes 1.28 OpenAPI on the write), owned by the cluster; a peer the API server
refuses is reported with the API's reason."""

from test_kube_operator import create_cluster, with_members

MONITORING = [{"namespaceSelector": {"matchLabels": {
    "kubernetes.io/metadata.name": "monitoring"}}}]


def test_the_network_policy_is_applied_with_the_named_peers(api, operator):
    with_members(api)
    create_cluster(api, {"networkPolicy": {"enabled": True, "metricsFrom": MONITORING}})
    operator.run(2)
    with api.store.lock:
        np = api.store.get("networking.k8s.io/v1", "networkpolicies", "default", "demo-zk")
    assert np["metadata"]["ownerReferences"][0]["kind"] == "ZkCluster"
    rules = {tuple(p["port"] for p in r["ports"]): r["from"] for r in np["spec"]["ingress"]}
    assert rules[(7000, 8080)] == MONITORING
    assert rules[(2181,)] == [{"podSelector": {}}]
    assert rules[(2888, 3888)] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/instance": "demo", "app.kubernetes.io/name": "zookube"}}}]


def test_a_peer_the_api_server_refuses_is_reported(api, operator):
    with_members(api)
    create_cluster(api, {"networkPolicy": {"enabled": True,
                                           "clientFrom": [{"podSelektor": {}}]}})
    operator.run(2, expect_ok=False)
    with api.store.lock:
        status = api.store.get("zookube.dev/v1alpha1", "zkclusters", "default", "demo")["status"]
    degraded = next(c for c in status["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True" and degraded["reason"] == "ApplyRefused", degraded
    assert "NetworkPolicy demo-zk was refused" in degraded["message"]
    assert "podSelektor" in degraded["message"]
