"""Dashboard panels the end-to-end test cannot fill from a standalone zookube-server yet, with the
reason. test_e2e_prometheus skips or xfails exactly these; test_dashboards checks the
ENSEMBLE_ONLY ones against a synthetic ensemble instead."""

# ZooKeeper names the server does not export yet (report to the server team).
NOT_EXPORTED_YET = {
    "election_time": "the election_time summary (ZooKeeper's ServerMetrics.ELECTION_TIME)",
}
# Summaries the server exports but never observes yet: their panels show NaN quantiles and zero
# rates. Strict xfail, so the day the server feeds them these tests fail until this list goes.
UNOBSERVED = ("the server registers the {} summary but never observes it (Metrics::{} has no "
              "caller)")
NOT_OBSERVED_YET = {
    ("zookube-overview.json", "Request latency p99"):
        UNOBSERVED.format("readlatency/updatelatency", "observeReadLatency/observeUpdateLatency"),
    ("zookube-overview.json", "fsync time"): UNOBSERVED.format("fsynctime", "observeFsync"),
    ("zookube-member.json", "Read latency"): UNOBSERVED.format("readlatency", "observeReadLatency"),
    ("zookube-member.json", "Write latency"):
        UNOBSERVED.format("updatelatency", "observeUpdateLatency"),
    ("zookube-member.json", "fsync time"): UNOBSERVED.format("fsynctime", "observeFsync"),
}
_LEADER = "leader_uptime and the leader's learner gauges exist only on an ensemble's leader"
ENSEMBLE_ONLY = {
    ("zookube-overview.json", "Voters"): "quorum_size exists only on ensemble members",
    ("zookube-overview.json", "Voters in sync"): "synced_followers exists only on a leader",
    ("zookube-overview.json", "Synced observers"):
        "synced_observers exists only on a leader or follower",
    ("zookube-overview.json", "Leader"): _LEADER,
    ("zookube-overview.json", "Leader changes (15m)"): _LEADER,
    ("zookube-overview.json", "Quorum health"): "synced_followers and quorum_size: ensemble only",
    ("zookube-overview.json", "Leader election time"):
        "ensemble only; " + NOT_EXPORTED_YET["election_time"] + " is not exported yet",
    ("zookube-member.json", "Learners"): _LEADER,
    ("zookube-member.json", "Pending syncs"): _LEADER,
    ("zookube-member.json", "Proposal size"): _LEADER,
    ("zookube-member.json", "Leader uptime"): _LEADER,
    ("zookube-member.json", "Leader election time"):
        "ensemble only; " + NOT_EXPORTED_YET["election_time"] + " is not exported yet",
}
