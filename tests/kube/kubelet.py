"""A kubelet stand-in that runs real zookube-server processes for the stand-in API server's pods.

The stand-in's own members only answer `srvr`; reconfig needs members that run ZooKeeper's
protocol. For each pod the stand-in's StatefulSets create, this does what the kubelet and the
container runtime would, on this machine:

- **Volumes** are laid out as the kubelet's volume plugins lay them out, each in its own
  directory `state_dir/<pod>/volumes/<volume>`, and put at their `mountPath`s under the pod's
  root `state_dir/<pod>/root` (the operator renders every path a container reads there when it
  runs with --local-addressing: render.h's Addressing::loopbackPods). Secret and ConfigMap
  volumes (`items` with `key`, `path` and `mode`, `defaultMode`, `optional`) are written the way
  the kubelet's atomic writer writes them: the files in a timestamped `..<time>` directory, a
  `..data` link to it swapped in one rename, and a link per top-level name into `..data`; a
  changed Secret or ConfigMap is swapped in while the process runs (a certificate renewal
  restarts nobody). A persistentVolumeClaim volume is the claim's directory
  (`state_dir/claims/<namespace>/<claim>`), kept across pods; an emptyDir is new with each pod.
  A mount inside another mount (/etc/zookube/tls in /etc/zookube) is a mount point in the outer
  volume's directory, as the runtime makes it. A pod whose Secret, ConfigMap, key or claim is
  missing waits, as a pod whose volumes cannot be mounted does.
- **Environment**: `env` with `value` (and `$(VAR)` references to earlier variables),
  `valueFrom.fieldRef` (metadata.name, metadata.namespace, metadata.uid), `secretKeyRef` and
  `configMapKeyRef` (`optional` honoured; a missing one makes the pod wait); a value naming a
  path in a mount is moved under the pod's root as the command's paths are. The process gets
  only these, over `image_env` (what the image's ENV would set; a test sets it), PATH
  (zookube-server's build directory first) and HOME: nothing of the test's environment, as a
  container gets nothing of the node's. With `readOnlyRootFilesystem` (the operator's pods have
  it), TMPDIR and KRB5RCACHEDIR, the places libraries write outside the volumes by default,
  point where nothing can be created unless the pod sets them.
- **The container's command** (`command` + `args`, `$(VAR)` expanded as the kubelet does) is run
  with every absolute path under a mountPath moved under the pod's root, so the shell command the
  operator renders is what puts zoo.cfg together and execs the server. It starts once every file
  the command names in a read-only mount exists (the pod's entry in the ConfigMap: a container
  started without it would exit and be restarted until it appears).

Whatever of a pod's volumes, mounts or environment is not implemented above (a projected,
downwardAPI or hostPath volume, a subPath mount, envFrom, a resourceFieldRef, more than one
container or any init container) is refused: the pod is not started, `refusals` names the pod
and what was refused, and the `kubelet` fixture fails the test when it ends.

The client port recorded for the operator's srvr map (its stand-in for the pod IP) is the one the
pod's `<instance>-config` ConfigMap entry names. A pod that goes away stops its process (SIGTERM);
one whose process exits is started again at the next sync. Readiness is whether the process runs;
the operator then asks the member itself (`srvr`, `conf`).

What it does not do: make mounts read-only or files owned by fsGroup (the tests run as root), make
the root filesystem read-only beyond the two variables above, run probes, enforce resources or
the rest of the securityContext, back off a restart."""

import base64
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import threading

from kube_harness import find_binary


class Unsupported(Exception):
    """What a pod asks for that this stand-in does not implement."""


class Missing(Exception):
    """A volume's or variable's source does not exist yet: the pod waits."""


def _decode(data, binary):
    """A Secret's base64 `data` or a ConfigMap's `data` (text) and `binaryData` (base64)."""
    out = {k: base64.b64decode(v) for k, v in binary.items()}
    out.update({k: v.encode() for k, v in data.items()})
    return out


