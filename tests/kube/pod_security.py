"""Pod Security admission, levels `baseline` and `restricted`, as the Kubernetes documentation
("Pod Security Standards", policy version latest) defines each check.

A namespace labelled `pod-security.kubernetes.io/enforce=<level>` gets pods checked on create;
a pod that fails is refused with 403 Forbidden and the API server's message:
  pods "x" is forbidden: violates PodSecurity "restricted:latest": <check> (<detail>), ...
Only `enforce` is implemented (not `audit` or `warn`), and only policy version `latest`; another
`enforce-version` is refused rather than misread. Windows pods' checks are left out.
"""

LEVELS = ("privileged", "baseline", "restricted")
ENFORCE = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version"

BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
                         "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
                         "SYS_CHROOT"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def containers(spec):
    for field in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(field, [])


def quoted(names):
    return ", ".join(f'"{n}"' for n in names)


def plural(word, names):
    return f"{word}{'s' if len(names) > 1 else ''} {quoted(names)}"


def host_namespaces(meta, spec):
    bad = [f"{f}=true" for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f)]
    return ("host namespaces", ", ".join(bad)) if bad else None


def privileged(meta, spec):
    names = [c["name"] for c in containers(spec)
             if c.get("securityContext", {}).get("privileged")]
    if names:
        return ("privileged", f"{plural('container', names)} must not set "
                              f"securityContext.privileged=true")


def baseline_capabilities(meta, spec):
    added = sorted({cap for c in containers(spec)
                    for cap in c.get("securityContext", {}).get("capabilities", {}).get("add", [])
                    if cap not in BASELINE_CAPABILITIES})
    names = [c["name"] for c in containers(spec)
             if set(c.get("securityContext", {}).get("capabilities", {}).get("add", [])) -
             BASELINE_CAPABILITIES]
    if names:
        return ("non-default capabilities", f"{plural('container', names)} must not include "
                                            f"{quoted(added)} in securityContext.capabilities.add")


def host_path_volumes(meta, spec):
    names = [v["name"] for v in spec.get("volumes", []) if "hostPath" in v]
    if names:
        return ("hostPath volumes", plural("volume", names))


def host_ports(meta, spec):
    names, ports = [], []
    for c in containers(spec):
        used = [p["hostPort"] for p in c.get("ports", []) if p.get("hostPort")]
        if used:
            names.append(c["name"])
            ports += used
    if names:
        return ("hostPort", f"{plural('container', names)} "
                            f"{'use' if len(names) > 1 else 'uses'} "
                            f"hostPort{'s' if len(ports) > 1 else ''} "
                            f"{', '.join(str(p) for p in ports)}")


def app_armor(meta, spec):
    bad = [k for k, v in meta.get("annotations", {}).items()
           if k.startswith(APPARMOR_ANNOTATION) and v != "runtime/default" and
           not v.startswith("localhost/")]
    profiles = [spec.get("securityContext", {})] + [c.get("securityContext", {})
                                                    for c in containers(spec)]
    if bad or any(p.get("appArmorProfile", {}).get("type") == "Unconfined" for p in profiles):
        return ("forbidden AppArmor profile", "must not be Unconfined")


def se_linux(meta, spec):
    options = [spec.get("securityContext", {}).get("seLinuxOptions", {})] + [
        c.get("securityContext", {}).get("seLinuxOptions", {}) for c in containers(spec)]
    if any(o.get("type", "") not in SELINUX_TYPES or o.get("user") or o.get("role")
           for o in options):
        return ("seLinuxOptions", "forbidden securityContext.seLinuxOptions")


def proc_mount(meta, spec):
    names = [c["name"] for c in containers(spec)
             if c.get("securityContext", {}).get("procMount", "Default") != "Default"]
    if names:
        return ("procMount", f"{plural('container', names)} must not set "
                             f"securityContext.procMount to \"Unmasked\"")


def seccomp_baseline(meta, spec):
    if spec.get("securityContext", {}).get("seccompProfile", {}).get("type") == "Unconfined":
        return ("seccompProfile", 'pod must not set securityContext.seccompProfile.type to '
                                  '"Unconfined"')
    names = [c["name"] for c in containers(spec)
             if c.get("securityContext", {}).get("seccompProfile", {}).get("type") ==
             "Unconfined"]
    if names:
        return ("seccompProfile", f"{plural('container', names)} must not set "
                                  f"securityContext.seccompProfile.type to \"Unconfined\"")


def sysctls(meta, spec):
    bad = [s["name"] for s in spec.get("securityContext", {}).get("sysctls", [])
           if s["name"] not in SAFE_SYSCTLS]
    if bad:
        return ("forbidden sysctls", ", ".join(bad))


