"""What a ZkCluster's status and Events say when something keeps it from converging.

Each cause the operator cannot fix itself (the API server refusing an apply, a missing Secret,
pods the StatefulSet controller cannot create, a member that crash-loops) must show as
Degraded=True with its own reason and the API's or the member's message, one line, a Warning
Event, and a phase other than Creating. Plus what the stand-in answers for them, with the real
API server's status codes.
"""

import base64

from test_kube_operator import (ZK, change_spec, cluster, converge, create_cluster, request,
                                with_members)
from test_kube_member_tls import users_ca
from test_kube_watch import Watching, wait_for, watching_everything


def degraded(api):
    return {c["type"]: c for c in cluster(api)["status"]["conditions"]}["Degraded"]


def events(api, reason):
    with api.store.lock:
        return [o for o in api.store.objects.values()
                if o["kind"] == "Event" and o["reason"] == reason
                and o["involvedObject"]["kind"] == "ZkCluster"]


def assert_reported(api, reason, *words):
    d = degraded(api)
    assert (d["status"], d["reason"]) == ("True", reason), d
    assert "\n" not in d["message"], d
    for word in words:
        assert word in d["message"], d
    assert cluster(api)["status"]["phase"] == "Degraded"
    warnings = events(api, reason)
    assert [e["type"] for e in warnings] == ["Warning"], warnings
    assert warnings[0]["message"] == d["message"]


def put_password(api, name, password):
    put_secret(api, name, {"password": password})


def put_data(api, resource, kind, name, data):
    """Creates or updates (as kubectl would) `kind` `name` (a Secret or ConfigMap) with `data`."""
    with api.store.lock:
        key = ("v1", resource, "default", name)
        if key in api.store.objects:
            api.store.write(*key, None, lambda old: dict(old, data=data), "update", "kubectl")
        else:
            api.store.create("v1", resource, "default", {
                "apiVersion": "v1", "kind": kind,
                "metadata": {"name": name, "namespace": "default"}, "data": data})


def put_secret(api, name, values):
    """Creates or updates Secret `name` holding `values` (text or bytes)."""
    data = {k: base64.b64encode(v if isinstance(v, bytes) else v.encode()).decode()
            for k, v in values.items()}
    put_data(api, "secrets", "Secret", name, data)


def put_config_map(api, name, values):
    """Creates or updates ConfigMap `name` holding `values` (text)."""
    put_data(api, "configmaps", "ConfigMap", name, values)


def stored_spec_edit(api, **changes):
    """A spec stored before the CRD checked what it now checks: written past validation."""
    with api.store.lock:
        api.store.objects[ZK + ("demo",)]["spec"].update(changes)


