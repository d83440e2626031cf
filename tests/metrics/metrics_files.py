"""Where the alert rules and dashboards live, and how a test turns a panel into PromQL."""

import json
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METRICS = os.path.join(REPO, "metrics")
RULES = os.path.join(METRICS, "alerts", "zookube.rules.yml")
RULE_TESTS = os.path.join(METRICS, "alerts", "zookube.rules.test.yml")
DASHBOARD_DIR = os.path.join(METRICS, "dashboards")
DASHBOARD_FILES = ["zookube-overview.json", "zookube-member.json"]
PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"


def load_dashboards():
    """{file name: dashboard dict} for every committed dashboard."""
    out = {}
    for name in DASHBOARD_FILES:
        with open(os.path.join(DASHBOARD_DIR, name)) as f:
            out[name] = json.load(f)
    return out


def query_panels(dashboard):
    """The panels that run queries (rows only group them), nested rows included."""
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from (p for p in panel.get("panels", []) if p["type"] != "row")
        else:
            yield panel


def substitute(expr, values):
    """Replaces Grafana's $var / ${var} with values[var]; raises KeyError for unknown ones."""

    def repl(match):
        return values[match.group(1) or match.group(2)]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", repl, expr)
