"""TLS on the client port and x509 authentication, against zookube and ZooKeeper 3.8 alike.

Certificates are made here with the openssl CLI: a CA, a server certificate for 127.0.0.1 and
localhost, client certificates (one with a DN that needs RFC 2253 escaping), an expired one and
one from another CA. ZooKeeper serves TLS only through Netty and only with the x509 provider
named (authProvider.x509); zookube has both built in and ignores those keys.
"""

import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest
from kazoo.exceptions import NoAuthError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.security import ACL, Id, Permissions

import harness
from certs import make_ca, make_cert, openssl
from ensemble import mntr_value
import refzk
import zkwire

PASSWORD = "store-secret"
# The DN needs escaping in RFC 2253 and has an attribute (emailAddress) Java prints by OID.
CLIENT_SUBJECT = "/C=US/O=Zoo, Inc./OU=clients/CN=client=one #1/emailAddress=one@example.org"
CLIENT_DN = ("1.2.840.113549.1.9.1=#160f6f6e65406578616d706c652e6f7267,"
             "CN=client\\=one \\#1,OU=clients,O=Zoo\\, Inc.,C=US")
OTHER_DN = "CN=client two,O=Zoo"
ADMIN_DN = "CN=admin,O=Zoo"

NETTY = {
    "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
    "authProvider.x509": "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("certs"))
    make_ca(d, "ca")
    make_ca(d, "rogue-ca")
    make_cert(d, "server", "/CN=localhost", san="IP:127.0.0.1,DNS:localhost")
    make_cert(d, "client", CLIENT_SUBJECT)
    make_cert(d, "other", "/O=Zoo/CN=client two")
    make_cert(d, "admin", "/O=Zoo/CN=admin")
    make_cert(d, "rogue", "/CN=client one", ca="rogue-ca")
    make_cert(d, "server-rotated", "/CN=localhost", ca="rogue-ca", san="IP:127.0.0.1")
    make_cert(d, "expired", "/CN=expired", expired=True)
    p = lambda name: os.path.join(d, name)  # noqa: E731
    # A PEM key store is the key and the certificate in one file, as ZooKeeper reads it.
    with open(p("server-keystore.pem"), "w") as out:
        out.write(open(p("server.key")).read() + open(p("server.pem")).read())
    with open(p("client-keystore.pem"), "w") as out:
        out.write(open(p("client.key")).read() + open(p("client.pem")).read())
    openssl("pkcs12", "-export", "-inkey", "server.key", "-in", "server.pem", "-out",
            "server.p12", "-passout", f"pass:{PASSWORD}", cwd=d)
    # The same PEM key store with its key encrypted (PKCS#8) by the store's password.
    # PBE-SHA1-3DES: ZooKeeper 3.8 on Java 17 cannot read PBES2, openssl's default.
    openssl("pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", "server.key", "-out",
            "server-encrypted.key", "-passout",
            f"pass:{PASSWORD}", cwd=d)
    with open(p("server-keystore-encrypted.pem"), "w") as out:
        out.write(open(p("server-encrypted.key")).read() + open(p("server.pem")).read())
    # A PKCS12 trust store as Java tools write it (certificates marked trusted, which
    # `openssl pkcs12 -export` cannot do before OpenSSL 3.2).
    subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", p("ca.pem"),
                    "-keystore", p("trust.p12"), "-storetype", "PKCS12", "-storepass", PASSWORD],
                   check=True, capture_output=True, timeout=60)
    return p


def tls_cfg(certs, **extra):
    cfg = dict(NETTY)
    cfg.update({
        "secureClientPort": harness.free_port(),
        "ssl.keyStore.location": certs("server-keystore.pem"),
        "ssl.trustStore.location": certs("ca.pem"),
        "ssl.handshakeDetectionTimeoutMillis": "1000",
        "X509AuthenticationProvider.superUser": ADMIN_DN,
    })
    cfg.update(extra)
    return cfg


def start(server_factory, cfg):
    return server_factory(**{k.replace(".", "__"): v for k, v in cfg.items()})


def secure_client(client_factory, certs, port, cert="client", start=True, timeout=10.0):
    kwargs = dict(use_ssl=True, ca=certs("ca.pem"), verify_certs=True)
    if cert:
        kwargs.update(certfile=certs(f"{cert}.pem"), keyfile=certs(f"{cert}.key"))
    return client_factory(f"127.0.0.1:{port}", timeout=timeout, start=start, **kwargs)


