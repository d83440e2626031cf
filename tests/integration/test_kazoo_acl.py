"""ACLs: world, digest, auth, ip schemes, NoAuth, InvalidACL and the superDigest user."""

import pytest
from kazoo.exceptions import AuthFailedError, InvalidACLError, NoAuthError
from kazoo.security import ACL, Id, make_acl, make_digest_acl, make_digest_acl_credential

from conftest import SUPER_PASSWORD
from zkwire import WireClient

INVALIDACL = -114


@pytest.fixture
def anon(zk_server, client_factory):
    return client_factory(zk_server)


@pytest.fixture
def alice(zk_server, client_factory):
    client = client_factory(zk_server)
    client.add_auth("digest", "alice:alice-pw")
    return client


def test_digest_acl_allows_only_the_matching_user(zk, anon, alice, base):
    acl = make_digest_acl("alice", "alice-pw", all=True)
    zk.create(base + "/secret", b"s", acl=[acl])
    assert alice.get(base + "/secret")[0] == b"s"
    alice.set(base + "/secret", b"t")
    with pytest.raises(NoAuthError):
        anon.get(base + "/secret")
    with pytest.raises(NoAuthError):
        anon.set(base + "/secret", b"x")
    with pytest.raises(NoAuthError):
        anon.create(base + "/secret/child")
    assert anon.exists(base + "/secret") is not None, "exists needs no permission"
    with pytest.raises(NoAuthError):
        anon.get_acls(base + "/secret")  # getACL needs READ or ADMIN since 3.x
    acls, _ = alice.get_acls(base + "/secret")
    assert acls[0].id.id == make_digest_acl_credential("alice", "alice-pw")


def test_permission_bits_are_checked_separately(zk, anon, base):
    read_only = make_acl("world", "anyone", read=True)
    zk.create(base + "/ro", b"r", acl=[read_only])
    assert anon.get(base + "/ro")[0] == b"r"
    with pytest.raises(NoAuthError):
        anon.set(base + "/ro", b"w")
    with pytest.raises(NoAuthError):
        anon.create(base + "/ro/c")
    with pytest.raises(NoAuthError):
        anon.set_acls(base + "/ro", [make_acl("world", "anyone", all=True)])
    create_only = make_acl("world", "anyone", create=True)
    zk.create(base + "/co", acl=[create_only])
    anon.create(base + "/co/c")
    with pytest.raises(NoAuthError):
        anon.delete(base + "/co/c")  # delete needs DELETE on the parent
    with pytest.raises(NoAuthError):
        anon.get_children(base + "/co")


def test_auth_scheme_uses_the_sessions_identities(alice, anon, base):
    auth_acl = ACL(31, Id("auth", ""))
    alice.create(base + "/mine", b"m", acl=[auth_acl])
    acls, _ = alice.get_acls(base + "/mine")
    assert [(a.perms, a.id.scheme, a.id.id) for a in acls] == [
        (31, "digest", make_digest_acl_credential("alice", "alice-pw"))]
    with pytest.raises(NoAuthError):
        anon.get(base + "/mine")
    with pytest.raises(InvalidACLError):
        anon.create(base + "/nope", acl=[auth_acl])  # no identity to expand


def test_ip_scheme(zk, anon, base):
    zk.create(base + "/local", b"l", acl=[make_acl("ip", "127.0.0.1", all=True)])
    zk.create(base + "/net", b"n", acl=[make_acl("ip", "127.0.0.0/8", read=True)])
    zk.create(base + "/far", b"f", acl=[make_acl("ip", "10.1.2.3", all=True)])
    assert anon.get(base + "/local")[0] == b"l"
    assert anon.get(base + "/net")[0] == b"n"
    with pytest.raises(NoAuthError):
        anon.get(base + "/far")


def test_invalid_acls_are_refused(zk_server, zk, base):
    wire = WireClient(zk_server.port)  # kazoo replaces an empty list by its default ACL
    try:
        assert wire.create(base + "/empty", acls=[])[0] == INVALIDACL
    finally:
        wire.close()
    with pytest.raises(InvalidACLError):
        zk.create(base + "/bad", acl=[make_acl("digest", "no-colon-here", all=True)])
    with pytest.raises(InvalidACLError):
        zk.create(base + "/bad", acl=[make_acl("noscheme", "x", all=True)])
    assert zk.exists(base + "/bad") is None


def test_super_user_bypasses_acls(zk_server, client_factory, zk, base):
    zk.create(base + "/locked", b"x", acl=[make_acl("ip", "10.9.9.9", all=True)])
    root = client_factory(zk_server)
    root.add_auth("digest", f"super:{SUPER_PASSWORD}")
    assert root.get(base + "/locked")[0] == b"x"
    root.set(base + "/locked", b"y")
    root.delete(base + "/locked")
    wrong = client_factory(zk_server)
    wrong.add_auth("digest", "super:not-the-password")
    zk.create(base + "/locked2", acl=[make_acl("ip", "10.9.9.9", all=True)])
    with pytest.raises(NoAuthError):
        wrong.get(base + "/locked2")


def test_unknown_auth_scheme_fails_the_session(zk_server, client_factory):
    client = client_factory(zk_server)
    with pytest.raises(AuthFailedError):
        client.add_auth("no-such-scheme", "x")
