"""A real Docker engine and the project's image, built from the Dockerfile as a user builds it.

The engine is Debian's docker.io. When none is running, the `engine` fixture starts `dockerd`
the way these machines allow (no bridge, no iptables: every container uses the host's network)
and stops it at the end. No image registry is reachable, so scripts/docker-base-images.sh makes
the Debian bases the Dockerfile names with debootstrap + `docker import` first.

Without an engine the tests skip, saying why; with ZOOKUBE_REQUIRE_TOOLS=1 (as CI sets it) they
fail instead, so CI cannot pass by skipping.
"""

import os
import shutil
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Debian's client, which matches Debian's engine; another `docker` may come first on PATH.
DOCKER = "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else shutil.which("docker")
DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
IMAGE = os.environ.get("ZOOKUBE_TEST_IMAGE", "zookube:ci-test")
BUILD_TIMEOUT = 40 * 60


def missing(message):
    if os.environ.get("ZOOKUBE_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def docker(*args, timeout=120, check=True):
    result = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}: "
                             f"{result.stderr.strip()}")
    return result


def engine_answers():
    try:
        return docker("info", timeout=20, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    if DOCKER is None:
        missing("no docker client: apt-get install docker.io")
    if engine_answers():
        yield DOCKER
        return
    if not os.access(DOCKERD, os.X_OK):
        missing("no Docker engine running and no dockerd to start: apt-get install docker.io")
    if os.geteuid() != 0:
        missing("no Docker engine running, and starting dockerd needs root")
    log = tmp_path_factory.mktemp("dockerd") / "dockerd.log"
    with open(log, "w") as out:
        daemon = subprocess.Popen(
            [DOCKERD, "--bridge=none", "--iptables=false", "--ip6tables=false"],
            stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not engine_answers():
        if daemon.poll() is not None or time.monotonic() > deadline:
            daemon.kill()
            pytest.fail(f"dockerd did not come up: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    yield DOCKER
    daemon.terminate()
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()


@pytest.fixture(scope="session")
def image(engine):
    bases = subprocess.run([os.path.join(REPO, "scripts", "docker-base-images.sh")],
                           capture_output=True, text=True, timeout=20 * 60)
    assert bases.returncode == 0, bases.stdout + bases.stderr
    started = time.monotonic()
    # --network host: the build's apt-get reaches Debian's archive the way this machine does.
    build = subprocess.run([DOCKER, "build", "--network", "host", "-t", IMAGE, REPO],
                           capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                           env={**os.environ, "DOCKER_BUILDKIT": "0"})
    assert build.returncode == 0, (build.stdout + build.stderr)[-4000:]
    print(f"image {IMAGE} built in {time.monotonic() - started:.0f} s")
    return IMAGE
