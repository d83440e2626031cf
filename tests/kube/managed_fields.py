"""Server-side apply and metadata.managedFields for the stand-in API server, as kube-apiserver 1.28
does them (its structured-merge-diff library), for the objects the stand-in keeps:

- a field set per manager: (manager, operation Apply) for applies, (manager, Update, apiVersion,
  subresource) for every other write; kept in metadata.managedFields in the FieldsV1 encoding
  (`f:<field>`, `k:<list-map key as JSON>`, `v:<set value as JSON>`, `.` for a node owned itself);
- an apply merges its configuration into the object by the schema: maps and structs field by
  field (unless `x-kubernetes-map-type: atomic`), lists by `x-kubernetes-list-type` (`map` by
  `x-kubernetes-list-map-keys`, `set` by value), a built-in list without one by its
  `x-kubernetes-patch-merge-key` (as the server derives it from the strategic-merge tags), any
  other list atomic, replaced whole;
- an apply that changes a field another manager owns is a conflict (409) unless forced, which
  moves the field to the applier; a field the applier applied before and omits now is removed
  when no other manager owns it;
- an update takes the fields it changes from every other manager.

The root fields that identify an object (apiVersion, kind, metadata.name, ...) are owned by no one,
and a write to the main resource owns nothing under `status` of a kind with a status subresource
(a write to /status owns nothing else), as the API server's strategies reset those fields.
"""

import copy
import json

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# Kinds whose status is a subresource: the main resource's writes leave it alone.
STATUS_SUBRESOURCE = {"Pod", "Service", "PersistentVolumeClaim", "StatefulSet",
                      "PodDisruptionBudget", "ZkCluster"}
UNOWNED_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                "selfLink", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds"}


class ConflictError(Exception):
    """An apply changed fields other managers own: the Status body kube-apiserver answers."""

    def __init__(self, conflicts):
        # conflicts: [(manager description, path string)]
        self.causes = [{"type": "FieldManagerConflict", "message": f"conflict with {who}",
                        "field": path} for who, path in conflicts]
        if len(conflicts) == 1:
            text = f"Apply failed with 1 conflict: conflict with {conflicts[0][0]}: " \
                   f"{conflicts[0][1]}"
        else:
            lines = []
            for who in sorted({who for who, _ in conflicts}):
                lines.append(f"conflicts with {who}:")
                lines += [f"- {path}" for w, path in conflicts if w == who]
            text = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
        super().__init__(text)
        self.message = text


# --- the schema's shape -------------------------------------------------------------------------

class Shape:
    """What the merge needs to know of a schema node: scalar, map (granular or atomic) or list
    (atomic, set or map with keys)."""

    def __init__(self, schemas, schema, resolved):
        """`resolved`: id(schema) -> (schema, resolved schema), kept by the caller so each schema
        node is resolved once, not on every write."""
        self.schemas, self.resolved = schemas, resolved
        self.schema = None
        if schema is not None:
            kept = resolved.get(id(schema))
            if kept is None or kept[0] is not schema:  # the entry keeps `schema` alive
                kept = resolved[id(schema)] = (schema, schemas._resolve(schema))
            self.schema = kept[1]

    @property
    def kind(self):
        s = self.schema
        if s is None:
            return "deduced"
        if s.get("x-kubernetes-int-or-string") or s.get("format") == "int-or-string":
            return "scalar"
        kind = s.get("type") or ("object" if "properties" in s else None)
        if kind == "object":
            if s.get("x-kubernetes-map-type") == "atomic":
                return "atomic"
            return "map"
        if kind == "array":
            return "list"
        if kind is None:
            return "deduced"  # any JSON (preserve-unknown-fields without properties)
        return "scalar"

    def field(self, name):
        s = self.schema or {}
        props = s.get("properties") or {}
        if name in props:
            return Shape(self.schemas, props[name], self.resolved), True
        extra = s.get("additionalProperties")
        return Shape(self.schemas, extra if isinstance(extra, dict) else None,
                     self.resolved), False

    def items(self):
        return Shape(self.schemas, (self.schema or {}).get("items"), self.resolved)

    def list_type(self):
        """("atomic"|"set"|"map", keys), from list-type, else a built-in's patch strategy."""
        s = self.schema or {}
        declared = s.get("x-kubernetes-list-type")
        if declared == "map":
            return "map", list(s.get("x-kubernetes-list-map-keys", []))
        if declared in ("atomic", "set"):
            return declared, []
        if "merge" in (s.get("x-kubernetes-patch-strategy") or "").split(","):
            key = s.get("x-kubernetes-patch-merge-key")
            return ("map", [key]) if key else ("set", [])
        return "atomic", []

    def key_of(self, item):
        """A list-map item's key: (field, value) pairs, a missing one from its schema default."""
        _, keys = self.list_type()
        props = (self.items().schema or {}).get("properties", {})
        pairs = []
        for k in keys:
            if isinstance(item, dict) and k in item:
                pairs.append((k, item[k]))
            elif "default" in self.schemas._resolve(props.get(k, {})):
                pairs.append((k, self.schemas._resolve(props[k])["default"]))
        return tuple(sorted(pairs))


