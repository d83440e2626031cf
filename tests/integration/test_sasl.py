"""SASL on the client port (op 102), against zookube and ZooKeeper 3.8 alike.

DIGEST-MD5 users come from a JAAS Server section; GSSAPI runs against a real MIT Kerberos KDC
that a fixture sets up in a temporary directory. The exchanges are driven with pure-sasl over
zkwire (so every reply header is visible) and through kazoo's sasl_options (the real client).
"""

import os
import subprocess
import socket
import struct
import time

import pytest
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl
from puresasl.client import SASLClient

import harness
from ensemble import mntr_value
from kdc import REALM, Kdc
import zkwire

OP_SASL = 102
AUTHFAILED = -115
NOAUTH = -102
SESSIONCLOSEDREQUIRESASLAUTH = -124
SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"

DIGEST_JAAS = """
// DIGEST-MD5 users, as ZooKeeper's documentation writes them
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bobsecret"
       user_alice="alicesecret";
};
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return str(path)


@pytest.fixture
def digest_jaas(tmp_path):
    return write(tmp_path / "jaas.conf", DIGEST_JAAS)


def sasl_cfg(jaas, **extra):
    cfg = {"java.security.auth.login.config": jaas, "authProvider.1": SASL_PROVIDER}
    cfg.update(extra)
    return cfg


def start(server_factory, cfg):
    return server_factory(**{k.replace(".", "__"): v for k, v in cfg.items()})


def sasl_login(wire, mechanism, host="zk-sasl-md5", **props):
    """Runs ZooKeeper's SASL exchange as its clients do (each token a sasl request with the
    next xid). Returns the error of the last reply: 0 when authenticated."""
    client = SASLClient(host, service="zookeeper", mechanism=mechanism, **props)
    challenge = None
    while not client.complete:
        response = client.process(challenge)
        if client.complete and not response:
            break
        reply = wire.call(OP_SASL, zkwire.p_buf(response or b""))
        if reply.err:
            return reply.err
        challenge = reply.body.buf()
    return 0


def closed_within(sock, seconds):
    """Whether the server closes `sock` within `seconds` (data before the close is read)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sock.settimeout(max(end - time.monotonic(), 0.01))
        try:
            if sock.recv(4096) == b"":
                return True
        except socket.timeout:
            return False
        except OSError:
            return True
    return False


def test_digest_md5_user_gets_a_sasl_id_that_sasl_acls_honour(server_factory, client_factory,
                                                               digest_jaas):
    server = start(server_factory, sasl_cfg(digest_jaas))
    bob = zkwire.WireClient(server.port)
    assert sasl_login(bob, "DIGEST-MD5", username="bob", password="bobsecret") == 0
    err, ids = bob.whoami()
    assert err == 0 and ("sasl", "bob") in ids
    assert bob.create("/bob", b"mine", acls=[(31, "sasl", "bob")])[0] == 0
    assert bob.get("/bob")[0] == 0

    anonymous = zkwire.WireClient(server.port)
    assert anonymous.get("/bob")[0] == NOAUTH
    alice = zkwire.WireClient(server.port)
    assert sasl_login(alice, "DIGEST-MD5", username="alice", password="alicesecret") == 0
    assert alice.get("/bob")[0] == NOAUTH
    # ZooKeeper's SASL provider: the SASL user "super" matches every sasl ACL.
    admin = zkwire.WireClient(server.port)
    assert sasl_login(admin, "DIGEST-MD5", username="super", password="adminsecret") == 0
    assert admin.get("/bob")[0] == 0
    for wire in (bob, anonymous, alice, admin):
        wire.close()

    # The same through kazoo, the way applications configure it.
    zk = client_factory(server, sasl_options={"mechanism": "DIGEST-MD5", "username": "bob",
                                              "password": "bobsecret"})
    assert zk.get("/bob")[0] == b"mine"
    zk.create("/bob/child", b"", acl=[make_acl("sasl", "bob", all=True)])
    plain = client_factory(server)
    with pytest.raises(NoAuthError):
        plain.get("/bob/child")


