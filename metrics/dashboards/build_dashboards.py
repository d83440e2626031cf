#!/usr/bin/env python3
"""Writes the zookube Grafana dashboards (zookube-overview.json, zookube-member.json).

The JSON files are committed; edit this script and run it again rather than editing them:
    /usr/bin/python3 metrics/dashboards/build_dashboards.py
tests/metrics checks that the committed files are what this script writes.

Queries use the metric names of ZooKeeper's PrometheusMetricsProvider, which zookube exports.
ZooKeeper has no role gauge: a member's role shows in which gauges it exports (see ROLE_EXPR).
Every member target must carry `cluster` and `instance` labels (metrics/README.md).
"""

import json
import os
import sys

DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
HERE = os.path.dirname(os.path.abspath(__file__))


def sel(extra=""):
    """The label matchers of one dashboard's members, plus extra matchers."""
    base = 'cluster="$cluster", instance=~"$instance"'
    return "{" + base + (", " + extra if extra else "") + "}"


def quantile(q):
    return f'quantile="{q}"'


# Role code per member: 4 leader, 3 follower, 2 observer, 1 standalone, 0 up but not serving
# (electing or syncing), -1 down. `or` keeps the first match, so the order decides. Members are
# told from other targets with the same labels (a node_exporter sidecar) by readlatency_count,
# which ZooKeeper's provider and zookube export from start, serving or not.
ROLE_EXPR = (
    "max by (instance) (\n"
    f"  (leader_uptime{sel()} * 0 + 4)\n"
    f"  or (synced_observers{sel()} * 0 + 3)\n"
    f"  or (quorum_size{sel()} * 0 + 2)\n"
    f"  or (znode_count{sel()} * 0 + 1)\n"
    f"  or ((up{sel()} - 1) and on (job, cluster, instance)"
    f" max_over_time(readlatency_count{sel()}[1h]))\n"
    ")"
)

ROLE_MAPPINGS = [{
    "type": "value",
    "options": {
        "-1": {"text": "down", "color": "red", "index": 0},
        "0": {"text": "electing", "color": "orange", "index": 1},
        "1": {"text": "standalone", "color": "blue", "index": 2},
        "2": {"text": "observer", "color": "purple", "index": 3},
        "3": {"text": "follower", "color": "green", "index": 4},
        "4": {"text": "leader", "color": "dark-green", "index": 5},
    },
}]

RATE = "$__rate_interval"


def target(expr, legend, ref):
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref, "range": True}


class Layout:
    """Places panels left to right on Grafana's 24-column grid and numbers them."""

    def __init__(self):
        self.panels = []
        self.x = 0
        self.y = 0
        self.row_h = 0

    def _place(self, w, h):
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        pos = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title):
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        self.panels.append({
            "id": len(self.panels) + 1, "type": "row", "title": title, "collapsed": False,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": [],
        })
        self.y += 1

    def add(self, kind, title, description, queries, w, h, unit="short", options=None,
            mappings=None, custom=None):
        targets = [target(expr, legend, chr(ord("A") + i))
                   for i, (expr, legend) in enumerate(queries)]
        steps = [{"color": "green", "value": None}]
        defaults = {"unit": unit, "mappings": mappings or [],
                    "thresholds": {"mode": "absolute", "steps": steps}}
        if custom is not None:
            defaults["custom"] = custom
        self.panels.append({
            "id": len(self.panels) + 1, "type": kind, "title": title, "description": description,
            "datasource": DS, "gridPos": self._place(w, h), "targets": targets,
            "fieldConfig": {"defaults": defaults, "overrides": []}, "options": options or {},
        })


def stat(layout, title, description, queries, unit="short", mappings=None, w=4, text="value"):
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "value", "graphMode": "none", "justifyMode": "auto",
               "orientation": "auto", "textMode": text}
    layout.add("stat", title, description, queries, w, 4, unit, options, mappings)