def root_shape(schemas, crd_schema, obj, resolved):
    """The shape of `obj`'s kind; `resolved` as Shape takes it (also keeps the roots made here).
    `crd_schema`: the openAPIV3Schema of the custom resource `obj` is, None for a built-in kind."""
    key = ("root", obj.get("apiVersion"), obj.get("kind"))
    if key not in resolved:
        if crd_schema is not None:
            schema = dict(crd_schema)
            schema["properties"] = dict(schema["properties"],
                                        metadata={"$ref": "#/components/schemas/" + OBJECT_META})
        else:
            name = schemas.kinds[(obj["apiVersion"], obj["kind"])]
            schema = {"$ref": "#/components/schemas/" + name}
        resolved[key] = schema
    return Shape(schemas, resolved[key], resolved)


# --- paths and field sets -----------------------------------------------------------------------
# A path is a tuple of elements: ("f", name), ("k", ((key, value), ...)), ("v", value).

def _json(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _hashable(value):
    return _json(value) if isinstance(value, (dict, list)) else value


def path_string(path):
    """As the API server prints a field path: .spec.containers[name="zk"].image."""
    out = ""
    for kind, arg in path:
        if kind == "f":
            out += "." + arg
        elif kind == "k":
            out += "[" + ",".join(f"{k}={_json(v)}" for k, v in arg) + "]"
        else:
            out += "[=" + (arg if isinstance(arg, str) and arg[:1] in "{[" else _json(arg)) + "]"
    return out


def field_set(value, shape, path=()):
    """Every field `value` sets, as the API server's field set of an applied configuration."""
    out = set()
    kind = shape.kind
    if kind in ("scalar", "atomic") or value is None:
        out.add(path)
    elif kind == "list" or (kind == "deduced" and isinstance(value, list)):
        ltype, _ = shape.list_type() if kind == "list" else ("atomic", [])
        if ltype == "atomic" or not isinstance(value, list):
            out.add(path)
        else:
            for item in value:
                if ltype == "set":
                    out.add(path + (("v", _hashable(item)),))
                    continue
                p = path + (("k", shape.key_of(item)),)
                out.add(p)
                out |= field_set(item, shape.items(), p)
    elif isinstance(value, dict):
        for name, child in value.items():
            sub, declared = shape.field(name)
            p = path + (("f", name),)
            inner = field_set(child, sub, p)
            out |= inner
            if not declared or child == {} or child is None:
                out.add(p)
    else:
        out.add(path)
    return out


def owned_fields(obj, shape, sub):
    """The field set of a write to `obj`, without the fields no write can own."""
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    meta = {k: v for k, v in body.get("metadata", {}).items() if k not in UNOWNED_META}
    body.pop("metadata", None)
    if meta:
        body["metadata"] = meta
    if obj.get("kind") in STATUS_SUBRESOURCE:
        if sub == "status":
            body = {"status": body["status"]} if "status" in body else {}
        else:
            body.pop("status", None)
    return field_set(body, shape)


def value_at(obj, path, shape):
    """(found, value) of `path` in obj."""
    node = obj
    for kind, arg in path:
        if kind == "f":
            if not isinstance(node, dict) or arg not in node:
                return False, None
            node, shape = node[arg], shape.field(arg)[0]
        elif kind == "k":
            if not isinstance(node, list):
                return False, None
            item = next((i for i in node if shape.key_of(i) == arg), None)
            if item is None:
                return False, None
            node, shape = item, shape.items()
        else:
            if not isinstance(node, list) or not any(_hashable(i) == arg for i in node):
                return False, None
            node = next(i for i in node if _hashable(i) == arg)
    return True, node


def remove_at(obj, path, shape):
    """Removes what `path` names from obj (a field, a list item)."""
    *head, last = path
    found, parent = value_at(obj, tuple(head), shape)
    if not found:
        return
    pshape = shape
    for kind, arg in head:
        pshape = pshape.field(arg)[0] if kind == "f" else pshape.items()
    kind, arg = last
    if kind == "f" and isinstance(parent, dict):
        parent.pop(arg, None)
    elif kind == "k" and isinstance(parent, list):
        parent[:] = [i for i in parent if pshape.key_of(i) != arg]
    elif kind == "v" and isinstance(parent, list):
        parent[:] = [i for i in parent if _hashable(i) != arg]


def merge(live, config, shape):
    """`config` applied over `live`: maps field by field, lists by their type."""
    kind = shape.kind
    if isinstance(config, dict) and isinstance(live, dict) and kind in ("map", "deduced"):
        out = copy.deepcopy(live)
        for name, child in config.items():
            out[name] = merge(live.get(name), child, shape.field(name)[0])
        return out
    if isinstance(config, list) and isinstance(live, list) and kind == "list":
        ltype, _ = shape.list_type()
        if ltype == "set":
            return copy.deepcopy(live) + [i for i in config if i not in live]
        if ltype == "map":
            out = copy.deepcopy(live)
            for item in config:
                key = shape.key_of(item)
                at = next((n for n, i in enumerate(out) if shape.key_of(i) == key), None)
                if at is None:
                    out.append(copy.deepcopy(item))
                else:
                    out[at] = merge(out[at], item, shape.items())
            return out
    return copy.deepcopy(config)


# --- managedFields ------------------------------------------------------------------------------

def encode(fields):
    """A field set as FieldsV1: nested `f:`/`k:`/`v:` keys, `.` where a node is owned itself."""
    tree = {}
    for path in sorted(fields, key=lambda p: [_json(list(e)) for e in p]):
        node = tree
        for kind, arg in path:
            if kind == "f":
                key = "f:" + arg
            elif kind == "k":
                key = "k:" + _json(dict(arg))
            else:
                key = "v:" + (arg if isinstance(arg, str) and arg[:1] in "{[" else _json(arg))
            node = node.setdefault(key, {})
        if path:
            node.setdefault(".", {})
    return _tidy(tree)


def _tidy(node):
    """A `.` alone is just {}; a `.` stays only beside children."""
    children = {k: _tidy(node[k]) for k in sorted(node) if k != "."}
    if "." in node and children:
        children = {".": {}, **children}
    return children


def decode(tree, path=()):
    out = set()
    for key, child in tree.items():
        if key == ".":
            out.add(path)
            continue
        kind, _, text = key.partition(":")
        if kind == "f":
            element = ("f", text)
        elif kind == "k":
            element = ("k", tuple(sorted(json.loads(text).items())))
        else:
            value = json.loads(text)
            element = ("v", _hashable(value))
        p = path + (element,)
        if not child:
            out.add(p)
        out |= decode(child, p)
    return out


def _identity(entry):
    return (entry["manager"], entry["operation"], entry.get("apiVersion") if
            entry["operation"] == "Update" else None, entry.get("subresource", ""))


def describe(identity):
    """A manager as a conflict names it: "name", with its subresource and, for an update, the
    apiVersion it used."""
    manager, operation, api, sub = identity
    text = json.dumps(manager)
    if sub:
        text += f' with subresource "{sub}"'
    if operation == "Update":
        text += f" using {api}"
    return text


def managers_of(obj):
    return {_identity(e): decode(e.get("fieldsV1", {}))
            for e in obj.get("metadata", {}).get("managedFields", [])}


def _entries(old_obj, managers, touched, api, when):
    old = {_identity(e): e for e in (old_obj or {}).get("metadata", {}).get("managedFields", [])}
    entries = []
    for identity, fields in managers.items():
        if not fields:
            continue
        manager, operation, version, sub = identity
        entry = {"manager": manager, "operation": operation,
                 "apiVersion": version if operation == "Update" else api,
                 "time": when, "fieldsType": "FieldsV1", "fieldsV1": encode(fields)}
        if sub:
            entry["subresource"] = sub
        previous = old.get(identity)
        if identity not in touched and previous is not None:
            entry = dict(previous, fieldsV1=entry["fieldsV1"])
        entries.append(entry)
    entries.sort(key=lambda e: (e["operation"] != "Apply", e.get("time", ""), e["manager"]))
    return entries


def _leaves(fields):
    """The paths with nothing owned beneath them: a value compares as a whole only there."""
    inner = {p[:n] for p in fields for n in range(len(p))}
    return {p for p in fields if p not in inner}


def _existing(fields, obj, shape):
    return {p for p in fields if value_at(obj, p, shape)[0]}


def record_update(old_obj, new_obj, shape, manager, api, sub, when):
    """new_obj's managedFields after an update (create, replace, patch) by `manager`."""
    managers = managers_of(old_obj) if old_obj else {}
    identity = (manager, "Update", api, sub or "")
    changed = set()
    written = owned_fields(new_obj, shape, sub)
    leaves = _leaves(written)
    for path in written:
        was = value_at(old_obj, path, shape) if old_obj else (False, None)
        if not was[0] or (path in leaves and was != value_at(new_obj, path, shape)):
            changed.add(path)
    for other in managers:
        managers[other] = _existing(managers[other] - changed, new_obj, shape)
    managers[identity] = _existing(managers.get(identity, set()) | changed, new_obj, shape)
    touched = {identity} if changed else set()
    new_obj["metadata"]["managedFields"] = _entries(old_obj, managers, touched, api, when)
    if not new_obj["metadata"]["managedFields"]:
        del new_obj["metadata"]["managedFields"]
    return new_obj


def unchanged(old, new):
    """The same object with the same owners: only the times of managedFields differ."""
    strip = lambda o: dict(o, metadata={k: v for k, v in o["metadata"].items()
                                        if k != "managedFields"})
    return strip(old) == strip(new) and managers_of(old) == managers_of(new)


def apply(live, config, shape, manager, api, sub, force, when):
    """The object after `manager` applies `config` to `live` (None: not there yet). Raises
    ConflictError for fields another manager owns with another value, unless `force`."""
    managers = managers_of(live) if live else {}
    identity = (manager, "Apply", None, sub or "")
    applied = owned_fields(config, shape, sub)
    scope = copy.deepcopy(config)
    if config.get("kind") in STATUS_SUBRESOURCE:
        if sub == "status":
            scope = {k: v for k, v in scope.items() if k in ("apiVersion", "kind", "status")}
        else:
            scope.pop("status", None)
    meta = scope.pop("metadata", {})
    if sub == "status":  # the status strategy keeps the stored metadata
        meta = {k: v for k, v in meta.items() if k in ("name", "namespace")}
    merged = merge(live or {}, scope, shape)
    merged_meta = merge(merged.get("metadata", {}), {k: v for k, v in meta.items()
                                                     if k not in UNOWNED_META},
                        shape.field("metadata")[0])
    merged["metadata"] = dict(merged_meta, **{k: v for k, v in meta.items()
                                              if k in ("name", "namespace")})
    conflicts = []
    for path in sorted(_leaves(applied), key=path_string):
        if live is not None and value_at(live, path, shape) != value_at(merged, path, shape):
            for other, fields in managers.items():
                if other != identity and path in fields:
                    conflicts.append((other, path))
    if conflicts and not force:
        raise ConflictError([(describe(o), path_string(p)) for o, p in conflicts])
    for other, path in conflicts:
        managers[other].discard(path)
    previous = managers.get(identity, set())
    managers[identity] = applied
    owned_by_anyone = set().union(*managers.values())
    for path in sorted(previous - applied, key=len):  # an item before its fields
        if not any(p[:len(path)] == path for p in owned_by_anyone):
            remove_at(merged, path, shape)
    for other in managers:
        managers[other] = _existing(managers[other], merged, shape)
    merged["metadata"]["managedFields"] = _entries(live, managers, {identity}, api, when)
    return merged


# --- managedFields a request sends ----------------------------------------------------------------

def _decodable(entry):
    """An entry the API server can decode (its DecodeManagedFields): an operation of Apply or
    Update, an apiVersion, fieldsType FieldsV1 and a FieldsV1 tree."""
    if not isinstance(entry, dict) or entry.get("operation") not in ("Apply", "Update"):
        return False
    if not entry.get("apiVersion") or entry.get("fieldsType") != "FieldsV1":
        return False
    fields = entry.get("fieldsV1", {})
    try:
        decode(fields if isinstance(fields, dict) else None)
    except (AttributeError, ValueError, TypeError):
        return False
    return isinstance(entry.get("manager", ""), str)


def tracked_base(live_entries, requested, subresource):
    """The managed fields a non-apply write starts from, as the API server's field manager picks
    them: a write through a subresource always the stored ones; a body whose managedFields is an
    empty list or a list of one empty entry resets them (nothing is tracked any more but what
    this write changes); a body with entries that all decode replaces them; anything else (no
    managedFields, null, an entry that does not decode) keeps the stored ones, so a client that
    does not know the field cannot drop it."""
    if subresource:
        return live_entries
    if isinstance(requested, list) and requested in ([], [{}]):
        return []
    if isinstance(requested, list) and all(_decodable(e) for e in requested):
        return copy.deepcopy(requested)
    return live_entries
