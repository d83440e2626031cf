"""End to end on an ensemble: `zookube-operator --local` runs examples/zkcluster.yaml (3 voters and
1 observer) as local zookube-server processes; a real Prometheus scrapes every member and the
operator every second and evaluates the alert rules; the leader is killed with SIGKILL and the
ensemble elects another while the operator starts the dead member again; then kazoo load on every
member, and every dashboard panel through Prometheus's HTTP API: each returns data (the
ensemble-only ones included), the roles and quorum panels agree with the spec and with each
member's own `srvr`, the operator's metrics agree with what the members export, and the alert
rules evaluate cleanly and stay quiet once the ensemble is healthy again.

Member and operator ports come from the operator's ensemble.json; nothing is hard-coded but the
example's shape, which the tests read from the spec.
"""

import collections
import os
import signal
import sys

import pytest
from kazoo.client import KazooClient

from e2e_common import (PANELS, SCRAPE_DEADLINE_S, evaluated_rules, exprs, finite_samples,
                        find_panel, generate_load, grafana_all, panel_id, scraped_metrics,
                        template_variables, wait_scraped)
from known_gaps import ENSEMBLE_ONLY
from metrics_files import LEADER_PANELS, RULES
from prometheus_proc import Prometheus, static_job

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "integration"))
import harness  # noqa: E402
from test_operator_local import OPERATOR, LocalCluster, pid_alive  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists(OPERATOR),
                                reason="needs zookube-operator and zookube-server built")

MEMBER_JOB = "zookube"
OPERATOR_JOB = "zookube-operator"
WAIT_S = 60.0
LOAD_NODES = 10
# Grafana's $__rate_interval for these panels: long enough to hold the whole test, so the
# election the rate panels need stays inside the window on a slow machine.
RATE_INTERVAL = "2m"
ROLE_CODES = {"leader": 4, "follower": 3, "observer": 2}  # the dashboards' value mappings
ELECTION_PANEL = ("zookube-member.json", "Leader election time")


def available(status):
    return any(c["type"] == "Available" and c["status"] == "True"
               for c in status.get("conditions", []))


class Ensemble:
    def __init__(self, cluster, prom):
        self.cluster, self.prom = cluster, prom
        spec = cluster.spec["spec"]
        self.name = cluster.spec["metadata"]["name"]
        self.voters, self.observers = spec["voters"], spec["observers"]
        self.members = []  # ensemble.json's members once healthy after the election
        self.killed = None  # the member that led before the election
        self.leader_changes_before = None  # the operator's counter then
        self.cluster_znodes = None  # as a client counts them after the load

    def wait_healthy(self, extra=lambda members: True):
        def ready():
            members = self.cluster.healthy(self.observers, self.voters)
            ok = members and available(self.cluster.status()) and extra(members)
            return members if ok else None

        self.members = harness.wait_until(ready, timeout=WAIT_S, interval=0.1,
                                          what=f"{self.name} Available with every member serving")
        return self.members

    def instance(self, member):
        return member["metrics"]

    def member_at(self, instance):
        return next(m for m in self.members if m["metrics"] == instance)

    def role_of(self, role):
        return [m for m in self.members if m["role"] == role]

    def sel(self, **labels):
        pairs = {"cluster": self.name, "job": MEMBER_JOB, **labels}
        return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(pairs.items())) + "}"

    def op_sel(self, **labels):
        return self.sel(job=OPERATOR_JOB, **labels)

    def exprs(self, panel, instance):
        return exprs(panel, {"cluster": self.name, "instance": instance,
                             "__rate_interval": RATE_INTERVAL})

    def by(self, expr, label="instance"):
        """{label value: sample value} of an instant query."""
        return {r["metric"].get(label, ""): float(r["value"][1]) for r in self.prom.query(expr)}

    def value(self, expr):
        result = self.prom.query(expr)
        assert len(result) == 1, f"{expr}: {result}"
        return float(result[0]["value"][1])

    def all_instances(self):
        return grafana_all(self.instance(m) for m in self.members)


