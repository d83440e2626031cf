"""A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port, for one test.

It scrapes the given jobs every second, evaluates the given rule files every second, keeps its
TSDB in the test's temp dir and logs to prometheus.log there. Every wait has a deadline.
"""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import yaml

from metrics_files import PROMETHEUS

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import harness  # noqa: E402

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 10.0


def static_job(name, targets, labels, honor_labels=False):
    """One scrape job of fixed targets, each given the same target labels."""
    return {"job_name": name, "honor_labels": honor_labels,
            "static_configs": [{"targets": list(targets), "labels": dict(labels)}]}


class Prometheus:
    def __init__(self, workdir, port, jobs, rule_files=()):
        self.workdir = workdir
        self.port = port
        self.log_path = os.path.join(workdir, "prometheus.log")
        self.config_path = os.path.join(workdir, "prometheus.yml")
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": list(rule_files),
            "scrape_configs": list(jobs),
        }
        with open(self.config_path, "w") as f:
            yaml.safe_dump(config, f)
        self.proc = None

    def start(self):
        cmd = [PROMETHEUS, f"--config.file={self.config_path}",
               f"--storage.tsdb.path={os.path.join(self.workdir, 'tsdb')}",
               f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.wait_until(self._ready, START_DEADLINE_S, "Prometheus /-/ready")
        return self

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=STOP_DEADLINE_S)

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def api(self, path, **params):
        """GET /api/v1/<path>; returns `data` or raises on an error status."""
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        if body.get("status") != "success":
            raise AssertionError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr):
        """Instant query; returns the result list of a vector (or [t, v] of a scalar)."""
        data = self.api("query", query=expr)
        return data["result"] if data["resultType"] in ("vector", "matrix") else [data["result"]]

    @staticmethod
    def wait_until(predicate, timeout, what, interval=0.2):
        return harness.wait_until(predicate, timeout=timeout, interval=interval, what=what)

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"
