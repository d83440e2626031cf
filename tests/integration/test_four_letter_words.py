"""Four-letter words on the client port: answers, mntr keys, and the whitelist message."""

import re

import pytest

from zkwire import WireClient


def parse_mntr(text):
    out = {}
    for line in text.strip().splitlines():
        key, _, value = line.partition("\t")
        out[key] = value
    return out


def test_ruok(zk_server):
    assert zk_server.four("ruok") == "imok"


@pytest.mark.parametrize("cmd", ["srvr", "stat"])
def test_srvr_and_stat(zk_server, zk, cmd):
    text = zk_server.four(cmd)
    assert re.search(r"^Zookeeper version: 3\.", text, re.M)
    assert "Mode: standalone" in text
    assert re.search(r"^Latency min/avg/max: \d+/[\d.]+/\d+", text, re.M)
    node_count = int(re.search(r"^Node count: (\d+)", text, re.M).group(1))
    assert node_count >= 3  # /, /zookeeper, /zookeeper/quota at least
    assert re.search(r"^Zxid: 0x[0-9a-f]+", text, re.M)
    if cmd == "stat":
        assert "Clients:" in text and "/127.0.0.1:" in text


def test_mntr_keys_and_counts_follow_the_tree(zk_server, zk, base):
    before = parse_mntr(zk_server.four("mntr"))
    for key in ("zk_version", "zk_server_state", "zk_znode_count", "zk_watch_count",
                "zk_ephemerals_count", "zk_approximate_data_size", "zk_num_alive_connections",
                "zk_outstanding_requests", "zk_avg_latency", "zk_max_latency", "zk_min_latency",
                "zk_packets_received", "zk_packets_sent", "zk_open_file_descriptor_count"):
        assert key in before, key
    assert before["zk_server_state"] == "standalone"
    zk.create(base + "/one", b"12345")
    zk.create(base + "/two", ephemeral=True)
    zk.get(base + "/one", watch=lambda e: None)
    after = parse_mntr(zk_server.four("mntr"))
    assert int(after["zk_znode_count"]) == int(before["zk_znode_count"]) + 2
    assert int(after["zk_ephemerals_count"]) == int(before["zk_ephemerals_count"]) + 1
    assert int(after["zk_watch_count"]) >= int(before["zk_watch_count"]) + 1
    assert int(after["zk_approximate_data_size"]) > int(before["zk_approximate_data_size"])


def test_mntr_latency_summaries_count_reads_and_writes(zk_server, zk, base):
    """ZooKeeper's readlatency/updatelatency: exact min/avg/max, count and sum of the client
    reads and writes answered (zookube left them at 0 until 2026-12)."""
    before = parse_mntr(zk_server.four("mntr"))
    zk.create(base + "/lat", b"x")
    zk.set(base + "/lat", b"y")
    for _ in range(5):
        zk.get(base + "/lat")
    after = parse_mntr(zk_server.four("mntr"))
    assert int(after["zk_cnt_readlatency"]) >= int(before["zk_cnt_readlatency"]) + 5
    assert int(after["zk_cnt_updatelatency"]) >= int(before["zk_cnt_updatelatency"]) + 2
    for name in ("readlatency", "updatelatency"):
        low, high = int(after[f"zk_min_{name}"]), int(after[f"zk_max_{name}"])
        assert 0 <= low <= float(after[f"zk_avg_{name}"]) <= high, name
        assert int(after[f"zk_sum_{name}"]) >= high


def test_conf_shows_the_config(zk_server):
    text = zk_server.four("conf")
    assert f"clientPort={zk_server.port}" in text
    assert f"tickTime={zk_server.tick_ms}" in text
    assert "dataDir=" in text and "maxSessionTimeout=" + str(20 * zk_server.tick_ms) in text


def test_cons_lists_connections(zk_server, zk):
    sid = zk.client_id[0]
    text = zk_server.four("cons")
    assert "/127.0.0.1:" in text
    assert f"sid=0x{sid:x}" in text


def test_envi(zk_server):
    text = zk_server.four("envi")
    assert "Environment:" in text
    assert re.search(r"^zookeeper\.version=3\.", text, re.M)


def test_watch_words(zk_server, base):
    wire = WireClient(zk_server.port)
    try:
        path = base + "/watched"
        wire.create(path)
        wire.get(path, watch=True)
        assert re.search(r"\d+ connections watching \d+ paths", zk_server.four("wchs"))
        assert re.search(r"Total watches:\d+", zk_server.four("wchs"))
        wchc = zk_server.four("wchc")
        assert f"0x{wire.session_id:x}" in wchc and path in wchc
        wchp = zk_server.four("wchp")
        assert path in wchp and f"0x{wire.session_id:x}" in wchp
        assert wchp.index(path) < wchp.index(f"0x{wire.session_id:x}")
    finally:
        wire.close()


def test_dump_lists_sessions_with_ephemerals(zk_server, base):
    wire = WireClient(zk_server.port)
    try:
        wire.create(base + "/eph", flags=1)
        text = zk_server.four("dump")
        assert "Sessions with Ephemerals" in text
        assert f"0x{wire.session_id:x}" in text and base + "/eph" in text
    finally:
        wire.close()


def test_dirs_and_isro(zk_server):
    dirs = zk_server.four("dirs")
    assert re.search(r"datadir_size: \d+", dirs) and re.search(r"logdir_size: \d+", dirs)
    assert zk_server.four("isro") == "rw"


def test_not_whitelisted_words_get_zookeepers_message(server_factory):
    server = server_factory(**{"4lw.commands.whitelist": "srvr, ruok"})
    assert server.four("ruok") == "imok"
    assert server.four("mntr") == "mntr is not executed because it is not in the whitelist.\n"
    assert "Zookeeper version" in server.four("srvr")
