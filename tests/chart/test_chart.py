"""The Helm chart renders, lints, and every object it renders is what Kubernetes 1.28 accepts.

Each configuration below is rendered with the real Helm binary; every object is validated
strictly against the Kubernetes OpenAPI documents (../shared/k8s), and the Prometheus Operator's
kinds against its CRDs when ZOOKUBE_PROMETHEUS_OPERATOR_CRDS names a directory holding them
(else against the structural schema in monitoring_schema.py). The chart's copies of the CRD,
the alert rules and the dashboards must equal the repository's, and its RBAC must grant exactly
what the operator uses: the kinds `zookube-render` emits plus the table OPERATOR_NEEDS.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest
import yaml

from chart_tools import ALL_ON, CHART, KUBE_VERSION, REPO, helm, template, tool
from k8s_openapi import K8S_DIR, Schemas
import monitoring_schema

CRD_FILE = os.path.join(REPO, "crds", "zkclusters.zookube.dev.yaml")
RULES_FILE = os.path.join(REPO, "metrics", "alerts", "zookube.rules.yml")
DASHBOARDS = sorted(glob.glob(os.path.join(REPO, "metrics", "dashboards", "*.json")))
EXAMPLE = os.path.join(REPO, "examples", "zkcluster.yaml")
DOCKERFILE = os.path.join(REPO, "Dockerfile")

CONFIGS = {
    "defaults": [],
    "all-on": ALL_ON,
    "one-namespace": ALL_ON + ["--set", "watchNamespace=prod"],
    "no-leader-election": ["--set", "leaderElection.enabled=false", "--set", "replicaCount=1"],
    "tuned": ALL_ON + ["--set", "grafanaDashboards.namespace=grafana",
                       "--set", "serviceAccount.annotations.team=storage",
                       "--set", "nodeSelector.disk=ssd", "--set", "priorityClassName=high",
                       "--set", "extraArgs[0]=--log-level=debug",
                       "--set", "imagePullSecrets[0].name=regcred",
                       "--set", "serviceMonitor.labels.release=prom"],
}
MONITORING = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}

# What the operator does beyond applying the kinds it renders; each grant has its reason in
# templates/rbac.yaml. (group, resource) -> verbs.
OPERATOR_NEEDS = {
    ("zookube.dev", "zkclusters"): {"get", "list", "watch"},
    ("zookube.dev", "zkclusters/status"): {"get", "update", "patch"},
    ("zookube.dev", "zkclusters/finalizers"): {"update"},
    ("", "pods"): {"get", "list", "watch", "delete"},
    ("", "persistentvolumeclaims"): {"get", "list", "watch", "patch"},
    ("", "secrets"): {"get", "list", "watch", "create", "patch"},
    ("", "events"): {"get", "list", "create", "patch"},
    ("events.k8s.io", "events"): {"get", "list", "create", "patch"},
    ("cert-manager.io", "certificates"): {"list", "create", "patch", "delete"},
}
# Applying a rendered object: read and watch it, create it, patch it (server-side apply).
APPLY_VERBS = {"get", "list", "watch", "create", "patch"}
# Beyond applying: a StatefulSet is deleted (propagationPolicy=Orphan) to grow its volumes; the
# NetworkPolicy is deleted once spec.networkPolicy is turned off.
RENDERED_EXTRA = {("apps", "statefulsets"): {"delete"},
                  ("networking.k8s.io", "networkpolicies"): {"delete"}}
LEASE_VERBS = {("coordination.k8s.io", "leases"): {"get", "create", "update"}}


@pytest.fixture(scope="module")
def k8s():
    if not os.path.isdir(K8S_DIR):
        pytest.fail(f"Kubernetes OpenAPI documents not found in {K8S_DIR}")
    return Schemas(K8S_DIR)


@pytest.fixture(scope="module")
def rendered():
    """{config name: [objects]}, each configuration rendered once."""
    return {name: template(*args) for name, args in CONFIGS.items()}


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def one(objects, kind):
    found = by_kind(objects, kind)
    assert len(found) == 1, f"{len(found)} {kind}s"
    return found[0]


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_helm_lint_strict(config):
    result = helm("lint", "--strict", CHART, *CONFIGS[config])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_lint_strict_catches_a_broken_template(tmp_path):
    """Guards the guard: lint must fail on a chart this test breaks on purpose."""
    copy = tmp_path / "chart"
    shutil.copytree(CHART, copy, symlinks=False)
    (copy / "templates" / "broken.yaml").write_text("kind: {{ .Values.nope.deeper }}\n")
    result = helm("lint", "--strict", str(copy))
    assert result.returncode != 0
    assert "1 chart(s) failed" in result.stdout + result.stderr


def test_helm_template_needs_no_kube_version():
    """Helm 3.6-3.10 assume Kubernetes 1.20 without a cluster to ask; a `kubeVersion` in
    Chart.yaml made every `helm template` without --kube-version fail."""
    result = helm("template", "zk", CHART, "--include-crds")
    assert result.returncode == 0, result.stderr
    assert "CustomResourceDefinition" in result.stdout


def test_helm_follows_no_symlink():
    """Helm warns on stderr about each symlink it follows, on every command."""
    links = [os.path.join(d, n) for d, dirs, files in os.walk(CHART) for n in dirs + files
             if os.path.islink(os.path.join(d, n))]
    assert links == []
    result = helm("lint", "--strict", CHART)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "symlink" not in (result.stdout + result.stderr).lower()


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_every_rendered_object_validates(rendered, k8s, config):
    objects = rendered[config]
    assert objects
    for obj in objects:
        name = f'{obj["kind"]}/{obj["metadata"]["name"]}'
        if obj["kind"] in MONITORING:
            errors = monitoring_schema.validate(obj, k8s)
        else:
            errors = k8s.validate_object(obj)
        assert errors == [], name


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_namespaced_objects_say_their_namespace(rendered, k8s, config):
    """`helm template` leaves namespace to the templates; `kubectl apply` of its output must not
    scatter objects into whatever namespace the kubeconfig points at."""
    cluster_scoped = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
    for obj in rendered[config]:
        if obj["kind"] in cluster_scoped:
            assert "namespace" not in obj["metadata"]
        else:
            assert obj["metadata"].get("namespace"), obj["kind"]


def test_objects_of_each_configuration(rendered):
    base = ["CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
            "Role", "RoleBinding", "Service", "Deployment"]
    assert sorted(o["kind"] for o in rendered["defaults"]) == sorted(base)
    assert sorted(o["kind"] for o in rendered["all-on"]) == sorted(
        base + ["ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"])
    one_ns = sorted(o["kind"] for o in rendered["one-namespace"])
    assert "ClusterRole" not in one_ns and "ClusterRoleBinding" not in one_ns
    assert one_ns.count("Role") == 2 and one_ns.count("RoleBinding") == 2
    no_le = rendered["no-leader-election"]
    assert not by_kind(no_le, "Role") and not by_kind(no_le, "RoleBinding")


def test_the_validator_catches_what_a_template_could_get_wrong(rendered, k8s):
    """Guards the guard on the chart's own kinds and on the monitoring kinds."""
    deployment = json.loads(json.dumps(one(rendered["defaults"], "Deployment")))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"][
        "paht"] = "/x"
    deployment["spec"]["replicas"] = "2"
    errors = k8s.validate_object(deployment)
    assert any(e.endswith("httpGet.paht: unknown field") for e in errors)
    assert any(e.startswith("Deployment.spec.replicas: must be integer") for e in errors)
    rule = json.loads(json.dumps(one(rendered["all-on"], "PrometheusRule")))
    rule["spec"]["groups"][0]["rules"][0]["fro"] = "5m"
    rule["metadata"]["labelz"] = {}
    errors = monitoring_schema.validate(rule, k8s)
    assert any(e.endswith(".fro: unknown field") for e in errors)
    assert any(e.endswith("metadata.labelz: unknown field") for e in errors)
    monitor = json.loads(json.dumps(one(rendered["all-on"], "PodMonitor")))
    monitor["spec"]["podMetricsEndpoints"][0]["prot"] = "metrics"
    assert monitoring_schema.validate(monitor, k8s) != []


