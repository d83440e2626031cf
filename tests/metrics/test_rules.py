"""The alert rules load in promtool, pass their unit tests, and each alert is complete and tested
both firing and not firing."""

import subprocess

import pytest
import yaml

from metrics_files import PROMTOOL, RULE_TESTS, RULES

REQUIRED_ANNOTATIONS = {"summary", "description", "runbook"}
ALERTS_ASKED_FOR = {
    "ZookubeQuorumLost", "ZookubeNoLeader", "ZookubeLeaderFlapping", "ZookubeFollowerOutOfSync",
    "ZookubeObserverDown", "ZookubeHighRequestLatency", "ZookubeOutstandingRequestsHigh",
    "ZookubeSlowFsync", "ZookubeDiskNearlyFull", "ZookubeTooManyConnections",
    "ZookubeCertificateExpiring",  # issue 22: spec.tls, from the operator's metric
}


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def alert_rules():
    with open(RULES) as f:
        groups = yaml.safe_load(f)["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_promtool_check_rules():
    result = run(PROMTOOL, "check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_promtool_test_rules():
    result = run(PROMTOOL, "test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_asked_alert_exists():
    assert {rule["alert"] for rule in alert_rules()} == ALERTS_ASKED_FOR


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: f"{r['alert']}-{r['labels']}")
def test_alert_is_complete(rule):
    assert rule.get("for"), "every alert waits a while before it pages"
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert REQUIRED_ANNOTATIONS <= set(rule["annotations"])
    text = rule["annotations"]["summary"] + rule["annotations"]["description"]
    assert "$value" in text, "the annotations show the value"
    assert "$labels.instance" in text or "$labels.cluster" in text, "and say where"


def rule_test_evals():
    """{alert name: (firing evals, quiet evals)} over all promtool unit tests."""
    with open(RULE_TESTS) as f:
        tests = yaml.safe_load(f)["tests"]
    out = {}
    for test in tests:
        for case in test.get("alert_rule_test", []):
            firing, quiet = out.setdefault(case["alertname"], ([], []))
            (firing if case.get("exp_alerts") else quiet).append(case)
    return out


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: f"{r['alert']}-{r['labels']}")
def test_alert_is_unit_tested_firing_and_quiet(rule):
    firing, quiet = rule_test_evals().get(rule["alert"], ([], []))
    assert quiet, f"no promtool test shows {rule['alert']} not firing"
    fired_with = [alert["exp_labels"] for case in firing for alert in case["exp_alerts"]]
    # Each rule of an alert (e.g. warning and critical) must be seen firing with its own labels.
    assert any(rule["labels"].items() <= labels.items() for labels in fired_with), (
        f"no promtool test shows {rule['alert']} {rule['labels']} firing")
