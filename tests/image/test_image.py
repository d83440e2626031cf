"""The image, built and run for real: as the operator runs a member, and on its own defaults.

A member's container is started from what `zookube-render` says the operator would create (the
StatefulSet's command, environment, mounts and security contexts, the ConfigMap's files), with
Docker's equivalents of what the kubelet does: the pod's user and fsGroup, a read-only root
filesystem, every capability dropped, no privilege escalation, and Docker's default seccomp
profile (what `RuntimeDefault` means on a Docker node). kazoo then writes through it, and the
data must survive the container's restart.

Not covered here: the Kubernetes scheduling, probes and volume plugins themselves (tests/kube).
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import time

import pytest
from kazoo.client import KazooClient

from conftest import REPO, docker

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
from harness import four_letter  # noqa: E402
from ports import bindable, free_block  # noqa: E402

BUILD_DIR = os.environ.get("ZOOKUBE_BUILD_DIR", os.path.join(REPO, "build"))
RENDER = os.path.join(BUILD_DIR, "operator", "zookube-render")


def wait_for(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def answers_ruok(port):
    try:
        return four_letter(port, "ruok", timeout=2) == "imok"
    except OSError:
        return False


def logs(name):
    result = docker("logs", name, check=False)
    return (result.stdout + result.stderr)[-3000:]


@pytest.fixture
def containers():
    names = []
    yield names
    for name in names:
        docker("rm", "-f", "-v", name, check=False)


def rendered_member(tmp_path, image):
    """The objects the operator renders for a one-voter ZkCluster on free ports."""
    base = free_block(5)
    manifest = tmp_path / "zkcluster.yaml"
    manifest.write_text(f"""apiVersion: zookube.dev/v1alpha1
kind: ZkCluster
metadata: {{name: img, namespace: default}}
spec:
  voters: 1
  observers: 0
  image: {image}
  ports: {{client: {base}, quorum: {base + 1}, election: {base + 2}, metrics: {base + 3},
          admin: {base + 4}}}