# --- one source of truth ---------------------------------------------------------------------


def test_the_chart_installs_the_repository_crd(rendered):
    with open(CRD_FILE, "rb") as f:
        source = f.read()
    copies = glob.glob(os.path.join(CHART, "crds", "*"))
    assert [os.path.basename(p) for p in copies] == [os.path.basename(CRD_FILE)]
    with open(copies[0], "rb") as f:
        assert f.read() == source
    assert one(rendered["defaults"], "CustomResourceDefinition") == yaml.safe_load(source)


def test_the_chart_copies_equal_their_sources():
    """The chart's copies (scripts/sync-chart-files.sh makes them) are byte for byte the
    repository's files, and there is no other file in crds/ and files/."""
    expected = {"crds/zkclusters.zookube.dev.yaml": CRD_FILE,
                "files/alerts/zookube.rules.yml": RULES_FILE}
    for path in DASHBOARDS:
        expected["files/dashboards/" + os.path.basename(path)] = path
    present = sorted(os.path.relpath(os.path.join(d, n), CHART)
                     for top in ("crds", "files")
                     for d, _, files in os.walk(os.path.join(CHART, top)) for n in files)
    assert present == sorted(expected), "run scripts/sync-chart-files.sh"
    for name, source in expected.items():
        with open(source, "rb") as a, open(os.path.join(CHART, name), "rb") as b:
            assert a.read() == b.read(), f"{name} differs from its source: run " \
                                         f"scripts/sync-chart-files.sh"


