"""The kubelet stand-in (kubelet.py) itself: Secret volumes laid out as the kubelet's atomic writer
lays them out (items, modes, optional, a changed Secret swapped in), and what it does not
implement refused by name instead of ignored. The pods here have no ConfigMap entry of a
member, so they are laid out and never started."""

import os
import stat
import time

from test_kube_status import put_secret


def create_pod(api, name, volumes, mounts):
    with api.store.lock:
        api.store.create("v1", "pods", "default", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["true"],
                                     "volumeMounts": mounts}],
                     "volumes": volumes}})


def wait_for(predicate, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)  # polls the stand-in's sync loop; the deadline bounds it
    raise AssertionError(f"{what} within {timeout} s")


def content(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_secret_volumes_are_laid_out_as_the_atomic_writer_does(api, kubelet):
    put_secret(api, "s", {"a": "one", "b": "two"})
    create_pod(api, "p", [
        {"name": "picked", "secret": {"secretName": "s", "defaultMode": 0o440,
                                      "items": [{"key": "a", "path": "dir/x", "mode": 0o400}]}},
        {"name": "whole", "secret": {"secretName": "s", "defaultMode": 0o640}},
        {"name": "absent", "secret": {"secretName": "nowhere", "optional": True}}],
        [{"name": "picked", "mountPath": "/etc/picked"},
         {"name": "whole", "mountPath": "/etc/whole"},
         {"name": "absent", "mountPath": "/etc/whole/absent"}])
    at = lambda path: kubelet.container_path("p", path)  # noqa: E731
    # The stand-in lays the volumes out one after another, outer mounts first, from its own thread.
    wait_for(lambda: content(at("/etc/picked/dir/x")) == b"one"
             and content(at("/etc/whole/b")) == b"two", "both volumes laid out")
    assert mode(at("/etc/picked/dir/x")) == 0o400  # the item's mode over defaultMode
    picked = os.listdir(at("/etc/picked"))
    assert sorted(picked) == sorted(["..data", os.readlink(at("/etc/picked/..data")), "dir"])
    assert os.readlink(at("/etc/picked/dir")) == "..data/dir"
    assert (content(at("/etc/whole/a")), content(at("/etc/whole/b"))) == (b"one", b"two")
    assert mode(at("/etc/whole/b")) == 0o640
    # An optional Secret that does not exist is an empty volume, mounted inside another one.
    wait_for(lambda: os.path.isdir(at("/etc/whole/absent/..data")), "the optional volume")
    assert os.listdir(at("/etc/whole/absent/..data")) == []
    # A changed Secret is swapped in whole: a removed key goes, the old directory too.
    before = os.readlink(at("/etc/whole/..data"))
    put_secret(api, "s", {"a": "changed"})
    wait_for(lambda: content(at("/etc/whole/a")) == b"changed", "the changed Secret")
    assert not os.path.lexists(at("/etc/whole/b"))
    assert not os.path.exists(at("/etc/whole/" + before))
    assert os.path.isdir(at("/etc/whole/absent/..data"))  # the inner mount point stays
    assert "p" not in kubelet.processes and not kubelet.refusals


def test_what_the_stand_in_does_not_implement_is_refused_by_name(api, kubelet):
    put_secret(api, "s", {"a": "one"})
    create_pod(api, "projected", [{"name": "v", "projected": {"sources": [
        {"secret": {"name": "s"}}]}}], [{"name": "v", "mountPath": "/etc/v"}])
    create_pod(api, "sub", [{"name": "v", "secret": {"secretName": "s"}}],
               [{"name": "v", "mountPath": "/etc/a", "subPath": "a"}])
    wait_for(lambda: {"projected", "sub"} <= set(kubelet.refusals), "both pods refused")
    assert "volume v: projected volumes are not implemented" in kubelet.refusals["projected"]
    assert "volumeMounts[0] (v): subPath is not implemented" in kubelet.refusals["sub"]
    assert not kubelet.processes
    kubelet.refusals.clear()  # seen: the fixture fails a test that leaves any
