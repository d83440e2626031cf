"""A pytest plugin for the run of kazoo's own suite (loaded with -p kazoo_outcomes).

It appends one JSON line per test phase to $KAZOO_OUTCOMES_FILE as the run goes, so the results
survive a run cut short by its deadline, and one line per server that kazoo's harness saw stop
with a non-zero exit code (its ManagedZooKeeper.stop() logs a warning for those).

A hung test ends its whole pytest process (pytest-timeout's thread method), so the run resumes
in a new process: the plugin records the tests it collected, and leaves out those named in
$KAZOO_DONE_FILE (one node id per line), which an earlier process already ran.
"""

import json
import logging
import os


def _append(record):
    with open(os.environ["KAZOO_OUTCOMES_FILE"], "a") as f:
        f.write(json.dumps(record) + "\n")


class _UncleanStops(logging.Handler):
    def emit(self, record):
        message = record.getMessage()
        if "failed to terminate" in message:
            _append({"unclean_stop": message})


def pytest_configure(config):
    logging.getLogger("kazoo.testing.common").addHandler(_UncleanStops(logging.WARNING))


def pytest_collection_modifyitems(config, items):
    done_file = os.environ.get("KAZOO_DONE_FILE")
    if not done_file or not os.path.exists(done_file):
        return
    with open(done_file) as f:
        done = {line.strip() for line in f if line.strip()}
    kept = [item for item in items if item.nodeid not in done]
    config.hook.pytest_deselected(items=[item for item in items if item.nodeid in done])
    items[:] = kept


def pytest_collection_finish(session):
    _append({"collected": [item.nodeid for item in session.items]})


def pytest_runtest_logreport(report):
    _append({"test": report.nodeid, "when": report.when, "outcome": report.outcome})


def pytest_collectreport(report):
    if report.failed:
        _append({"collect_error": report.nodeid})