def kill_the_leader(ens):
    """SIGKILLs the leader once Prometheus has seen it lead, and waits for the ensemble, the
    operator and Prometheus to agree on a healthy ensemble again."""
    (leader,) = ens.role_of("leader")
    ens.prom.wait_until(
        lambda: ens.by(f"leader_uptime{ens.sel()}").keys() == {ens.instance(leader)}
        and ens.by(f"zookube_leader_id{ens.op_sel()}", "cluster") == {ens.name: leader["id"]},
        SCRAPE_DEADLINE_S, "Prometheus to see the first leader")
    ens.leader_changes_before = ens.value(f"zookube_leader_changes_total{ens.op_sel()}")
    ens.killed = leader
    os.kill(leader["pid"], signal.SIGKILL)

    def restarted(members):
        again = next(m for m in members if m["name"] == leader["name"])
        return again["pid"] != leader["pid"] and not pid_alive(leader["pid"])

    ens.wait_healthy(restarted)
    (new_leader,) = ens.role_of("leader")
    ens.prom.wait_until(lambda: recovered_in_prometheus(ens, new_leader), SCRAPE_DEADLINE_S,
                        "Prometheus to see the ensemble healthy after the election")


def recovered_in_prometheus(ens, leader):
    survivors = [ens.instance(m) for m in ens.members if m["name"] != ens.killed["name"]]
    elected = ens.by(f"changes(election_time_count{ens.sel()}[{RATE_INTERVAL}]) > 0")
    # Aggregations carry no instance label: by() keys them "" (and finds nothing while empty).
    return (ens.by(f"leader_uptime{ens.sel()}").keys() == {ens.instance(leader)}
            and ens.by(f"synced_followers{ens.sel()}") == {ens.instance(leader): ens.voters - 1}
            and ens.by(f"sum(synced_observers{ens.sel()})") == {"": ens.observers}
            and ens.by(f"count(znode_count{ens.sel()})") == {"": len(ens.members)}
            and ens.by(f"zookube_leader_id{ens.op_sel()}", "cluster") == {ens.name: leader["id"]}
            and ens.by(f"sum(zookube_member_ready{ens.op_sel()})") == {"": len(ens.members)}
            and set(survivors) <= elected.keys())


def load_every_member(ens, clients):
    """Kazoo load through each member's own client port; waits until Prometheus has scraped
    every member after it."""
    for m in ens.members:
        client = KazooClient(hosts=m["client"], timeout=10)
        clients.append(client)
        client.start(timeout=15)
        generate_load(client, f"/e2e-{m['name']}", LOAD_NODES)
    ens.cluster_znodes = count_znodes(clients[0])
    for m in ens.members:
        now = scraped_metrics(ens.instance(m))
        sel = ens.sel(instance=ens.instance(m))
        for name in ("readlatency_count", "updatelatency_count", "packets_received"):
            assert now[name] > 0, f"{m['name']}: {name} {now[name]} after its load"
            ens.prom.wait_until(lambda: ens.prom.query(f"{name}{sel} >= {now[name]}"),
                                SCRAPE_DEADLINE_S, f"Prometheus to scrape {name} of {m['name']}")
    # Gauges are published on the member's tick: wait for the tree and the watches to show.
    gauges = {"znode_count": ens.cluster_znodes, "watch_count": LOAD_NODES + 1,
              "ephemerals_count": len(ens.members)}
    for name, want in gauges.items():
        ens.prom.wait_until(
            lambda: len(ens.prom.query(f"{name}{ens.sel()} >= {want}")) == len(ens.members),
            SCRAPE_DEADLINE_S, f"every member's {name} to reach {want}")


def count_znodes(client):
    """znode_count as ZooKeeper reports it for the tree a client sees: its node table holds the
    root twice (as "" and as its alias "/"), and znode_count is that table's size."""
    client.sync("/")
    pending, seen = ["/"], 1
    while pending:
        path = pending.pop()
        seen += 1
        pending += [f"{path.rstrip('/')}/{c}" for c in client.get_children(path)]
    return seen


@pytest.fixture(scope="module")
def ens(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("metrics-ensemble")
    cluster = LocalCluster(workdir)
    prom, clients = None, []
    try:
        cluster.start_operator()
        ensemble = Ensemble(cluster, None)
        members = ensemble.wait_healthy()
        jobs = [static_job(MEMBER_JOB, [m["metrics"] for m in members], {"cluster": ensemble.name}),
                # The operator labels its own series with the cluster; a target label would clash.
                static_job(OPERATOR_JOB, [cluster.ensemble()["operator_metrics"]], {})]
        prom = Prometheus(str(workdir), harness.free_port(), jobs, [RULES])
        ensemble.prom = prom.start()
        wait_scraped(prom, f'{{job=~"{MEMBER_JOB}|{OPERATOR_JOB}"}}', len(members) + 1)
        kill_the_leader(ensemble)
        load_every_member(ensemble, clients)
        yield ensemble
    except Exception:
        print(f"operator output:\n{cluster.output()[-6000:]}")
        if prom:
            print(f"prometheus log:\n{prom.log_tail()}")
        raise
    finally:
        for client in clients:
            client.stop()
            client.close()
        if prom:
            prom.stop()
        cluster.cleanup()


def params(dashboard):
    out = []
    for name, panel in PANELS:
        if name != dashboard:
            continue
        reason = ENSEMBLE_ONLY.get((name, panel["title"]))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param((name, panel), marks=marks, id=panel_id((name, panel))))
    return out


