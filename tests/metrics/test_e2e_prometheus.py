"""End to end: a real zookube-server with its Prometheus endpoint, a real Prometheus scraping it
every second and evaluating the alert rules, a little kazoo load, and then every dashboard
query through Prometheus's HTTP API.

The panels only an ensemble fills (metrics_files.ENSEMBLE_PANELS) must come back empty here: a
standalone server that exported ensemble gauges would break the role inference. test_e2e_ensemble
checks that they return data on a real ensemble. Panels in known_gaps.NOT_OBSERVED_YET are strict
xfails until the server feeds those summaries.
"""

import json
import os
import subprocess
import sys

import pytest
from kazoo.client import KazooClient

from e2e_common import (DASHBOARDS, PANELS, SCRAPE_DEADLINE_S, evaluated_rules, exprs,
                        finite_samples, find_panel, generate_load, panel_id, template_variables,
                        wait_scraped)
from known_gaps import ENSEMBLE_ONLY, NOT_OBSERVED_YET
from metrics_files import ENSEMBLE_PANELS, RULES
from prometheus_proc import Prometheus, static_job

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import harness  # noqa: E402
import zkwire  # noqa: E402
from test_zkcli import zkcli  # noqa: E402

CLUSTER = "e2e"
LOAD_NODES = 20
RATE_INTERVAL = "1m"  # what Grafana's $__rate_interval would be; the load is well inside it
STANDALONE_PANELS = [item for item in PANELS if (item[0], item[1]["title"]) not in ENSEMBLE_PANELS]


def with_known_gaps(items):
    out = []
    for name, panel in items:
        reason = NOT_OBSERVED_YET.get((name, panel["title"]))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param((name, panel), marks=marks, id=panel_id((name, panel))))
    return out


