"""A stand-in Kubernetes API server for the operator's tests: real HTTP, strict, small.

It implements only what the operator relies on, the way the real API server does it, and refuses
everything else with a Kubernetes Status body, so a request the real server would refuse fails
the test instead of passing silently:

- get, list (labelSelector with equality and set-based terms, label_selector.py), create (POST),
  replace (PUT, with 409 Conflict on a stale metadata.resourceVersion), server-side apply (PATCH
  application/apply-patch+yaml with a fieldManager: managed fields, merges by list type,
  conflicts and force, managed_fields.py), JSON merge patch, delete; other patch types get 415;
  a list at a resourceVersion not reached yet waits up to 3 s for it, then is a 504;
- the ZkCluster's status and scale subresources (the main resource ignores status, the status
  subresource ignores everything else, as the CRD's `subresources.status` makes the server do),
  each replaced, merge-patched or applied (a Scale's replicas are spec.observers);
- the CRD's defaults filled in on every write of a ZkCluster or Certificate (defaulting.py),
  a built-in kind's as Kubernetes 1.28 fills them (builtin_defaults.py), and managedFields sent
  in a body treated as the real field manager treats them (managed_fields.tracked_base);
- metadata.generation bumped only by changes outside metadata and status, resourceVersion by
  every change;
- a StatefulSet controller for updateStrategy OnDelete: pods <set>-0..replicas-1 are created from
  the current template; a deleted pod comes back from the template as it is now; old pods keep
  theirs;
- garbage collection through ownerReferences when an owner is deleted;
- Pod Security admission (pod_security.py, levels baseline and restricted) on namespaces
  labelled for it with `label_namespace`: a pod create is refused with 403; a pod the
  StatefulSet controller cannot create becomes a FailedCreate Event and `refused_pods`.

cert-manager's Certificate (cert-manager.io/v1) is stored and validated against cert-manager's
published CRD (../shared/k8s/cert-manager), nothing more: no cert-manager controller runs, so
no Secret appears for a Certificate unless the test writes it (playing cert-manager), and its
status stays empty. Issuers are not served.

The CRD itself is admitted first, as kube-apiserver admits it (tests/crd_admission.py: structural
schema, every default checked against its schema and against the CEL rules that read it); the
stand-in does not start with a CRD the real server would refuse. Every object written is validated
with tests/k8s_openapi.py against the Kubernetes 1.28 OpenAPI documents, a ZkCluster against its
CRD's schema (its CEL rules written out by hand: no CEL implementation runs here): an unknown
field, a wrong type or a missing required field is a 422 Invalid.

Watches (`?watch=1&resourceVersion=R`) stream every change after R as JSON lines, chunked (without
R, or with "0", the current state first as ADDED events):
ADDED, MODIFIED and DELETED (an object that stops or starts matching the label selector is
DELETED or ADDED, as the real server's filter makes it), BOOKMARK events when
`allowWatchBookmarks` asks for them (once a minute and 2 s before the timeout, as the watch cache
sends them), and the end of the stream after `timeoutSeconds`. Every
change gets its own resourceVersion, and a bounded history of them is kept: a watch from a
resourceVersion older than the history gets `410 Gone` (an ERROR event, or the HTTP status if
`gone_as_status` is set). Tests can compact the history and break every open stream.

Faults are injected through `Store.faults`: an error code (and message) for the next matching
request, or a request answered only after the client's timeout. Pods can be refused
(`refuse_pods`, as a quota or an admission webhook would): the StatefulSet controller then records
a FailedCreate Warning Event on the StatefulSet, as the real one does. A namespace can be
terminating (creates in it are 403). An apply whose resource quantities do not parse is a 500,
as in Kubernetes; an apply without a fieldManager a 422. Lists take equality fieldSelectors on
the fields the real server allows for the kind.

Members are simulated: `members` maps a pod name to {"mode", "zxid", "ready"}; a pod's Ready
condition comes from it, and each pod gets a loopback TCP port answering `srvr` from it (the map
of pod to port is written to `srvr_map_path` for the operator's --srvr-map).
"""

import copy
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import builtin_defaults  # noqa: E402
import crd_admission  # noqa: E402
import defaulting  # noqa: E402
import label_selector  # noqa: E402
import managed_fields  # noqa: E402
import pod_security  # noqa: E402
from k8s_openapi import K8S_DIR, REPO, Schemas  # noqa: E402

CRD_FILE = os.path.join(REPO, "crds", "zkclusters.zookube.dev.yaml")
OBJECT_META = {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}

# plural -> (apiVersion, kind); all of them namespaced.
RESOURCES = {
    ("v1", "pods"): "Pod",
    ("v1", "services"): "Service",
    ("v1", "configmaps"): "ConfigMap",
    ("v1", "secrets"): "Secret",
    ("v1", "persistentvolumeclaims"): "PersistentVolumeClaim",
    ("v1", "events"): "Event",
    ("apps/v1", "statefulsets"): "StatefulSet",
    ("policy/v1", "poddisruptionbudgets"): "PodDisruptionBudget",
    ("coordination.k8s.io/v1", "leases"): "Lease",
    ("zookube.dev/v1alpha1", "zkclusters"): "ZkCluster",
    ("cert-manager.io/v1", "certificates"): "Certificate",
    ("networking.k8s.io/v1", "networkpolicies"): "NetworkPolicy",
}
# Custom kinds other than the ZkCluster, validated against their published CRDs (data in
# ../shared/k8s/cert-manager). No cert-manager controller runs: a test that needs the Secret a
# Certificate asks for writes it itself.
CUSTOM_CRDS = {("cert-manager.io/v1", "Certificate"):
               os.path.join(os.path.dirname(K8S_DIR), "cert-manager",
                            "cert-manager.io_certificates.yaml")}
# How long a list at a resourceVersion newer than the cache's waits for it (the watch cache's
# blockTimeout).
LIST_WAIT_SECONDS = 3.0
PATH = re.compile(r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
                  r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)"
                  r"(?:/(?P<name>[^/]+)(?:/(?P<sub>[^/]+))?)?$")



# Kinds whose registry strategy (Kubernetes 1.28) never sets metadata.generation; the workload,
# policy and networking kinds and every custom resource have one.
KINDS_WITHOUT_GENERATION = frozenset({
    "ConfigMap", "Secret", "Service", "Pod", "PersistentVolumeClaim", "Lease", "Event",
    "Endpoints", "ServiceAccount", "Namespace"})

class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def merge_patched(target, patch):
    """`target` with an RFC 7386 merge patch applied in place."""
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        elif isinstance(v, dict) and isinstance(target.get(k), dict):
            merge_patched(target[k], v)
        else:
            target[k] = copy.deepcopy(v)
    return target


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def manager_name(agent):
    """The field manager of a write without fieldManager: its User-Agent up to the first '/'."""
    return (agent or "unknown").split("/", 1)[0]


def matches(labels, selector):
    return label_selector.matches(labels, label_selector.parse(selector))


def check_selector(selector):
    """A selector the real parser refuses is a 400 with its message (label_selector.py)."""
    try:
        label_selector.parse(selector)
    except label_selector.SelectorError as e:
        raise ApiError(400, "BadRequest", str(e))


# The fields each kind may be selected by (the real server's field label conversions).
FIELD_LABELS = {"Event": {"metadata.name", "metadata.namespace", "involvedObject.kind",
                          "involvedObject.namespace", "involvedObject.name",
                          "involvedObject.uid", "involvedObject.apiVersion",
                          "involvedObject.resourceVersion", "involvedObject.fieldPath",
                          "reason", "reportingComponent", "source", "type"}}


