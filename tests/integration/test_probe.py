"""`zookube-server --probe live|ready HOST:PORT`: the health check Kubernetes and Docker run."""

import os
import subprocess

import pytest

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


# --- a member that serves only TLS, probed through its own zoo.cfg --------------------------

NETTY = {
    "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
    "authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
}


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, another one, and a member certificate that names only a cluster DNS name (not
    127.0.0.1, as a user's or cert-manager's need not): the probe checks the chain, not the name."""
    d = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2", "-subj", f"/CN={ca}",
                cwd=d)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "member.key", "-out", "member.csr", "-subj", "/CN=zk-0", cwd=d)
    (d / "member.ext").write_text("subjectAltName=DNS:zk-0.zk-headless.default.svc\n")
    openssl("x509", "-req", "-in", "member.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "member.ext", "-out", "member.pem",
            cwd=d)
    (d / "keystore.pem").write_text((d / "member.key").read_text() + (d / "member.pem").read_text())
    return d


@pytest.fixture
def tls_only(server_factory, pki):
    """A server with secureClientPort and no clientPort, needing client certificates."""
    server = server_factory(start=False, secureClientPort=harness.free_port(),
                            secureClientPortAddress="127.0.0.1",
                            ssl__keyStore__location=pki / "keystore.pem",
                            ssl__trustStore__location=pki / "ca.pem", ssl__clientAuth="need",
                            **{k.replace(".", "__"): v for k, v in NETTY.items()})
    del server.cfg["clientPort"], server.cfg["clientPortAddress"]
    server.launch()
    return server


def zoo_cfg(server):
    return os.path.join(server.workdir, "zoo.cfg")


def test_a_tls_only_server_is_probed_over_tls_with_its_own_stores(tls_only):
    ready = harness.wait_until(lambda: (r := probe("ready", zoo_cfg(tls_only))).returncode == 0
                               and r, timeout=30, what="the TLS probe to pass")
    assert "Mode: standalone" in ready.stdout
    live = probe("live", zoo_cfg(tls_only))
    assert (live.returncode, live.stdout) == (0, "live: imok\n")
    # The same port without TLS gets no answer: the probe did speak TLS.
    port = tls_only.cfg["secureClientPort"]
    plain = probe("live", f"127.0.0.1:{port}")
    assert plain.returncode == 1


def test_a_member_certificate_the_trust_store_does_not_vouch_for_fails(tls_only, pki, tmp_path):
    harness.wait_until(lambda: probe("live", zoo_cfg(tls_only)).returncode == 0, timeout=30,
                       what="the TLS probe to pass")
    with open(zoo_cfg(tls_only)) as f:
        text = f.read()
    wrong = tmp_path / "wrong-trust.cfg"
    wrong.write_text(text.replace(str(pki / "ca.pem"), str(pki / "other-ca.pem")))
    result = probe("ready", str(wrong))
    assert result.returncode == 1
    assert "TLS handshake with 127.0.0.1:" in result.stderr
    assert "certificate verify failed" in result.stderr


def test_a_config_without_client_ports_or_readable_stores_says_so(tmp_path, pki):
    none = tmp_path / "none.cfg"
    none.write_text(f"dataDir={tmp_path}\n")
    result = probe("ready", str(none))
    assert result.returncode == 1 and "clientPort is not set" in result.stderr
    missing = tmp_path / "missing.cfg"
    missing.write_text(f"dataDir={tmp_path}\nsecureClientPort=1\n"
                       f"ssl.keyStore.location={tmp_path}/absent.pem\n"
                       f"ssl.trustStore.location={pki / 'ca.pem'}\n")
    result = probe("ready", str(missing))
    assert result.returncode == 1
    assert "ssl.keyStore.location" in result.stderr and "absent.pem" in result.stderr
