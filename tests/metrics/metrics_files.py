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


# Panels only an ensemble fills (a standalone server exports none of their series), with why.
# test_e2e_prometheus checks they are empty on a standalone server, test_e2e_ensemble that they
# return data on a real ensemble, test_dashboards their exact values on a synthetic one.
_LEADER = "leader_uptime and the leader's learner gauges exist only on an ensemble's leader"
_ELECTION = "election_time is observed only by ensemble members"
ENSEMBLE_PANELS = {
    ("zookube-overview.json", "Voters"): "quorum_size exists only on ensemble members",
    ("zookube-overview.json", "Voters in sync"): "synced_followers exists only on a leader",
    ("zookube-overview.json", "Synced observers"):
        "synced_observers exists only on a leader or follower",
    ("zookube-overview.json", "Leader"): _LEADER,
    ("zookube-overview.json", "Leader changes (15m)"): _LEADER,
    ("zookube-overview.json", "Quorum health"): "synced_followers and quorum_size: ensemble only",
    ("zookube-overview.json", "Leader election time"): _ELECTION,
    ("zookube-member.json", "Learners"): _LEADER,
    ("zookube-member.json", "Pending syncs"): _LEADER,
    ("zookube-member.json", "Proposal size"): _LEADER,
    ("zookube-member.json", "Leader uptime"): _LEADER,
    ("zookube-member.json", "Leader election time"): _ELECTION,
}
# Member-dashboard panels whose every query needs the selected member to be the leader.
LEADER_PANELS = {("zookube-member.json", t)
                 for t in ("Learners", "Pending syncs", "Proposal size", "Leader uptime")}