class Kubelet:
    def __init__(self, standin, workdir):
        self.store = standin.store
        self.binary = find_binary("zookube-server", "server")
        self.state_dir = os.path.join(workdir, "members")
        self.pods_dir = os.path.join(workdir, "pods")
        self.claims_dir = os.path.join(workdir, "claims")
        self.srvr_map_path = os.path.join(workdir, "kubelet-srvr-map.json")
        for d in (self.state_dir, self.pods_dir, self.claims_dir):
            os.makedirs(d, exist_ok=True)
        self.processes = {}  # pod name -> (uid, Popen, client port)
        self.starts = []     # pod names in the order their servers started
        self.refusals = {}   # pod name -> what of its spec this stand-in does not implement
        self.laid_out = {}   # pod name -> the uid its root was made for
        # A super-digest.cfg members start with instead of the Secret's: members whose config was
        # changed by hand, so they refuse the operator's credentials.
        self.digest_override = None
        # What the image brings: variables its Dockerfile sets (ENV), such as KRB5_CONFIG naming
        # a krb5.conf built into it. The pod's env overrides them, as on a node.
        self.image_env = {}
        self._write_map()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.05):
            self.sync()

    def _snapshot(self):
        with self.store.lock:
            pods, sources = {}, {}
            for (api, plural, ns, name), obj in self.store.objects.items():
                if plural == "pods" and "deletionTimestamp" not in obj["metadata"]:
                    pods[name] = json.loads(json.dumps(obj))
                elif plural == "configmaps":
                    sources[("configmap", ns, name)] = _decode(obj.get("data", {}),
                                                               obj.get("binaryData", {}))
                elif plural == "secrets":
                    sources[("secret", ns, name)] = _decode({}, obj.get("data", {}))
                elif plural == "persistentvolumeclaims":
                    sources[("claim", ns, name)] = {}
            return pods, sources

    def sync(self):
        pods, sources = self._snapshot()
        changed = False
        for name, (uid, proc, _) in list(self.processes.items()):
            if name not in pods or pods[name]["metadata"]["uid"] != uid or \
                    proc.poll() is not None:
                self._stop_process(name)
                changed = True
        for name, pod in pods.items():
            try:
                container = self._container(pod)
                self._new_root(name, pod["metadata"]["uid"])
                self._mount_volumes(name, pod, container, sources)
                if name in self.processes:
                    continue
                env = self._environment(pod, container, sources)
                port = self._client_port(pod, sources)
            except Unsupported as refused:
                self.refusals[name] = str(refused)
                continue
            except Missing:
                continue
            if self._start(name, pod, container, env, port):
                changed = True
        if changed:
            self._write_map()

    # --- what the pod asks for -----------------------------------------------------------------

    @staticmethod
    def _container(pod):
        spec = pod["spec"]
        if len(spec.get("containers", [])) != 1 or spec.get("initContainers"):
            raise Unsupported(f"pod {pod['metadata']['name']}: only one container and no init "
                              "containers are run")
        container = spec["containers"][0]
        if container.get("envFrom"):
            raise Unsupported(f"pod {pod['metadata']['name']}: envFrom is not implemented")
        volumes = {v["name"] for v in spec.get("volumes", [])}
        for i, m in enumerate(container.get("volumeMounts", [])):
            for field in ("subPath", "subPathExpr", "mountPropagation"):
                if field in m:
                    raise Unsupported(f"pod {pod['metadata']['name']}: volumeMounts[{i}] "
                                      f"({m['name']}): {field} is not implemented")
            if m["name"] not in volumes:
                raise Unsupported(f"pod {pod['metadata']['name']}: volumeMounts[{i}] names "
                                  f"volume {m['name']}, which the pod does not have")
        return container

    def root(self, pod):
        return os.path.join(self.state_dir, pod, "root")

    def container_path(self, pod, path):
        """Where `path`, as pod's container sees it, is on this machine."""
        return self.root(pod) + path

    def _new_root(self, name, uid):
        """A new pod (a new uid) gets new volumes (emptyDirs start empty) and a new root."""
        if self.laid_out.get(name) == uid:
            return
        for sub in ("root", "volumes"):
            shutil.rmtree(os.path.join(self.state_dir, name, sub), ignore_errors=True)
        os.makedirs(self.root(name))
        self.laid_out[name] = uid

    # --- volumes -------------------------------------------------------------------------------

    def _mount_volumes(self, name, pod, container, sources):
        """Lays out every volume the container mounts and links it at its mountPath."""
        ns = pod["metadata"]["namespace"]
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        mounts = sorted(container.get("volumeMounts", []), key=lambda m: m["mountPath"])
        for m in mounts:  # outer mounts first: an inner one's mount point is made in them
            directory = self._volume(name, ns, volumes[m["name"]], sources)
            target = self.container_path(name, m["mountPath"].rstrip("/"))
            if os.path.islink(target) and os.readlink(target) == directory:
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.islink(target):
                os.unlink(target)
            os.symlink(directory, target)

    def _volume(self, pod, ns, volume, sources):
        """The directory holding `volume`'s files, brought up to date."""
        kinds = [k for k in volume if k != "name"]
        kind = kinds[0] if len(kinds) == 1 else None
        if kind == "persistentVolumeClaim":
            claim = volume[kind]["claimName"]
            if ("claim", ns, claim) not in sources:
                raise Missing(claim)
            directory = os.path.join(self.claims_dir, ns, claim)
            os.makedirs(directory, exist_ok=True)
            return directory
        directory = os.path.join(self.state_dir, pod, "volumes", volume["name"])
        if kind == "emptyDir":
            if volume[kind].get("medium"):
                raise Unsupported(f"pod {pod}: volume {volume['name']}: emptyDir medium "
                                  f"{volume[kind]['medium']} is not implemented")
            os.makedirs(directory, exist_ok=True)
            return directory
        if kind == "secret":
            files = self._files(pod, ns, volume, sources, "secret", volume[kind]["secretName"])
        elif kind == "configMap":
            files = self._files(pod, ns, volume, sources, "configmap", volume[kind]["name"])
        else:
            raise Unsupported(f"pod {pod}: volume {volume['name']}: {', '.join(kinds)} volumes "
                              "are not implemented (secret, configMap, persistentVolumeClaim and "
                              "emptyDir are)")
        _atomic_write(directory, files)
        return directory

    def _files(self, pod, ns, volume, sources, kind, source_name):
        """{path: (bytes, mode)} of a Secret or ConfigMap volume, as its plugin projects it."""
        spec = volume["secret" if kind == "secret" else "configMap"]
        data = sources.get((kind, ns, source_name))
        optional = spec.get("optional", False)
        if data is None:
            if optional:
                return {}
            raise Missing(source_name)
        data = dict(data)
        if kind == "secret" and self.digest_override is not None and "super-digest.cfg" in data:
            data["super-digest.cfg"] = self.digest_override.encode()
        mode = spec.get("defaultMode", 0o644)
        if "items" not in spec:
            return {key: (value, mode) for key, value in data.items()}
        files = {}
        for item in spec["items"]:
            if item["key"] not in data:
                if optional:
                    continue
                raise Missing(f"{source_name}[{item['key']}]")
            path = os.path.normpath(item["path"])
            if path.startswith("..") or os.path.isabs(path):
                raise Unsupported(f"pod {pod}: volume {volume['name']}: item path {item['path']}")
            files[path] = (data[item["key"]], item.get("mode", mode))
        return files

    # --- environment and command ---------------------------------------------------------------

    def _environment(self, pod, container, sources):
        name, ns = pod["metadata"]["name"], pod["metadata"]["namespace"]
        env = {}
        for var in container.get("env", []):
            if "value" in var or "valueFrom" not in var:
                env[var["name"]] = _expand(var.get("value", ""), env)
                continue
            source = var["valueFrom"]
            if "fieldRef" in source:
                field = source["fieldRef"]["fieldPath"]
                values = {"metadata.name": name, "metadata.namespace": ns,
                          "metadata.uid": pod["metadata"]["uid"]}
                if field not in values:
                    raise Unsupported(f"pod {name}: env {var['name']}: fieldRef {field} is not "
                                      "implemented")
                env[var["name"]] = values[field]
            elif "secretKeyRef" in source or "configMapKeyRef" in source:
                kind = "secret" if "secretKeyRef" in source else "configmap"
                ref = source.get("secretKeyRef") or source.get("configMapKeyRef")
                data = sources.get((kind, ns, ref["name"]), {})
                if ref["key"] in data:
                    env[var["name"]] = data[ref["key"]].decode()
                elif not ref.get("optional", False):
                    raise Missing(f"{ref['name']}[{ref['key']}]")
            else:
                raise Unsupported(f"pod {name}: env {var['name']}: {', '.join(source)} is not "
                                  "implemented")
        return env

    def _in_root(self, name, container, text):
        """`text` with every absolute path under one of the container's mountPaths moved under
        the pod's root."""
        mounts = sorted((m["mountPath"].rstrip("/") for m in container.get("volumeMounts", [])),
                        key=len, reverse=True)
        if not mounts:
            return text
        pattern = re.compile(r"(?<![\w./-])(" + "|".join(re.escape(m) for m in mounts) +
                             r")(?=[/\s;&|<>)'\":]|$)")
        return pattern.sub(lambda hit: self.container_path(name, hit.group(1)), text)

    def _command(self, name, container, env):
        """The container's command as this machine runs it: variables expanded, mountPaths
        moved under the pod's root."""
        words = [_expand(w, env) for w in container.get("command", []) + container.get("args", [])]
        if not words:
            raise Unsupported(f"pod {name}: a container without a command runs the image's "
                              "entrypoint, which this stand-in does not have")
        return [self._in_root(name, container, w) for w in words]

    def _process_env(self, name, container, env):
        """What the process gets: the image's variables, then the pod's (paths in mounts moved
        under the pod's root), PATH and HOME. With readOnlyRootFilesystem, the places libraries
        write outside the volumes by default (TMPDIR; MIT Kerberos's replay cache,
        KRB5RCACHEDIR, /var/tmp) cannot be written, unless the pod says otherwise: the tests run
        as root, so a path under a regular file stands in for the read-only root."""
        out = dict(self.image_env)
        out.update({k: self._in_root(name, container, v) for k, v in env.items()})
        out.setdefault("PATH", os.path.dirname(self.binary) + ":/usr/sbin:/usr/bin:/sbin:/bin")
        out.setdefault("HOME", self.container_path(name, "/data"))
        if container.get("securityContext", {}).get("readOnlyRootFilesystem"):
            blocked = os.path.join(self.state_dir, name, "read-only-root-filesystem")
            with open(blocked, "w") as f:
                f.write("the container's root filesystem is read-only: nothing is created here\n")
            for var in ("TMPDIR", "KRB5RCACHEDIR"):
                out.setdefault(var, os.path.join(blocked, var.lower()))
        return out

    def _needed_files(self, name, container, words):
        """Files the command names in the container's read-only mounts."""
        read_only = [self.container_path(name, m["mountPath"].rstrip("/"))
                     for m in container.get("volumeMounts", []) if m.get("readOnly")]
        found = set()
        for word in words:
            for token in re.findall(r"[^\s;&|<>()'\"]+", word):
                if any(token.startswith(d + "/") for d in read_only):
                    found.add(token)
        return found

    def _client_port(self, pod, sources):
        """Where the operator's srvr reaches the member (its stand-in for the pod IP)."""
        name, ns = pod["metadata"]["name"], pod["metadata"]["namespace"]
        instance = pod["metadata"].get("labels", {}).get("app.kubernetes.io/instance")
        cfg = sources.get(("configmap", ns, f"{instance}-config"), {}).get(f"{name}.cfg")
        if cfg is None:
            raise Missing(f"{instance}-config[{name}.cfg]")
        settings = dict(line.split("=", 1) for line in cfg.decode().splitlines()
                        if "=" in line and not line.startswith("#"))
        return int(settings.get("clientPort") or settings["secureClientPort"])

    def _start(self, name, pod, container, env, port):
        words = self._command(name, container, env)
        if any(not os.path.exists(f) for f in self._needed_files(name, container, words)):
            return False
        pod_dir = os.path.join(self.pods_dir, name)
        os.makedirs(pod_dir, exist_ok=True)
        log = open(os.path.join(pod_dir, "server.log"), "ab")
        proc = subprocess.Popen(words, stdout=log, stderr=subprocess.STDOUT,
                                env=self._process_env(name, container, env), cwd=self.root(name))
        log.close()
        self.processes[name] = (pod["metadata"]["uid"], proc, port)
        self.starts.append(name)
        self.store.set_member(name, ready=True)
        return True

    def _stop_process(self, name):
        uid, proc, _ = self.processes.pop(name)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if name in self.store.members:
            self.store.set_member(name, ready=False)

    def _write_map(self):
        tmp = self.srvr_map_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({name: f"127.0.0.1:{port}" for name, (_, _, port) in
                       list(self.processes.items())}, f)
        os.replace(tmp, self.srvr_map_path)

    def client_port(self, pod):
        return self.processes[pod][2]

    def connect_string(self):
        return ",".join(f"127.0.0.1:{port}" for _, _, port in list(self.processes.values()))

    def log_of(self, pod):
        with open(os.path.join(self.pods_dir, pod, "server.log"), errors="replace") as f:
            return f.read()

    def stop(self):
        self._stop.set()
        self._thread.join()
        for name in list(self.processes):
            self._stop_process(name)


