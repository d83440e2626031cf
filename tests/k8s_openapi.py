"""A strict validator for Kubernetes objects against the OpenAPI v3 documents in ../shared/k8s.

Strict as the API server is: an unknown field, a missing required field, a wrong type, a value
outside an enum, a bound or a pattern is an error. Shared by the operator's rendering tests
(tests/integration) and the Helm chart's tests (tests/chart); it also validates a custom
resource against the openAPIV3Schema of its CustomResourceDefinition.
"""

import glob
import json
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
K8S_DIR = os.environ.get("ZOOKUBE_K8S_OPENAPI",
                         os.path.join(os.path.dirname(REPO), "shared", "k8s", "openapi-v3"))
APIEXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."


class Schemas:
    """Every components.schemas entry of the OpenAPI documents, with kinds indexed by GVK."""

    def __init__(self, directory):
        self.schemas = {}
        for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
            with open(path) as f:
                self.schemas.update(json.load(f)["components"]["schemas"])
        self.kinds = {}
        for name, schema in self.schemas.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", []):
                api = gvk["version"] if not gvk["group"] else f'{gvk["group"]}/{gvk["version"]}'
                self.kinds[(api, gvk["kind"])] = name

    def validate_object(self, obj):
        name = self.kinds.get((obj.get("apiVersion"), obj.get("kind")))
        if name is None:
            return [f"unknown kind {obj.get('apiVersion')} {obj.get('kind')}"]
        return self.validate(obj, {"$ref": "#/components/schemas/" + name}, obj["kind"])

    def validate(self, value, schema, path):
        errors = []
        self._check(value, schema, path, errors)
        return errors

    def _resolve(self, schema):
        while True:
            if "$ref" in schema:
                name = schema["$ref"].rsplit("/", 1)[1]
                merged = dict(self.schemas[name])
                merged.update({k: v for k, v in schema.items() if k != "$ref"})
                merged["_name"] = name
                schema = merged
            elif "allOf" in schema and len(schema["allOf"]) == 1:
                merged = dict(schema["allOf"][0])
                merged.update({k: v for k, v in schema.items() if k != "allOf"})
                schema = merged
            else:
                return schema

    def _check(self, value, schema, path, errors):
        schema = self._resolve(schema)
        name = schema.get("_name", "")
        if name in (APIEXT + "JSONSchemaPropsOrBool", APIEXT + "JSONSchemaPropsOrArray"):
            # Either a schema (checked as one), or a bool / a list of schemas.
            if isinstance(value, dict):
                return self._check(value, {"$ref": "#/components/schemas/" + APIEXT + "JSONSchemaProps"},
                                   path, errors)
            if isinstance(value, list):
                for i, item in enumerate(value):
                    self._check(item, {"$ref": "#/components/schemas/" + APIEXT + "JSONSchemaProps"},
                                f"{path}[{i}]", errors)
            elif not isinstance(value, bool):
                errors.append(f"{path}: must be a schema or a boolean")
            return
        if schema.get("x-kubernetes-int-or-string") or schema.get("format") == "int-or-string":
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                errors.append(f"{path}: must be an integer or a string, got {value!r}")
            elif isinstance(value, str):
                self._bounds(value, schema, path, errors)  # a quantity's pattern, say
            return
        if "oneOf" in schema or "anyOf" in schema:
            options = schema.get("oneOf", schema.get("anyOf"))
            if not any(not self.validate(value, o, path) for o in options):
                errors.append(f"{path}: matches none of the allowed types: {value!r}")
            return
        kind = schema.get("type")
        if kind is None and "properties" in schema:
            kind = "object"
        if kind is None:
            return  # any JSON value (e.g. apiextensions JSON)
        if not self._type_ok(value, kind):
            errors.append(f"{path}: must be {kind}, got {type(value).__name__} {value!r}")
            return
        if "enum" in schema and value not in schema["enum"]:
            errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
        self._bounds(value, schema, path, errors)
        if kind == "object":
            self._check_object(value, schema, path, errors)
        elif kind == "array" and "items" in schema:
            for i, item in enumerate(value):
                self._check(item, schema["items"], f"{path}[{i}]", errors)

    @staticmethod
    def _type_ok(value, kind):
        if kind == "object":
            return isinstance(value, dict)
        if kind == "array":
            return isinstance(value, list)
        if kind == "string":
            return isinstance(value, str)
        if kind == "boolean":
            return isinstance(value, bool)
        if kind == "integer":
            return isinstance(value, int) and not isinstance(value, bool)
        if kind == "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        raise AssertionError(f"unhandled schema type {kind}")

    @staticmethod
    def _bounds(value, schema, path, errors):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} is above {schema['maximum']}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            errors.append(f"{path}: more than {schema['maxProperties']} entries")

    def _check_object(self, value, schema, path, errors):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}.{key}: required")
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if props is not None and key in props:
                self._check(item, props[key], f"{path}.{key}", errors)
            elif isinstance(extra, dict):
                self._check(item, extra, f"{path}.{key}", errors)
            elif schema.get("x-kubernetes-preserve-unknown-fields") or extra is True:
                continue
            elif props is not None or extra is False:
                errors.append(f"{path}.{key}: unknown field")
