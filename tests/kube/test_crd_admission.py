"""The ZkCluster CRD, in crds/ and in the chart, is one kube-apiserver admits, and its CEL rules
cannot fail for want of a field.

kube-apiserver v1.32 refused the CRD whose spec.ports defaulted to {} while a rule read
self.client; the stand-in now admits the CRD the same way before it serves (tests/crd_admission.py).
No CEL implementation runs here, so the rules are held to a policy checked on their text: every
field a rule reads is required, defaulted, or guarded by has(), and every object default is
complete (defaulting it again changes nothing).
"""

import copy
import glob
import json
import os
import subprocess

import pytest
import yaml

import crd_admission
from apiserver import ApiError, CRD_FILE, Store
from kube_harness import find_binary
from k8s_openapi import K8S_DIR, REPO, Schemas

CHART_CRD = os.path.join(REPO, "charts", "zookube-operator", "crds", "zkclusters.zookube.dev.yaml")
CRDS = {"crds": CRD_FILE, "chart": CHART_CRD}


@pytest.fixture(scope="module")
def schemas():
    return Schemas(K8S_DIR)


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def schema_of(crd):
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def spec_schema(crd):
    return schema_of(crd)["properties"]["spec"]


@pytest.mark.parametrize("where", sorted(CRDS))
def test_the_crd_is_admitted(where, schemas):
    assert crd_admission.admission_errors(load(CRDS[where]), schemas) == []


@pytest.mark.parametrize("where", sorted(CRDS))
def test_every_rule_reads_only_fields_that_are_there(where):
    schema = schema_of(load(CRDS[where]))
    assert crd_admission.unguarded_reads(schema) == []
    assert crd_admission.incomplete_defaults(schema) == []
    # Not vacuous: the CRD has rules that read fields, and defaults on objects.
    rules = [r["rule"] for node, _, _ in crd_admission.walk(schema, "") for r in
             crd_admission.rules_of(node)]
    assert any(crd_admission.reads(r) for r in rules)
    assert isinstance(schema["properties"]["spec"]["properties"]["ports"]["default"], dict)


def test_the_stand_in_refuses_the_crd_the_api_server_refused(tmp_path):
    """The defect kube-apiserver found: ports defaulted to {} under a rule reading self.client."""
    crd = load(CRD_FILE)
    spec_schema(crd)["properties"]["ports"]["default"] = {}
    path = tmp_path / "crd.yaml"
    path.write_text(yaml.safe_dump(crd))
    with pytest.raises(ApiError) as refused:
        Store(str(tmp_path / "srvr-map.json"), crd_file=str(path))
    assert refused.value.code == 422
    assert refused.value.message == (
        'CustomResourceDefinition.apiextensions.k8s.io "zkclusters.zookube.dev" is invalid: ['
        'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[ports].default: '
        'Invalid value: "object": no such key: client evaluating rule: spec.ports: every port '
        'must differ]')
    # And the policy test would have caught it without an API server.
    assert crd_admission.incomplete_defaults(schema_of(crd)) != []


def test_a_has_guard_or_a_required_field_satisfies_the_policy():
    base = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
    reading = dict(base, **{"x-kubernetes-validations": [{"rule": "self.a > 0"}]})
    assert crd_admission.unguarded_reads(reading) != []
    guarded = dict(base, **{"x-kubernetes-validations": [{"rule": "!has(self.a) || self.a > 0"}]})
    assert crd_admission.unguarded_reads(guarded) == []
    required = dict(reading, required=["a"])
    assert crd_admission.unguarded_reads(required) == []
    method = dict(base, **{"x-kubernetes-validations": [{"rule": "self.all(k, k != 'x')"}]})
    assert crd_admission.unguarded_reads(method) == []


