"""A CustomResourceDefinition admitted the way kube-apiserver admits it, and the project's stricter
policy on its CEL rules.

No CEL implementation runs here (Debian packages none), so CEL rules are not evaluated. What the
API server does with them at CRD creation is reproduced from the rules' text instead: it evaluates
every x-kubernetes-validations rule against the schema's `default` values as they are written
(nested defaults are not filled in first), so a rule that reads `self.f` where the default has no
`f` fails with "no such key: f". Field reads are found syntactically: `self.a.b` (or `oldSelf`)
not followed by `(`; a read is guarded when the rule also says `has(self.a.b)`.

`admission_errors` is what the stand-in API server refuses a CRD for (tests/kube/apiserver.py).
`unguarded_reads` and `incomplete_defaults` are the policy tests/kube/test_crd_admission.py holds
every CRD to: an object written without a field must not make a rule fail at run time, so every
field a rule reads is required, defaulted, or guarded by has(); and every object default names
every defaulted field below it, so the default itself passes every rule.
"""

import re

# `self.a.b` or `oldSelf.a`: a chain of field names, the last one not a method call.
READ = re.compile(r"\b(self|oldSelf)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)(\s*\()?")
# The API server sets these on every object before any rule runs.
ALWAYS_PRESENT_AT_ROOT = {("metadata",), ("metadata", "name")}
# What a structural schema may say inside anyOf/allOf/oneOf/not (no types, defaults, ...).
JUNCTOR_FORBIDDEN = {"type", "default", "description", "nullable", "additionalProperties",
                     "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
                     "x-kubernetes-embedded-resource"}
META_ALLOWED = {"type", "properties"}


def reads(rule):
    """Every field chain a rule reads: (('self'|'oldSelf'), ('a', 'b')), methods dropped."""
    out = []
    for m in READ.finditer(rule):
        chain = tuple(m[2].lstrip(".").split("."))
        if m[3]:  # self.x.all( ... ): the last name is a method
            chain = chain[:-1]
        if chain:
            out.append((m[1], chain))
    return out


def guarded(rule, var, chain):
    return f"has({var}.{'.'.join(chain)})" in rule.replace(" ", "")


def rules_of(schema):
    return schema.get("x-kubernetes-validations", [])


def label(rule):
    return rule.get("message") or rule["rule"]


def walk(schema, path, root=True):
    """(schema, path, at_root) for every schema node, properties and items included."""
    yield schema, path, root
    for key, child in schema.get("properties", {}).items():
        yield from walk(child, f"{path}.properties[{key}]", False)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}.additionalProperties", False)
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}.items", False)


def structural_errors(schema, path):
    """The structural-schema rules the API server enforces (apiextensions v1)."""
    errors = []
    for node, where, root in walk(schema, path):
        int_or_string = node.get("x-kubernetes-int-or-string")
        if "type" not in node and not int_or_string and not node.get(
                "x-kubernetes-preserve-unknown-fields"):
            errors.append(f"{where}.type: Required value: must not be empty for specified "
                          f"object fields")
        if "properties" in node and "additionalProperties" in node:
            errors.append(f"{where}.additionalProperties: Forbidden: additionalProperties and "
                          f"properties are mutual exclusive")
        for junctor in ("anyOf", "allOf", "oneOf"):
            for i, branch in enumerate(node.get(junctor, [])):
                bad = set(branch) & JUNCTOR_FORBIDDEN
                allowed_types = int_or_string and set(branch) == {"type"} and branch["type"] in (
                    "integer", "string")
                if bad and not allowed_types:
                    errors.append(f"{where}.{junctor}[{i}]: Forbidden: must not set "
                                  f"{', '.join(sorted(bad))} inside a junctor")
        if int_or_string and node.get("type"):
            errors.append(f"{where}.type: Forbidden: must be empty when "
                          f"x-kubernetes-int-or-string is true")
        if node.get("type") == "array" and "items" not in node:
            errors.append(f"{where}.items: Required value: must be specified")
    meta = schema.get("properties", {}).get("metadata")
    if meta is not None:
        if meta.get("type") != "object":
            errors.append(f"{path}.properties[metadata].type: Invalid value: must be object")
        for key in set(meta) - META_ALLOWED:
            errors.append(f"{path}.properties[metadata]: Forbidden: must not specify anything "
                          f"other than name and generateName, but metadata is implicitly "
                          f"specified ({key})")
        for key in set(meta.get("properties", {})) - {"name", "generateName"}:
            errors.append(f"{path}.properties[metadata].properties[{key}]: Forbidden")
    return errors