def refused(client):
    """Whether a kazoo client that is not started yet fails to get a session."""
    try:
        client.start(timeout=4)
    except KazooTimeoutError:
        return True
    return False


def tls_socket(port, certs, cert="client", ca="ca"):
    ctx = ssl.create_default_context(cafile=certs(f"{ca}.pem"))
    if cert:
        ctx.load_cert_chain(certs(f"{cert}.pem"), certs(f"{cert}.key"))
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def session_over(sock):
    """Sends a connect request; True if a connect response comes back, False if closed."""
    try:
        sock.sendall(zkwire.frame(zkwire.connect_payload(4000)))
        return len(zkwire.recv_frame(sock)) > 0
    except (OSError, ConnectionError, ssl.SSLError):
        return False


def closed_within(sock, seconds):
    """Waits for the server to close `sock`; returns the seconds it took, None if it did not."""
    began = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - began < seconds:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - began
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - began
    return None


def test_reads_writes_and_x509_acls_over_tls(server_factory, client_factory, certs):
    server = start(server_factory, tls_cfg(certs))
    port = int(server.cfg["secureClientPort"])
    owner = secure_client(client_factory, certs, port)
    acl = [ACL(Permissions.ALL, Id("x509", CLIENT_DN))]
    owner.create("/mine", b"secret", acl=acl)
    assert owner.get("/mine")[0] == b"secret"
    owner.set("/mine", b"changed")  # the DN is exactly ZooKeeper's, or this is NOAUTH

    other = secure_client(client_factory, certs, port, cert="other")
    with pytest.raises(NoAuthError):
        other.get("/mine")
    other.create("/theirs", b"", acl=[ACL(Permissions.ALL, Id("x509", OTHER_DN))])

    admin = secure_client(client_factory, certs, port, cert="admin")
    assert admin.get("/mine")[0] == b"changed"  # the superUser DN is super
    admin.delete("/theirs")

    # A plaintext session sees the same tree and has no x509 identity.
    plain = client_factory(server)
    with pytest.raises(NoAuthError):
        plain.get("/mine")
    if server.impl == "zookube":
        cons = server.four("cons")
        assert cons.count(",secure=1") == 3, cons


def test_pkcs12_key_and_trust_stores(server_factory, client_factory, certs):
    server = start(server_factory, tls_cfg(certs, **{
        "ssl.keyStore.location": certs("server.p12"),
        "ssl.keyStore.password": PASSWORD,
        "ssl.keyStore.type": "PKCS12",
        "ssl.trustStore.location": certs("trust.p12"),
        "ssl.trustStore.password": PASSWORD}))
    client = secure_client(client_factory, certs, int(server.cfg["secureClientPort"]))
    client.create("/p12", b"x")
    assert client.get("/p12")[0] == b"x"


def test_pem_key_store_with_an_encrypted_key(server_factory, client_factory, certs):
    server = start(server_factory, tls_cfg(certs, **{
        "ssl.keyStore.location": certs("server-keystore-encrypted.pem"),
        "ssl.keyStore.password": PASSWORD}))
    client = secure_client(client_factory, certs, int(server.cfg["secureClientPort"]))
    client.create("/encrypted-key", b"")


