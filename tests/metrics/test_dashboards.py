"""The Grafana dashboards are well-formed: what the generator writes, templated on the data source,
cluster and member, every query panel with a data source and PromQL targets, unique ids, and
panels that do not overlap."""

import os
import subprocess
import sys

import pytest

from metrics_files import DASHBOARD_DIR, load_dashboards, query_panels, substitute

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
