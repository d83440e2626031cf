"""Runs kazoo's own test suite (Debian's python3-kazoo ships it) against zookube or ZooKeeper.

kazoo's harness starts a 3-member cluster with `java ... QuorumPeerMain <zoo.cfg>`; for zookube,
launcher/java, first on PATH, turns that into `zookube-server`. The suite runs in a pytest of its
own; the kazoo_outcomes plugin records each test's outcome as it goes.
"""

import collections
import importlib.util
import json
import os
import subprocess
import sys
import time

import kazoo

import harness
import ports
import refzk

HERE = os.path.dirname(os.path.abspath(__file__))
KAZOO_TESTS = os.path.join(os.path.dirname(kazoo.__file__), "tests")
LAUNCHER_DIR = os.path.join(HERE, "launcher")
PER_TEST_TIMEOUT_S = 180
# The whole suite takes about 4-5 minutes on either server; the deadline leaves room for a slow
# machine while keeping a hung run from holding CI.
SUITE_DEADLINE_S = 30 * 60

Run = collections.namedtuple("Run", "impl passed failed skipped unclean_stops seconds log")


def _environment(impl, outcomes_file):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOOKEEPER_")}
    env.update({
        "ZOOKEEPER_VERSION": "3.8.0",
        "ZOOKEEPER_CLASSPATH": refzk.CLASSPATH,
        # Server i listens on offset + 10 i + 0..3 (client, election, quorum, admin).
        "ZOOKEEPER_PORT_OFFSET": str(ports.free_block(30)),
        "KAZOO_OUTCOMES_FILE": outcomes_file,
        "PYTHONPATH": HERE,
        "PYTHONDONTWRITEBYTECODE": "1",  # the suite lives under /usr/lib
        # A hung test must leave a complete log: block buffering held back the lines that said
        # which test was running.
        "PYTHONUNBUFFERED": "1",
    })
    if impl == "zookube":
        env["PATH"] = LAUNCHER_DIR + os.pathsep + env.get("PATH", "")
        env["ZOOKUBE_SERVER"] = harness.zookube_binary()
    elif impl != "apache":
        raise ValueError(f"unknown implementation {impl!r}")
    return env


def _outcomes(outcomes_file):
    """Per test: "passed", "failed" or "skipped" (a failed setup or teardown fails the test)."""
    phases = collections.defaultdict(dict)
    unclean = []
    if os.path.exists(outcomes_file):
        with open(outcomes_file) as f:
            for line in f:
                record = json.loads(line)
                if "test" in record:
                    phases[record["test"]][record["when"]] = record["outcome"]
                elif "collect_error" in record:
                    phases[record["collect_error"]]["collect"] = "failed"
                elif "unclean_stop" in record:
                    unclean.append(record["unclean_stop"])
    result = {}
    for test, seen in phases.items():
        if "failed" in seen.values():
            result[test] = "failed"
        elif seen.get("setup") == "skipped" or seen.get("call") == "skipped":
            result[test] = "skipped"
        elif seen.get("call") == "passed":
            result[test] = "passed"
        else:
            result[test] = "failed"  # cut short by the deadline
    return result, unclean


def _pytest_command(tests):
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "kazoo_outcomes",
           "-v", "-rfE", f"--rootdir={KAZOO_TESTS}"]
    if importlib.util.find_spec("pytest_timeout"):
        # The thread method ends the process on a hang, where the signal method could leave it
        # waiting for ever in a teardown; _run_until_done resumes with the tests left.
        cmd += [f"--timeout={PER_TEST_TIMEOUT_S}", "--timeout-method=thread"]
    return cmd + ([os.path.join(KAZOO_TESTS, t) for t in tests] or [KAZOO_TESTS])


def _started_and_collected(outcomes_file):
    """The tests with any phase recorded, and every test a process collected."""
    started, collected = set(), set()
    if os.path.exists(outcomes_file):
        with open(outcomes_file) as f:
            for line in f:
                record = json.loads(line)
                started.update([record["test"]] if "test" in record else [])
                collected.update(record.get("collected", []))
    return started, collected


def _run_until_done(cmd, env, log, deadline):
    """Runs pytest until every collected test has run, resuming after a process that a hung
    test ended. Each kazoo cluster the harness started lives in the process group: it goes too."""
    done_file = env["KAZOO_OUTCOMES_FILE"] + ".done"
    env = dict(env, KAZOO_DONE_FILE=done_file)
    while True:
        proc = subprocess.Popen(cmd, cwd=os.path.dirname(done_file), env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            proc.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.wait()
        started, collected = _started_and_collected(env["KAZOO_OUTCOMES_FILE"])
        left = collected - started
        previously = set()
        if os.path.exists(done_file):
            with open(done_file) as f:
                previously = {line.strip() for line in f if line.strip()}
        if not left or time.monotonic() >= deadline or started <= previously:
            return
        with open(done_file, "w") as f:
            f.write("\n".join(sorted(started)) + "\n")
        log.write(f"\n=== resuming after an ended process: {len(left)} tests left ===\n".encode())
        log.flush()


def run_suite(impl, workdir, tests=()):
    """Runs kazoo's suite (or only `tests`, node ids relative to kazoo/tests) against impl;
    returns a Run. The pytest output goes to workdir/kazoo-<impl>.log."""
    os.makedirs(workdir, exist_ok=True)
    stamp = f"{impl}-{time.monotonic_ns()}"
    outcomes_file = os.path.join(workdir, f"outcomes-{stamp}.jsonl")
    log_path = os.path.join(workdir, f"kazoo-{stamp}.log")
    start = time.monotonic()
    with open(log_path, "wb") as log:
        _run_until_done(_pytest_command(tests), _environment(impl, outcomes_file), log,
                        start + SUITE_DEADLINE_S)
    seconds = time.monotonic() - start
    outcomes, unclean = _outcomes(outcomes_file)
    by = collections.defaultdict(set)
    for test, outcome in outcomes.items():
        by[outcome].add(test)
    return Run(impl, by["passed"], by["failed"], by["skipped"], unclean, seconds, log_path)


def run_with_retry(impl, workdir, ignore=()):
    """The whole suite, then its failures (but those in `ignore`) once more on a fresh cluster:
    a few of kazoo's tests are timing-sensitive on a loaded machine, on ZooKeeper too. Returns
    (first run, tests that passed only on the retry)."""
    first = run_suite(impl, workdir)
    retry = sorted(first.failed - set(ignore))
    if not retry:
        return first, set()
    second = run_suite(impl, workdir, retry)
    recovered = second.passed & first.failed
    merged = first._replace(passed=first.passed | recovered, failed=first.failed - recovered,
                            unclean_stops=first.unclean_stops + second.unclean_stops,
                            seconds=first.seconds + second.seconds)
    return merged, recovered


def summary(run):
    return (f"{run.impl}: {len(run.passed)} passed, {len(run.failed)} failed, "
            f"{len(run.skipped)} skipped in {run.seconds:.0f} s (log {run.log})")
