"""Quorum SASL with Kerberos (GSSAPI): members authenticate on every election and quorum
connection with the keytab logins of their JAAS QuorumLearner and QuorumServer sections, against
a real MIT KDC, for zookube and ZooKeeper 3.8 alike and in mixed ensembles of both.

As ZooKeeper's SaslQuorumServerCallbackHandler, a member lets a learner in only when its
principal's host (name/host@REALM) is the host of a member: a learner with a valid ticket for a
principal of another host is refused, and the others keep their quorum.
"""

import pytest

import harness
import refzk
from ensemble import Ensemble, mntr_value
from kdc import REALM, Kdc
from test_mixed_ensemble import ensembles  # noqa: F401 (a fixture)
from test_quorum_sasl import SASL_KEYS, each_leads_the_other, log_of, serving, written_everywhere
from test_sasl import krb5_section, write

# The members' host in their server.N lines, which the principals name.
HOST = "127.0.0.1"
SERVICE = f"zkquorum/{HOST}"
LEARNER = f"learner/{HOST}"
INTRUDER = "learner/intruder.example"


@pytest.fixture(scope="module")
def realm(tmp_path_factory):
    kdc = Kdc(tmp_path_factory.mktemp("quorum-kdc")).start()
    try:
        kdc.keytabs = {name: kdc.add_principal(name) for name in (SERVICE, LEARNER, INTRUDER)}
        yield kdc
    finally:
        kdc.stop()


def jaas(realm, learner):
    return (krb5_section("QuorumServer", realm.keytabs[SERVICE], f"{SERVICE}@{REALM}") +
            krb5_section("QuorumLearner", realm.keytabs[learner], f"{learner}@{REALM}"))


def kerberos_member(member, realm, jaas_path):
    member.cfg.update(SASL_KEYS)
    member.cfg["quorum.auth.kerberos.servicePrincipal"] = "zkquorum/_HOST"
    member.cfg["java.security.auth.login.config"] = str(jaas_path)
    # MIT's libraries (zookube) read KRB5_CONFIG, Java its java.security.krb5.conf.
    member.env.update(realm.env)


def kerberos_ensemble(tmp_path, realm, ensembles, impls=None):
    """Three members with the good logins, of `impls` (None: ZK_IMPL's), not started."""
    if impls and not refzk.available():
        pytest.skip("Apache ZooKeeper is not installed")
    good = write(tmp_path / "jaas-krb5.conf", jaas(realm, LEARNER))
    ens = Ensemble(str(tmp_path), voters=3)
    ensembles.append(ens)
    for sid, member in ens.members.items():
        if impls:
            member.impl = impls[sid - 1]
        kerberos_member(member, realm, good)
    return ens


def accepted_kerberos_learners(member):
    """A zookube member let learners in by their Kerberos principal (ZooKeeper logs it at DEBUG
    only, so for it the ensemble serving is the proof)."""
    return member.impl != "zookube" or \
        f"quorum connection from {HOST} as {LEARNER}@{REALM}" in log_of(member)


@pytest.mark.parametrize("impls", [None, ["apache", "apache", "zookube"],
                                   ["zookube", "zookube", "apache"]],
                         ids=["same", "zookube-among-zookeepers", "zookeeper-among-zookubes"])
def test_members_authenticate_with_kerberos_and_serve(tmp_path, realm, ensembles,
                                                     client_factory, impls):
    ens = kerberos_ensemble(tmp_path, realm, ensembles, impls)
    ens.start()
    written_everywhere(ens, client_factory, "/kerberos")
    assert accepted_kerberos_learners(ens.leader()), ens.leader().log_tail()
    for member in ens.members.values():
        if member.impl == "zookube":
            assert "quorum SASL: authenticated" in log_of(member), member.log_tail()
            assert mntr_value(member, "zk_quorum_sasl_auth_success") >= 2
            assert mntr_value(member, "zk_quorum_sasl_auth_fail") == 0
    if impls:
        each_leads_the_other(ens, client_factory, "/kerberos-after-failover")


@pytest.mark.parametrize("impls", [None, ["zookube", "zookube", "apache"],
                                   ["apache", "apache", "zookube"]],
                         ids=["same", "zookube-refuses-zookeeper", "zookeeper-refuses-zookube"])
def test_a_learner_whose_principal_names_another_host_is_refused(tmp_path, realm, ensembles,
                                                                 client_factory, impls):
    ens = kerberos_ensemble(tmp_path, realm, ensembles, impls)
    intruder = ens.members[3]
    kerberos_member(intruder, realm, write(tmp_path / "jaas-intruder.conf",
                                           jaas(realm, INTRUDER)))
    for sid in (1, 2):
        ens.members[sid].launch()
    harness.wait_until(lambda: serving(ens.members[1]) and serving(ens.members[2]), timeout=40,
                       what="members 1 and 2 serving")
    intruder.launch()
    guards = [ens.members[1], ens.members[2]]
    refusal = "is not the host of a member" if guards[0].impl == "zookube" else \
        "is not authorized to connect"

    def refusals(member):
        return [line for line in log_of(member).splitlines()
                if refusal in line and "intruder.example" in line]

    def count(member):
        return len(refusals(member))

    harness.wait_until(lambda: any(count(m) for m in guards), timeout=30,
                       what="the intruder refused")
    if guards[0].impl == "zookube":
        lines = [line for m in guards for line in refusals(m)]
        assert any(f"{INTRUDER}@{REALM}" in line and "member 3" in line for line in lines), lines
        assert sum(mntr_value(m, "zk_quorum_sasl_auth_fail") for m in guards) >= 1
    # It authenticated (a valid ticket) but is not authorized; several refusals later (it keeps
    # dialling) it still has not joined, and the others serve on.
    harness.wait_until(lambda: sum(count(m) for m in guards) >= 3, timeout=40,
                       what="the intruder refused three times")
    assert not serving(intruder)
    assert intruder.alive() or intruder.impl == "apache"
    written_everywhere(ens, client_factory, "/without-the-intruder", members=guards)


