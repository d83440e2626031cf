"""The defaults kube-apiserver 1.28 fills into the built-in kinds the stand-in keeps.

The real server decodes every body it stores (a create, an update, the result of a patch or of a
server-side apply) into its Go types and runs the kind's defaulting functions on it (the
SetDefaults_* of pkg/apis/<group>/v1/defaults.go and the `+default` markers of the API types),
before validation and, for an apply, after the applier's fields are recorded: a defaulted field
is owned by no applier. What a client reads back therefore differs from what it sent. Written here
from the facts of those functions (no code copied):

- Pod spec (a Pod's or a template's): restartPolicy Always, terminationGracePeriodSeconds 30,
  dnsPolicy ClusterFirst, schedulerName default-scheduler, securityContext {}, serviceAccount
  mirroring serviceAccountName (the v1 conversion keeps both);
- a container: imagePullPolicy Always for a `:latest` or untagged image (IfNotPresent otherwise,
  and for a digest), terminationMessagePath /dev/termination-log, terminationMessagePolicy File,
  resources {} (a struct that is always encoded), ports' protocol TCP, a fieldRef's apiVersion v1;
  a probe's timeoutSeconds 1, periodSeconds 10, successThreshold 1, failureThreshold 3; an
  httpGet's path / and scheme HTTP (probes and lifecycle hooks); a grpc probe's service "";
- a volume: no source at all is an emptyDir; configMap, secret, downwardAPI and projected
  defaultMode 420 (0644); a projected service account token's expirationSeconds 3600; hostPath's
  type ""; an ephemeral volume's claim spec as a claim's;
- a Pod (not a template) also gets enableServiceLinks true, requests equal to its limits where
  it gives limits only, and with hostNetwork each container port a hostPort equal to its
  containerPort;
- StatefulSet: replicas 1, podManagementPolicy OrderedReady, revisionHistoryLimit 10,
  updateStrategy RollingUpdate with rollingUpdate {partition 0} when none is given (a given
  rollingUpdate gets partition 0), persistentVolumeClaimRetentionPolicy Retain/Retain
  (StatefulSetAutoDeletePVC, on by default since 1.27), its template as a pod spec, and each
  volumeClaimTemplate as a claim with apiVersion v1, kind PersistentVolumeClaim and status phase
  Pending (as the real server returns them);
- PersistentVolumeClaim: volumeMode Filesystem, status phase Pending;
- Service: type ClusterIP, sessionAffinity None (ClientIP gets a 10800 s timeout), ports'
  protocol TCP and targetPort its port, internalTrafficPolicy Cluster (not for ExternalName),
  externalTrafficPolicy Cluster where it is reachable from outside (NodePort, LoadBalancer,
  external IPs), allocateLoadBalancerNodePorts for LoadBalancer; sessionAffinityConfig dropped
  with affinity None;
  the registry then allocates what the client left out (`allocated`): a cluster IP (kept across
  updates that omit it, and immutable), clusterIPs, ipFamilies [IPv4] and ipFamilyPolicy
  SingleStack (RequireDualStack for a headless Service without selector) on a single-stack
  IPv4 cluster, node ports for NodePort/LoadBalancer;
- NetworkPolicy: policyTypes [Ingress], plus Egress when it has egress rules; ports' protocol TCP;
- Secret: type Opaque;
- Event: reportingComponent and reportingInstance "" (strings always encoded);
- ConfigMap, Lease, PodDisruptionBudget (policy/v1): nothing.

Quantities (resources' limits and requests, a claim's, an emptyDir's sizeLimit) are stored in the
canonical form the real server writes back (`canonical_quantity`): "0.5" reads back as "500m",
"1024Mi" as "1Gi", "1.5Gi" as "1536Mi", "1000m" as "1"; a resource list's are first rounded up
to thousandths (SetDefaults_ResourceList).

Not done: the admission plugins that change pods
(ServiceAccount, Priority, DefaultTolerationSeconds) do not run. A volume source or a kind whose
defaults are not written here is refused (DefaultsNotImplemented), never stored undefaulted.
"""

import copy
import ipaddress
import math
import re
from fractions import Fraction


class DefaultsNotImplemented(Exception):
    """A kind or a part of one whose defaults the stand-in does not fill."""


PROBE = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
DEFAULT_MODE = 0o644
# Volume sources whose defaults are filled here (those without any are listed too); a volume of
# any other source is refused.
VOLUME_SOURCES = {"emptyDir", "configMap", "secret", "downwardAPI", "projected",
                  "persistentVolumeClaim", "hostPath", "ephemeral", "csi", "nfs"}
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/16")
NODE_PORTS = range(30000, 32768)


QUANTITY = re.compile(r"^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
BINARY_SUFFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
DECIMAL_EXPONENTS = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15,
                     "E": 18}
DECIMAL_SUFFIXES = {e: s for s, e in DECIMAL_EXPONENTS.items()}