@pytest.mark.parametrize("user,password", [("bob", "wrong"), ("nobody", "bobsecret")])
def test_wrong_password_is_answered_authfailed_and_closed(server_factory, digest_jaas, user,
                                                          password):
    server = start(server_factory, sasl_cfg(digest_jaas))
    before = mntr_value(server, "zk_auth_failed_count")
    wire = zkwire.WireClient(server.port)
    assert sasl_login(wire, "DIGEST-MD5", username=user, password=password) == AUTHFAILED
    assert closed_within(wire.sock, 5)
    wire.sock.close()
    # ZooKeeper 3.8 counts only failed TLS handshakes in auth_failed_count
    # (NettyServerCnxnFactory), never a SASL exchange: the figure does not move.
    assert mntr_value(server, "zk_auth_failed_count") == before
    # The server goes on serving.
    good = zkwire.WireClient(server.port)
    assert sasl_login(good, "DIGEST-MD5", username="bob", password="bobsecret") == 0
    good.close()


def failed_digest_exchange(wire, password):
    """A DIGEST-MD5 exchange with `password` for bob; the reply to the client's response."""
    client = SASLClient("zk-sasl-md5", service="zookeeper", mechanism="DIGEST-MD5",
                        username="bob", password=password)
    challenge = wire.call(OP_SASL, zkwire.p_buf(client.process(None) or b""))
    assert challenge.err == 0
    return wire.call(OP_SASL, zkwire.p_buf(client.process(challenge.body.buf())))


def test_allow_sasl_failed_clients_keeps_the_session_unauthenticated(server_factory,
                                                                     digest_jaas):
    server = start(server_factory, sasl_cfg(digest_jaas, allowSaslFailedClients="true"))
    owner = zkwire.WireClient(server.port)
    assert sasl_login(owner, "DIGEST-MD5", username="bob", password="bobsecret") == 0
    assert owner.create("/bob", b"mine", acls=[(31, "sasl", "bob")])[0] == 0
    owner.close()
    wire = zkwire.WireClient(server.port)
    reply = failed_digest_exchange(wire, "wrong")
    assert reply.err == 0 and reply.body.int() == -1  # an empty OK, not AUTHFAILED
    # The session goes on, without the identity it failed to prove.
    assert not any(scheme == "sasl" for scheme, _ in wire.whoami()[1])
    assert wire.get("/bob")[0] == NOAUTH
    assert wire.get("/")[0] == 0
    wire.close()


def test_allow_sasl_failed_clients_gives_way_to_required_sasl(server_factory, digest_jaas):
    server = start(server_factory, sasl_cfg(digest_jaas, allowSaslFailedClients="true",
                                            sessionRequireClientSASLAuth="true"))
    wire = zkwire.WireClient(server.port)
    assert failed_digest_exchange(wire, "wrong").err == SESSIONCLOSEDREQUIRESASLAUTH
    assert closed_within(wire.sock, 5)
    wire.sock.close()


@pytest.mark.parametrize("enforce", [
    {"sessionRequireClientSASLAuth": "true"},
    {"enforce.auth.enabled": "true", "enforce.auth.schemes": "sasl"},
])
def test_required_sasl_refuses_unauthenticated_sessions(server_factory, digest_jaas, enforce):
    server = start(server_factory, sasl_cfg(digest_jaas, **enforce))
    anonymous = zkwire.WireClient(server.port)
    reply = anonymous.call(zkwire.OP_GETDATA, zkwire.p_str("/") + zkwire.p_bool(False))
    assert reply.err == SESSIONCLOSEDREQUIRESASLAUTH
    assert closed_within(anonymous.sock, 5)
    anonymous.sock.close()

    bob = zkwire.WireClient(server.port)
    assert sasl_login(bob, "DIGEST-MD5", username="bob", password="bobsecret") == 0
    assert bob.get("/")[0] == 0
    bob.close()

    # A failed exchange says so with the same code when SASL is required.
    wrong = zkwire.WireClient(server.port)
    assert sasl_login(wrong, "DIGEST-MD5", username="bob",
                      password="nope") == SESSIONCLOSEDREQUIRESASLAUTH
    assert closed_within(wrong.sock, 5)
    wrong.sock.close()