def test_every_member_and_the_operator_are_scraped(ens):
    up = ens.by(f'up{{job=~"{MEMBER_JOB}|{OPERATOR_JOB}"}}')
    want = {ens.instance(m): 1 for m in ens.members}
    want[ens.cluster.ensemble()["operator_metrics"]] = 1
    assert up == want


@pytest.mark.parametrize("dashboard", ["zookube-overview.json", "zookube-member.json"])
def test_template_variables_list_every_member(ens, dashboard):
    assert template_variables(ens.prom, dashboard, ens.name) == {
        "cluster": [ens.name], "instance": sorted(ens.instance(m) for m in ens.members)}


@pytest.mark.parametrize("item", params("zookube-overview.json"))
def test_overview_panel_returns_data_for_all_members(ens, item):
    _, panel = item
    for ref, expr in ens.exprs(panel, ens.all_instances()):
        result = ens.prom.query(expr)
        assert finite_samples(result), f"{panel['title']} {ref}: no data for {expr!r}: {result}"


def members_for(ens, name, panel):
    """The members a member-dashboard panel must show data for: the leader for its own gauges,
    members that lived through the election for the election time, every member otherwise."""
    if (name, panel["title"]) in LEADER_PANELS:
        return ens.role_of("leader")
    if (name, panel["title"]) == ELECTION_PANEL:
        # The restarted member's only election may fall before its first scrape.
        return [m for m in ens.members if m["name"] != ens.killed["name"]]
    return ens.members


@pytest.mark.parametrize("item", params("zookube-member.json"))
def test_member_panel_returns_data(ens, item):
    name, panel = item
    missing = []
    for m in members_for(ens, name, panel):
        for ref, expr in ens.exprs(panel, ens.instance(m)):
            if not finite_samples(ens.prom.query(expr)):
                missing.append(f"{m['name']} ({m['role']}) {ref}: {expr}")
    assert missing == []


def role_codes(ens, dashboard, title, instance):
    (_, expr), = ens.exprs(find_panel(dashboard, title), instance)
    return ens.by(expr)


def test_roles_one_leader_followers_and_observers(ens):
    want = {ens.instance(m): ROLE_CODES[m["role"]] for m in ens.members}
    assert collections.Counter(want.values()) == {4: 1, 3: ens.voters - 1, 2: ens.observers}
    assert role_codes(ens, "zookube-overview.json", "Member roles", ens.all_instances()) == want
    for m in ens.members:
        instance = ens.instance(m)
        assert role_codes(ens, "zookube-member.json", "Role", instance) == {
            instance: want[instance]}
        port = int(m["client"].rsplit(":", 1)[1])
        assert f"Mode: {m['role']}\n" in harness.four_letter(port, "srvr")


def test_leader_gauges_only_on_the_leader(ens):
    (leader,) = ens.role_of("leader")
    for metric in ("leader_uptime", "learners", "synced_followers", "pending_syncs",
                   "last_proposal_size"):
        assert ens.by(f"{metric}{ens.sel()}").keys() == {ens.instance(leader)}, metric
    # The leader's learners: every follower and observer.
    assert ens.value(f"learners{ens.sel()}") == ens.voters - 1 + ens.observers
    assert ens.by(f"quorum_size{ens.sel()}") == {ens.instance(m): ens.voters
                                                  for m in ens.members}


def test_data_panels_count_what_the_clients_did(ens):
    """Every member holds the whole tree; watches live where their client is connected."""
    every = set(ens.instance(m) for m in ens.members)
    znodes = ens.cluster_znodes
    assert per_instance(ens, "Znodes") == {i: znodes for i in every}
    assert per_instance(ens, "Watches") == {i: LOAD_NODES + 1 for i in every}
    (_, watches), (_, ephemerals) = ens.exprs(
        find_panel("zookube-member.json", "Watches and ephemerals"), ens.all_instances())
    assert ens.by(ephemerals) == {i: len(ens.members) for i in every}
    assert min(per_instance(ens, "Client connections").values()) >= 1