def canonical_quantity(text, scale=9):
    """A quantity as the API server writes it back: the value rounded up to 10^-scale, then in
    the format its suffix chose (binary, decimal SI or decimal exponent) with the largest
    suffix that keeps the number whole; a binary value below 1024 or not whole is written in
    decimal SI. Text that does not parse is returned as it is (validation reports it)."""
    m = QUANTITY.match(str(text))
    if not m:
        return text
    sign, number, suffix = m[1], m[2], m[3] or ""
    value = Fraction(number.rstrip(".") or "0")
    if suffix in BINARY_SUFFIXES:
        value *= 1024 ** BINARY_SUFFIXES.index(suffix)
    elif suffix[:1] in ("e", "E"):
        value *= Fraction(10) ** int(suffix[1:])
    else:
        value *= Fraction(10) ** DECIMAL_EXPONENTS[suffix]
    value = Fraction(math.ceil(value * 10 ** scale), 10 ** scale)
    sign = "-" if sign == "-" and value else ""
    if value == 0:
        return "0"
    if suffix in BINARY_SUFFIXES[1:] and value.denominator == 1 and value >= 1024:
        whole, power = value.numerator, 0
        while power < 6 and whole % 1024 == 0:
            whole, power = whole // 1024, power + 1
        return f"{sign}{whole}{BINARY_SUFFIXES[power]}"
    mantissa, exponent = int(value * 10 ** 9), -9
    exponential = suffix[:1] in ("e", "E")
    while mantissa % 1000 == 0 and (exponential or exponent < 18):
        mantissa, exponent = mantissa // 1000, exponent + 3
    if exponential:
        return f"{sign}{mantissa}" + (f"e{exponent}" if exponent else "")
    return f"{sign}{mantissa}{DECIMAL_SUFFIXES[exponent]}"


def _resource_lists(resources):
    """A ResourceRequirements: its lists rounded up to thousandths, each quantity canonical."""
    for kind in ("limits", "requests"):
        for name, value in list(((resources or {}).get(kind) or {}).items()):
            resources[kind][name] = canonical_quantity(value, scale=3)


def _pull_policy(image):
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _field_ref(holder):
    ref = (holder or {}).get("fieldRef")
    if isinstance(ref, dict):
        ref.setdefault("apiVersion", "v1")


def _handler(handler):
    """A probe's or a lifecycle hook's action."""
    if not isinstance(handler, dict):
        return
    http = handler.get("httpGet")
    if isinstance(http, dict):
        http.setdefault("path", "/")
        http.setdefault("scheme", "HTTP")
    grpc = handler.get("grpc")
    if isinstance(grpc, dict):
        grpc.setdefault("service", "")


def _container(c):
    if "image" in c:
        c.setdefault("imagePullPolicy", _pull_policy(c["image"]))
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    _resource_lists(c.setdefault("resources", {}))
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for env in c.get("env") or []:
        _field_ref(env.get("valueFrom"))
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(probe), dict):
            for key, value in PROBE.items():
                c[probe].setdefault(key, value)
            _handler(c[probe])
    for hook in (c.get("lifecycle") or {}).values():
        _handler(hook)


def _volume(v):
    sources = set(v) - {"name"}
    if not sources:
        v["emptyDir"] = {}
    unknown = sources - VOLUME_SOURCES
    if unknown:
        raise DefaultsNotImplemented(f"volume {v.get('name')!r}: the stand-in does not "
                                     f"implement the defaults of {sorted(unknown)}")
    for source in ("configMap", "secret", "downwardAPI", "projected"):
        if isinstance(v.get(source), dict):
            v[source].setdefault("defaultMode", DEFAULT_MODE)
    for item in (v.get("downwardAPI") or {}).get("items") or []:
        _field_ref(item)
    for projection in (v.get("projected") or {}).get("sources") or []:
        token = projection.get("serviceAccountToken")
        if isinstance(token, dict):
            token.setdefault("expirationSeconds", 3600)
        for item in (projection.get("downwardAPI") or {}).get("items") or []:
            _field_ref(item)
    if isinstance(v.get("emptyDir"), dict) and "sizeLimit" in v["emptyDir"]:
        v["emptyDir"]["sizeLimit"] = canonical_quantity(v["emptyDir"]["sizeLimit"])
    if isinstance(v.get("hostPath"), dict):
        v["hostPath"].setdefault("type", "")
    template = (v.get("ephemeral") or {}).get("volumeClaimTemplate")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        _claim_spec(template["spec"])


def _pod_spec(spec):
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    # The v1 conversion keeps the deprecated alias equal to serviceAccountName.
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]
    elif spec.get("serviceAccount"):
        spec["serviceAccountName"] = spec["serviceAccount"]
    for group in ("initContainers", "containers"):
        for c in spec.get(group) or []:
            _container(c)
    if spec.get("ephemeralContainers"):
        raise DefaultsNotImplemented("the stand-in does not implement the defaults of "
                                     "ephemeralContainers")
    for v in spec.get("volumes") or []:
        _volume(v)