def test_the_packaged_chart_carries_the_repository_files(tmp_path):
    """The archive a user installs holds the same bytes as the repository's files, and none of
    the scripts beside them."""
    result = helm("package", CHART, "--destination", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (archive,) = glob.glob(str(tmp_path / "zookube-operator-*.tgz"))
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}

        def content(name):
            return tar.extractfile(members["zookube-operator/" + name]).read()

        expected = {"crds/zkclusters.zookube.dev.yaml": CRD_FILE,
                    "files/alerts/zookube.rules.yml": RULES_FILE}
        for path in DASHBOARDS:
            expected["files/dashboards/" + os.path.basename(path)] = path
        for name, source in expected.items():
            with open(source, "rb") as f:
                assert content(name) == f.read(), name
        files = sorted(n for n in members if n.startswith("zookube-operator/files/"))
        assert files == sorted("zookube-operator/" + n for n in expected if n.startswith("files/"))
        assert all(members[n].isfile() or members[n].isdir() for n in members)


def test_dashboard_configmap_holds_the_repository_dashboards(rendered):
    for config in ("all-on", "tuned"):
        cm = one(rendered[config], "ConfigMap")
        assert sorted(cm["data"]) == sorted(os.path.basename(p) for p in DASHBOARDS)
        for path in DASHBOARDS:
            with open(path) as f:
                assert cm["data"][os.path.basename(path)] == f.read()
        # A ConfigMap holds at most 1 MiB.
        assert sum(len(v.encode()) for v in cm["data"].values()) < 1024 * 1024
    values = yaml.safe_load(open(os.path.join(CHART, "values.yaml")))["grafanaDashboards"]
    cm = one(rendered["all-on"], "ConfigMap")
    assert cm["metadata"]["labels"][values["label"]] == values["labelValue"] == "1"
    assert values["label"] == "grafana_dashboard"
    assert one(rendered["tuned"], "ConfigMap")["metadata"]["namespace"] == "grafana"