# What kube-apiserver answered a StatefulSet apply with `cpu: lots`. The operator's model now
# refuses such a quantity itself (status Invalid), so the API's refusal is injected: it stands
# for whatever the API refuses that the operator cannot know beforehand (a webhook, a quota).
QUANTITY_REFUSAL = ("quantities must match the regular expression "
                    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def test_an_apply_the_api_server_refuses_is_reported_as_apply_refused(api, operator):
    with_members(api)
    create_cluster(api)
    api.store.faults.extend([("PATCH", "StatefulSet", 500, QUANTITY_REFUSAL)] * 50)
    operator.run(2, expect_ok=False)
    assert_reported(api, "ApplyRefused", "StatefulSet demo was refused",
                    "quantities must match the regular expression")
    # Not retried into a flapping status: the same condition and one Event on the next passes.
    before = degraded(api)
    operator.run(2, expect_ok=False)
    assert degraded(api) == before
    assert len(events(api, "ApplyRefused")) == 1
    api.store.faults.clear()
    converge(api, operator)
    assert degraded(api)["status"] == "False"


def test_a_stored_spec_with_a_bad_quantity_is_refused_before_any_apply(api, operator):
    with_members(api)
    create_cluster(api)
    stored_spec_edit(api, resources={"requests": {"cpu": "lots"}})
    operator.run(1)
    assert api.store.objects[ZK + ("demo",)]["status"]["phase"] == "Invalid"
    assert degraded(api)["status"] == "True"
    assert "spec.resources.requests.cpu" in degraded(api)["message"]


def test_a_missing_super_user_secret_is_reported_and_nothing_is_applied(api, operator):
    with_members(api)
    create_cluster(api, {"superUserSecret": {"name": "zk-admin"}})
    operator.run(1, expect_ok=False)
    assert_reported(api, "SecretMissing", "Secret default/zk-admin", "does not exist")
    with api.store.lock:
        assert not any(o["kind"] == "StatefulSet" for o in api.store.objects.values())
    put_password(api, "zk-admin", "s3cret")
    converge(api, operator)
    assert degraded(api)["status"] == "False"
    # The same cause again: the same Event, counted twice, its time moved on.
    with api.store.lock:
        api.store.delete("v1", "secrets", "default", "zk-admin")
    operator.run(1, expect_ok=False)
    [again] = events(api, "SecretMissing")
    assert again["count"] == 2, again
    assert again["lastTimestamp"] >= again["firstTimestamp"]


def test_pods_the_statefulset_controller_cannot_create_are_reported(api, operator):
    with_members(api)
    api.store.refuse_pods = 'violates PodSecurity "restricted:latest": seccompProfile'
    create_cluster(api)
    operator.run(2)
    # Members are created in parallel (podManagementPolicy Parallel): any one's refusal will do.
    assert_reported(api, "PodsNotCreated", "StatefulSet demo has 0 of 3 pods",
                    "in StatefulSet demo failed error: pods \"demo-",
                    "is forbidden: violates PodSecurity")
    with api.store.lock:
        api.store.refuse_pods = None
        api.store.sync_pods(api.store.objects[("apps/v1", "statefulsets", "default", "demo")])
        api.store.sync_pods(api.store.objects[("apps/v1", "statefulsets", "default",
                                               "demo-observer")])
    converge(api, operator)
    assert degraded(api)["status"] == "False"


def test_a_crash_looping_member_is_reported_with_its_own_message(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    api.store.set_member("demo-observer-0", ready=False, crash={
        "exitCode": 2, "message": "zoo.cfg: tickTime: \"abc\" is not a number\nusage: ..."})
    operator.run(1)
    assert_reported(api, "MemberCrashLooping",
                    'demo-observer-0: exits with code 2: zoo.cfg: tickTime: "abc" is not a number')
    api.store.set_member("demo-observer-0", ready=True, crash=None)
    operator.run(2)
    assert degraded(api)["status"] == "False"


def test_a_create_in_a_terminating_namespace_is_refused_and_reported(api, operator):
    with_members(api)
    create_cluster(api)
    api.store.terminating_namespaces.add("default")
    operator.run(1, expect_ok=False)
    d = degraded(api)
    assert (d["status"], d["reason"]) == ("True", "ApplyRefused"), d
    assert d["message"].endswith("unable to create new content in namespace default because it "
                                 "is being terminated"), d
    assert cluster(api)["status"]["phase"] == "Degraded"
    assert events(api, "ApplyRefused") == []  # an Event is new content too: refused as well


def test_a_refused_claims_multi_line_message_keeps_its_first_line(api, operator):
    with_members(api)
    create_cluster(api)
    converge(api, operator)
    diff = ('PersistentVolumeClaim "data-demo-0" is invalid: spec: Forbidden: spec is immutable '
            'after creation except resources.requests for bound claims\n'
            '  core.PersistentVolumeClaimSpec{\n  \tAccessModes: {"ReadWriteOnce"},\n  }\n')
    api.store.faults.append(("PATCH", "PersistentVolumeClaim", 422, diff))
    change_spec(api, storage={"size": "2Gi"})
    operator.run(1, expect_ok=False)
    d = degraded(api)
    assert d["reason"] == "VolumeExpansionRefused"
    assert d["message"].endswith("spec is immutable after creation except resources.requests "
                                 "for bound claims"), d
    [event] = events(api, "VolumeExpansionRefused")
    assert "\n" not in event["message"] and "core.PersistentVolumeClaimSpec" not in event["message"]


def settled_after_running(api, w):
    """Waits for the pass that wrote phase Running and for the pass its status write set off
    (each pass logs its phase after reading what it renders from): after those, only a watch
    event of what the test changes starts another pass."""
    def settled():
        return sum(line.endswith("status Running") for line in w.output().splitlines()) >= 2
    wait_for(api, "phase Running and the pass after it", settled)


def assert_each_change_rolls_at_once(api, operator, tmp_path, changes):
    """Runs the watching operator until the cluster settles, then makes each (what, change) in
    turn and waits for a new rollout hash. Resync and the requeue of a waiting plan are an hour
    away: only a watch can tell the operator."""
    hash_of = lambda: api.store.objects[("apps/v1", "statefulsets", "default", "demo")][
        "spec"]["template"]["metadata"]["annotations"]["zookube.dev/rollout-hash"]
    with Watching(operator, tmp_path) as w:
        wait_for(api, "the streams", watching_everything(api))
        settled_after_running(api, w)
        for what, change in changes:
            before = hash_of()
            change()
            wait_for(api, f"a new rollout hash after {what}", lambda: hash_of() != before,
                     timeout=10)
    assert w.returncode == 0, w.output()


def test_a_changed_password_is_acted_on_at_once(api, operator, tmp_path):
    with_members(api)
    put_password(api, "zk-admin", "first")
    create_cluster(api, {"superUserSecret": {"name": "zk-admin"}})
    assert_each_change_rolls_at_once(api, operator, tmp_path, [
        ("the password", lambda: put_password(api, "zk-admin", "second"))])


def test_a_changed_keytab_or_krb5_conf_is_acted_on_at_once(api, operator, tmp_path):
    with_members(api)
    put_secret(api, "zk-keytab", {"keytab": "keytab one"})
    put_config_map(api, "zk-krb5", {"krb5.conf": "[libdefaults]\n default_realm = ONE\n"})
    create_cluster(api, {"auth": {"kerberos": {
        "keytabSecretRef": {"name": "zk-keytab"}, "principal": "zookeeper/{host}@ONE",
        "krb5ConfigRef": {"name": "zk-krb5"}}}})
    assert_each_change_rolls_at_once(api, operator, tmp_path, [
        ("krb5.conf", lambda: put_config_map(
            api, "zk-krb5", {"krb5.conf": "[libdefaults]\n default_realm = TWO\n"})),
        ("the keytab", lambda: put_secret(api, "zk-keytab", {"keytab": "keytab two"}))])


def test_a_new_ca_in_the_users_secret_starts_its_rotation_at_once(api, operator, tmp_path):
    with_members(api)
    put_data(api, "secrets", "Secret", "users-ca", users_ca(tmp_path / "first"))
    create_cluster(api, {"tls": {"client": "both", "caSecretRef": {"name": "users-ca"}}})
    started = lambda: [e for e in api.store.objects.values()
                       if e["kind"] == "Event" and e["reason"] == "CARotationStarted"]
    # Resync and the requeue of a waiting plan are an hour away: a pass must begin after the
    # change. (The CA is read when a pass applies, after it logs its phase, so the last settled
    # pass may see the new one too, and its writes set off the next: this shows the rotation
    # starts within seconds in watch mode, not that the Secret's watch alone started it.)
    passes = lambda: sum(" status " in line for line in w.output().splitlines())
    with Watching(operator, tmp_path) as w:
        wait_for(api, "the streams", watching_everything(api))
        settled_after_running(api, w)
        assert started() == []
        before = passes()
        put_data(api, "secrets", "Secret", "users-ca", users_ca(tmp_path / "second"))
        wait_for(api, "CARotationStarted and a pass after the change",
                 lambda: started() and passes() > before, timeout=10)
    assert w.returncode == 0, w.output()
    assert "Secret default/users-ca (spec.tls.caSecretRef) holds a new CA" in \
        started()[0]["message"]


def test_the_stand_in_answers_with_the_real_status_codes(api):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    path = "/api/v1/namespaces/default/configmaps/x"
    code, body = request(api, "PATCH", path, cm, "application/apply-patch+yaml")
    assert (code, body["reason"]) == (422, "Invalid"), body
    assert "fieldManager: Required value" in body["message"]
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"},
           "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
               "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{
                   "name": "c", "image": "i", "resources": {"requests": {"cpu": "lots"}}}]}}}}
    code, body = request(api, "PATCH", "/apis/apps/v1/namespaces/default/statefulsets/s?"
                         "fieldManager=t", sts, "application/apply-patch+yaml")
    assert code == 500, body
    assert body["message"].endswith('.spec.template.spec.containers[name="c"].resources.requests'
                                    ".cpu: quantities must match the regular expression "
                                    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"), body
    api.store.terminating_namespaces.add("default")
    code, body = request(api, "POST", "/api/v1/namespaces/default/configmaps", cm,
                         "application/json")
    assert (code, body["reason"]) == (403, "Forbidden"), body


def test_a_leader_that_cannot_renew_stops_acting_and_says_why(api, operator, tmp_path):
    with_members(api)
    create_cluster(api)
    acts = lambda: [w for w in api.store.writes
                    if w["agent"] == "zookube-operator/op-a" and w["kind"] != "Lease"]
    # Short timings only here, where losing the Lease is the point.
    timings = ["--lease-duration-ms", "3000", "--renew-deadline-ms", "1500",
               "--retry-period-ms", "200"]
    with Watching(operator, tmp_path, identity="op-a", extra=timings) as w:
        wait_for(api, "phase Running", lambda: cluster(api).get("status", {}).get("phase")
                 == "Running")
        with api.store.lock:  # every Lease read refused for a while, as after a restart
            api.store.faults += [("GET", "Lease", 403)] * 1000
        wait_for(api, "leadership lost", lambda: "leadership lost" in w.output())
        before = len(acts())
        change_spec(api, observers=2)
        with api.store.lock:
            api.store.changed.wait_for(lambda: False, timeout=1.5)
        assert len(acts()) == before, "acted without the Lease"
        with api.store.lock:
            api.store.faults.clear()
        wait_for(api, "two observers once it leads again",
                 lambda: api.store.objects[("apps/v1", "statefulsets", "default",
                                            "demo-observer")]["spec"]["replicas"] == 2)
    out = w.output()
    assert "Lease unavailable: reading the Lease" in out, out
    assert "holds the Lease" not in out, "a failed read is not another replica leading"
