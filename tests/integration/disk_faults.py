"""Disk faults for real server processes, through libfail_io.so (tests/faults/fail_io.cpp): an
LD_PRELOAD shim that makes write/pwrite/writev/fsync/fdatasync/truncate/ftruncate fail with EIO on
files whose path contains a pattern, once a trigger file exists. Shared by the fail-stop tests and the chaos
harness's "disk error" fault."""

import os


def library(build_dir):
    """The shim built by the normal build (tests/CMakeLists.txt) in build_dir."""
    path = os.path.join(build_dir, "tests", "faults", "libfail_io.so")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not built: run scripts/build.sh (target fail_io)")
    return path


def disk_error_env(build_dir, path_pattern, trigger, calls=""):
    """The environment that makes the process fail writes and syncs of files whose path contains
    path_pattern with EIO while the file `trigger` exists; calls: which of write, pwrite,
    writev, fsync, fdatasync, truncate, ftruncate fail (comma-separated; empty: all)."""
    return {"LD_PRELOAD": library(build_dir), "FAIL_IO_PATH": path_pattern,
            "FAIL_IO_TRIGGER": trigger, "FAIL_IO_CALLS": calls}


def arm(trigger):
    with open(trigger, "w"):
        pass


def disarm(trigger):
    try:
        os.remove(trigger)
    except FileNotFoundError:
        pass
