"""The client's TLS: the server's certificate checked against the kubeconfig's CA, and the
operator authenticated by a client certificate alone (no token), as kind and kubeadm set it up."""

import base64
import copy
import subprocess

import pytest

from apiserver import StandIn
from kube_harness import Operator
from test_kube_operator import CLUSTER, ZK, with_members


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def pki(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "1", "-subj", "/CN=stand-in CA", cwd=d)
    for name, extra in (("server", ["-addext", "subjectAltName=IP:127.0.0.1"]),
                        ("client", [])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", "-subj", f"/CN={name}", *extra, cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "1", "-copy_extensions",
                "copy", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out",
            "other.crt", "-days", "1", "-subj", "/CN=someone else", cwd=d)
    return d


@pytest.fixture
def tls_api(tmp_path, pki):
    standin = StandIn(str(tmp_path), tls={"cert": str(pki / "server.crt"),
                                          "key": str(pki / "server.key"),
                                          "ca": str(pki / "ca.crt")})
    yield standin
    standin.stop()


def test_client_certificate_and_ca_from_the_kubeconfig(tls_api, pki):
    with_members(tls_api)
    with tls_api.store.lock:
        tls_api.store.create(*ZK, copy.deepcopy(CLUSTER))
    client_cert = base64.b64encode((pki / "client.crt").read_bytes()).decode()
    # Inline data for one, a path for the others: both forms are in real kubeconfigs.
    tls_api.write_kubeconfig(
        {"server": tls_api.url, "certificate-authority": str(pki / "ca.crt")},
        {"client-certificate-data": client_cert, "client-key": str(pki / "client.key")})
    Operator(tls_api).run(3)
    status = tls_api.store.get(*ZK, "demo")["status"]
    assert status["phase"] == "Running"


def test_a_server_the_ca_did_not_sign_is_refused(tls_api, pki):
    tls_api.write_kubeconfig(
        {"server": tls_api.url, "certificate-authority": str(pki / "other.crt")},
        {"client-certificate": str(pki / "client.crt"), "client-key": str(pki / "client.key")})
    out = Operator(tls_api).run(1, expect_ok=False)
    assert "pass 0 failed" in out
    assert tls_api.store.writes == []


def test_without_a_client_certificate_the_server_refuses(tls_api, pki):
    tls_api.write_kubeconfig(
        {"server": tls_api.url, "certificate-authority": str(pki / "ca.crt")},
        {"token": "not-checked-because-the-handshake-fails"})
    out = Operator(tls_api).run(1, expect_ok=False)
    assert "pass 0 failed" in out
    assert tls_api.store.writes == []
