"""Validation of the Prometheus Operator's kinds (ServiceMonitor, PodMonitor, PrometheusRule).

They are custom resources, so ../shared/k8s does not describe them. When
ZOOKUBE_PROMETHEUS_OPERATOR_CRDS names a directory of the Prometheus Operator's CRD manifests
(example/prometheus-operator-crd/ of its repository), objects are validated against those
schemas. Otherwise they are validated against STRUCTURAL below: the subset of
monitoring.coreos.com/v1 the chart uses, closed (a field not listed is an error), with the
Prometheus Operator's own enums and duration pattern. It cannot tell whether a listed field exists in the Prometheus Operator
version a cluster runs; the chart's README says so.

Either way `metadata` is checked against Kubernetes' ObjectMeta, which CRD schemas leave open.
"""

import glob
import os

import yaml

OBJECT_META = {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
LABEL_SELECTOR = {
    "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"}
DURATION = {"type": "string",
            "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?"
                       r"(([0-9]+)s)?(([0-9]+)ms)?)$"}
STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}
STRING_MAP = {"type": "object", "additionalProperties": STRING}
LABEL_NAME = {"type": "string", "pattern": r"^[a-zA-Z_][a-zA-Z0-9_]*$"}
ACTIONS = ["replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep",
           "lowercase", "uppercase", "keepequal", "dropequal"]
RELABEL = {"type": "object", "properties": {
    "action": {"type": "string", "enum": ACTIONS + [
        "Replace", "Keep", "Drop", "HashMod", "LabelMap", "LabelDrop", "LabelKeep", "Lowercase",
        "Uppercase", "KeepEqual", "DropEqual"]},
    "sourceLabels": {"type": "array", "items": LABEL_NAME},
    "separator": STRING, "targetLabel": STRING, "regex": STRING, "replacement": STRING,
    "modulus": {"type": "integer", "minimum": 0}}}
NAMESPACE_SELECTOR = {"type": "object", "properties": {"any": {"type": "boolean"},
                                                       "matchNames": STRINGS}}
ENDPOINT = {"type": "object", "properties": {
    "port": STRING, "path": STRING, "interval": DURATION, "scrapeTimeout": DURATION,
    "scheme": {"type": "string", "enum": ["http", "https"]}, "honorLabels": {"type": "boolean"},
    "relabelings": {"type": "array", "items": RELABEL},
    "metricRelabelings": {"type": "array", "items": RELABEL}}}
RULE = {"type": "object", "properties": {
    "alert": STRING, "record": STRING, "expr": {"x-kubernetes-int-or-string": True},
    "for": DURATION, "keep_firing_for": DURATION, "labels": STRING_MAP,
    "annotations": STRING_MAP}, "required": ["expr"]}


def custom_resource(spec, required):
    return {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {"apiVersion": {"type": "string", "enum": ["monitoring.coreos.com/v1"]},
                           "kind": STRING, "metadata": {"type": "object"},
                           "spec": {"type": "object", "properties": spec, "required": required}}}


STRUCTURAL = {
    "ServiceMonitor": custom_resource(
        {"selector": LABEL_SELECTOR, "namespaceSelector": NAMESPACE_SELECTOR,
         "endpoints": {"type": "array", "items": ENDPOINT}, "jobLabel": STRING,
         "targetLabels": STRINGS, "podTargetLabels": STRINGS}, ["selector", "endpoints"]),
    "PodMonitor": custom_resource(
        {"selector": LABEL_SELECTOR, "namespaceSelector": NAMESPACE_SELECTOR,
         "podMetricsEndpoints": {"type": "array", "items": ENDPOINT}, "jobLabel": STRING,
         "podTargetLabels": STRINGS}, ["selector", "podMetricsEndpoints"]),
    "PrometheusRule": custom_resource(
        {"groups": {"type": "array", "items": {"type": "object", "required": ["name", "rules"],
                                               "properties": {
                                                   "name": {"type": "string", "minLength": 1},
                                                   "interval": DURATION,
                                                   "rules": {"type": "array", "items": RULE}}}}},
        ["groups"]),
}


def crd_schemas():
    """{kind: openAPIV3Schema of v1} from the Prometheus Operator's CRDs, or STRUCTURAL."""
    directory = os.environ.get("ZOOKUBE_PROMETHEUS_OPERATOR_CRDS")
    if not directory:
        return STRUCTURAL
    found = {}
    for path in glob.glob(os.path.join(directory, "*.yaml")):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                for version in doc["spec"]["versions"]:
                    if version["name"] == "v1":
                        found[doc["spec"]["names"]["kind"]] = version["schema"]["openAPIV3Schema"]
    missing = set(STRUCTURAL) - set(found)
    assert not missing, f"{directory} lacks the CRDs of {sorted(missing)}"
    return found


def validate(obj, k8s):
    """Errors of one monitoring object; `k8s` is a k8s_openapi.Schemas."""
    schema = crd_schemas().get(obj.get("kind"))
    if schema is None:
        return [f"unknown monitoring kind {obj.get('kind')}"]
    errors = k8s.validate(obj, schema, obj["kind"])
    errors += k8s.validate(obj.get("metadata"), OBJECT_META, obj["kind"] + ".metadata")
    return errors
