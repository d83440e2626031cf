"""A kubelet stand-in that runs real zookube-server processes for the stand-in API server's pods.

The stand-in's own members only answer `srvr`; reconfig needs members that run ZooKeeper's
protocol. For each pod the stand-in's StatefulSets create, this starts zookube-server with what
the pod's container would put together (its command in render/kube_objects.cpp): the ConfigMap's
`<pod>.cfg` followed by the super digest Secret's `super-digest.cfg`, and `<pod>.myid` in its
dataDir; the same Secret's `jaas.conf` (spec.auth.sasl) goes to `state_dir/<pod>/jaas.conf`,
where the local addressing's zoo.cfg names it, when the member starts (the only time it is read). The operator renders the ConfigMap with local addressing (--local-addressing), so every
member listens on 127.0.0.1 with its own ports and data under `state_dir`. A pod that goes away
stops its process (SIGTERM); a pod whose ConfigMap entry or Secret is missing waits, as a pod
whose volumes cannot be mounted does. Readiness is whether the process runs; the operator then
asks the member itself (`srvr`, `conf`).

Secret volumes of the pod (spec.volumes[].secret, except the super digest's, which is put into
zoo.cfg as above) are written as files into `state_dir/<pod>/<last part of the mountPath>`: with
local addressing that is where a member's zoo.cfg finds its TLS stores (`<pod>/tls`). As the real
kubelet does, a pod whose Secret is missing waits, and a changed Secret's files are rewritten in
place (each file replaced whole) while the process runs: a certificate renewal restarts nobody.
A member without clientPort (tls.client on) is mapped to its secureClientPort.

What it does not do: run the container's shell command, enforce resources, restart a process
that exits (the pod stays, not ready: the test sees it)."""

import base64
import json
import os
import signal
import subprocess
import threading

from kube_harness import find_binary


class Kubelet:
    def __init__(self, standin, workdir):
        self.store = standin.store
        self.binary = find_binary("zookube-server", "server")
        self.state_dir = os.path.join(workdir, "members")
        self.pods_dir = os.path.join(workdir, "pods")
        self.srvr_map_path = os.path.join(workdir, "kubelet-srvr-map.json")
        os.makedirs(self.state_dir, exist_ok=True)
        os.makedirs(self.pods_dir, exist_ok=True)
        self.processes = {}  # pod name -> (uid, Popen, client port)
        self.starts = []     # pod names in the order their servers started
        # A digest line members start with instead of the Secret's: members whose config was
        # changed by hand, so they refuse the operator's credentials.
        self.digest_override = None
        self._write_map()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.05):
            self.sync()

    def _snapshot(self):
        with self.store.lock:
            pods, files, digests, secrets = {}, {}, {}, {}
            for (api, plural, ns, name), obj in self.store.objects.items():
                if plural == "pods" and "deletionTimestamp" not in obj["metadata"]:
                    instance = obj["metadata"].get("labels", {}).get("app.kubernetes.io/instance")
                    pods[name] = (obj["metadata"]["uid"], ns, instance,
                                  self._secret_mounts(obj))
                elif plural == "configmaps":
                    files[(ns, name)] = dict(obj.get("data", {}))
                elif plural == "secrets":
                    digests[(ns, name)] = (obj.get("data", {}).get("super-digest.cfg"),
                                           obj.get("data", {}).get("jaas.conf"))
                    secrets[(ns, name)] = dict(obj.get("data", {}))
            return pods, files, digests, secrets

    @staticmethod
    def _secret_mounts(pod):
        """{secret name: directory name} of the pod's Secret volumes, but the super digest's."""
        spec = pod.get("spec", {})
        mounts = {m["name"]: m["mountPath"] for c in spec.get("containers", [])
                  for m in c.get("volumeMounts", [])}
        return {v["secret"]["secretName"]: os.path.basename(mounts[v["name"]].rstrip("/"))
                for v in spec.get("volumes", [])
                if "secret" in v and v["name"] in mounts and v["name"] != "super-digest"}

    def _mount(self, pod, mounts, ns, secrets):
        """Writes the pod's Secret volumes; False if one of them is missing."""
        if any((ns, name) not in secrets for name in mounts):
            return False
        for name, dirname in mounts.items():
            target = os.path.join(self.state_dir, pod, dirname)
            os.makedirs(target, exist_ok=True)
            for key, data in secrets[(ns, name)].items():
                path = os.path.join(target, key)
                content = base64.b64decode(data)
                if os.path.exists(path) and open(path, "rb").read() == content:
                    continue
                with open(path + ".tmp", "wb") as f:
                    f.write(content)
                os.replace(path + ".tmp", path)
        return True

    def sync(self):
        pods, files, digests, secrets = self._snapshot()
        changed = False
        for name, (uid, proc, _) in list(self.processes.items()):
            if pods.get(name, (None,))[0] != uid or proc.poll() is not None:
                self._stop_process(name)
                changed = True
        for name, (uid, ns, instance, mounts) in pods.items():
            if not self._mount(name, mounts, ns, secrets) or name in self.processes:
                continue
            data = files.get((ns, f"{instance}-config"), {})
            digest, jaas = digests.get((ns, f"{instance}-super-digest"), (None, None))
            if f"{name}.cfg" not in data or not digest:
                continue
            if jaas:
                self._write_jaas(name, base64.b64decode(jaas))
            self._start(name, uid, data[f"{name}.cfg"], data[f"{name}.myid"],
                        self.digest_override or base64.b64decode(digest).decode())
            changed = True
        if changed:
            self._write_map()

    def _write_jaas(self, pod, content):
        target = os.path.join(self.state_dir, pod)
        os.makedirs(target, exist_ok=True)
        with open(os.path.join(target, "jaas.conf.tmp"), "wb") as f:
            f.write(content)
        os.replace(os.path.join(target, "jaas.conf.tmp"), os.path.join(target, "jaas.conf"))

    def _start(self, name, uid, cfg, myid, digest_line):
        settings = dict(line.split("=", 1) for line in cfg.splitlines()
                        if "=" in line and not line.startswith("#"))
        os.makedirs(settings["dataDir"], exist_ok=True)
        with open(os.path.join(settings["dataDir"], "myid"), "w") as f:
            f.write(myid)
        pod_dir = os.path.join(self.pods_dir, name)
        os.makedirs(pod_dir, exist_ok=True)
        config = os.path.join(pod_dir, "zoo.cfg")
        with open(config, "w") as f:
            # Metrics on loopback only: tests never listen beyond it.
            f.write(cfg + digest_line + "metricsProvider.httpHost=127.0.0.1\n")
        log = open(os.path.join(pod_dir, "server.log"), "ab")
        proc = subprocess.Popen([self.binary, config], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        port = settings.get("clientPort") or settings["secureClientPort"]
        self.processes[name] = (uid, proc, int(port))
        self.starts.append(name)
        self.store.set_member(name, ready=True)

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