def field_terms(kind, selector):
    """Equality terms of a fieldSelector; a field the kind cannot be selected by is a 400."""
    terms = []
    for term in filter(None, (selector or "").split(",")):
        key, op, want = term.partition("=")
        if not op or key.endswith("!") or any(c in term for c in "() "):
            raise ApiError(400, "BadRequest", f"the stand-in implements only equality field "
                                              f"selectors, not {term!r}")
        if key not in FIELD_LABELS.get(kind, {"metadata.name", "metadata.namespace"}):
            raise ApiError(400, "BadRequest", f'"{key}" is not a known field selector: only '
                                              f'"metadata.name", "metadata.namespace"')
        terms.append((key, want.lstrip("=")))
    return terms


def field_matches(obj, terms):
    for path, want in terms:
        value = obj
        for part in path.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        if str(value) != want:
            return False
    return True


# The query parameters each kind of request may carry; anything else is refused.
QUERY = {"list": {"labelSelector", "fieldSelector", "resourceVersion"},
         "watch": {"watch", "labelSelector", "resourceVersion", "allowWatchBookmarks",
                   "timeoutSeconds"},
         "PATCH": {"fieldManager", "force"},
         "DELETE": {"propagationPolicy"}}
PROPAGATION = {"Orphan", "Background", "Foreground"}


# The CRD's x-kubernetes-validations, written out by hand: the stand-in has no CEL.
OWNED_CONFIG_KEYS = {
    "dataDir", "dataLogDir", "clientPort", "clientPortAddress", "secureClientPort",
    "secureClientPortAddress", "dynamicConfigFile", "standaloneEnabled", "reconfigEnabled",
    "peerType", "myid", "skipACL", "metricsProvider.httpPort", "metricsProvider.httpHost",
    "metricsProvider.className", "admin.serverPort", "admin.serverAddress",
    "quorumListenOnAllIPs", "sslQuorum", "portUnification", "sslQuorumReloadCertFiles",
    "ssl.quorum.keyStore.location", "ssl.quorum.trustStore.location"}


def cel_rules(obj):
    errors = []
    spec = obj.get("spec", {})
    if len(obj.get("metadata", {}).get("name", "")) > 40:
        errors.append("metadata.name: must be at most 40 characters")
    if isinstance(spec.get("voters"), int) and spec["voters"] % 2 == 0:
        errors.append("spec.voters: must be odd")
    for key in spec.get("config", {}):
        if key in OWNED_CONFIG_KEYS or key.startswith(("server.", "group.", "weight.")):
            errors.append(f"spec.config: {key} is set by the operator")
    ports = spec.get("ports", {})
    values = [ports.get(k, d) for k, d in (("client", 2181), ("quorum", 2888),
                                           ("election", 3888), ("metrics", 7000),
                                           ("admin", 8080))]
    if len(set(values)) != len(values):
        errors.append("spec.ports: every port must differ")
    tls = spec.get("tls", {})
    if tls.get("quorum") is True and tls.get("client", "off") == "off":
        errors.append("spec.tls.quorum: needs tls.client both or on")
    for key in spec.get("pod", {}).get("labels", {}):
        if key.startswith("app.kubernetes.io/"):
            errors.append("spec.pod.labels: app.kubernetes.io/ labels are set by the operator")
    auth = spec.get("auth", {})
    if auth.get("enforce") is True and "sasl" not in auth:
        errors.append("spec.auth.enforce: needs auth.sasl (the operator logs in with DIGEST-MD5 "
                      "as its own user; it has no Kerberos login)")
    if "kerberos" in auth and "sasl" in auth:
        errors.append("spec.auth.kerberos: cannot be combined with auth.sasl (a JAAS Server "
                      "section has one mechanism)")
    return errors


