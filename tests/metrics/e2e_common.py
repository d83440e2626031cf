"""What the standalone and the ensemble end-to-end tests share: the dashboards' query panels,
turning a panel into the PromQL Grafana would send, a little kazoo load, and waits on Prometheus
with deadlines."""

import math
import re
import urllib.request

from metrics_files import load_dashboards, query_panels, substitute

SCRAPE_DEADLINE_S = 30.0

DASHBOARDS = load_dashboards()
PANELS = [(name, panel) for name, d in sorted(DASHBOARDS.items()) for panel in query_panels(d)]


def panel_id(item):
    name, panel = item
    return f"{name.removesuffix('.json')}:{panel['title']}"


def find_panel(name, title):
    return next(p for n, p in PANELS if n == name and p["title"] == title)


def exprs(panel, values):
    """[(refId, PromQL)] of a panel with Grafana's variables replaced by `values`."""
    return [(t["refId"], substitute(t["expr"], values)) for t in panel["targets"]]


def grafana_all(options):
    """What Grafana puts in a multi-value variable's "All" (no allValue) for a Prometheus query:
    every option regex-escaped, as one alternation, inside a PromQL string."""
    escaped = (re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\\\1", o) for o in sorted(options))
    return "(" + "|".join(escaped) + ")"


def finite_samples(result):
    return [float(r["value"][1]) for r in result if math.isfinite(float(r["value"][1]))]


def generate_load(client, base, nodes):
    """Creates, changes, reads and watches `nodes` znodes under `base`, plus one ephemeral."""
    client.ensure_path(base)
    for i in range(nodes):
        client.create(f"{base}/n{i}", f"value {i}".encode())
        client.set(f"{base}/n{i}", f"changed {i}".encode())
        client.get(f"{base}/n{i}", watch=lambda event: None)
    client.create(f"{base}/ephemeral", b"", ephemeral=True)
    client.get_children(base, watch=lambda event: None)  # after the create, which would fire it


def scraped_metrics(address):
    """{name: value} of the unlabelled samples a /metrics endpoint serves now."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#") and "{" not in parts[0]:
            out[parts[0]] = float(parts[1])
    return out


def wait_scraped(prom, selector, targets, scrapes=2):
    """Until Prometheus has scraped each of `targets` successfully at least `scrapes` times."""
    def done():
        result = prom.query(f"count_over_time(up{selector}[1m]) >= {scrapes} and up{selector} == 1")
        return len(result) == targets

    prom.wait_until(done, SCRAPE_DEADLINE_S, f"{scrapes} scrapes of {targets} targets {selector}")


def evaluated_rules(prom):
    """Every rule of every group once evaluated, or None."""
    rules = [r for g in prom.api("rules")["groups"] for r in g["rules"]]
    done = all(r.get("lastEvaluation", "").startswith("20") for r in rules)
    return rules if rules and done else None


def template_variables(prom, dashboard, cluster):
    """{variable: options} of a dashboard's query variables as Grafana would list them."""
    found = {}
    for var in DASHBOARDS[dashboard]["templating"]["list"]:
        if var["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.+), (\w+)\)", var["query"]["query"])
        selector = substitute(match.group(1), {"cluster": cluster})
        found[var["name"]] = prom.api(f"label/{match.group(2)}/values", **{"match[]": selector})
    return found
