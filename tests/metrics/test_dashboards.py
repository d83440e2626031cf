"""The Grafana dashboards are well-formed: what the generator writes, templated on the data source,
cluster and member, every query panel with a data source and PromQL targets, unique ids, and
panels that do not overlap."""

import os
import subprocess
import sys

import pytest
import yaml

from metrics_files import (DASHBOARD_DIR, ENSEMBLE_PANELS, PROMTOOL, load_dashboards, query_panels,
                           substitute)

DASHBOARDS = load_dashboards()
DS_UID = "${DS_PROMETHEUS}"
PANEL_TYPES = {"stat", "timeseries", "state-timeline"}


def by_name(fn):
    return pytest.mark.parametrize("name", sorted(DASHBOARDS))(fn)


def test_committed_json_is_what_the_generator_writes(tmp_path):
    subprocess.run([sys.executable, os.path.join(DASHBOARD_DIR, "build_dashboards.py"),
                    str(tmp_path)], check=True, timeout=60)
    for name in DASHBOARDS:
        with open(tmp_path / name) as fresh, open(os.path.join(DASHBOARD_DIR, name)) as committed:
            assert fresh.read() == committed.read(), f"{name}: rerun build_dashboards.py"


def test_uids_differ():
    uids = [d["uid"] for d in DASHBOARDS.values()]
    assert len(set(uids)) == len(uids)


@by_name
def test_header(name):
    d = DASHBOARDS[name]
    assert 36 <= d["schemaVersion"] <= 39
    assert d["uid"] == name.removesuffix(".json")
    assert d["title"] and d["id"] is None and "zookube" in d["tags"]