def volume_types(meta, spec):
    bad = []
    for v in spec.get("volumes", []):
        kind = next((k for k in v if k != "name"), None)
        if kind not in RESTRICTED_VOLUMES:
            bad.append((v["name"], kind))
    if bad:
        names = [n for n, _ in bad]
        kinds = sorted({k for _, k in bad})
        return ("restricted volume types", f"{plural('volume', names)} "
                                           f"{'use' if len(names) > 1 else 'uses'} restricted "
                                           f"volume type{'s' if len(kinds) > 1 else ''} "
                                           f"{quoted(kinds)}")


def privilege_escalation(meta, spec):
    names = [c["name"] for c in containers(spec)
             if c.get("securityContext", {}).get("allowPrivilegeEscalation") is not False]
    if names:
        return ("allowPrivilegeEscalation != false", f"{plural('container', names)} must set "
                                                     f"securityContext.allowPrivilegeEscalation="
                                                     f"false")


def run_as_non_root(meta, spec):
    pod = spec.get("securityContext", {}).get("runAsNonRoot")
    if pod is False or any(c.get("securityContext", {}).get("runAsNonRoot") is False
                           for c in containers(spec)):
        return ("runAsNonRoot != true", "pod or containers must not set "
                                        "securityContext.runAsNonRoot=false")
    if pod is True:
        return None
    names = [c["name"] for c in containers(spec)
             if c.get("securityContext", {}).get("runAsNonRoot") is not True]
    if names:
        return ("runAsNonRoot != true", f"pod or {plural('container', names)} must set "
                                        f"securityContext.runAsNonRoot=true")


def run_as_user(meta, spec):
    if spec.get("securityContext", {}).get("runAsUser") == 0:
        return ("runAsUser=0", "pod must not set runAsUser=0")
    names = [c["name"] for c in containers(spec)
             if c.get("securityContext", {}).get("runAsUser") == 0]
    if names:
        return ("runAsUser=0", f"{plural('container', names)} must not set runAsUser=0")


def seccomp_restricted(meta, spec):
    ok = ("RuntimeDefault", "Localhost")
    pod = spec.get("securityContext", {}).get("seccompProfile", {}).get("type")
    if pod is not None and pod not in ok:
        return ("seccompProfile", f'pod must not set securityContext.seccompProfile.type to '
                                  f'"{pod}"')
    names = []
    for c in containers(spec):
        own = c.get("securityContext", {}).get("seccompProfile", {}).get("type")
        if (own is None and pod is None) or (own is not None and own not in ok):
            names.append(c["name"])
    if names:
        return ("seccompProfile", f"pod or {plural('container', names)} must set "
                                  f"securityContext.seccompProfile.type to \"RuntimeDefault\" "
                                  f"or \"Localhost\"")


def restricted_capabilities(meta, spec):
    no_drop = [c["name"] for c in containers(spec)
               if "ALL" not in c.get("securityContext", {}).get("capabilities", {}).get("drop",
                                                                                       [])]
    added = [c["name"] for c in containers(spec)
             if set(c.get("securityContext", {}).get("capabilities", {}).get("add", [])) -
             {"NET_BIND_SERVICE"}]
    details = []
    if no_drop:
        details.append(f"{plural('container', no_drop)} must set "
                       f"securityContext.capabilities.drop=[\"ALL\"]")
    if added:
        details.append(f"{plural('container', added)} must not include capabilities other "
                       f"than \"NET_BIND_SERVICE\" in securityContext.capabilities.add")
    if details:
        return ("unrestricted capabilities", "; ".join(details))


BASELINE = [host_namespaces, privileged, baseline_capabilities, host_path_volumes, host_ports,
            app_armor, se_linux, proc_mount, seccomp_baseline, sysctls]
RESTRICTED = BASELINE + [volume_types, privilege_escalation, run_as_non_root, run_as_user,
                         seccomp_restricted, restricted_capabilities]
CHECKS = {"privileged": [], "baseline": BASELINE, "restricted": RESTRICTED}


def check_labels(labels):
    """Why a namespace's pod-security labels cannot be enforced here, or None."""
    level = labels.get(ENFORCE)
    if level is not None and level not in LEVELS:
        return f"{ENFORCE}: unknown level {level!r}"
    if labels.get(ENFORCE_VERSION, "latest") != "latest":
        return f"{ENFORCE_VERSION}: the stand-in implements only \"latest\""
    return None


def violations(level, pod):
    """[(check, detail)] the pod fails at `level`; the restricted level includes baseline."""
    meta, spec = pod.get("metadata", {}), pod.get("spec", {})
    found = []
    for check in CHECKS[level]:
        result = check(meta, spec)
        if result:
            found.append(result)
    return found


def refusal(level, pod):
    """The API server's message for a pod refused at `level`, or None when it is admitted."""
    found = violations(level, pod)
    if not found:
        return None
    name = pod.get("metadata", {}).get("name", "")
    details = ", ".join(f"{check} ({detail})" for check, detail in found)
    return f'pods "{name}" is forbidden: violates PodSecurity "{level}:latest": {details}'