def _pod(obj):
    spec = obj.setdefault("spec", {})
    _pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)
    for group in ("initContainers", "containers"):
        for c in spec.get(group) or []:
            limits = (c.get("resources") or {}).get("limits") or {}
            if limits:
                requests = c["resources"].setdefault("requests", {})
                for name, value in limits.items():
                    requests.setdefault(name, value)
            if spec.get("hostNetwork"):
                for port in c.get("ports") or []:
                    port.setdefault("hostPort", port.get("containerPort"))


def _claim_spec(spec):
    spec.setdefault("volumeMode", "Filesystem")
    _resource_lists(spec.get("resources"))


def _claim(obj):
    _claim_spec(obj.setdefault("spec", {}))
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Pending")
    _resource_lists(status)  # its capacity


def _stateful_set(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {})
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        strategy.setdefault("rollingUpdate", {})
    if strategy["type"] == "RollingUpdate" and isinstance(strategy.get("rollingUpdate"), dict):
        strategy["rollingUpdate"].setdefault("partition", 0)
    retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    retention.setdefault("whenDeleted", "Retain")
    retention.setdefault("whenScaled", "Retain")
    template = spec.get("template")
    if isinstance(template, dict):
        _pod_spec(template.setdefault("spec", {}))
    for claim in spec.get("volumeClaimTemplates") or []:
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        _claim(claim)


def _service(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get(
            "timeoutSeconds") is None:
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if spec["type"] in ("NodePort", "LoadBalancer") or (spec["type"] == "ClusterIP" and
                                                        spec.get("externalIPs")):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)


def _network_policy(obj):
    spec = obj.setdefault("spec", {})
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            for port in rule.get("ports") or []:
                port.setdefault("protocol", "TCP")


def _secret(obj):
    obj.setdefault("type", "Opaque")


def _event(obj):
    obj.setdefault("reportingComponent", "")
    obj.setdefault("reportingInstance", "")


def _nothing(obj):
    pass


DEFAULTERS = {
    ("v1", "Pod"): _pod,
    ("v1", "PersistentVolumeClaim"): _claim,
    ("v1", "Service"): _service,
    ("v1", "Secret"): _secret,
    ("v1", "ConfigMap"): _nothing,
    ("v1", "Event"): _event,
    ("apps/v1", "StatefulSet"): _stateful_set,
    ("policy/v1", "PodDisruptionBudget"): _nothing,
    ("coordination.k8s.io/v1", "Lease"): _nothing,
    ("networking.k8s.io/v1", "NetworkPolicy"): _network_policy,
}


def defaulted(obj):
    """`obj` (a built-in kind) with the server's defaults filled in; `obj` is left alone."""
    kind = (obj.get("apiVersion"), obj.get("kind"))
    if kind not in DEFAULTERS:
        raise DefaultsNotImplemented(f"the stand-in does not implement the defaults of "
                                     f"{kind[0]} {kind[1]}")
    obj = copy.deepcopy(obj)
    DEFAULTERS[kind](obj)
    return obj


class ServiceAllocator:
    """What the Service registry allocates on a single-stack IPv4 cluster: cluster IPs and node
    ports, kept across updates that leave them out, immutable once set."""

    def __init__(self):
        self.used_ips, self.used_ports = set(), set()

    def allocated(self, old, new):
        """`new` (defaulted) with its allocations; `old` the stored Service or None. Returns an
        error message for a change the registry refuses, or None."""
        spec, before = new["spec"], (old or {}).get("spec", {})
        if spec["type"] == "ExternalName":
            return None
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if key not in spec and key in before:
                spec[key] = copy.deepcopy(before[key])
        if before.get("clusterIP") and spec.get("clusterIP") != before["clusterIP"]:
            return "spec.clusterIPs[0]: Invalid value: field is immutable"
        if not spec.get("clusterIP"):
            spec["clusterIP"] = self._next_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        if spec["clusterIPs"][0] != spec["clusterIP"]:
            return "spec.clusterIPs[0]: Invalid value: must match spec.clusterIP"
        headless_unselected = spec["clusterIP"] == "None" and not spec.get("selector")
        spec.setdefault("ipFamilyPolicy",
                        "RequireDualStack" if headless_unselected else "SingleStack")
        spec.setdefault("ipFamilies", ["IPv4"])
        if spec["type"] in ("NodePort", "LoadBalancer"):
            kept = {(p.get("port"), p.get("protocol")): p.get("nodePort")
                    for p in before.get("ports") or []}
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    port["nodePort"] = kept.get((port["port"], port["protocol"])) or \
                        self._next_port()
        return None

    def _next_ip(self):
        for host in SERVICE_CIDR.hosts():
            if host.packed[-1] > 10 and str(host) not in self.used_ips:
                self.used_ips.add(str(host))
                return str(host)
        raise DefaultsNotImplemented("the stand-in's service range is full")

    def _next_port(self):
        port = next(p for p in NODE_PORTS if p not in self.used_ports)
        self.used_ports.add(port)
        return port