@by_name
def test_templated_on_data_source_cluster_and_instance(name):
    variables = {v["name"]: v for v in DASHBOARDS[name]["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    for var in ("cluster", "instance"):
        assert variables[var]["type"] == "query"
        assert variables[var]["datasource"]["uid"] == DS_UID
        assert variables[var]["query"]["query"].startswith("label_values(")
    assert "$cluster" in variables["instance"]["query"]["query"]


@by_name
def test_panel_ids_unique(name):
    ids = [p["id"] for p in DASHBOARDS[name]["panels"]]
    for row in DASHBOARDS[name]["panels"]:
        ids += [p["id"] for p in row.get("panels", [])]
    assert all(isinstance(i, int) for i in ids)
    assert len(ids) == len(set(ids))


@by_name
def test_every_query_panel_has_data_source_and_promql(name):
    panels = list(query_panels(DASHBOARDS[name]))
    assert len(panels) >= 10
    for panel in panels:
        where = f"{name} panel {panel['id']} {panel.get('title')!r}"
        assert panel["type"] in PANEL_TYPES, where
        assert panel["title"] and panel.get("description"), where
        assert panel["datasource"] == {"type": "prometheus", "uid": DS_UID}, where
        assert panel["targets"], where
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), where
        for t in panel["targets"]:
            assert t["datasource"]["uid"] == DS_UID, where
            assert t["expr"].strip(), where
            assert "$cluster" in t["expr"], f"{where}: query ignores the cluster variable"


@by_name
def test_queries_use_only_known_variables(name):
    known = {v["name"]: "x" for v in DASHBOARDS[name]["templating"]["list"]}
    known.update(__rate_interval="1m", __interval="1m", __range="1h")
    for panel in query_panels(DASHBOARDS[name]):
        for t in panel["targets"]:
            substitute(t["expr"], known)  # KeyError names an unknown variable


@by_name
def test_panels_do_not_overlap(name):
    taken = set()
    for panel in DASHBOARDS[name]["panels"]:
        g = panel["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(g["x"], g["x"] + g["w"])
                 for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & taken, f"{name}: {panel['title']!r} overlaps another panel"
        taken |= cells


def test_overview_shows_what_the_issue_asks_for():
    titles = {p["title"] for p in query_panels(DASHBOARDS["zookube-overview.json"])}
    for wanted in ("Member roles", "Quorum health", "Leader", "Leader changes (15m)",
                   "Request latency p99", "Outstanding requests", "Znodes", "Watches",
                   "Client connections", "fsync time", "Data size"):
        assert wanted in titles


# A synthetic 3-voter ensemble with an observer, at 10m: leader l (since 5m, after d led until
# 4m), follower f, observer o, e up but electing, d down since 5m.
ENSEMBLE_SERIES = {
    "up": {"l": "1x15", "f": "1x15", "o": "1x15", "e": "1x15", "d": "1x4 0x10"},
    "readlatency_count": {"l": "0+5x15", "f": "0+5x15", "o": "0+5x15", "e": "7x15",
                          "d": "0+5x4 stale"},
    "quorum_size": {"l": "3x15", "f": "3x15", "o": "3x15", "d": "3x4 stale"},
    "znode_count": {"l": "10x15", "f": "10x15", "o": "10x15", "d": "10x4 stale"},
    "leader_uptime": {"l": "_ _ _ _ _ 0+60000x10", "d": "0+60000x3 stale"},
    "learners": {"l": "2x15"},
    "synced_followers": {"l": "1x15"},
    "synced_non_voting_followers": {"l": "0x15"},
    "synced_observers": {"l": "1x15", "f": "0x15"},
    "pending_syncs": {"l": "0x15"},
    "last_proposal_size": {"l": "100x15"},
    "min_proposal_size": {"l": "50x15"},
    "max_proposal_size": {"l": "200x15"},
    "election_time_sum": {"l": "0+100x15", "f": "0+200x15"},
    "election_time_count": {"l": "0+1x15", "f": "0+1x15"},
}


def labels(name="", **pairs):
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(pairs.items()))
    return f"{name}{{{inner}}}"


def member_series(name, instance):
    return labels(name, cluster="c", instance=instance, job="zookube")

ENSEMBLE_EXPECTED = {
    # (dashboard, title, instance variable): {refId: [(labels, value)]}
    ("zookube-overview.json", "Member roles", ".*"): {"A": [
        (labels(instance="l"), 4), (labels(instance="f"), 3), (labels(instance="o"), 2),
        (labels(instance="e"), 0), (labels(instance="d"), -1)]},
    ("zookube-overview.json", "Voters", ".*"): {"A": [("{}", 3)]},
    ("zookube-overview.json", "Voters in sync", ".*"): {"A": [("{}", 2)]},
    ("zookube-overview.json", "Synced observers", ".*"): {"A": [("{}", 1)]},
    ("zookube-overview.json", "Leader", ".*"): {"A": [(labels(instance="l"), 300000)]},
    ("zookube-overview.json", "Leader changes (15m)", ".*"): {"A": [("{}", 1)]},
    ("zookube-overview.json", "Quorum health", ".*"): {
        "A": [("{}", 2)], "B": [("{}", 2)], "C": [("{}", 3)]},
    ("zookube-overview.json", "Leader election time", ".*"): {"A": [
        (labels(instance="l"), 100), (labels(instance="f"), 200)]},
    ("zookube-member.json", "Role", "o"): {"A": [(labels(instance="o"), 2)]},
    ("zookube-member.json", "Role", "e"): {"A": [(labels(instance="e"), 0)]},
    ("zookube-member.json", "Role", "d"): {"A": [(labels(instance="d"), -1)]},
    ("zookube-member.json", "Learners", "l"): {
        "A": [(member_series("learners", "l"), 2)],
        "B": [(member_series("synced_followers", "l"), 1)],
        "C": [(member_series("synced_non_voting_followers", "l"), 0)],
        "D": [(member_series("synced_observers", "l"), 1)]},
    ("zookube-member.json", "Pending syncs", "l"): {
        "A": [(member_series("pending_syncs", "l"), 0)]},
    ("zookube-member.json", "Proposal size", "l"): {
        "A": [(member_series("last_proposal_size", "l"), 100)],
        "B": [(member_series("min_proposal_size", "l"), 50)],
        "C": [(member_series("max_proposal_size", "l"), 200)]},
    ("zookube-member.json", "Leader uptime", "l"): {
        "A": [(member_series("leader_uptime", "l"), 300000)]},
    ("zookube-member.json", "Leader election time", "l"): {
        "A": [(labels(cluster="c", instance="l", job="zookube"), 100)]},
}


def test_ensemble_panels_on_a_synthetic_ensemble(tmp_path):
    """The panels a standalone server cannot fill, and the role inference, against a synthetic
    ensemble in promtool: each query must return exactly the expected series and values."""
    covered = {(name, title) for name, title, _ in ENSEMBLE_EXPECTED}
    assert set(ENSEMBLE_PANELS) <= covered
    input_series = [{"series": member_series(metric, instance), "values": values}
                    for metric, by_instance in ENSEMBLE_SERIES.items()
                    for instance, values in by_instance.items()]
    # A node_exporter sidecar of d, with d's labels but its own job: not a member, not a role.
    input_series.append({"series": labels("up", cluster="c", instance="d", job="node"),
                         "values": "1x15"})
    expr_tests = []
    for (name, title, instance), by_ref in ENSEMBLE_EXPECTED.items():
        panel = next(p for p in query_panels(DASHBOARDS[name]) if p["title"] == title)
        values = {"cluster": "c", "instance": instance, "__rate_interval": "5m"}
        for target in panel["targets"]:
            expr_tests.append({
                "expr": substitute(target["expr"], values), "eval_time": "10m",
                "exp_samples": [{"labels": lbl, "value": v} for lbl, v in by_ref[target["refId"]]],
            })
    spec = {"rule_files": [], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": input_series,
                       "promql_expr_test": expr_tests}]}
    path = tmp_path / "ensemble.test.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