""")
    out = subprocess.run([RENDER, str(manifest)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    objects = json.loads(out.stdout)
    by_kind = {}
    for o in objects:
        by_kind.setdefault(o["kind"], []).append(o)
    (config_map,) = by_kind["ConfigMap"]
    voters = next(s for s in by_kind["StatefulSet"] if s["spec"]["replicas"] == 1)
    return base, config_map, voters


def docker_run_args(pod, container, pod_name, hostname):
    """`docker run` flags for what the kubelet would do with this pod spec."""
    pod_sc = pod.get("securityContext", {})
    sc = container.get("securityContext", {})
    args = ["--network", "host", "--add-host", f"{hostname}:127.0.0.1",
            "-e", f"POD_NAME={pod_name}"]
    user = sc.get("runAsUser", pod_sc.get("runAsUser"))
    group = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    if user is not None:
        args += ["--user", f"{user}:{group if group is not None else user}"]
    if "fsGroup" in pod_sc:
        args += ["--group-add", str(pod_sc["fsGroup"])]
    if sc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    for cap in sc.get("capabilities", {}).get("drop", []):
        args += ["--cap-drop", cap]
    if sc.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {})).get("type")
    assert seccomp in (None, "RuntimeDefault"), f"seccomp profile {seccomp} not emulated here"
    return args


def test_member_runs_as_the_operator_runs_it(tmp_path, image, containers):
    port, config_map, sts = rendered_member(tmp_path, image)
    if not all(bindable(p) for p in range(port, port + 5)):
        pytest.fail(f"ports {port}..{port + 4} taken")
    pod = sts["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == image
    pod_name = f"{sts['metadata']['name']}-0"
    hostname = f"{pod_name}.{sts['spec']['serviceName']}.default.svc.cluster.local"

    # The volumes, as the kubelet lays them out: the ConfigMap's and the Secret's keys as files,
    # and the data volume group-owned by fsGroup with the set-gid bit.
    fs_group = pod.get("securityContext", {}).get("fsGroup", 0)
    config_dir, super_dir, data_dir = (tmp_path / d for d in ("config", "super", "data"))
    for d in (config_dir, super_dir, data_dir):
        d.mkdir()
    for key, text in config_map["data"].items():
        (config_dir / key).write_text(text)
    digest = base64.b64encode(hashlib.sha1(b"super:image-test").digest()).decode()
    (super_dir / "super-digest.cfg").write_text(
        f"DigestAuthenticationProvider.superDigest=super:{digest}\n")
    os.chown(data_dir, 0, fs_group)
    os.chmod(data_dir, 0o2775)
    for d in (tmp_path, config_dir, super_dir):
        os.chmod(d, 0o755)
    volume_of = {"data": data_dir, "config": config_dir, "super-digest": super_dir}
    mounts = []
    for m in container["volumeMounts"]:
        spec = f"{volume_of[m['name']]}:{m['mountPath']}" + (":ro" if m.get("readOnly") else "")
        mounts += ["-v", spec]

    name = f"zookube-image-test-{port}"
    containers.append(name)
    command = [c.replace("$(POD_NAME)", pod_name) for c in container["command"]]
    docker("run", "-d", "--name", name, *docker_run_args(pod, container, pod_name, hostname),
           *mounts, "--entrypoint", command[0], image, *command[1:])

    wait_for(lambda: answers_ruok(port), f"the member on port {port} ({logs(name)})")
    client = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10)
    client.start(timeout=30)
    try:
        client.create("/image-test", b"kept across a restart")
    finally:
        client.stop()
        client.close()

    docker("restart", "-t", "20", name, timeout=90)
    wait_for(lambda: answers_ruok(port), f"the restarted member ({logs(name)})")
    client = KazooClient(hosts=f"127.0.0.1:{port}", timeout=10)
    client.start(timeout=30)
    try:
        data, _ = client.get("/image-test")
    finally:
        client.stop()
        client.close()
    assert data == b"kept across a restart"
    # `docker restart` sent SIGTERM to the server itself (the command ends in `exec`): it must
    # have stopped cleanly, not been killed at the end of the grace period.
    whole_log = docker("logs", name)
    assert "stopped cleanly" in whole_log.stdout + whole_log.stderr, logs(name)
    assert json.loads(docker("inspect", name).stdout)[0]["State"]["Running"]
    # The server wrote only below /data (the root filesystem is read-only): its snapshot,
    # log and the zoo.cfg the command put together are there.
    assert (data_dir / "zoo.cfg").exists() and (data_dir / "version-2").is_dir()


def test_default_command_becomes_healthy(image, containers):
    """The image on its own: `docker run` with no arguments serves on 2181 and its HEALTHCHECK
    passes, read-only and without capabilities, writing only to its /data volume."""
    if not bindable(2181):
        pytest.fail("port 2181 is taken: the image's default config listens there")
    name = "zookube-image-test-default"
    docker("rm", "-f", "-v", name, check=False)
    containers.append(name)
    docker("run", "-d", "--name", name, "--network", "host", "--read-only", "--cap-drop", "ALL",
           "--security-opt", "no-new-privileges", image)
    wait_for(lambda: docker("inspect", "--format", "{{.State.Health.Status}}", name)
             .stdout.strip() == "healthy", f"a healthy container ({logs(name)})", timeout=90)
    inspected = json.loads(docker("inspect", name).stdout)[0]
    assert inspected["Config"]["User"] == "10001:10001"
    client = KazooClient(hosts="127.0.0.1:2181", timeout=10)
    client.start(timeout=30)
    try:
        client.create("/default-image", b"x")
        assert client.exists("/default-image")
    finally:
        client.stop()
        client.close()


def test_operator_binary_is_on_the_path(image):
    result = docker("run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
                    image, "zookube-operator", "--help", check=False)
    assert result.returncode == 0, result.stderr
    assert "--local" in result.stdout + result.stderr


def test_image_holds_no_toolchain_and_stays_small(image):
    # What the runtime stage adds to its base: the binaries and their shared libraries.
    # (The base here is a debootstrap minbase, larger than Docker's slim image.)
    runtime_base = [line.split()[1] for line in open(os.path.join(REPO, "Dockerfile"))
                    if line.startswith("FROM ")][-1]
    size = json.loads(docker("image", "inspect", image).stdout)[0]["Size"]
    base = json.loads(docker("image", "inspect", runtime_base).stdout)[0]["Size"]
    added = size - base
    assert added < 150 * 1024 * 1024, f"the runtime stage adds {added / 2**20:.0f} MiB"
    result = docker("run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", image, "-c",
                    "command -v g++ gcc cmake java; exit 0")
    assert result.stdout.strip() == ""