QUANTITY = re.compile(r"^\+?(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|e\d+)?$")
FACTORS = {None: 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


def quantity(text):
    m = QUANTITY.match(text or "")
    if not m:
        raise ApiError(422, "Invalid", f"quantities must match the regular expression "
                                       f"'{QUANTITY.pattern}': {text!r}")
    unit = m[2]
    factor = 10 ** int(unit[1:]) if unit and unit.startswith("e") else FACTORS[unit]
    return float(m[1]) * factor


# The real server's pattern; values it matches may still fail to parse (quantity() above).
QUANTITY_MESSAGE = ("quantities must match the regular expression "
                    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def bad_quantity(obj):
    """The path of the first resource quantity in a built-in object that does not parse."""
    if obj.get("kind") not in ("Pod", "StatefulSet", "PersistentVolumeClaim"):
        return None
    spec = obj.get("spec", {})
    pod = spec.get("template", {}).get("spec", spec) if obj["kind"] == "StatefulSet" else spec
    places = []
    for group in ("initContainers", "containers"):
        for c in pod.get(group, []) if obj["kind"] != "PersistentVolumeClaim" else []:
            places.append((f'.spec{".template.spec" if obj["kind"] == "StatefulSet" else ""}'
                           f'.{group}[name="{c.get("name")}"].resources', c.get("resources", {})))
    if obj["kind"] == "PersistentVolumeClaim":
        places.append((".spec.resources", spec.get("resources", {})))
    for i, t in enumerate(spec.get("volumeClaimTemplates", [])):
        places.append((f".spec.volumeClaimTemplates[{i}].spec.resources",
                       t.get("spec", {}).get("resources", {})))
    for path, resources in places:
        for kind in ("limits", "requests"):
            for name, value in (resources.get(kind) or {}).items():
                try:
                    quantity(str(value))
                except ApiError:
                    return f"{path}.{kind}.{name}: {QUANTITY_MESSAGE}"
    return None


def storage_transition(old, new):
    """The CRD's transition rule on spec.storage (x-kubernetes-validations with oldSelf)."""
    was, now_ = old.get("spec", {}).get("storage", {}), new.get("spec", {}).get("storage", {})
    if was.get("storageClassName") != now_.get("storageClassName"):
        return ["spec.storage: storageClassName cannot change: the volumes keep the class they "
                "were made with"]
    return []


# What the real API server lets change in a StatefulSet's spec; anything else is Forbidden.
STATEFULSET_MUTABLE = {"replicas", "ordinals", "template", "updateStrategy",
                       "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}


def claim_fields(old, new, fixed_classes):
    """A bound claim's spec may change only in resources.requests.storage, only upwards, and only
    where its class allows expansion."""
    name = old["metadata"]["name"]
    strip = lambda spec: {k: v for k, v in spec.items() if k != "resources"}
    if strip(old["spec"]) != strip(new["spec"]):
        # The real message goes on with a Go diff of the two specs, one line per field.
        diff = "\n".join(f"  \t{k}: {old['spec'].get(k)!r} -> {new['spec'].get(k)!r},"
                         for k in sorted(set(old["spec"]) | set(new["spec"]))
                         if old["spec"].get(k) != new["spec"].get(k))
        raise ApiError(422, "Invalid", f'PersistentVolumeClaim "{name}" is invalid: spec: '
                                       f"Forbidden: spec is immutable after creation except "
                                       f"resources.requests for bound claims\n"
                                       f"  core.PersistentVolumeClaimSpec{{\n{diff}\n  }}\n")
    before = old["spec"]["resources"]["requests"]["storage"]
    after = new["spec"].get("resources", {}).get("requests", {}).get("storage")
    if after == before:
        return
    if quantity(after) < quantity(before):
        raise ApiError(422, "Invalid", f'PersistentVolumeClaim "{name}" is invalid: '
                                       f"spec.resources.requests.storage: Forbidden: field can "
                                       f"not be less than previous value")
    if old["spec"].get("storageClassName") in fixed_classes:
        raise ApiError(403, "Forbidden", f'persistentvolumeclaims "{name}" is forbidden: only '
                                         f"dynamically provisioned pvc can be resized and the "
                                         f"storageclass that provisions the pvc must support "
                                         f"resize")


def immutable_fields(old, new, fixed_classes=()):
    if old["kind"] == "PersistentVolumeClaim":
        claim_fields(old, new, fixed_classes)
        return
    if old["kind"] == "Secret" and old.get("type") != new.get("type"):
        # Compared after defaulting: a replace that leaves the type out asks for Opaque.
        raise ApiError(422, "Invalid", f'Secret "{old["metadata"]["name"]}" is invalid: type: '
                                       f'Invalid value: "{new.get("type")}": field is immutable')
    if old["kind"] != "StatefulSet":
        return
    changed = {k for k in set(old["spec"]) | set(new["spec"])
               if old["spec"].get(k) != new["spec"].get(k)} - STATEFULSET_MUTABLE
    if changed:
        raise ApiError(422, "Invalid", f"StatefulSet.apps \"{old['metadata']['name']}\" is "
                                       f"invalid: spec: Forbidden: updates to statefulset spec "
                                       f"for fields other than {sorted(STATEFULSET_MUTABLE)} are "
                                       f"forbidden (changed: {sorted(changed)})")


class Store:
    """Objects by (apiVersion, plural, namespace, name), and what the tests look at."""

    def __init__(self, srvr_map_path, crd_file=CRD_FILE):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.objects = {}
        self.last_rv = 1  # as etcd's revision: never 0, which a watch reads as "any"
        # Changes a watch can resume from: those after `compacted`, at most `history_limit`.
        self.history = []    # {"rv", "type", "api", "plural", "ns", "old", "new"}
        self.history_limit = 1000
        self.compacted = 0
        self.gone_as_status = False  # 410 for a too-old watch as the HTTP status, not an event
        # A BOOKMARK this often, and one 2 s before a watch's timeout, as the watch cache sends
        # them (its bookmark frequency is a minute); tests make it shorter.
        self.bookmark_seconds = 60.0
        self.watch_epoch = 0  # bumped by break_watches: every open stream is cut off
        self.requests = []    # {"verb", "plural", "ns", "name", "query", "code"} answered
        self.gone_sent = 0    # 410 Gone answers to watches, as a status or an ERROR event
        self.waiting_lists = 0  # lists waiting for a resourceVersion not reached yet
        self.bookmarks = []   # (plural, labelled, resourceVersion) of every BOOKMARK sent
        self.writes = []     # {"verb", "kind", "name", "sub", "changed", "agent"}
        self.deleted_pods = []
        # StorageClasses without allowVolumeExpansion: growing their claims is Forbidden.
        self.fixed_size_classes = set()
        self.members = {}    # pod name -> {"mode", "zxid", "ready"}
        self.namespace_labels = {}  # namespace -> labels (label_namespace); no Namespace objects
        self.refused_pods = []  # (pod name, message) the StatefulSet controller could not create
        self.recreated_ready = True  # readiness a pod gets when its StatefulSet recreates it
        self.graceful = False  # True: a deleted pod terminates only when the test says so
        self.terminating_namespaces = set()  # creates in them are Forbidden, as in Kubernetes
        # A reason pods are refused (a quota or an admission webhook would give one), or None.
        self.refuse_pods = None
        # [(verb, kind or None, HTTP code)]: the next matching request fails with that code, or
        # with code 0 is answered only after `hang_seconds` (the client should have given up).
        self.faults = []
        self.hang_seconds = 3
        self.srvr_map_path = srvr_map_path
        self.srvr = {}       # pod name -> listening socket
        self.schemas = Schemas(K8S_DIR)
        with open(crd_file) as f:
            crd = yaml.safe_load(f)
        # The CRD is admitted first, as `kubectl apply -f crds/` would have it admitted.
        errors = crd_admission.admission_errors(crd, self.schemas)
        if errors:
            raise ApiError(422, "Invalid", crd_admission.admission_message(crd, errors))
        self.crd_schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        self.custom_schemas = {}
        for (api, kind), path in CUSTOM_CRDS.items():
            with open(path) as f:
                custom = yaml.safe_load(f)
            version = api.split("/")[1]
            self.custom_schemas[(api, kind)] = next(
                v["schema"]["openAPIV3Schema"] for v in custom["spec"]["versions"]
                if v["name"] == version)
        self.services = builtin_defaults.ServiceAllocator()
        self.resolved = {}  # schema nodes resolved for server-side apply (managed_fields.Shape)

    # --- validation -------------------------------------------------------------------------

    def validate(self, obj, status_only=False, partial=False):
        if obj.get("kind") == "ZkCluster" and status_only:
            # The status subresource validates what it writes; a spec stored under an older
            # schema does not block status updates.
            schema = self.crd_schema["properties"]["status"]
            errors = self.schemas.validate(obj.get("status", {}), schema, "ZkCluster.status")
        elif obj.get("kind") == "ZkCluster":
            errors = self.schemas.validate(obj, self.crd_schema, "ZkCluster")
            errors += self.schemas.validate(obj.get("metadata", {}), OBJECT_META, "metadata")
            errors += cel_rules(obj)
        elif (obj.get("apiVersion"), obj.get("kind")) in self.custom_schemas:
            schema = self.custom_schemas[(obj["apiVersion"], obj["kind"])]
            errors = self.schemas.validate(obj, schema, obj["kind"])
            errors += self.schemas.validate(obj.get("metadata", {}), OBJECT_META, "metadata")
        else:
            errors = self.schemas.validate_object(obj)
        if partial:
            errors = [e for e in errors if not e.endswith(": required")]
        if errors:
            raise ApiError(422, "Invalid", f"{obj.get('kind')} is invalid: " + "; ".join(errors))

    def with_defaults(self, obj, old=None):
        """`obj` with its defaults filled in, as the API server decodes a body before it stores
        it: a custom resource's from its CRD (defaulting.py), a built-in kind's from the
        server's defaulting functions (builtin_defaults.py), a Service's cluster IP and ports
        allocated (kept from `old`, the stored object). A kind the stand-in cannot default is
        refused rather than stored as it came."""
        kind = (obj.get("apiVersion"), obj.get("kind"))
        schema = self.crd_schema if obj.get("kind") == "ZkCluster" else self.custom_schemas.get(kind)
        if schema:
            return defaulting.defaulted(obj, schema)
        try:
            obj = builtin_defaults.defaulted(obj)
        except builtin_defaults.DefaultsNotImplemented as e:
            raise ApiError(400, "BadRequest", str(e))
        if obj["kind"] == "Service":
            problem = self.services.allocated(old, obj)
            if problem:
                raise ApiError(422, "Invalid", f'Service "{obj["metadata"].get("name")}" is '
                                               f"invalid: {problem}")
        return obj

    def shape(self, obj):
        kind = (obj.get("apiVersion"), obj.get("kind"))
        crd = self.crd_schema if obj.get("kind") == "ZkCluster" else self.custom_schemas.get(kind)
        return managed_fields.root_shape(self.schemas, crd, obj, self.resolved)

    def applied(self, live, config, manager, api, sub, force):
        """`live` after `manager` applies `config` (server-side apply, managed_fields.py)."""
        shape = self.shape(config)
        try:
            merged = managed_fields.apply(live, config, shape, manager, api, sub, force, now())
        except managed_fields.ConflictError as e:
            raise ApiError(409, "Conflict", e.message, {"causes": e.causes})
        # The merged object is defaulted before it is compared: the applier's fields are
        # recorded by now, and an apply that differs from the stored object only in what
        # defaulting fills back in is a no-op, which writes nothing, not even the times of
        # managedFields.
        merged = self.with_defaults(merged, live)
        if live is not None and managed_fields.unchanged(live, merged):
            return live
        return merged

    def label_namespace(self, ns, labels):
        """Sets a namespace's labels; the pod-security ones decide what pods it admits."""
        problem = pod_security.check_labels(labels)
        if problem:
            raise ApiError(422, "Invalid", f'Namespace "{ns}" is invalid: {problem}')
        self.namespace_labels[ns] = dict(labels)

    def admit_pod(self, ns, pod):
        level = self.namespace_labels.get(ns, {}).get(pod_security.ENFORCE, "privileged")
        message = pod_security.refusal(level, pod)
        if message:
            raise ApiError(403, "Forbidden", message)

    # --- generic verbs ----------------------------------------------------------------------

    def key(self, api, plural, ns, name):
        if (api, plural) not in RESOURCES:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource "
                                            f"({api} {plural})")
        return (api, plural, ns, name)

    def get(self, api, plural, ns, name):
        obj = self.objects.get(self.key(api, plural, ns, name))
        if obj is None:
            raise ApiError(404, "NotFound", f'{plural} "{name}" not found')
        return self.present(obj)

    def present(self, obj):
        obj = copy.deepcopy(obj)
        if obj["kind"] == "Pod":
            member = self.members.get(obj["metadata"]["name"], {})
            ready = "True" if member.get("ready") else "False"
            obj["status"] = {"phase": "Running", "podIP": "127.0.0.1",
                             "conditions": [{"type": "Ready", "status": ready}]}
            crash = member.get("crash")  # {"exitCode", "message"}: the kubelet backs off
            if crash:
                obj["status"]["containerStatuses"] = [{
                    "name": obj["spec"]["containers"][0]["name"], "ready": False,
                    "restartCount": 5, "image": obj["spec"]["containers"][0]["image"],
                    "imageID": "", "state": {"waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 2m40s restarting failed container"}},
                    "lastState": {"terminated": {
                        "exitCode": crash["exitCode"], "reason": "Error",
                        "message": crash.get("message", "")}}}]
        return obj

    def list(self, api, plural, ns, selector, fields=None):
        self.key(api, plural, ns, None)
        terms = field_terms(RESOURCES[(api, plural)], fields)
        items = [self.present(o) for (a, p, n, _), o in sorted(self.objects.items())
                 if a == api and p == plural and (ns is None or n == ns)
                 and matches(o["metadata"].get("labels", {}), selector)
                 and field_matches(o, terms)]
        kind = RESOURCES[(api, plural)] + "List"
        return {"apiVersion": api, "kind": kind,
                "metadata": {"resourceVersion": str(self.last_rv)}, "items": items}

    def record(self, verb, obj, sub, changed, agent):
        self.writes.append({"verb": verb, "kind": obj["kind"], "name": obj["metadata"]["name"],
                            "sub": sub, "changed": changed, "agent": agent})

    def check_target(self, api, plural, ns, name, obj):
        kind = RESOURCES[(api, plural)]
        if obj.get("apiVersion") != api or obj.get("kind") != kind:
            raise ApiError(400, "BadRequest", f"body is {obj.get('apiVersion')} {obj.get('kind')},"
                                              f" the URL names {api} {kind}")
        meta = obj.setdefault("metadata", {})
        if name is not None and meta.get("name") != name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the URL")
        if meta.get("namespace", ns) != ns:
            raise ApiError(400, "BadRequest", "the namespace of the object does not match the URL")
        meta["namespace"] = ns

    def create(self, api, plural, ns, obj, agent="test", applied_by=None):
        """`applied_by`: the field manager of an apply that creates the object."""
        self.check_target(api, plural, ns, None, obj)
        if "name" not in obj["metadata"]:
            raise ApiError(422, "Invalid", "metadata.name: Required value")
        if ns in self.terminating_namespaces:
            raise ApiError(403, "Forbidden", f'{plural} "{obj["metadata"]["name"]}" is forbidden: '
                                             f"unable to create new content in namespace {ns} "
                                             f"because it is being terminated")
        if plural == "pods" and self.refuse_pods:
            raise ApiError(403, "Forbidden", f'pods "{obj["metadata"]["name"]}" is forbidden: '
                                             f"{self.refuse_pods}")
        if plural == "pods":
            self.admit_pod(ns, obj)
        key = self.key(api, plural, ns, obj["metadata"]["name"])
        if key in self.objects:
            raise ApiError(409, "AlreadyExists", f'{plural} "{key[3]}" already exists')
        obj = copy.deepcopy(obj)
        requested = obj["metadata"].pop("managedFields", None)
        if applied_by:
            obj = self.with_defaults(self.applied(None, obj, applied_by, api, None, False))
            self.validate(obj)
        else:
            # An update's body is decoded, so defaulted, before its fields are recorded: the
            # writer owns the defaults too. An applier owns only what it applied.
            obj = self.with_defaults(obj)
            self.validate(obj)
            base = managed_fields.tracked_base([], requested, None)
            managed_fields.record_update({"metadata": {"managedFields": base}}, obj,
                                         self.shape(obj), manager_name(agent), api, None, now())
        obj["metadata"].update({"uid": str(uuid.uuid4()), "resourceVersion": self.next_rv(),
                                "creationTimestamp": now()})
        if obj["kind"] not in KINDS_WITHOUT_GENERATION:
            obj["metadata"]["generation"] = 1
        if obj["kind"] == "Pod":
            obj.pop("status", None)
        self.objects[key] = obj
        self.emit("ADDED", key, None, obj)
        self.record("create", obj, None, True, agent)
        self.after_write(obj)
        return self.present(obj)

    def write(self, api, plural, ns, name, sub, new_fields, verb, agent, rv=None):
        """Merges `new_fields(old)` into the stored object; counts it if something changed."""
        key = self.key(api, plural, ns, name)
        old = self.objects[key]
        if rv is not None and rv != old["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{name}": '
                                            "the object has been modified; please apply your "
                                            "changes to the latest version and try again")
        new = self.with_defaults(new_fields(copy.deepcopy(old)), old)
        if verb != "apply":  # an apply has recorded its own fields
            # The body's managedFields (as the replace or patch left them) may reset or replace
            # the stored ones (managed_fields.tracked_base).
            base = managed_fields.tracked_base(old["metadata"].get("managedFields", []),
                                               new["metadata"].get("managedFields"), sub)
            tracked = dict(old, metadata=dict(old["metadata"], managedFields=base))
            managed_fields.record_update(tracked, new, self.shape(new), manager_name(agent), api,
                                         sub, now())
        self.validate(new, status_only=sub == "status")
        immutable_fields(old, new, self.fixed_size_classes)
        if new["kind"] == "ZkCluster" and sub is None:
            errors = storage_transition(old, new)
            if errors:
                raise ApiError(422, "Invalid", f'ZkCluster.zookube.dev "{name}" is invalid: '
                                               + "; ".join(errors))
        changed = new != old
        if changed:
            body = lambda o: {k: v for k, v in o.items() if k not in ("metadata", "status")}
            if body(new) != body(old) and "generation" in old["metadata"]:
                new["metadata"]["generation"] = old["metadata"]["generation"] + 1
            new["metadata"]["resourceVersion"] = self.next_rv()
            self.objects[key] = new
            self.emit("MODIFIED", key, old, new)
        self.record(verb, new, sub, changed, agent)
        self.after_write(new)
        return self.present(new)

    def delete(self, api, plural, ns, name, agent="test", propagation=None):
        key = self.key(api, plural, ns, name)
        obj = self.objects.get(key)
        if obj is None:
            raise ApiError(404, "NotFound", f'{plural} "{name}" not found')
        if obj["kind"] == "Pod":
            self.deleted_pods.append(name)
            if self.graceful:
                # The kubelet stops it within the grace period; until the test calls
                # finish_termination the pod stays, marked, and still answers srvr.
                changed = "deletionTimestamp" not in obj["metadata"]
                if changed:
                    old = copy.deepcopy(obj)
                    obj["metadata"]["deletionTimestamp"] = now()
                    obj["metadata"]["resourceVersion"] = self.next_rv()
                    self.emit("MODIFIED", key, old, obj)
                self.record("delete", obj, None, changed, agent)
                return self.present(obj)
        return self.remove(key, agent, orphan=propagation == "Orphan")

    def finish_termination(self, name, ns="default"):
        with self.lock:
            self.remove(("v1", "pods", ns, name), "kubelet")

    def remove(self, key, agent, orphan=False):
        api, plural, ns, name = key
        obj = self.drop(key)
        self.record("delete", obj, None, True, agent)
        if orphan:
            self.orphan_dependents(obj["metadata"]["uid"])
        else:
            self.collect_garbage(obj["metadata"]["uid"])
        for owner in obj["metadata"].get("ownerReferences", []):
            if owner["kind"] == "StatefulSet":
                sts = self.objects.get(("apps/v1", "statefulsets", ns, owner["name"]))
                if sts:
                    if name in self.members and not self.recreated_ready:
                        self.members[name]["ready"] = False
                    self.sync_pods(sts)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}

    def orphan_dependents(self, owner_uid):
        """propagationPolicy=Orphan: the garbage collector takes the owner out of each dependent's
        ownerReferences and leaves the dependent alone."""
        for key, obj in list(self.objects.items()):
            refs = obj["metadata"].get("ownerReferences", [])
            if any(r.get("uid") == owner_uid for r in refs):
                def unowned(o):
                    kept = [r for r in o["metadata"]["ownerReferences"] if r.get("uid") != owner_uid]
                    if kept:
                        o["metadata"]["ownerReferences"] = kept
                    else:
                        del o["metadata"]["ownerReferences"]
                    return o
                self.write(*key, None, unowned, "update", "garbage-collector")

    def collect_garbage(self, owner_uid):
        for key, obj in list(self.objects.items()):
            refs = obj["metadata"].get("ownerReferences", [])
            if any(r.get("uid") == owner_uid for r in refs) and key in self.objects:
                self.drop(key)
                self.collect_garbage(obj["metadata"]["uid"])

    # --- watch -------------------------------------------------------------------------------

    def next_rv(self):
        self.last_rv += 1
        return str(self.last_rv)

    def emit(self, kind, key, old, new):
        """Records a change for watches; `new` already carries its resourceVersion."""
        api, plural, ns, _ = key
        self.history.append({"rv": int(new["metadata"]["resourceVersion"]), "type": kind,
                             "api": api, "plural": plural, "ns": ns,
                             "old": copy.deepcopy(old), "new": copy.deepcopy(new)})
        with self.changed:
            if len(self.history) > self.history_limit:
                self.compacted = self.history.pop(0)["rv"]
            self.changed.notify_all()

    def drop(self, key):
        """Removes an object; its DELETED event carries the deletion's resourceVersion."""
        obj = self.objects.pop(key)
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = self.next_rv()
        self.emit("DELETED", key, obj, gone)
        return obj

    def compact(self):
        """Forgets every change so far: a watch from an older resourceVersion gets 410 Gone."""
        with self.lock:
            self.history.clear()
            self.compacted = self.last_rv

    def break_watches(self):
        """Cuts every open watch stream off mid-stream, as a dropped connection would."""
        with self.lock:
            self.watch_epoch += 1
            self.changed.notify_all()

    def set_member(self, pod_name, **fields):
        """Changes a simulated member; its pod's status (readiness) changes with it."""
        with self.lock:
            self.members.setdefault(pod_name, {}).update(fields)
            key = next((k for k in self.objects if k[1] == "pods" and k[3] == pod_name), None)
            if key:
                old = copy.deepcopy(self.objects[key])
                self.objects[key]["metadata"]["resourceVersion"] = self.next_rv()
                self.emit("MODIFIED", key, old, self.objects[key])

    def record_request(self, code, **request):
        with self.changed:
            self.requests.append(dict(request, code=code))
            if code == 410:
                self.gone_sent += 1
            self.changed.notify_all()

    def wait_for(self, predicate, timeout=30):
        """Waits until `predicate()` (called under the lock) holds; every change wakes it."""
        with self.changed:
            return self.changed.wait_for(predicate, timeout)

    def watch_events(self, since, api, plural, ns, selector):
        """What a watch of (api, plural, ns, selector) sees after resourceVersion `since`."""
        events = []
        for change in self.history:
            if change["rv"] <= since or (change["api"], change["plural"]) != (api, plural):
                continue
            if ns is not None and change["ns"] != ns:
                continue
            was = change["old"] is not None and matches(
                change["old"]["metadata"].get("labels", {}), selector)
            now_ = change["type"] != "DELETED" and matches(
                change["new"]["metadata"].get("labels", {}), selector)
            kind = {(False, True): "ADDED", (True, True): "MODIFIED",
                    (True, False): "DELETED"}.get((was, now_))
            if kind:
                events.append({"type": kind, "object": self.present(change["new"])})
        return events

    # --- controllers --------------------------------------------------------------------------

    def after_write(self, obj):
        if obj["kind"] == "StatefulSet":
            self.sync_pods(obj)

    def sync_pods(self, sts):
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        replicas = sts["spec"].get("replicas", 1)
        for (api, plural, pns, pname), pod in list(self.objects.items()):
            owners = pod["metadata"].get("ownerReferences", [])
            if plural == "pods" and pns == ns and any(o["uid"] == sts["metadata"]["uid"]
                                                      for o in owners):
                if int(pname.rsplit("-", 1)[1]) >= replicas:
                    self.drop((api, plural, pns, pname))
        for i in range(replicas):
            pod_name = f"{name}-{i}"
            self.make_claims(sts, pod_name)
            if ("v1", "pods", ns, pod_name) in self.objects:
                self.adopt(sts, ("v1", "pods", ns, pod_name))
                continue
            template = sts["spec"]["template"]
            meta = copy.deepcopy(template.get("metadata", {}))
            meta.update({"name": pod_name, "namespace": ns, "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "StatefulSet", "name": name,
                "uid": sts["metadata"]["uid"], "controller": True}]})
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                   "spec": copy.deepcopy(template["spec"])}
            # As the controller's updateStorage: a volume per claim template, named as the
            # template, its claim <template>-<pod>, ahead of the template's other volumes.
            claims = [{"name": t["metadata"]["name"], "persistentVolumeClaim": {
                "claimName": f"{t['metadata']['name']}-{pod_name}"}}
                for t in sts["spec"].get("volumeClaimTemplates", [])]
            names = {c["name"] for c in claims}
            others = [v for v in pod["spec"].get("volumes", []) if v["name"] not in names]
            if claims:
                pod["spec"]["volumes"] = claims + others
            try:
                self.create("v1", "pods", ns, pod, agent="statefulset-controller")
            except ApiError as refused:
                # The real controller does not fail the StatefulSet's write: it records a
                # FailedCreate Event on the StatefulSet (counted on repeats) and tries again later.
                self.refused_pods.append((pod_name, refused.message))
                self.record_event(sts, "FailedCreate", f"create Pod {pod_name} in StatefulSet "
                                                       f"{name} failed error: {refused.message}")
                continue
            mode = "observer" if name.endswith("-observer") else "follower"
            self.members.setdefault(pod_name, {"mode": mode, "zxid": 0, "ready": True})
            self.listen_srvr(pod_name)

    def record_event(self, obj, reason, message, component="statefulset-controller"):
        """A Warning Event about `obj` as client-go's recorder makes it: a repeat counts up."""
        ns = obj["metadata"]["namespace"]
        key = ("v1", "events", ns, f"{obj['metadata']['name']}.{abs(hash(reason + message)):x}")
        if key in self.objects:
            def again(o):
                o["count"] = o.get("count", 1) + 1
                o["lastTimestamp"] = now()
                return o
            self.write(*key, None, again, "patch", component)
            return
        self.create("v1", "events", ns, {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": key[3], "namespace": ns},
            "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                               "name": obj["metadata"]["name"], "namespace": ns,
                               "uid": obj["metadata"]["uid"]},
            "reason": reason, "message": message, "type": "Warning", "count": 1,
            "firstTimestamp": now(), "lastTimestamp": now(), "source": {"component": component}},
            agent=component)

    def adopt(self, sts, key):
        """A pod the StatefulSet's selector matches and no controller owns becomes its own."""
        pod = self.objects[key]
        refs = pod["metadata"].get("ownerReferences", [])
        selector = sts["spec"]["selector"]["matchLabels"]
        if any(r.get("controller") for r in refs) or any(
                pod["metadata"].get("labels", {}).get(k) != v for k, v in selector.items()):
            return
        ref = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": sts["metadata"]["name"],
               "uid": sts["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}

        def owned(o):
            o["metadata"]["ownerReferences"] = refs + [ref]
            return o
        self.write(*key, None, owned, "update", "statefulset-controller")

    def make_claims(self, sts, pod_name):
        """<template>-<pod> for each volumeClaimTemplate, as the StatefulSet controller makes
        them; bound at once, their capacity what they request."""
        ns = sts["metadata"]["namespace"]
        retention = sts["spec"].get("persistentVolumeClaimRetentionPolicy", {})
        owner = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": sts["metadata"]["name"],
                 "uid": sts["metadata"]["uid"], "blockOwnerDeletion": True}
        for tmpl in sts["spec"].get("volumeClaimTemplates", []):
            claim_name = f"{tmpl['metadata']['name']}-{pod_name}"
            key = ("v1", "persistentvolumeclaims", ns, claim_name)
            if key in self.objects:
                # As 1.28's controller does, a kept claim follows the policy of the StatefulSet
                # that now uses it (after an orphaning delete and a new StatefulSet too).
                refs = self.objects[key]["metadata"].get("ownerReferences", [])
                if retention.get("whenDeleted") == "Delete" and owner not in refs:
                    self.write(*key, None, lambda o: dict(o, metadata=dict(
                        o["metadata"], ownerReferences=[owner])), "update",
                        "statefulset-controller")
                continue
            claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                     "metadata": {"name": claim_name, "namespace": ns,
                                  "labels": copy.deepcopy(tmpl["metadata"].get("labels", {}))},
                     "spec": copy.deepcopy(tmpl["spec"])}
            if retention.get("whenDeleted") == "Delete":
                # The claim goes with its StatefulSet (the controller makes it a dependent).
                claim["metadata"]["ownerReferences"] = [owner]
            self.create("v1", "persistentvolumeclaims", ns, claim,
                        agent="statefulset-controller")
            # Created Pending (its defaults); the volume binder binds it through /status.
            self.write(*key, "status", lambda o: dict(o, status={
                "phase": "Bound", "accessModes": o["spec"].get("accessModes", []),
                "capacity": {"storage": o["spec"]["resources"]["requests"]["storage"]}}),
                "update", "persistentvolume-binder")

    def claim_sizes(self, ns="default"):
        with self.lock:
            return {k[3]: o["spec"]["resources"]["requests"]["storage"]
                    for k, o in self.objects.items()
                    if k[1] == "persistentvolumeclaims" and k[2] == ns}

    # --- simulated members ---------------------------------------------------------------------

    def listen_srvr(self, pod_name):
        if pod_name in self.srvr:
            return
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self.srvr[pod_name] = sock
        threading.Thread(target=self.serve_srvr, args=(pod_name, sock), daemon=True).start()
        tmp = self.srvr_map_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({p: f"127.0.0.1:{s.getsockname()[1]}" for p, s in self.srvr.items()}, f)
        os.replace(tmp, self.srvr_map_path)

    def srvr_answer(self, pod_name):
        with self.lock:
            exists = any(k[1] == "pods" and k[3] == pod_name for k in self.objects)
            member = self.members.get(pod_name, {})
            if not exists or not member.get("ready"):
                return b"This ZooKeeper instance is not currently serving requests\n"
            return (f"Zookeeper version: stand-in\nLatency min/avg/max: 0/0.0/0\nReceived: 1\n"
                    f"Sent: 1\nConnections: 1\nOutstanding: 0\nZxid: 0x{member['zxid']:x}\n"
                    f"Mode: {member['mode']}\nNode count: 5\n").encode()

    def serve_srvr(self, pod_name, sock):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    if conn.recv(4) == b"srvr":
                        conn.sendall(self.srvr_answer(pod_name))
                except OSError:
                    pass

    def close(self):
        for sock in self.srvr.values():
            sock.close()