def _expand(text, env):
    """$(VAR) as the kubelet expands it: a defined variable's value, $$ an escaped $, anything
    else left as it is."""
    def one(hit):
        if hit.group(0) == "$$":
            return "$"
        return env.get(hit.group(1), hit.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", one, text)


def _atomic_write(directory, files):
    """Writes {path: (bytes, mode)} as the kubelet's atomic writer does: unchanged, nothing is
    touched; else a new `..<time>` directory, `..data` swapped to it, links per top-level name."""
    data_link = os.path.join(directory, "..data")
    current = {}
    if os.path.islink(data_link):
        base = os.path.join(directory, os.readlink(data_link))
        for top, _, names in os.walk(base):
            for n in names:
                path = os.path.join(top, n)
                with open(path, "rb") as f:
                    current[os.path.relpath(path, base)] = (f.read(),
                                                             os.stat(path).st_mode & 0o7777)
    if os.path.islink(data_link) and current == files:
        return
    os.makedirs(directory, exist_ok=True)
    stamp = "..%s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y_%m_%d_%H_%M_%S.%f")
    fresh = os.path.join(directory, stamp)
    os.makedirs(fresh)
    for path, (content, mode) in files.items():
        target = os.path.join(fresh, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(content)
        os.chmod(target, mode)
    old = os.readlink(data_link) if os.path.islink(data_link) else None
    os.symlink(stamp, data_link + "_tmp")
    os.replace(data_link + "_tmp", data_link)
    tops = {p.split(os.sep)[0] for p in files}
    for top in tops:
        link = os.path.join(directory, top)
        if not os.path.islink(link):
            os.symlink(os.path.join("..data", top), link)
    for entry in os.listdir(directory):
        link = os.path.join(directory, entry)
        if (entry not in tops and os.path.islink(link) and
                os.readlink(link).startswith("..data" + os.sep)):
            os.unlink(link)  # a key no longer projected; mount points of inner mounts stay
    if old:
        shutil.rmtree(os.path.join(directory, old), ignore_errors=True)