def test_plaintext_client_on_tls_port_is_closed(server_factory, certs):
    server = start(server_factory, tls_cfg(certs))
    port = int(server.cfg["secureClientPort"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        assert not session_over(s)
    with tls_socket(port, certs) as s:  # and the port still serves TLS clients
        assert session_over(s)


def test_tls_client_on_plaintext_port_is_closed(server_factory, client_factory, certs):
    server = start(server_factory, tls_cfg(certs))
    with pytest.raises((ssl.SSLError, OSError)):
        with tls_socket(server.port, certs) as s:
            s.sendall(zkwire.frame(zkwire.connect_payload(4000)))
            zkwire.recv_frame(s)
    client = secure_client(client_factory, certs, server.port, start=False)
    assert refused(client)


def test_port_unification_takes_both(server_factory, client_factory, certs):
    cfg = tls_cfg(certs, **{"client.portUnification": "true"})
    server = start(server_factory, cfg)
    tls = secure_client(client_factory, certs, server.port)
    plain = client_factory(server)
    tls.create("/unified", b"tls")
    assert plain.get("/unified")[0] == b"tls"
    assert server.four("ruok") == "imok"


def test_stalled_and_garbage_handshakes_are_closed(server_factory, client_factory, certs):
    server = start(server_factory, tls_cfg(certs))
    port = int(server.cfg["secureClientPort"])
    before = mntr_value(server, "zk_unsuccessful_handshake") or 0
    stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
    # A TLS record header that promises a handshake and never delivers it.
    half = socket.create_connection(("127.0.0.1", port), timeout=10)
    half.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    garbage = socket.create_connection(("127.0.0.1", port), timeout=10)
    garbage.sendall(os.urandom(64))
    client = secure_client(client_factory, certs, port)  # served meanwhile
    client.create("/while-stalled", b"")
    # ZooKeeper closes at Netty's own handshake timeout (10 s); zookube at
    # ssl.handshakeDetectionTimeoutMillis (1 s here).
    limit = 15 if server.impl == "apache" else 4
    for sock in (stalled, half, garbage):
        with sock:
            assert closed_within(sock, limit) is not None
    assert client.exists("/while-stalled")
    harness.wait_until(lambda: (mntr_value(server, "zk_unsuccessful_handshake") or 0) >= before + 2,
                       timeout=5, what="unsuccessful_handshake counted")


def test_pipelined_replies_arrive_whole_and_in_order(server_factory, client_factory, certs):
    # 400 reads sent before any reply is read: the server answers them in batches far larger
    # than one TLS record (16 KiB), and every reply must come back whole, in order.
    server = start(server_factory, tls_cfg(certs))
    port = int(server.cfg["secureClientPort"])
    data = bytes(range(256)) * 16  # 4 KiB, every byte value
    secure_client(client_factory, certs, port).create("/big", data)
    with tls_socket(port, certs) as s:
        s.sendall(zkwire.frame(zkwire.connect_payload(10000)))
        assert zkwire.recv_frame(s)
        requests = b"".join(zkwire.frame(zkwire.p_int(xid) + zkwire.p_int(zkwire.OP_GETDATA) +
                                         zkwire.p_str("/big") + zkwire.p_bool(False))
                            for xid in range(1, 401))
        s.sendall(requests)
        for xid in range(1, 401):
            reply = zkwire.Cursor(zkwire.recv_frame(s))
            assert (reply.int(), reply.long() > 0, reply.int()) == (xid, True, 0)
            assert reply.buf() == data
            reply.stat()
            assert reply.done()


def test_untrusted_and_expired_certificates_are_refused(server_factory, client_factory, certs):
    server = start(server_factory, tls_cfg(certs, **{"ssl.clientAuth": "need"}))
    port = int(server.cfg["secureClientPort"])
    for cert in ("rogue", "expired", None):
        with tls_socket_or_none(port, certs, cert) as s:
            assert s is None or not session_over(s), cert
    assert refused(secure_client(client_factory, certs, port, cert="rogue", start=False))
    with tls_socket(port, certs) as s:
        assert session_over(s)
    assert (mntr_value(server, "zk_auth_failed_count") or 0) >= 1
    if server.impl == "zookube":  # one line naming the peer and the reason
        assert "TLS handshake with 127.0.0.1:" in server.log_tail(200)


class tls_socket_or_none:
    """A TLS socket, or None when the handshake itself already failed."""

    def __init__(self, port, certs, cert):
        try:
            self.sock = tls_socket(port, certs, cert)
        except (ssl.SSLError, OSError):
            self.sock = None

    def __enter__(self):
        return self.sock

    def __exit__(self, *exc):
        if self.sock is not None:
            self.sock.close()


@pytest.mark.parametrize("client_auth", ["none", "want"])
def test_no_client_certificate_unless_needed(server_factory, client_factory, certs, client_auth):
    server = start(server_factory, tls_cfg(certs, **{"ssl.clientAuth": client_auth}))
    port = int(server.cfg["secureClientPort"])
    with tls_socket(port, certs, cert=None) as s:
        assert session_over(s)
    anonymous = secure_client(client_factory, certs, port, cert=None)
    owner = secure_client(client_factory, certs, port)
    owner.create("/owned", b"", acl=[ACL(Permissions.ALL, Id("x509", CLIENT_DN))])
    with pytest.raises(NoAuthError):
        anonymous.get("/owned")


def test_jks_store_is_refused_at_start(server_factory, certs, tmp_path):
    if harness.impl() == "apache":
        pytest.skip("ZooKeeper reads JKS; zookube refuses it with how to convert")
    cfg = tls_cfg(certs, **{"ssl.keyStore.location": str(tmp_path / "server.jks"),
                            "ssl.keyStore.type": "JKS"})
    server = start_failing(server_factory, cfg)
    assert "ssl.keyStore.type: JKS stores are not supported; convert it" in server.log_tail()


def start_failing(server_factory, cfg):
    server = server_factory(start=False, **{k.replace(".", "__"): v for k, v in cfg.items()})
    server.launch()
    harness.wait_until(lambda: not server.alive(), timeout=10, what="the server to exit")
    return server


def test_changed_key_store_is_used_by_new_handshakes(server_factory, client_factory, certs,
                                                     tmp_path):
    if harness.impl() == "apache":
        pytest.skip("ZooKeeper 3.8 reloads certificate files for the quorum only")
    key_store = str(tmp_path / "keystore.pem")
    shutil.copy(certs("server-keystore.pem"), key_store)
    server = start(server_factory, tls_cfg(certs, **{"ssl.keyStore.location": key_store}))
    port = int(server.cfg["secureClientPort"])
    established = secure_client(client_factory, certs, port)
    established.create("/before", b"")
    # Written next to it and renamed over it, as a certificate manager does.
    with open(key_store + ".new", "w") as out:
        out.write(open(certs("server-rotated.key")).read() +
                  open(certs("server-rotated.pem")).read())
    os.replace(key_store + ".new", key_store)
    with tls_socket(port, certs, ca="rogue-ca") as s:  # the new server certificate
        assert session_over(s)
    with pytest.raises(ssl.SSLError):
        tls_socket(port, certs).close()
    assert established.exists("/before")  # the old session kept its connection
    assert "new handshakes use the new certificates" in server.log_tail(200)


ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"


@pytest.mark.skipif(not os.access(ZKCLI, os.X_OK), reason="zkCli.sh not installed")
def test_zkcli_over_tls_is_x509_authenticated(server_factory, certs):
    server = start(server_factory, tls_cfg(certs))
    # zkCli.sh's own classpath lacks Netty; a later -cp in CLIENT_JVMFLAGS replaces it.
    classpath = ":".join(["/etc/zookeeper/conf"] + refzk.CLASSPATH.split(":"))
    flags = [f"-cp {classpath}", "-Dzookeeper.client.secure=true",
             "-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
             f"-Dzookeeper.ssl.keyStore.location={certs('client-keystore.pem')}",
             f"-Dzookeeper.ssl.trustStore.location={certs('ca.pem')}"]
    script = "create /cli-tls over-tls\nget /cli-tls\nwhoami\nquit\n"
    out = subprocess.run(
        [ZKCLI, "-waitforconnection", "-server", f"127.0.0.1:{server.cfg['secureClientPort']}"],
        input=script,
        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
        env=dict(os.environ, CLIENT_JVMFLAGS=" ".join(flags))).stdout
    assert "Created /cli-tls" in out, out
    assert "over-tls" in out
    assert f"x509: {CLIENT_DN}" in out, out


def test_handshakes_over_the_outstanding_limit_are_refused(server_factory, certs):
    # ZooKeeper 3.8 enforces the limit only on a unified port (its secure-only factory reads the
    # limit before it knows it is secure); there a connection's detection counts as well.
    server = start(server_factory, tls_cfg(certs, **{
        "netty.server.outstandingHandshake.limit": "1", "client.portUnification": "true"}))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as stalled:
        # Once the server has taken the stalled connection, the next handshake is over the limit.
        def next_refused():
            with tls_socket_or_none(server.port, certs, "client") as s:
                return s is None or not session_over(s)
        harness.wait_until(next_refused, timeout=5, what="a handshake refused over the limit")
        # zookube closes it at ssl.handshakeDetectionTimeoutMillis; ZooKeeper 3.8 applies that
        # timeout to the quorum ports only and keeps waiting.
        if server.impl == "zookube":
            assert closed_within(stalled, 4) is not None

    def served():  # the limit counts handshakes in progress only
        with tls_socket_or_none(server.port, certs, "client") as s:
            return s is not None and session_over(s)
    harness.wait_until(served, timeout=5, what="a TLS session once the stalled one is gone")
    assert mntr_value(server, "zk_tls_handshake_exceeded") >= 1