@pytest.mark.parametrize("wrong_section", ["QuorumLearner", "QuorumServer"])
def test_a_keytab_without_the_principal_stops_the_start(tmp_path, realm, wrong_section):
    """As ZooKeeper's Login at start: a member whose Kerberos login cannot work does not run."""
    # The other principal's keytab, for the learner's login or the server's key.
    server_keytab = realm.keytabs[LEARNER if wrong_section == "QuorumServer" else SERVICE]
    learner_keytab = realm.keytabs[SERVICE if wrong_section == "QuorumLearner" else LEARNER]
    wrong = write(tmp_path / "jaas-wrong.conf",
                  krb5_section("QuorumServer", server_keytab, f"{SERVICE}@{REALM}") +
                  krb5_section("QuorumLearner", learner_keytab, f"{LEARNER}@{REALM}"))
    zookube_reason = f"cannot log in as {LEARNER}@{REALM}" \
        if wrong_section == "QuorumLearner" else f"no key for {SERVICE} in keytab"
    exits_at_start(tmp_path, realm, wrong, zookube_reason)


def exits_at_start(tmp_path, realm, jaas_path, zookube_reason):
    """A member with these logins exits at start, saying why."""
    ens = Ensemble(str(tmp_path), voters=2)
    member = ens.members[1]
    kerberos_member(member, realm, jaas_path)
    member.launch()
    harness.wait_until(lambda: not member.alive(), timeout=30, what="the member to exit")
    reason = zookube_reason if member.impl == "zookube" else \
        "Failed to initialize authentication mechanism using SASL"
    assert reason in log_of(member), member.log_tail()


def ticket_cache_section(name, cache, principal):
    """A JAAS section logging in from a ticket cache someone filled with kinit, no keytab."""
    return f"""
{name} {{
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=false
  useTicketCache=true
  ticketCache="{cache}"
  doNotPrompt=true
  principal="{principal}";
}};
"""


def ticket_cache_jaas(tmp_path, realm, cache):
    return write(tmp_path / "jaas-ticket-cache.conf",
                 krb5_section("QuorumServer", realm.keytabs[SERVICE], f"{SERVICE}@{REALM}") +
                 ticket_cache_section("QuorumLearner", cache, f"{LEARNER}@{REALM}"))


def ticket_cache_ensemble(tmp_path, realm, ensembles, cache, impls=None):
    """Three members whose learners log in from `cache`, started."""
    ens = kerberos_ensemble(tmp_path, realm, ensembles, impls)
    for member in ens.members.values():
        kerberos_member(member, realm, ticket_cache_jaas(tmp_path, realm, cache))
    ens.start()
    return ens


@pytest.mark.parametrize("impls", [None, ["apache", "apache", "zookube"]],
                         ids=["same", "zookube-among-zookeepers"])
def test_learners_log_in_from_a_ticket_cache(tmp_path, realm, ensembles, client_factory, impls):
    """Krb5LoginModule's useTicketCache, as a sidecar or k5start keeps a cache for the members."""
    cache = str(tmp_path / "learner.ccache")
    realm.kinit(LEARNER, realm.keytabs[LEARNER], cache=f"FILE:{cache}")
    ens = ticket_cache_ensemble(tmp_path, realm, ensembles, cache, impls)
    written_everywhere(ens, client_factory, "/from-the-ticket-cache")
    assert accepted_kerberos_learners(ens.leader()), ens.leader().log_tail()


@pytest.mark.skipif(harness.impl() == "apache",
                    reason="ZooKeeper 3.8's Login keeps the ticket it read and renews it itself "
                           "(kinit -R at 80% of its life); a ticket that is not renewable ends "
                           "its learners' logins, even once the cache holds a new one (seen by "
                           "running it: the two survivors never elect)")
def test_a_learner_uses_its_ticket_cache_renewed_after_its_first_ticket_expired(
        tmp_path, realm, ensembles, client_factory):
    """Whoever keeps the cache (k5start, a sidecar) replaces the expired ticket; a learner that
    dials after that, long after its start, logs in with the new one."""
    cache = str(tmp_path / "learner.ccache")
    realm.kinit(LEARNER, realm.keytabs[LEARNER], cache=f"FILE:{cache}", lifetime="8s")
    ens = ticket_cache_ensemble(tmp_path, realm, ensembles, cache)
    written_everywhere(ens, client_factory, "/before-the-ticket-expired")
    harness.wait_until(lambda: not realm.has_valid_ticket(cache), timeout=30,
                       what="the first ticket-granting ticket to expire")
    realm.kinit(LEARNER, realm.keytabs[LEARNER], cache=f"FILE:{cache}")  # the renewer's turn
    old_leader = ens.leader()
    old_leader.stop()
    survivors = [m for m in ens.members.values() if m is not old_leader]
    harness.wait_until(lambda: all(serving(m) for m in survivors), timeout=60,
                       what="the two others serving after a new election")
    written_everywhere(ens, client_factory, "/after-the-renewal", members=survivors)


def test_a_ticket_cache_without_the_principal_stops_the_start(tmp_path, realm):
    """As ZooKeeper's Login at start: no ticket-granting ticket, no member."""
    empty_cache = tmp_path / "nobody.ccache"  # never filled: no ticket at all
    exits_at_start(tmp_path, realm, ticket_cache_jaas(tmp_path, realm, empty_cache),
                   f"cannot log in as {LEARNER}@{REALM} from ticket cache {empty_cache}")
