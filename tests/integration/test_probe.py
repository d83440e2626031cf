"""`zookube-server --probe live|ready HOST:PORT`: the health check Kubernetes and Docker run."""

import subprocess

import harness


def probe(*args):
    return subprocess.run([harness.zookube_binary(), "--probe", *args], capture_output=True,
                          text=True, timeout=10)


def test_a_standalone_server_is_live_and_ready(zk_server):
    live = probe("live", zk_server.hosts)
    assert (live.returncode, live.stdout) == (0, "live: imok\n")
    ready = probe("ready", zk_server.hosts)
    assert ready.returncode == 0 and "Mode: standalone" in ready.stdout


def test_nothing_listening_fails_and_names_the_address():
    port = harness.free_port()
    result = probe("live", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr and "refused" in result.stderr


def test_bad_arguments_are_a_usage_error():
    for args in (["sideways", "127.0.0.1:2181"], ["live"]):
        result = probe(*args)
        assert result.returncode == 2
        assert "--probe needs 'live' or 'ready' and HOST:PORT" in result.stderr
    result = probe("live", "no-port-here")
    assert result.returncode == 1 and "expected HOST:PORT" in result.stderr
