"""What zookube's metrics endpoint costs: zookube as deployed (endpoint on, scraped once a
second) against the same build with the endpoint off, workload by workload.

The two differ by a few nanoseconds per request, so what decides whether a 5% target can be
judged is the noise between two runs, not the cost. On this shared 2-CPU machine two runs a
minute apart can differ by 2x at 1 session x 1 in flight (one process's placement and the
host's load move a latency-bound run), and one process's memory layout can shift its runs by
several percent for its whole life. So the measurement is built to cancel what it can:

- short runs in many pairs instead of one long run per side: the cost is the median of the
  pairs' own ratios, and the spread of those ratios is printed beside it;
- ABBA order (on-off, off-on, on-off, ...), so a load that rises or falls across a pair lands
  on both sides equally often;
- both processes started afresh, on empty data directories, for every pair, so no process's
  layout lasts more than one pair and both start with the same tree;
- the server not being measured frozen with SIGSTOP.
"""

import os
import shutil
import statistics

ON, OFF = "zookube", "zookube-nometrics"
PREFIX = "overhead "  # results of these runs: (server, PREFIX + workload)


def measure(workloads, pairs, start, run, freeze, workdir, record):
    """workloads: (name, load arguments); start(metrics, workdir) -> a started server;
    run(server, arguments) -> the result of one load run; freeze(server, frozen)."""
    for name, args in workloads:
        for pair in range(pairs):
            servers = {}
            try:
                for metrics, side in ((True, ON), (False, OFF)):
                    directory = os.path.join(workdir, f"{side}-{pair}")
                    shutil.rmtree(directory, ignore_errors=True)
                    os.makedirs(directory)
                    servers[side] = start(metrics, directory)
                order = (ON, OFF) if pair % 2 == 0 else (OFF, ON)
                for side in order:
                    for other in servers.values():
                        freeze(other, other is not servers[side])
                    record(side, PREFIX + name, run(servers[side], args))
            finally:
                for server in servers.values():
                    freeze(server, False)
                    server.stop()
                for side in servers:
                    shutil.rmtree(os.path.join(workdir, f"{side}-{pair}"), ignore_errors=True)


def _values(results, server, workload, key):
    return [None if "error" in r else r.get(key)
            for r in results.get((server, PREFIX + workload), [])]


def _median(values):
    ok = [v for v in values if v is not None]
    return statistics.median(ok) if ok else None


def _cost(results, workload, key, sign):
    """Median and range of the pairs' own costs in percent: sign +1 where more is worse (CPU
    per op), -1 where more is better (throughput)."""
    pairs = zip(_values(results, ON, workload, key), _values(results, OFF, workload, key))
    costs = [sign * (on / off - 1) * 100 for on, off in pairs if on is not None and off]
    if not costs:
        return "n/a"
    shown = f"{statistics.median(costs):+.1f}%"
    return shown + (f" ({min(costs):+.1f} to {max(costs):+.1f})" if len(costs) > 1 else "")


def table(results, names, per_scrape_us, scrapes_timed, fmt, settings):
    """The overhead table; fmt formats a number as the other tables do."""
    def median(server, workload, key):
        return _median(_values(results, server, workload, key))

    def expected(workload):
        """The CPU/op cost one scrape a second adds: the scrape's own CPU time over a second of
        the metrics-off runs' server CPU."""
        ops, cpu = median(OFF, workload, "ops_per_sec"), median(OFF, workload, "cpu_us_per_op")
        if per_scrape_us is None or not ops or not cpu:
            return "n/a"
        return f"+{per_scrape_us / (ops * cpu) * 100:.2f}%"

    lines = [f"**What the metrics endpoint costs: zookube as deployed (endpoint on, scraped once a"
             f" second) against the same build with it off, in {settings['overhead_pairs']} pairs"
             f" of {settings['overhead_warmup']} s + {settings['overhead_duration']} s runs per"
             " workload, ABBA order, fresh processes for each pair. Cost = throughput lost, or"
             " server CPU per op added, as the median of the pairs' own ratios (their range in"
             " brackets); the targets are <= 5% each. Expected = the CPU of one scrape"
             f" ({fmt(per_scrape_us)} µs, {scrapes_timed} reads of the idle server) per second of"
             " the metrics-off runs' server CPU**", "",
             "| workload | ops/s on | ops/s off | throughput cost | CPU/op on (µs) |"
             " CPU/op off (µs) | CPU/op cost | expected CPU/op cost | scrapes (failed) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        runs = results.get((ON, PREFIX + n), [])
        scrapes = sum(r.get("scrapes", 0) for r in runs)
        failed = sum(r.get("scrape_failures", 0) for r in runs)
        lines.append(
            f"| {n} | {fmt(median(ON, n, 'ops_per_sec'))} | {fmt(median(OFF, n, 'ops_per_sec'))} |"
            f" {_cost(results, n, 'ops_per_sec', -1)} | {fmt(median(ON, n, 'cpu_us_per_op'))} |"
            f" {fmt(median(OFF, n, 'cpu_us_per_op'))} | {_cost(results, n, 'cpu_us_per_op', 1)} |"
            f" {expected(n)} | {scrapes} ({failed}) |")
    return "\n".join(lines) + "\n"