@pytest.mark.parametrize("breakage, expected", [
    (lambda s: s["properties"]["voters"].pop("type"), "properties[voters].type: Required value"),
    (lambda s: s["properties"]["voters"].update(default=9), "properties[voters].default: Invalid"),
    (lambda s: s["properties"]["storage"].update(default={"size": "10Gi", "sise": "1Gi"}),
     "must not have unknown fields (sise)"),
    (lambda s: s["properties"]["config"].update(properties={"x": {"type": "string"}}),
     "additionalProperties and properties are mutual exclusive"),
], ids=["no-type", "default-out-of-range", "default-unknown-field", "props-and-additional"])
def test_what_the_api_server_refuses_in_a_schema(schemas, breakage, expected):
    crd = load(CRD_FILE)
    breakage(spec_schema(crd))
    errors = crd_admission.admission_errors(crd, schemas)
    assert any(expected in e for e in errors), errors


@pytest.mark.parametrize("field, value", [
    ("resources", {"requests": {"cpu": "lots"}}), ("resources", {"limits": {"memory": "1Gb"}}),
    ("image", "Not An Image"), ("image", "zookube/server:bad tag"), ("image", "a:b:c"),
])
def test_the_crd_refuses_bad_quantities_and_image_references(schemas, field, value):
    schema = schema_of(load(CRD_FILE))
    obj = {"apiVersion": "zookube.dev/v1alpha1", "kind": "ZkCluster",
           "metadata": {"name": "zk"}, "spec": {field: value}}
    assert schemas.validate(obj, schema, "ZkCluster") != []


@pytest.mark.parametrize("field, value", [
    ("resources", {"requests": {"cpu": "500m", "memory": 2}, "limits": {"memory": "1.5Gi"}}),
    ("image", "registry.example:5000/team/zookube-server:0.1.0"),
    ("image", "zookube/zookube-server@sha256:" + "ab" * 32),
])
def test_the_crd_accepts_good_quantities_and_image_references(schemas, field, value):
    schema = schema_of(load(CRD_FILE))
    obj = {"apiVersion": "zookube.dev/v1alpha1", "kind": "ZkCluster",
           "metadata": {"name": "zk"}, "spec": {field: value}}
    assert schemas.validate(obj, schema, "ZkCluster") == []


def test_the_stand_in_refuses_an_invalid_quantity(api):
    obj = {"apiVersion": "zookube.dev/v1alpha1", "kind": "ZkCluster",
           "metadata": {"name": "zk", "namespace": "default"},
           "spec": {"resources": {"requests": {"cpu": "lots"}}}}
    with pytest.raises(ApiError) as refused:
        api.store.create("zookube.dev/v1alpha1", "zkclusters", "default", copy.deepcopy(obj))
    assert refused.value.code == 422


EXAMPLES = sorted(glob.glob(os.path.join(REPO, "examples", "*.yaml")))
PLURALS = {"ZkCluster": "zkclusters", "ConfigMap": "configmaps", "Secret": "secrets"}


@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_every_example_is_admitted_and_renders(api, path, tmp_path):
    """What a user applies from examples/ is admitted as it is written (the ZkCluster by the
    CRD's schema and rules, a ConfigMap or Secret by the Kubernetes 1.28 schema), and each
    ZkCluster renders."""
    with open(path) as f:
        documents = [d for d in yaml.safe_load_all(f) if d]
    assert documents, path
    for doc in documents:
        assert doc["kind"] in PLURALS, f"{path}: no check for kind {doc['kind']}"
        ns = doc["metadata"].get("namespace", "default")
        with api.store.lock:
            api.store.create(doc["apiVersion"], PLURALS[doc["kind"]], ns, copy.deepcopy(doc))
        if doc["kind"] == "ZkCluster":
            single = tmp_path / f"{doc['metadata']['name']}.yaml"
            single.write_text(yaml.safe_dump(doc))
            rendered = subprocess.run(
                [find_binary("zookube-render", "operator"), str(single)],
                capture_output=True, text=True, timeout=30)
            assert rendered.returncode == 0, f"{path}: {rendered.stderr}"
            assert json.loads(rendered.stdout), path
