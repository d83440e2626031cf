"""Apache Curator (Debian's libcurator-*-java) and ZooKeeper's Java client over SASL DIGEST-MD5,
logging in with a JAAS Client section as Java applications do: curator/CuratorSaslChecks.java,
compiled here, prints one RESULT line per check. ZK_IMPL=apache runs the same against
ZooKeeper 3.8.
"""

import os
import subprocess

import pytest

from test_curator import HERE, JVM_FLAGS, classpath, curator_classes, harness  # noqa: F401

SOURCE = os.path.join(HERE, "curator", "CuratorSaslChecks.java")
SASL_PROVIDER = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
SERVER_JAAS = """
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_bob="bobsecret";
};
"""
CLIENT_JAAS = """
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="bobsecret";
};
BadClient {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="not-bobs";
};
"""
PROGRAM_DEADLINE_S = 5 * 60


@pytest.fixture(scope="module")
def sasl_classes(curator_classes):
    subprocess.run(["javac", "-nowarn", "-cp", classpath(), "-d", curator_classes, SOURCE],
                   check=True, timeout=300)
    return curator_classes


def write(path, text):
    path.write_text(text)
    return str(path)


def run_checks(classes, workdir, checks, **server_cfg):
    server_jaas = write(workdir / "server-jaas.conf", SERVER_JAAS)
    client_jaas = write(workdir / "client-jaas.conf", CLIENT_JAAS)
    cfg = {"java.security.auth.login.config": server_jaas, "authProvider.1": SASL_PROVIDER}
    cfg.update(server_cfg)
    server = harness.Server(str(workdir / "server"),
                            **{k.replace(".", "__"): v for k, v in cfg.items()}).start()
    log_path = workdir / "client.log"
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.run(
                ["java", *JVM_FLAGS, f"-Djava.security.auth.login.config={client_jaas}", "-cp",
                 classpath(classes), "CuratorSaslChecks", server.hosts, "bob", *checks],
                stdout=subprocess.PIPE, stderr=log, timeout=PROGRAM_DEADLINE_S)
    finally:
        server.stop()
    results = {}
    for line in proc.stdout.decode(errors="replace").splitlines():
        if line.startswith("RESULT "):
            _, name, verdict, *detail = line.split(" ", 3) + [""]
            results[name] = (verdict == "PASS", " ".join(detail).strip())
    for check in checks:
        assert check in results, f"no RESULT line for {check}; see {log_path}"
        passed, detail = results[check]
        assert passed, f"{check}: {detail} (client log {log_path})"


def test_curator_logs_in_by_jaas_and_sasl_acls_hold(sasl_classes, tmp_path):
    run_checks(sasl_classes, tmp_path,
               ["sasl_identity_and_acl", "wrong_password_is_auth_failed", "lock_over_sasl"])


def test_curator_under_required_sasl(sasl_classes, tmp_path):
    run_checks(sasl_classes, tmp_path, ["lock_over_sasl", "required_sasl_closes_others"],
               sessionRequireClientSASLAuth="true")