def test_bad_sasl_requests_cost_nothing(server_factory, digest_jaas):
    server = start(server_factory, sasl_cfg(digest_jaas, **{"jute.maxbuffer": "4096"}))
    # DIGEST-MD5 has no initial response: both servers ignore one and send the challenge. A
    # garbage answer to the challenge fails the exchange.
    garbage = zkwire.WireClient(server.port)
    first = garbage.call(OP_SASL, zkwire.p_buf(os.urandom(200)))
    assert first.err == 0 and b"nonce=" in first.body.buf()
    assert garbage.call(OP_SASL, zkwire.p_buf(os.urandom(200))).err == AUTHFAILED
    assert closed_within(garbage.sock, 5)
    garbage.sock.close()
    # A response that repeats a directive (RFC 2831 allows each once).
    repeated = zkwire.WireClient(server.port)
    challenge = repeated.call(OP_SASL, zkwire.p_buf(b"")).body.buf()
    nonce = challenge.split(b'nonce="')[1].split(b'"')[0]
    response = (b'username="bob",realm="zk-sasl-md5",nonce="' + nonce + b'",cnonce="abc",'
                b'cnonce="abc",nc=00000001,qop=auth,digest-uri="zookeeper/zk-sasl-md5",'
                b'response=0123456789abcdef0123456789abcdef')
    assert repeated.call(OP_SASL, zkwire.p_buf(response)).err == AUTHFAILED
    assert closed_within(repeated.sock, 5)
    repeated.sock.close()
    # A token over jute.maxbuffer is refused by closing, before it is read whole.
    large = zkwire.WireClient(server.port)
    try:
        large.send(OP_SASL, zkwire.p_buf(b"x" * 8000))
    except OSError:
        pass  # closed while the rest was still being sent
    assert closed_within(large.sock, 5)
    large.sock.close()
    # A request whose token length runs past its frame.
    truncated = zkwire.WireClient(server.port)
    truncated.send(OP_SASL, struct.pack(">i", 1000) + b"short")
    assert closed_within(truncated.sock, 5)
    truncated.sock.close()
    good = zkwire.WireClient(server.port)
    assert sasl_login(good, "DIGEST-MD5", username="bob", password="bobsecret") == 0
    good.close()


def test_super_user_by_sasl_id(server_factory, digest_jaas):
    server = start(server_factory, sasl_cfg(digest_jaas, superUser="alice"))
    bob = zkwire.WireClient(server.port)
    assert sasl_login(bob, "DIGEST-MD5", username="bob", password="bobsecret") == 0
    assert bob.create("/private", b"", acls=[(31, "sasl", "bob")])[0] == 0
    alice = zkwire.WireClient(server.port)
    assert sasl_login(alice, "DIGEST-MD5", username="alice", password="alicesecret") == 0
    assert alice.get("/private")[0] == 0  # a super user passes every ACL
    err, ids = alice.whoami()
    assert err == 0 and ("super", "") in ids, ids
    bob.close()
    alice.close()


def test_sasl_without_a_jaas_file_gets_an_empty_answer(server_factory):
    server = server_factory()
    wire = zkwire.WireClient(server.port)
    reply = wire.call(OP_SASL, zkwire.p_buf(b""))
    assert reply.err == 0 and reply.body.int() == -1  # a null token
    assert wire.get("/")[0] == 0
    wire.close()


def test_jaas_file_from_server_jvmflags(server_factory, digest_jaas):
    """Debian's zkServer.sh passes the JAAS file as a JVM flag in SERVER_JVMFLAGS; zookube reads
    it from there. (The reference server gets the same flag on its command line.)"""
    if harness.impl() == "zookube":
        server = server_factory(start=False, **{"authProvider.1": SASL_PROVIDER})
        server.env["SERVER_JVMFLAGS"] = f"-Xmx1g -Djava.security.auth.login.config={digest_jaas}"
        server.start()
    else:
        server = start(server_factory, sasl_cfg(digest_jaas))
    wire = zkwire.WireClient(server.port)
    assert sasl_login(wire, "DIGEST-MD5", username="bob", password="bobsecret") == 0
    assert ("sasl", "bob") in wire.whoami()[1]
    wire.close()


# ---- GSSAPI against a real KDC ----

@pytest.fixture(scope="module")
def realm(tmp_path_factory):
    kdc_ = Kdc(tmp_path_factory.mktemp("kdc")).start()
    try:
        kdc_.service_keytab = kdc_.add_principal("zookeeper/localhost")
        kdc_.add_principal("client")
        kdc_.kinit("client", os.path.join(kdc_.dir, "client.keytab"))
        kdc_.add_principal("zkcli/localhost")
        yield kdc_
    finally:
        kdc_.stop()


@pytest.fixture
def kerberos_env(realm, monkeypatch):
    """Points this process's Kerberos library (python-gssapi) at the test realm."""
    for key, value in realm.env.items():
        monkeypatch.setenv(key, value)
    return realm


def krb5_section(name, keytab, principal):
    """A JAAS section logging in from a keytab, as ZooKeeper's Kerberos guide writes one."""
    return f"""
{name} {{
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true
  keyTab="{keytab}"
  storeKey=true
  useTicketCache=false
  principal="{principal}";
}};
"""