def pruned(value, schema):
    """The fields of value that the schema does not know: a default must have none."""
    unknown = []
    if isinstance(value, dict) and schema.get("type") == "object" and not schema.get(
            "x-kubernetes-preserve-unknown-fields"):
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                unknown += [f"{key}.{u}" for u in pruned(item, props[key])]
            elif isinstance(extra, dict):
                unknown += [f"{key}.{u}" for u in pruned(item, extra)]
            elif extra is not True:
                unknown.append(key)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            unknown += [f"[{i}].{u}" for u in pruned(item, schema["items"])]
    return unknown


def lookup(value, chain):
    for key in chain:
        if not isinstance(value, dict) or key not in value:
            return False, key
        value = value[key]
    return True, None


def rule_errors_on(value, schema, path):
    """What evaluating schema's rules (and those of the nested schemas value reaches) against
    value would fail on for want of a field, as the API server's CEL evaluation would.
    Transition rules see oldSelf == self, as for a default."""
    errors = []
    for rule in rules_of(schema):
        for var, chain in reads(rule["rule"]):
            present, missing = lookup(value, chain)
            if not present and not guarded(rule["rule"], var, chain):
                errors.append(f"{path}: Invalid value: \"object\": no such key: {missing} "
                              f"evaluating rule: {label(rule)}")
                break
    if isinstance(value, dict):
        for key, item in value.items():
            child = schema.get("properties", {}).get(key)
            if child is None and isinstance(schema.get("additionalProperties"), dict):
                child = schema["additionalProperties"]
            if child is not None:
                errors += rule_errors_on(item, child, f"{path}.{key}")
    return errors


def default_errors(schema, path, schemas):
    """Each default validated against its schema, pruned, and run through the rules."""
    errors = []
    for node, where, _ in walk(schema, path):
        if "default" not in node:
            continue
        default = node["default"]
        for unknown in pruned(default, node):
            errors.append(f"{where}.default: Invalid value: must not have unknown fields "
                          f"({unknown})")
        for problem in schemas.validate(default, node, f"{where}.default"):
            errors.append(f"{where}.default: Invalid value: {problem}")
        errors += rule_errors_on(default, node, f"{where}.default")
    return errors


def admission_errors(crd, schemas):
    """Why kube-apiserver would refuse this CRD, in its own message form ([] when admitted)."""
    errors = []
    for i, version in enumerate(crd["spec"]["versions"]):
        schema = version.get("schema", {}).get("openAPIV3Schema")
        path = f"spec.versions[{i}].schema.openAPIV3Schema"
        if schema is None:
            errors.append(f"{path}: Required value: schemas are required")
            continue
        errors += structural_errors(schema, path)
        errors += default_errors(schema, path, schemas)
    return errors


def admission_message(crd, errors):
    return (f"CustomResourceDefinition.apiextensions.k8s.io \"{crd['metadata']['name']}\" is "
            f"invalid: [{', '.join(errors)}]")


# --- the project's stricter policy ----------------------------------------------------------------


def unguarded_reads(schema, path="openAPIV3Schema"):
    """Rule reads of a field that an object may lack when the rule runs: not required, not
    defaulted (the API server fills defaults before validating an object) and not guarded by
    has(). Each is a rule that fails with "no such key" on some object the schema allows."""
    problems = []
    for node, where, root in walk(schema, path):
        for rule in rules_of(node):
            for var, chain in reads(rule["rule"]):
                if guarded(rule["rule"], var, chain):
                    continue
                current = node
                for depth, key in enumerate(chain):
                    if root and chain[:depth + 1] in ALWAYS_PRESENT_AT_ROOT:
                        current = current.get("properties", {}).get(key, {})
                        continue
                    child = current.get("properties", {}).get(key)
                    if child is None or not (key in current.get("required", []) or
                                             "default" in child):
                        problems.append(f"{where}: rule {rule['rule']!r} reads {var}."
                                        f"{'.'.join(chain)} unguarded")
                        break
                    current = child
    return problems


def filled(value, schema):
    """value with the defaults of the fields below it applied, as the API server defaults an
    object (a field absent from an object gets its schema's default, recursively)."""
    if isinstance(value, dict) and schema.get("type") == "object":
        out = dict(value)
        for key, child in schema.get("properties", {}).items():
            if key not in out and "default" in child:
                out[key] = child["default"]
            if key in out:
                out[key] = filled(out[key], child)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [filled(item, schema["items"]) for item in value]
    return value


def incomplete_defaults(schema, path="openAPIV3Schema"):
    """Defaults that defaulting would still change: the API server checks rules against a
    default as written, so it must already hold every default below it."""
    problems = []
    for node, where, _ in walk(schema, path):
        if "default" in node and filled(node["default"], node) != node["default"]:
            problems.append(f"{where}.default: {node['default']!r} is incomplete; complete, it "
                            f"is {filled(node['default'], node)!r}")
    return problems