def per_instance(ens, title):
    (_, expr), = ens.exprs(find_panel("zookube-overview.json", title), ens.all_instances())
    return ens.by(expr)


def panel_values(ens, title):
    return {ref: ens.value(expr) for ref, expr in
            ens.exprs(find_panel("zookube-overview.json", title), ens.all_instances())}


def test_quorum_panels_agree_with_the_spec_and_the_operator(ens):
    status = ens.cluster.status()
    assert status["voters"] == ens.voters and status["observers"] == ens.observers
    assert panel_values(ens, "Members serving") == {"A": ens.voters + ens.observers}
    assert panel_values(ens, "Voters") == {"A": ens.voters}
    assert panel_values(ens, "Voters in sync") == {"A": ens.voters}
    assert panel_values(ens, "Synced observers") == {"A": ens.observers}
    assert panel_values(ens, "Quorum health") == {
        "A": ens.voters, "B": status["quorumSize"], "C": ens.voters}


def test_leader_panels_show_the_election(ens):
    (leader,) = ens.role_of("leader")
    (_, expr), = ens.exprs(find_panel("zookube-overview.json", "Leader"), ens.all_instances())
    assert ens.by(expr).keys() == {ens.instance(leader)}
    # The first leader and the one elected after it (or the same member again: its uptime reset).
    assert panel_values(ens, "Leader changes (15m)") == {"A": 1}
    (_, expr), = ens.exprs(find_panel("zookube-overview.json", "Leader election time"),
                           ens.all_instances())
    times = ens.by(expr)
    survivors = {ens.instance(m) for m in ens.members if m["name"] != ens.killed["name"]}
    assert survivors <= {i for i, t in times.items() if t >= 0}, times


def test_operator_metrics_agree_with_the_members(ens):
    codes = role_codes(ens, "zookube-overview.json", "Member roles", ens.all_instances())
    by_code = collections.Counter(codes.values())
    members = ens.by(f"zookube_members{ens.op_sel()}", "role")
    assert {r: members[r] for r in ROLE_CODES} == {r: by_code[c] for r, c in ROLE_CODES.items()}
    assert members.get("standalone", 0) == 0
    ready = ens.by(f"zookube_member_ready{ens.op_sel()}", "member")
    assert ready == {m["name"]: 1 for m in ens.members}
    assert ens.value(f"count(znode_count{ens.sel()})") == sum(ready.values())
    # The operator's current leader is the member that exports leader_uptime.
    (leader_instance,) = ens.by(f"leader_uptime{ens.sel()}").keys()
    leader = ens.member_at(leader_instance)
    assert ens.by(f"zookube_member_up{ens.op_sel(role='leader')} == 1", "member").keys() == {
        leader["name"]}
    for m in ens.members:
        up = ens.by(f"zookube_member_up{ens.op_sel(member=m['name'])} == 1", "role")
        assert up.keys() == {m["role"]}, m["name"]
    assert ens.value(f"zookube_leader_id{ens.op_sel()}") == leader["id"]
    sync = panel_values(ens, "Quorum health")
    assert ens.value(f"zookube_quorum_healthy{ens.op_sel()}") == (sync["A"] >= sync["B"]) == 1
    # The panel counts elections (leader_uptime resets); the operator's counter counts moves, so
    # the killed leader, restarted by the operator in time to win the election again, is an
    # election but not a move.
    moved = leader["name"] != ens.killed["name"]
    changes = ens.value(f"zookube_leader_changes_total{ens.op_sel()}")
    assert changes - ens.leader_changes_before == moved
    assert panel_values(ens, "Leader changes (15m)")["A"] == 1
    assert ens.value(f"rate(zookube_operator_reconcile_total{ens.op_sel()}[{RATE_INTERVAL}])") > 0


def test_alert_rules_evaluate_cleanly_and_stay_quiet_on_the_healthy_ensemble(ens):
    rules = ens.prom.wait_until(lambda: evaluated_rules(ens.prom), SCRAPE_DEADLINE_S,
                                "a rule evaluation")
    assert [r for r in rules if r["health"] != "ok"] == []
    # The election may make alerts pending for a moment (no leader, a follower syncing): they
    # clear once the ensemble is whole, and none of them ever fired.
    try:
        ens.prom.wait_until(lambda: not ens.prom.api("alerts")["alerts"], SCRAPE_DEADLINE_S,
                            "no alert pending or firing", interval=0.5)
    except TimeoutError:
        pass
    assert ens.prom.api("alerts")["alerts"] == []
    assert ens.prom.query('ALERTS{alertstate="firing"}[10m]') == []