def series(layout, title, description, queries, unit="short", w=12):
    options = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
               "tooltip": {"mode": "multi", "sort": "none"}}
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 0, "showPoints": "never",
              "spanNulls": False}
    layout.add("timeseries", title, description, queries, w, 8, unit, options, custom=custom)


def roles_timeline(layout, w=24, h=6):
    options = {"mergeValues": True, "showValue": "auto", "alignValue": "left", "rowHeight": 0.9,
               "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
               "tooltip": {"mode": "single", "sort": "none"}}
    layout.add("state-timeline", "Member roles",
               "Role of each member over time, inferred from the gauges it exports: leader "
               "(leader_uptime), follower (synced_observers), observer (quorum_size only), "
               "standalone (no quorum_size), electing (up but not serving), down.",
               [(ROLE_EXPR, "{{instance}}")], w, h, "none", options, ROLE_MAPPINGS,
               custom={"fillOpacity": 80, "lineWidth": 0})


def variables(instance_multi):
    ds_var = {"name": "DS_PROMETHEUS", "label": "Data source", "type": "datasource",
              "query": "prometheus", "current": {}, "hide": 0, "refresh": 1, "regex": "",
              "options": []}

    def query_var(name, label, query, multi):
        return {"name": name, "label": label, "type": "query", "datasource": DS,
                "definition": query, "query": {"query": query, "refId": f"{name}-var"},
                "refresh": 2, "sort": 1, "multi": multi, "includeAll": multi,
                "current": {}, "hide": 0, "options": [], "regex": ""}

    return {"list": [
        ds_var,
        query_var("cluster", "Cluster", "label_values(readlatency_count, cluster)", False),
        query_var("instance", "Member",
                  'label_values(readlatency_count{cluster="$cluster"}, instance)',
                  instance_multi),
    ]}