class Handler(BaseHTTPRequestHandler):
    store: Store = None
    token: str = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body):
        self.store.record_request(code, verb=self.command, **self._target)
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        # Read before anything can fail, or a refused request's body would be taken for the
        # next request on the kept-alive connection.
        length = int(self.headers.get("Content-Length", 0))
        text = self.rfile.read(length).decode()
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip()
        self._body = (ctype, text)

    def body(self):
        return self._body

    def handle_any(self, verb):
        self.read_body()
        self._target = {"plural": None, "ns": None, "name": None, "query": {}}
        try:
            # A client certificate the TLS handshake verified authenticates as well as the token.
            by_cert = isinstance(self.connection, ssl.SSLSocket) and self.connection.getpeercert()
            if not by_cert and self.headers.get("Authorization") != f"Bearer {self.token}":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            m = PATH.match(url.path)
            if not m:
                raise ApiError(404, "NotFound", f"the server could not find {url.path}")
            api = m["core"] or f"{m['group']}/{m['version']}"
            self._target = {"plural": m["plural"], "ns": m["ns"], "name": m["name"],
                            "query": query}
            self.check_query(verb, m["name"], m["sub"], query)
            self.maybe_hang(verb, api, m["plural"])
            if "watch" in query:
                self.watch(api, m["plural"], m["ns"], query)
                return
            with self.store.lock:
                self.reply(*self.dispatch(verb, api, m["plural"], m["ns"], m["name"], m["sub"],
                                          query))
        except ApiError as e:
            self.reply(e.code, e.status())

    def maybe_hang(self, verb, api, plural):
        s = self.store
        with s.lock:
            kind = RESOURCES.get((api, plural))
            hang = next((f for f in s.faults if f[0] == verb and f[1] in (None, kind)
                         and f[2] == 0), None)
            if hang:
                s.faults.remove(hang)
        if hang:
            threading.Event().wait(s.hang_seconds)

    @staticmethod
    def check_query(verb, name, sub, query):
        if "watch" in query:
            allowed = QUERY["watch"] if verb == "GET" and name is None else set()
        elif verb == "GET" and name is None:
            allowed = QUERY["list"]
        else:
            allowed = QUERY.get(verb, set())
        unknown = sorted(set(query) - allowed)
        if unknown:
            raise ApiError(400, "BadRequest", f"the stand-in does not implement {unknown} on "
                                              f"{verb} {'' if name is None else 'an object'}")
        check_selector(query.get("labelSelector"))

    def inject_fault(self, verb, api, plural):
        s = self.store
        kind = RESOURCES.get((api, plural))
        for fault in s.faults:
            if fault[0] == verb and fault[1] in (None, kind) and fault[2] != 0:
                s.faults.remove(fault)
                reason = {422: "Invalid", 403: "Forbidden"}.get(
                    fault[2], "InternalError" if fault[2] >= 500 else "Conflict")
                # A fourth element is the message, as the real server would word it.
                raise ApiError(fault[2], reason, fault[3] if len(fault) > 3 else
                               f"injected failure of {verb} {plural}")

    # --- watch -----------------------------------------------------------------------------

    def watch(self, api, plural, ns, query):
        s = self.store
        if query["watch"] not in ("1", "true"):
            raise ApiError(400, "BadRequest", f"watch={query['watch']!r}")
        since = query.get("resourceVersion", "")
        if since not in ("", "0") and not since.isdigit():
            raise ApiError(400, "BadRequest", f"invalid resource version {since!r}")
        timeout = float(query.get("timeoutSeconds", 1800))
        bookmarks = query.get("allowWatchBookmarks") == "true"
        initial = []
        with s.lock:
            self.inject_fault("GET", api, plural)
            s.key(api, plural, ns, None)
            if since in ("", "0"):
                # Unset or "0": the current state as synthetic ADDED events, then what follows.
                initial = [{"type": "ADDED", "object": o} for o in
                           s.list(api, plural, ns, query.get("labelSelector"))["items"]]
                since = str(s.last_rv)
            gone = int(since) < s.compacted
            if gone and s.gone_as_status:
                raise self.gone(since)
            epoch = s.watch_epoch
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        s.record_request(200, verb="GET", **self._target)
        try:
            for event in initial:
                self.chunk(event)
            if gone:
                self.send_gone(since)
            else:
                self.stream(api, plural, ns, query.get("labelSelector"), int(since), epoch,
                            time.monotonic() + timeout, bookmarks)
        except OSError:
            return  # the client went away
        self.wfile.write(b"0\r\n\r\n")

    def gone(self, since):
        return ApiError(410, "Expired", f"too old resource version: {since} "
                                        f"({self.store.compacted})")

    def send_gone(self, since):
        with self.store.changed:
            self.store.gone_sent += 1
            self.store.changed.notify_all()
        self.chunk({"type": "ERROR", "object": self.gone(since).status()})

    def chunk(self, event):
        data = (json.dumps(event) + "\n").encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def next_bookmark(self, now, deadline):
        """Every bookmark_seconds, but the last one 2 s before the deadline; none after it."""
        due = min(now + self.store.bookmark_seconds, deadline - 2)
        return due if due >= now else float("inf")

    def stream(self, api, plural, ns, selector, last, epoch, deadline, bookmarks):
        s = self.store
        mark = self.next_bookmark(time.monotonic(), deadline)
        while time.monotonic() < deadline:
            wait = min(deadline, mark) - time.monotonic()
            with s.changed:
                s.changed.wait_for(lambda: s.last_rv > last or s.watch_epoch != epoch,
                                   timeout=max(wait, 0))
                if s.watch_epoch != epoch:
                    self.cut_off()
                    raise OSError("cut off")
                if last < s.compacted:  # fell behind a compaction: what it missed is gone
                    self.send_gone(last)
                    return
                events = s.watch_events(last, api, plural, ns, selector)
                last = s.last_rv
            for event in events:
                self.chunk(event)
            if time.monotonic() < mark:
                continue
            mark = self.next_bookmark(time.monotonic(), deadline)
            if bookmarks:
                self.chunk({"type": "BOOKMARK", "object": {
                    "apiVersion": api, "kind": RESOURCES[(api, plural)],
                    "metadata": {"resourceVersion": str(last)}}})
                with s.changed:
                    s.bookmarks.append((plural, bool(selector), last))
                    s.changed.notify_all()

    def cut_off(self):
        """Closes the connection with no final chunk: the client sees a truncated stream."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def dispatch(self, verb, api, plural, ns, name, sub, query):
        s = self.store
        agent = self.headers.get("User-Agent", "")
        self.inject_fault(verb, api, plural)
        if sub is not None and not (plural == "zkclusters" and sub in ("status", "scale")):
            raise ApiError(404, "NotFound", f"{plural}/{sub}: no such subresource")
        if name is None:
            if verb == "GET":
                self.check_list_version(query.get("resourceVersion", ""))
                return 200, s.list(api, plural, ns, query.get("labelSelector"),
                                   query.get("fieldSelector"))
            if verb == "POST" and ns is not None:
                return 201, s.create(api, plural, ns, self.json_body(), agent)
            raise ApiError(405, "MethodNotAllowed", f"{verb} is not supported on a collection")
        if ns is None:
            raise ApiError(404, "NotFound", "namespaced resources need a namespace")
        if verb == "GET":
            obj = s.get(api, plural, ns, name)
            return 200, self.scale_of(obj) if sub == "scale" else obj
        if verb == "PUT":
            return 200, self.put(api, plural, ns, name, sub, agent)
        if verb == "PATCH" and self.body()[0] == "application/merge-patch+json":
            return 200, self.merge_patch(api, plural, ns, name, sub, agent)
        if verb == "PATCH":
            return self.apply(api, plural, ns, name, sub, query, agent)
        if verb == "DELETE" and sub is None:
            policy = query.get("propagationPolicy")
            if policy is not None and policy not in PROPAGATION:
                raise ApiError(400, "BadRequest", f"propagationPolicy {policy!r} is not one of "
                                                  f"{sorted(PROPAGATION)}")
            return 200, s.delete(api, plural, ns, name, agent, propagation=policy)
        raise ApiError(405, "MethodNotAllowed", f"{verb} is not supported here")

    def check_list_version(self, version):
        """Unset: the latest state (a quorum read); "0" any state, the latest here; N: no older
        than N. For one newer than any it has seen, the watch cache waits up to 3 s for it, then
        answers 504 with a ResourceVersionTooLarge cause and a retry in 1 s."""
        if version in ("", "0"):
            return
        if not version.isdigit():
            raise ApiError(400, "BadRequest", f"invalid resource version {version!r}")
        s = self.store
        s.waiting_lists += 1
        s.changed.notify_all()
        try:
            reached = s.changed.wait_for(lambda: s.last_rv >= int(version), LIST_WAIT_SECONDS)
        finally:
            s.waiting_lists -= 1
        if not reached:
            raise ApiError(504, "Timeout", f"Too large resource version: {version}, "
                                           f"current: {s.last_rv}",
                           {"causes": [{"reason": "ResourceVersionTooLarge",
                                        "message": "Too large resource version"}],
                            "retryAfterSeconds": 1})

    def json_body(self):
        ctype, text = self.body()
        if ctype != "application/json":
            raise ApiError(415, "UnsupportedMediaType", f"the body's media type {ctype!r} is not "
                                                        "supported (application/json)")
        try:
            return json.loads(text)
        except ValueError as e:
            raise ApiError(400, "BadRequest", f"invalid JSON: {e}")

    @staticmethod
    def scale_of(obj):
        return {"apiVersion": "autoscaling/v1", "kind": "Scale",
                "metadata": {"name": obj["metadata"]["name"],
                             "namespace": obj["metadata"]["namespace"],
                             "resourceVersion": obj["metadata"]["resourceVersion"]},
                "spec": {"replicas": obj["spec"].get("observers", 0)},
                "status": {"replicas": obj.get("status", {}).get("observers", 0),
                           "selector": obj.get("status", {}).get("selector", "")}}

    def put(self, api, plural, ns, name, sub, agent):
        s = self.store
        obj = self.json_body()
        rv = obj.get("metadata", {}).get("resourceVersion")
        if sub == "scale":
            self.check_scale(obj)

            def scaled(old):
                old["spec"]["observers"] = obj["spec"]["replicas"]
                return old
            return self.scale_of(s.write(api, plural, ns, name, sub, scaled, "update", agent, rv))
        s.check_target(api, plural, ns, name, obj)
        s.get(api, plural, ns, name)
        return s.write(api, plural, ns, name, sub, self.merge(sub, obj),
                       "update", agent, rv)

    def merge_patch(self, api, plural, ns, name, sub, agent):
        """RFC 7386 on the stored object, or on its Scale (`kubectl scale` patches /scale) or its
        status; each subresource keeps only what it may change, as PUT does."""
        try:
            patch = json.loads(self.body()[1])
        except ValueError as e:
            raise ApiError(400, "BadRequest", f"invalid JSON: {e}")
        if not isinstance(patch, dict) or set(patch) & {"apiVersion", "kind"}:
            raise ApiError(400, "BadRequest", "a merge patch must be an object without apiVersion "
                                              "or kind")
        s = self.store
        s.get(api, plural, ns, name)
        if sub == "scale":
            def scaled(old):
                scale = merge_patched(self.scale_of(old), patch)
                self.check_scale(scale)
                old["spec"]["observers"] = scale["spec"]["replicas"]
                return old
            return self.scale_of(s.write(api, plural, ns, name, sub, scaled, "patch", agent))
        return s.write(api, plural, ns, name, sub,
                       lambda old: self.merge(sub, merge_patched(copy.deepcopy(old), patch))(old),
                       "patch", agent)

    def check_scale(self, scale):
        errors = self.store.schemas.validate_object(scale)
        if not isinstance(scale.get("spec", {}).get("replicas"), int):
            errors.append("spec.replicas: Required value")
        if errors:
            raise ApiError(422, "Invalid", "Scale is invalid: " + "; ".join(errors))

    def apply(self, api, plural, ns, name, sub, query, agent):
        s = self.store
        ctype, text = self.body()
        if ctype != "application/apply-patch+yaml":
            raise ApiError(415, "UnsupportedMediaType",
                           f"the stand-in implements only server-side apply, not {ctype!r}")
        if not query.get("fieldManager"):
            raise ApiError(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: "
                                           "fieldManager: Required value: is required for apply "
                                           "patch")
        force = query.get("force", "false")
        if force not in ("true", "false"):
            raise ApiError(400, "BadRequest", f"force={force!r} is not a boolean")
        obj = yaml.safe_load(text)
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "an apply patch must be an object")
        if (obj.get("metadata") or {}).get("managedFields") is not None:
            # The field manager refuses it before it types the configuration.
            raise ApiError(400, "BadRequest", "metadata.managedFields must be nil")
        if sub == "scale":
            return 200, self.apply_scale(api, plural, ns, name, obj, query["fieldManager"],
                                         force == "true", agent)
        s.check_target(api, plural, ns, name, obj)
        bad = bad_quantity(obj)
        if bad:
            # The apply configuration is converted to a typed object before anything else: a
            # quantity that does not parse fails that conversion, a 500 in Kubernetes 1.28-1.32.
            raise ApiError(500, "InternalError",
                           f"failed to create typed patch object ({ns}/{name}; {api}, "
                           f"Kind={RESOURCES[(api, plural)]}): {bad}")
        if sub is None:
            # The configuration is typed against the schema (an unknown field or a wrong type is
            # refused) but may be partial: required fields are checked on the merged object.
            s.validate(obj, partial=True)
        try:
            s.get(api, plural, ns, name)
        except ApiError:
            if sub is not None:
                raise
            return 201, s.create(api, plural, ns, obj, agent, applied_by=query["fieldManager"])
        return 200, s.write(api, plural, ns, name, sub,
                            lambda live: s.applied(live, obj, query["fieldManager"], api, sub,
                                                   force == "true"), "apply", agent)

    def apply_scale(self, api, plural, ns, name, scale, manager, force, agent):
        """An apply of a Scale: its replicas are the ZkCluster's spec.observers, and that field is
        what the manager comes to own, recorded with subresource "scale" as the API server
        converts it."""
        if (scale.get("apiVersion"), scale.get("kind")) != ("autoscaling/v1", "Scale"):
            raise ApiError(400, "BadRequest", f"body is {scale.get('apiVersion')} "
                                              f"{scale.get('kind')}, the URL names autoscaling/v1 "
                                              "Scale")
        if scale.get("metadata", {}).get("name") != name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the URL")
        errors = [e for e in self.store.schemas.validate_object(scale)
                  if not e.endswith(": required")]
        if errors:
            raise ApiError(422, "Invalid", "Scale is invalid: " + "; ".join(errors))
        s = self.store
        config = {"apiVersion": api, "kind": RESOURCES[(api, plural)],
                  "metadata": {"name": name, "namespace": ns}, "spec": {}}
        if "replicas" in scale.get("spec", {}):
            config["spec"]["observers"] = scale["spec"]["replicas"]
        s.get(api, plural, ns, name)
        written = s.write(api, plural, ns, name, "scale",
                          lambda live: s.applied(live, config, manager, api, "scale", force),
                          "apply", agent)
        return self.scale_of(written)

    @staticmethod
    def merge(sub, obj):
        """What a PUT changes: status only through /status when it is a subresource."""
        def fields(old):
            if sub == "status":
                old["status"] = obj.get("status", {})
                return old
            meta = old["metadata"]
            for key in ("labels", "annotations", "ownerReferences", "managedFields"):
                if key in obj["metadata"]:
                    meta[key] = obj["metadata"][key]
                else:
                    meta.pop(key, None)
            # A replace is the whole object: what the body leaves out is gone (and defaulted
            # again), except a status the status subresource alone writes.
            keeps_status = obj.get("kind") in managed_fields.STATUS_SUBRESOURCE
            for key in list(old):
                if key not in ("metadata", "apiVersion", "kind") and key not in obj and not (
                        key == "status" and keeps_status):
                    del old[key]
            for key, value in obj.items():
                if key in ("metadata", "apiVersion", "kind"):
                    continue
                if key == "status" and keeps_status:
                    continue
                old[key] = value
            return old
        return fields

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_DELETE(self):
        self.handle_any("DELETE")


class StandIn:
    """Runs the stand-in on a loopback port in a thread; `kubeconfig` points the operator at it."""

    def __init__(self, workdir, tls=None):
        """`tls`: {"cert", "key", "ca"} PEM paths; clients must then present a certificate the CA
        signed, and the kubeconfig is left for the test to write."""
        self.token = uuid.uuid4().hex
        self.store = Store(os.path.join(workdir, "srvr-map.json"))
        handler = type("BoundHandler", (Handler,), {"store": self.store, "token": self.token})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls["cert"], tls["key"])
            ctx.load_verify_locations(tls["ca"])
            ctx.verify_mode = ssl.CERT_REQUIRED
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.kubeconfig = os.path.join(workdir, "kubeconfig")
        self.write_kubeconfig({"server": self.url}, {"token": self.token})
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def write_kubeconfig(self, cluster, user):
        with open(self.kubeconfig, "w") as f:
            yaml.safe_dump({
                "apiVersion": "v1", "kind": "Config", "current-context": "standin",
                "clusters": [{"name": "standin", "cluster": cluster}],
                "users": [{"name": "op", "user": user}],
                "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "op",
                                                             "namespace": "default"}}],
            }, f)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.store.close()
