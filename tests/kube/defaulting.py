"""Structural-schema defaulting of custom resources, as the API server does it.

Kubernetes fills a custom resource's `default`s whenever it decodes one (a create or update body,
the object an apply or a merge patch produced, an object read from storage), before validation:
- a property that is absent gets a deep copy of its default, and is then itself defaulted, so a
  default of `{}` for an object picks up the defaults of that object's properties;
- a `null` where the schema does not say `nullable: true` is dropped first (pruned), and so gets
  the default too;
- defaults apply inside every item of an array and every value of a map
  (`additionalProperties`), never to a parent that is absent and has no default.
Only defaults written in the schema are applied here; a built-in kind's (written in Go code in
Kubernetes) are in builtin_defaults.py.
"""

import copy


def defaulted(value, schema):
    """`value` with the defaults of `schema` filled in; `value` itself is left alone."""
    value = copy.deepcopy(value)
    _fill(value, schema or {})
    return value


def _fill(value, schema):
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name, child in properties.items():
            if name in value and value[name] is None and not child.get("nullable", False):
                del value[name]
            if name not in value and "default" in child:
                value[name] = copy.deepcopy(child["default"])
            if name in value:
                _fill(value[name], child)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name in [k for k in value if k not in properties]:
                _fill(value[name], extra)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _fill(item, schema["items"])
