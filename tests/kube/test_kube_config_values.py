"""spec.config values the members' own zoo.cfg parser refuses never reach a member.

`config.tickTime: "abc"` passed the CRD (config values are strings), was rendered, and every
member exited 2 in a loop. The operator now checks each value with the server's parser
(server/config, linked into the operator) and refuses the spec in its status instead.
"""

import copy

import pytest

from test_kube_operator import CLUSTER, ZK, cluster, converge, managed, with_members


def conditions(api):
    return {c["type"]: c for c in cluster(api)["status"]["conditions"]}


@pytest.mark.parametrize("key, value, reason", [
    ("tickTime", "abc", "tickTime: 'abc' is not a number"),
    ("forceSync", "maybe", "forceSync: 'maybe' is not yes or no"),
    ("minSessionTimeout", "90000", "minSessionTimeout must not be larger than maxSessionTimeout"),
], ids=["not-a-number", "not-yes-or-no", "across-keys"])
def test_a_value_the_server_refuses_is_refused_in_the_status(api, operator, key, value, reason):
    with_members(api)
    obj = copy.deepcopy(CLUSTER)
    obj["spec"]["config"] = {key: value}
    with api.store.lock:
        api.store.create(*ZK, obj)
    operator.run(2)
    assert managed(api) == {}, "nothing is rendered from a refused config"
    status = cluster(api)["status"]
    assert status["phase"] == "Invalid"
    degraded = conditions(api)["Degraded"]
    assert (degraded["status"], degraded["reason"]) == ("True", "InvalidConfig")
    assert degraded["message"].startswith("spec.config")
    assert reason in degraded["message"]


def test_a_bad_value_added_later_leaves_the_running_cluster_alone(api, operator):
    with_members(api)
    with api.store.lock:
        api.store.create(*ZK, copy.deepcopy(CLUSTER))
    converge(api, operator)
    before = copy.deepcopy(managed(api))

    def edit(old):
        old["spec"]["config"]["tickTime"] = "2s"
        return old
    with api.store.lock:
        api.store.write(*ZK, "demo", None, edit, "update", "kubectl")
    operator.run(2)
    assert managed(api) == before
    assert api.store.deleted_pods == []
    degraded = conditions(api)["Degraded"]
    assert (degraded["status"], degraded["reason"]) == ("True", "InvalidConfig")
    assert "spec.config.tickTime: '2s' is not a number" in degraded["message"]