def test_prometheus_rule_is_the_repository_rule_file(rendered, tmp_path):
    with open(RULES_FILE) as f:
        rules = yaml.safe_load(f)
    rule = one(rendered["all-on"], "PrometheusRule")
    assert rule["spec"] == rules
    # The rules as the chart renders them load in Prometheus, templates and all.
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rule["spec"]))
    check = subprocess.run(["/usr/bin/promtool", "check", "rules", str(path)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


# --- the operator's Deployment ---------------------------------------------------------------


def dockerfile_uid():
    with open(DOCKERFILE) as f:
        users = [line.split()[1] for line in f if line.startswith("USER ")]
    return int(users[-1].split(":")[0])


def test_deployment_runs_two_leader_elected_replicas(rendered):
    dep = one(rendered["defaults"], "Deployment")
    assert dep["spec"]["replicas"] == 2
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["zookube-operator"]
    assert "--leader-elect" in container["args"]
    assert "--namespace" not in container["args"]
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"]}
    assert env == {"POD_NAMESPACE": "metadata.namespace", "POD_NAME": "metadata.name"}
    assert pod["serviceAccountName"] == one(rendered["defaults"], "ServiceAccount")["metadata"][
        "name"]
    no_le = one(rendered["no-leader-election"], "Deployment")
    assert "--leader-elect" not in no_le["spec"]["template"]["spec"]["containers"][0]["args"]
    scoped = one(rendered["one-namespace"], "Deployment")
    args = scoped["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--namespace") + 1] == "prod"
    tuned = one(rendered["tuned"], "Deployment")["spec"]["template"]["spec"]
    assert tuned["containers"][0]["args"][-1] == "--log-level=debug"
    assert tuned["nodeSelector"] == {"disk": "ssd"} and tuned["priorityClassName"] == "high"


def test_deployment_is_locked_down(rendered):
    pod = one(rendered["defaults"], "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    # The image's own user: files it owns in the image stay readable.
    assert pod["securityContext"]["runAsUser"] == dockerfile_uid()
    sc = pod["containers"][0]["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert "volumes" not in pod, "nothing writable is needed"
    assert pod["containers"][0]["resources"]["limits"]["memory"]


def test_operator_image_is_the_image_members_run(rendered):
    """One image carries both binaries: the chart's default is the CRD's default member image."""
    with open(CRD_FILE) as f:
        crd = yaml.safe_load(f)
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    member_image = spec["properties"]["image"]["default"]
    container = one(rendered["defaults"], "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == member_image
    chart = yaml.safe_load(open(os.path.join(CHART, "Chart.yaml")))
    assert member_image.endswith(":" + chart["appVersion"])


def test_probes_and_service_use_the_metrics_port(rendered):
    objects = rendered["all-on"]
    dep = one(objects, "Deployment")
    container = dep["spec"]["template"]["spec"]["containers"][0]
    (port,) = container["ports"]
    args = container["args"]
    assert args[args.index("--metrics-address") + 1] == f'0.0.0.0:{port["containerPort"]}'
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["port"] == port["name"]
    svc = one(objects, "Service")
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    assert dep["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert [p["targetPort"] for p in svc["spec"]["ports"]] == [port["name"]]
    monitor = one(objects, "ServiceMonitor")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == [svc["metadata"]["namespace"]]
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == [p["name"] for p in
                                                                 svc["spec"]["ports"]]
    tuned = one(rendered["tuned"], "ServiceMonitor")
    assert tuned["metadata"]["labels"]["release"] == "prom"


# --- RBAC: what the operator uses, nothing more ----------------------------------------------


def render_binary():
    build = os.environ.get("ZOOKUBE_BUILD_DIR", os.path.join(REPO, "build"))
    path = os.path.join(build, "operator", "zookube-render")
    if not os.path.exists(path):
        pytest.fail(f"{path} not built (set ZOOKUBE_BUILD_DIR)")
    return path


@pytest.fixture(scope="module")
def operator_objects(tmp_path_factory):
    """What the operator applies for the example and for a cluster using every option."""
    rich = tmp_path_factory.mktemp("render") / "rich.yaml"
    with open(EXAMPLE) as f:
        manifest = yaml.safe_load(f)
    manifest["spec"].update({"observers": 2, "superUserSecret": {"name": "zk-super"},
                             "networkPolicy": {"enabled": True},
                             "storage": {"size": "1Gi", "reclaimPolicy": "Delete"}})
    rich.write_text(yaml.safe_dump(manifest))
    objects = []
    for path in (EXAMPLE, str(rich)):
        result = subprocess.run([render_binary(), path], capture_output=True, text=True,
                                timeout=30)
        assert result.returncode == 0, result.stderr
        objects += json.loads(result.stdout)
    return objects


def resources_by_kind():
    """(apiVersion, kind) -> (group, plural), from the create operations of the API documents."""
    out = {}
    for path in glob.glob(os.path.join(K8S_DIR, "*.json")):
        with open(path) as f:
            doc = json.load(f)
        for url, item in doc["paths"].items():
            post = item.get("post", {})
            gvk = post.get("x-kubernetes-group-version-kind")
            if gvk and post.get("x-kubernetes-action") == "post" and "{" not in url.split("/")[-1]:
                api = f'{gvk["group"]}/{gvk["version"]}' if gvk["group"] else gvk["version"]
                out[(api, gvk["kind"])] = (gvk["group"], url.split("/")[-1])
    return out


def grants(role):
    """{(group, resource): verbs} of a Role or ClusterRole, refusing any wildcard."""
    out = {}
    for rule in role["rules"]:
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], f"wildcard in {field}: {rule}"
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                key = (group, resource)
                assert key not in out, f"{key} granted twice"
                out[key] = set(rule["verbs"])
    return out


def expected_reconcile_grants(operator_objects):
    kinds = resources_by_kind()
    expected = dict(OPERATOR_NEEDS)
    for obj in operator_objects:
        key = kinds[(obj["apiVersion"], obj["kind"])]
        assert key not in OPERATOR_NEEDS, f"{key}: rendered, and listed as an extra need"
        expected[key] = APPLY_VERBS | RENDERED_EXTRA.get(key, set())
    return expected


def test_render_emits_the_kinds_rbac_expects(operator_objects):
    kinds = {(o["apiVersion"], o["kind"]) for o in operator_objects}
    assert kinds == {("v1", "Service"), ("v1", "ConfigMap"), ("apps/v1", "StatefulSet"),
                     ("policy/v1", "PodDisruptionBudget"),
                     ("networking.k8s.io/v1", "NetworkPolicy")}


@pytest.mark.parametrize("config", ["defaults", "one-namespace"])
def test_rbac_grants_exactly_what_the_operator_uses(rendered, operator_objects, config):
    objects = rendered[config]
    sa = one(objects, "ServiceAccount")
    subject = {"kind": "ServiceAccount", "name": sa["metadata"]["name"],
               "namespace": sa["metadata"]["namespace"]}
    scoped = config == "one-namespace"
    role_kind = "Role" if scoped else "ClusterRole"
    roles = {r["metadata"]["name"]: r for r in by_kind(objects, role_kind)}
    bindings = by_kind(objects, role_kind + "Binding")
    lease_role = next(r for r in by_kind(objects, "Role") if "leader" in r["metadata"]["name"])
    reconcile = next(r for name, r in roles.items() if r is not lease_role)
    assert grants(reconcile) == expected_reconcile_grants(operator_objects)
    assert grants(lease_role) == LEASE_VERBS
    assert lease_role["metadata"]["namespace"] == sa["metadata"]["namespace"]
    if scoped:
        assert reconcile["metadata"]["namespace"] == "prod"
    for role in (reconcile, lease_role):
        binding = next(b for b in by_kind(objects, role["kind"] + "Binding")
                       if b["roleRef"]["name"] == role["metadata"]["name"])
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                      "kind": role["kind"], "name": role["metadata"]["name"]}
        assert binding["subjects"] == [subject]
        assert binding["metadata"].get("namespace") == role["metadata"].get("namespace")
    assert bindings


def test_rbac_check_is_not_vacuous(operator_objects):
    """Guards the guard: a role granting one verb too many, or missing one, is caught."""
    expected = expected_reconcile_grants(operator_objects)
    assert ("apps", "statefulsets") in expected and ("", "configmaps") in expected
    assert ("policy", "poddisruptionbudgets") in expected
    too_much = {"rules": [{"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"],
                           "verbs": sorted(APPLY_VERBS | {"delete"})}]}
    assert grants(too_much) != {("policy", "poddisruptionbudgets"): APPLY_VERBS}
    with pytest.raises(AssertionError):
        grants({"rules": [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]})


# --- monitoring the members ------------------------------------------------------------------


def test_pod_monitor_scrapes_the_members_the_operator_runs(rendered, operator_objects):
    monitor = one(rendered["all-on"], "PodMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    sets = [o for o in operator_objects if o["kind"] == "StatefulSet"]
    assert sets
    for sts in sets:
        template_ = sts["spec"]["template"]
        assert selector.items() <= template_["metadata"]["labels"].items()
        ports = {p["name"] for c in template_["spec"]["containers"] for p in c["ports"]}
        assert {e["port"] for e in monitor["spec"]["podMetricsEndpoints"]} <= ports
    assert monitor["spec"]["namespaceSelector"] == {"any": True}
    scoped = one(rendered["one-namespace"], "PodMonitor")
    assert scoped["spec"]["namespaceSelector"] == {"matchNames": ["prod"]}


def test_pod_monitor_gives_members_the_cluster_label_the_rules_group_by(rendered,
                                                                         operator_objects):
    with open(RULES_FILE) as f:
        assert "by (cluster)" in f.read()
    endpoint = one(rendered["all-on"], "PodMonitor")["spec"]["podMetricsEndpoints"][0]
    relabel = next(r for r in endpoint["relabelings"] if r["targetLabel"] == "cluster")
    (source,) = relabel["sourceLabels"]
    prefix = "__meta_kubernetes_pod_label_"
    assert source.startswith(prefix)
    # Prometheus turns the label name into [a-zA-Z0-9_]; it must carry the ZkCluster's name.
    for sts in (o for o in operator_objects if o["kind"] == "StatefulSet"):
        labels = sts["spec"]["template"]["metadata"]["labels"]
        sanitized = {"".join(c if c.isalnum() else "_" for c in k): v for k, v in labels.items()}
        owner = sts["metadata"]["ownerReferences"][0]["name"]
        assert sanitized[source[len(prefix):]] == owner


def test_notes_tell_the_next_step(tmp_path):
    """NOTES.txt renders only on install: a template in a copy of the chart renders it through
    `tpl` so this test reads what a user would."""
    copy = tmp_path / "chart"
    shutil.copytree(CHART, copy, symlinks=False)
    shutil.copy(copy / "templates" / "NOTES.txt", copy / "notes-source.txt")
    (copy / "templates" / "notes-as-template.yaml").write_text(
        'notes: {{ tpl (.Files.Get "notes-source.txt") . | toJson }}\n')
    with open(EXAMPLE) as f:
        example = yaml.safe_load(f)
    for args, extra in (([], None), (ALL_ON, "ConfigMap zk-zookube-operator-dashboards")):
        result = helm("template", "zk", str(copy), "--kube-version", KUBE_VERSION,
                      "--show-only", "templates/notes-as-template.yaml", *args)
        assert result.returncode == 0, result.stderr
        notes = yaml.safe_load(result.stdout)["notes"]
        assert "kubectl apply -f examples/zkcluster.yaml" in notes
        assert f'kubectl describe zkcluster {example["metadata"]["name"]}' in notes
        assert "{{" not in notes and "<no value>" not in notes
        if extra:
            assert extra in notes
        else:
            assert "ConfigMap" not in notes


def chart_flags():
    objects = template(*CONFIGS["one-namespace"])
    args = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    return sorted(a for a in args if a.startswith("--"))


@pytest.mark.parametrize("flag", ["--leader-elect", "--metrics-address", "--namespace"])
def test_the_operator_takes_the_flags_the_chart_passes(flag):
    build = os.environ.get("ZOOKUBE_BUILD_DIR", os.path.join(REPO, "build"))
    binary = os.path.join(build, "operator", "zookube-operator")
    if not os.path.exists(binary):
        pytest.skip(f"{binary} not built")
    assert flag in chart_flags()
    result = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert re.search(rf"(^|\s){re.escape(flag)}(\s|$)", result.stdout), result.stdout


def test_tools_are_real():
    """The Helm these tests run is Helm 3 (lint --strict and template behave as above)."""
    result = subprocess.run([tool("helm"), "version", "--short"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("v3."), result.stdout