def kerberos_server(server_factory, realm, tmp_path, **extra):
    jaas = write(tmp_path / "jaas-krb5.conf",
                 krb5_section("Server", realm.service_keytab, f"zookeeper/localhost@{REALM}"))
    server = server_factory(start=False, **{k.replace(".", "__"): v
                                            for k, v in sasl_cfg(jaas, **extra).items()})
    server.env.update(realm.env)
    return server.start()


@pytest.mark.parametrize("extra,expected", [
    ({}, f"client@{REALM}"),
    ({"kerberos.removeRealmFromPrincipal": "true"}, "client"),
])
def test_gssapi_principal_gets_its_sasl_id(server_factory, client_factory, kerberos_env,
                                          tmp_path, extra, expected):
    server = kerberos_server(server_factory, kerberos_env, tmp_path, **extra)
    wire = zkwire.WireClient(server.port)
    assert sasl_login(wire, "GSSAPI", host="localhost") == 0
    err, ids = wire.whoami()
    assert err == 0 and ("sasl", expected) in ids
    assert wire.create("/kerberos", b"k", acls=[(31, "sasl", expected)])[0] == 0
    wire.close()
    # kazoo, connecting by the name the service principal carries.
    zk = client_factory(f"localhost:{server.port}", sasl_options={"mechanism": "GSSAPI"})
    assert zk.get("/kerberos")[0] == b"k"
    assert client_factory(server).exists("/kerberos") is not None
    with pytest.raises(NoAuthError):
        client_factory(server).get("/kerberos")


def test_gssapi_with_a_host_principal_keeps_or_drops_the_host(server_factory, kerberos_env,
                                                              tmp_path):
    kerberos_env.kinit("zkcli/localhost", os.path.join(kerberos_env.dir, "zkcli_localhost.keytab"))
    try:
        server = kerberos_server(server_factory, kerberos_env, tmp_path,
                                 **{"kerberos.removeHostFromPrincipal": "true"})
        wire = zkwire.WireClient(server.port)
        assert sasl_login(wire, "GSSAPI", host="localhost") == 0
        assert ("sasl", f"zkcli@{REALM}") in wire.whoami()[1]
        wire.close()
    finally:
        kerberos_env.kinit("client", os.path.join(kerberos_env.dir, "client.keytab"))


def test_gssapi_garbage_token_is_authfailed(server_factory, kerberos_env, tmp_path):
    server = kerberos_server(server_factory, kerberos_env, tmp_path)
    wire = zkwire.WireClient(server.port)
    assert wire.call(OP_SASL, zkwire.p_buf(os.urandom(300))).err == AUTHFAILED
    assert closed_within(wire.sock, 5)
    wire.sock.close()


def test_zkcli_with_a_jaas_client_section(server_factory, digest_jaas, tmp_path):
    """zkCli.sh logs in with the Client section of its own JAAS file (DIGEST-MD5)."""
    server = start(server_factory, sasl_cfg(digest_jaas))
    client_jaas = write(tmp_path / "client-jaas.conf", """
Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="bob"
  password="bobsecret";
};
""")
    script = "create /cli-sasl by-zkcli sasl:bob:cdrwa\nget /cli-sasl\nwhoami\nquit\n"
    out = subprocess.run(
        [ZKCLI, "-waitforconnection", "-server", server.hosts], input=script, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
        env=dict(os.environ,
                 CLIENT_JVMFLAGS=f"-Djava.security.auth.login.config={client_jaas}")).stdout
    assert "Created /cli-sasl" in out, out
    assert "by-zkcli" in out, out
    assert "sasl: bob" in out, out


def test_zkcli_with_a_kerberos_client_section(server_factory, kerberos_env, tmp_path):
    server = kerberos_server(server_factory, kerberos_env, tmp_path)
    client_jaas = write(tmp_path / "client-krb5.conf",
                        krb5_section("Client", os.path.join(kerberos_env.dir, "client.keytab"),
                                     f"client@{REALM}"))
    flags = [f"-Djava.security.auth.login.config={client_jaas}",
             f"-Djava.security.krb5.conf={kerberos_env.krb5_conf}"]
    out = subprocess.run(
        [ZKCLI, "-waitforconnection", "-server", f"localhost:{server.port}"],
        input="whoami\nquit\n", text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=60, env=dict(os.environ, CLIENT_JVMFLAGS=" ".join(flags))).stdout
    assert f"sasl: client@{REALM}" in out, out
