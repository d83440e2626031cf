"""A roll onto a bad image stops at the first member and can be taken back.

What users of other operators report: a rollout stuck on an image that never starts, with no way
back short of editing StatefulSets by hand. Here the roll waits on the one member it restarted
(nothing else goes down), and setting the image back restarts that member onto the old template
and nothing else: the others never left it.
"""

from test_kube_operator import (ROLES, change_spec, cluster, converge, create_cluster,
                                with_members)


def hashes(api):
    with api.store.lock:
        return {key[3]: pod["metadata"]["annotations"]["zookube.dev/rollout-hash"]
                for key, pod in api.store.objects.items() if key[1] == "pods"}


def test_a_bad_image_stops_the_roll_at_one_member_and_setting_it_back_recovers(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    good = hashes(api)
    change_spec(api, image="zookube/zookube-server:no-such-tag")
    api.store.recreated_ready = False  # the new image never starts: the pod is never ready
    operator.run(8)
    assert len(api.store.deleted_pods) == 1, api.store.deleted_pods
    stuck = api.store.deleted_pods[0]
    assert stuck == "demo-observer-0"  # observers first: no vote is lost
    assert hashes(api)[stuck] != good[stuck]
    status = cluster(api)["status"]
    assert status["roll"]["current"] == stuck, status
    assert status["phase"] == "Rolling", status

    change_spec(api, image="zookube/zookube-server:0.1.0")
    operator.run(4)
    # Only the stuck member is restarted again, onto the template everyone else still runs.
    assert api.store.deleted_pods == [stuck, stuck], api.store.deleted_pods
    assert hashes(api) == good
    api.store.set_member(stuck, ready=True)  # the old image starts
    operator.run(4)
    assert api.store.deleted_pods == [stuck, stuck], api.store.deleted_pods
    status = cluster(api)["status"]
    assert status["phase"] == "Running", status
    assert status["readyMembers"] == len(ROLES)