def dashboard(uid, title, description, layout, instance_multi):
    return {
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [{"title": "zookube dashboards", "type": "dashboards", "tags": ["zookube"],
                   "asDropdown": True, "includeVars": True, "keepTime": True}],
        "panels": layout.panels,
        "refresh": "30s",
        "schemaVersion": 38,
        "tags": ["zookube", "zookeeper"],
        "templating": variables(instance_multi),
        "time": {"from": "now-3h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


def ensemble_health(d):
    c = '{cluster="$cluster"}'
    d.row("Ensemble health")
    stat(d, "Members serving", "Members that serve clients now (export znode_count).",
         [(f"count(znode_count{c})", "serving")])
    stat(d, "Voters", "Voting members of the ensemble (quorum_size).",
         [(f"max(quorum_size{c})", "voters")])
    stat(d, "Voters in sync", "The leader and its synced followers; the ensemble needs a "
         "majority of the voters.", [(f"max(synced_followers{c}) + 1", "in sync")])
    stat(d, "Synced observers", "Observers synced with the leader or an observer master.",
         [(f"sum(synced_observers{c})", "observers")])
    stat(d, "Leader", "The member that leads, and for how long.",
         [(f"max by (instance) (leader_uptime{c})", "{{instance}}")], unit="ms",
         text="value_and_name")
    stat(d, "Leader changes (15m)", "Distinct leaders in 15 minutes minus one, plus "
         "re-elections of the same member.",
         [(f"count(max_over_time(leader_uptime{c}[15m])) - 1"
           f" + sum(resets(leader_uptime{c}[15m]))", "changes")])
    roles_timeline(d)
    series(d, "Quorum health", "Voters in sync against the majority the ensemble needs.",
           [(f"max(synced_followers{c}) + 1", "voters in sync"),
            (f"floor(max(quorum_size{c}) / 2) + 1", "majority"),
            (f"max(quorum_size{c})", "voters")])
    series(d, "Leader election time", "Mean time of the leader elections in the interval.",
           [(f"sum by (instance) (rate(election_time_sum{sel()}[{RATE}]))"
             f" / sum by (instance) (rate(election_time_count{sel()}[{RATE}]))",
             "{{instance}}")], unit="ms")


def requests(d):
    d.row("Requests")
    series(d, "Request latency p99", "99th percentile of read and write latency per member "
           "(ZooKeeper's readlatency and updatelatency summaries).",
           [(f'max by (instance) (readlatency{sel(quantile("0.99"))})',
             "read {{instance}}"),
            (f'max by (instance) (updatelatency{sel(quantile("0.99"))})',
             "write {{instance}}")], unit="ms")
    series(d, "Requests per second", "Reads and writes answered per second.",
           [(f"sum by (instance) (rate(readlatency_count{sel()}[{RATE}]))", "reads {{instance}}"),
            (f"sum by (instance) (rate(updatelatency_count{sel()}[{RATE}]))",
             "writes {{instance}}")], unit="reqps")
    series(d, "Outstanding requests", "Requests received and not yet answered.",
           [(f"outstanding_requests{sel()}", "{{instance}}")])
    series(d, "Average latency", "Mean request latency since the server started.",
           [(f"avg_latency{sel()}", "{{instance}}")], unit="ms")


def data(d):
    d.row("Data")
    series(d, "Znodes", "Znodes per member; members that differ are behind the leader.",
           [(f"znode_count{sel()}", "{{instance}}")], w=8)
    series(d, "Watches", "Watches set on each member.",
           [(f"watch_count{sel()}", "{{instance}}")], w=8)
    series(d, "Data size", "Approximate size of the znodes' paths and data.",
           [(f"approximate_data_size{sel()}", "{{instance}}")], unit="bytes", w=8)


def clients_and_disk(d):
    d.row("Clients and disk")
    series(d, "Client connections", "Open client connections per member (maxClientCnxns "
           "limits them per client address).",
           [(f"num_alive_connections{sel()}", "{{instance}}")], w=8)
    series(d, "Sessions", "Sessions of the ensemble (global) as each member knows them.",
           [(f"global_sessions{sel()}", "{{instance}}")], w=8)
    series(d, "fsync time", "Mean and median transaction log fsync time.",
           [(f"rate(fsynctime_sum{sel()}[{RATE}]) / rate(fsynctime_count{sel()}[{RATE}])",
             "mean {{instance}}"),
            (f'fsynctime{sel(quantile("0.5"))}',
             "median {{instance}}")], unit="ms", w=8)


def overview():
    d = Layout()
    ensemble_health(d)
    requests(d)
    data(d)
    clients_and_disk(d)
    return dashboard("zookube-overview", "zookube / Ensemble overview",
                     "Roles, quorum, leadership, requests, data and disk of one zookube "
                     "(or ZooKeeper) ensemble.", d, instance_multi=True)


def quantiles(metric):
    return [(f'{metric}{sel(quantile(q))}', f"p{q[2:]}")
            for q in ("0.5", "0.9", "0.99")]


def member_summary(d):
    d.row("Member")
    stat(d, "Role", "Role inferred from the gauges the member exports.",
         [(ROLE_EXPR, "{{instance}}")], unit="none", mappings=ROLE_MAPPINGS)
    stat(d, "Uptime", "Time since the server started.", [(f"uptime{sel()}", "uptime")],
         unit="ms")
    stat(d, "Znodes", "Znodes in this member's tree.", [(f"znode_count{sel()}", "znodes")])
    stat(d, "Connections", "Open client connections.",
         [(f"num_alive_connections{sel()}", "connections")])
    stat(d, "Outstanding requests", "Requests not yet answered.",
         [(f"outstanding_requests{sel()}", "outstanding")])
    stat(d, "Data size", "Approximate size of the tree.",
         [(f"approximate_data_size{sel()}", "data")], unit="bytes")


def member_requests(d):
    d.row("Requests")
    series(d, "Read latency", "Read latency quantiles over the server's 10-minute window.",
           quantiles("readlatency"), unit="ms", w=8)
    series(d, "Write latency", "Write latency quantiles over the server's 10-minute window.",
           quantiles("updatelatency"), unit="ms", w=8)
    series(d, "Min / avg / max latency", "Latency since the server started (srvr's numbers).",
           [(f"min_latency{sel()}", "min"), (f"avg_latency{sel()}", "avg"),
            (f"max_latency{sel()}", "max")], unit="ms", w=8)
    series(d, "Requests per second", "Reads and writes answered per second.",
           [(f"rate(readlatency_count{sel()}[{RATE}])", "reads"),
            (f"rate(updatelatency_count{sel()}[{RATE}])", "writes")], unit="reqps", w=8)
    series(d, "Packets per second", "Client packets received and sent per second.",
           [(f"rate(packets_received{sel()}[{RATE}])", "received"),
            (f"rate(packets_sent{sel()}[{RATE}])", "sent")], unit="pps", w=8)
    series(d, "Outstanding requests", "Requests received and not yet answered.",
           [(f"outstanding_requests{sel()}", "outstanding")], w=8)


def member_resources(d):
    d.row("Clients, data and disk")
    series(d, "fsync time", "Mean and median transaction log fsync time.",
           [(f"rate(fsynctime_sum{sel()}[{RATE}]) / rate(fsynctime_count{sel()}[{RATE}])",
             "mean"),
            (f'fsynctime{sel(quantile("0.5"))}', "median")],
           unit="ms", w=8)
    series(d, "Connections and sessions", "Client connections to this member and sessions "
           "of the ensemble.",
           [(f"num_alive_connections{sel()}", "connections"),
            (f"global_sessions{sel()}", "sessions")], w=8)
    series(d, "Watches and ephemerals", "Watches set and ephemeral znodes.",
           [(f"watch_count{sel()}", "watches"), (f"ephemerals_count{sel()}", "ephemerals")],
           w=8)
    series(d, "File descriptors", "Open file descriptors against the process limit.",
           [(f"open_file_descriptor_count{sel()}", "open"),
            (f"max_file_descriptor_count{sel()}", "limit")], w=8)
    series(d, "Response size", "Size of the responses sent to clients.",
           [(f"last_client_response_size{sel()}", "last"),
            (f"min_client_response_size{sel()}", "min"),
            (f"max_client_response_size{sel()}", "max")], unit="bytes", w=8)
    series(d, "Data size", "Approximate size of the znodes' paths and data.",
           [(f"approximate_data_size{sel()}", "data")], unit="bytes", w=8)


def member_quorum(d):
    d.row("Quorum (leader and followers only)")
    series(d, "Learners", "Followers and observers connected to this leader, and how many "
           "are synced.",
           [(f"learners{sel()}", "learners"), (f"synced_followers{sel()}", "synced followers"),
            (f"synced_non_voting_followers{sel()}", "synced non-voting followers"),
            (f"synced_observers{sel()}", "synced observers")], w=8)
    series(d, "Pending syncs", "sync requests waiting on this leader.",
           [(f"pending_syncs{sel()}", "pending")], w=8)
    series(d, "Proposal size", "Size of the proposals this leader sends.",
           [(f"last_proposal_size{sel()}", "last"), (f"min_proposal_size{sel()}", "min"),
            (f"max_proposal_size{sel()}", "max")], unit="bytes", w=8)
    series(d, "Leader election time", "Mean time of this member's leader elections.",
           [(f"rate(election_time_sum{sel()}[{RATE}]) / rate(election_time_count{sel()}[{RATE}])",
             "election")], unit="ms", w=12)
    series(d, "Leader uptime", "How long this member has led.",
           [(f"leader_uptime{sel()}", "leader uptime")], unit="ms", w=12)


def member():
    d = Layout()
    member_summary(d)
    member_requests(d)
    member_resources(d)
    member_quorum(d)
    return dashboard("zookube-member", "zookube / Member",
                     "One member of a zookube (or ZooKeeper) ensemble: role, latency, load, "
                     "data, disk and, on the leader, its learners.", d, instance_multi=False)


def render(board):
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def outputs():
    return {"zookube-overview.json": render(overview()), "zookube-member.json": render(member())}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else HERE
    for name, text in outputs().items():
        with open(os.path.join(out_dir, name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