class Stack:
    def __init__(self, server, prom, client, instance, admin_port):
        self.server, self.prom, self.client, self.instance = server, prom, client, instance
        self.admin_port = admin_port

    def exprs(self, panel):
        return exprs(panel, {"cluster": CLUSTER, "instance": self.instance,
                             "__rate_interval": RATE_INTERVAL})

    def value(self, expr):
        result = self.prom.query(expr)
        assert len(result) == 1, f"{expr}: {result}"
        return float(result[0]["value"][1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("metrics-e2e")
    metrics_port = harness.free_port()
    admin_port = harness.free_port()
    # tickTime 2000 allows 40 s sessions for the connection test; gauges publish every tick/2.
    # The AdminServer is on, as the image runs it.
    server = harness.Server(str(workdir / "zookube"), tick_ms=2000,
                            metricsProvider__httpPort=metrics_port,
                            metricsProvider__httpHost="127.0.0.1",
                            admin__enableServer="true", admin__serverPort=admin_port,
                            admin__serverAddress="127.0.0.1")
    server.impl = "zookube"  # Debian's ZooKeeper has no Prometheus provider to compare with
    instance = f"127.0.0.1:{metrics_port}"
    prom = Prometheus(str(workdir), harness.free_port(),
                      [static_job("zookube", [instance], {"cluster": CLUSTER})], [RULES])
    client = KazooClient(hosts=server.hosts, timeout=10)
    try:
        server.start()
        prom.start()
        stack = Stack(server, prom, client, instance, admin_port)
        # Load only after two scrapes, so that rates over the window see the counters grow.
        wait_scraped(prom, f'{{cluster="{CLUSTER}"}}', 1)
        client.start(timeout=10)
        generate_load(client, "/e2e", LOAD_NODES)
        sel = f'{{cluster="{CLUSTER}", instance="{instance}"}}'
        prom.wait_until(
            lambda: prom.query(f"packets_received{sel} >= {3 * LOAD_NODES}")
            and prom.query(f"znode_count{sel} >= {LOAD_NODES + 2}")
            and prom.query(f"ephemerals_count{sel} >= 1")
            and prom.query(f"watch_count{sel} >= {LOAD_NODES + 1}"),
            SCRAPE_DEADLINE_S, "the load to show in Prometheus")
        yield stack
    except Exception:
        print(f"zookube log:\n{server.log_tail()}\nprometheus log:\n{prom.log_tail()}")
        raise
    finally:
        client.stop()
        client.close()
        prom.stop()
        server.stop()


def test_panel_lists_name_real_panels():
    titles = {(name, panel["title"]) for name, panel in PANELS}
    assert set(ENSEMBLE_PANELS) <= titles
    assert set(NOT_OBSERVED_YET) <= titles
    assert set(ENSEMBLE_ONLY) <= set(ENSEMBLE_PANELS)


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_template_variables_find_the_member(stack, name):
    assert template_variables(stack.prom, name, CLUSTER) == {"cluster": [CLUSTER],
                                                             "instance": [stack.instance]}


@pytest.mark.parametrize("item", with_known_gaps(STANDALONE_PANELS))
def test_panel_query_returns_data(stack, item):
    name, panel = item
    for ref, expr in stack.exprs(panel):
        result = stack.prom.query(expr)
        assert finite_samples(result), f"{panel['title']} {ref}: no data for {expr!r}: {result}"


@pytest.mark.parametrize("item", [i for i in PANELS if (i[0], i[1]["title"]) in ENSEMBLE_PANELS],
                         ids=panel_id)
def test_ensemble_panel_is_empty_on_a_standalone_server(stack, item):
    # Counted stats (count() - 1 + sum()) are empty too: no leader_uptime series to count.
    for ref, expr in stack.exprs(item[1]):
        assert not finite_samples(stack.prom.query(expr)), f"{item[1]['title']} {ref}: {expr}"


def test_role_panel_says_standalone(stack):
    (_, expr), = stack.exprs(find_panel("zookube-member.json", "Role"))
    assert stack.value(expr) == 1  # the "standalone" value mapping


def test_panels_count_what_the_load_did(stack):
    sel = f'{{cluster="{CLUSTER}", instance="{stack.instance}"}}'
    # /, /zookeeper, /zookeeper/quota, /zookeeper/config, /e2e, its nodes and the ephemeral.
    assert stack.value(f"znode_count{sel}") >= LOAD_NODES + 2
    assert stack.value(f"num_alive_connections{sel}") >= 1
    assert stack.value(f"global_sessions{sel}") >= 1
    assert stack.value(f"rate(packets_received{sel}[{RATE_INTERVAL}])") > 0
    assert stack.value(f"watch_count{sel}") >= LOAD_NODES + 1


def test_summaries_count_what_the_load_did(stack):
    sel = f'{{cluster="{CLUSTER}", instance="{stack.instance}"}}'
    assert stack.value(f"rate(updatelatency_count{sel}[{RATE_INTERVAL}])") > 0
    assert stack.value(f"rate(readlatency_count{sel}[{RATE_INTERVAL}])") > 0
    assert stack.value(f"rate(fsynctime_count{sel}[{RATE_INTERVAL}])") > 0


def test_alert_rules_evaluate_cleanly_and_stay_quiet_on_a_healthy_server(stack):
    rules = stack.prom.wait_until(lambda: evaluated_rules(stack.prom), SCRAPE_DEADLINE_S,
                                  "a rule evaluation")
    assert [r for r in rules if r["health"] != "ok"] == []
    assert stack.prom.api("alerts")["alerts"] == []


def test_too_many_connections_alert_goes_pending(stack):
    clients = []
    try:
        for _ in range(55):
            clients.append(zkwire.WireClient(stack.server.port, timeout_ms=40000))

        def pending():
            alerts = stack.prom.api("alerts")["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "ZookubeTooManyConnections"]

        (alert,) = stack.prom.wait_until(pending, SCRAPE_DEADLINE_S, "the connections alert")
        assert alert["state"] == "pending"  # `for: 5m` has not passed
        assert alert["labels"]["reason"] == "connections"
        assert alert["labels"]["instance"] == stack.instance
        assert float(alert["value"]) >= 55
    finally:
        for c in clients:
            c.close()


QUOTA_FAMILIES = ("quota_count_limit_per_namespace", "quota_bytes_limit_per_namespace",
                  "quota_count_usage_per_namespace", "quota_bytes_usage_per_namespace")


def test_curl_and_prometheus_read_the_same_quota_figures(stack):
    """One tenant's quota, set as zkCli sets it: the AdminServer's monitor command read with
    curl and the Prometheus families (label "key", as ZooKeeper's provider names it) agree."""
    stack.client.create("/tenant", b"")
    zkcli(stack.server, "setquota -n 50 /tenant")
    for i in range(5):
        stack.client.create(f"/tenant/n{i}", b"x" * 10)
    sel = f'{{cluster="{CLUSTER}", instance="{stack.instance}", key="tenant"}}'
    stack.prom.wait_until(
        lambda: stack.prom.query(f"quota_count_usage_per_namespace{sel} == 6"),
        SCRAPE_DEADLINE_S, "the tenant's usage to show in Prometheus")
    out = subprocess.run(["curl", "-sS", "--max-time", "10",
                          f"http://127.0.0.1:{stack.admin_port}/commands/monitor"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    monitor = json.loads(out)
    from_curl = {family: float(monitor[f"tenant_{family}"]) for family in QUOTA_FAMILIES}
    assert from_curl == {"quota_count_limit_per_namespace": 50.0,
                         "quota_bytes_limit_per_namespace": -1.0,
                         "quota_count_usage_per_namespace": 6.0,
                         "quota_bytes_usage_per_namespace": 50.0}
    assert {family: stack.value(f"{family}{sel}") for family in QUOTA_FAMILIES} == from_curl
