"""A throwaway MIT Kerberos realm for tests: a KDC database in a temporary directory, krb5kdc
in the foreground on a loopback port, principals and keytabs made with kadmin.local."""

import os
import socket
import subprocess
import time

import pytest

import ports

REALM = "TEST.REALM"
MASTER_PASSWORD = "kdc-master-pw"
# The principal of members that listen on loopback (local mode, and the kubelet stand-in's pods):
# the pattern zookeeper/{host}@REALM with their host.
LOOPBACK_SERVICE = "zookeeper/127.0.0.1"


class Kdc:
    def __init__(self, workdir):
        self.dir = str(workdir)
        self.port = ports.free_port()
        self.krb5_conf = os.path.join(self.dir, "krb5.conf")
        self.kdc_conf = os.path.join(self.dir, "kdc.conf")
        self.ccache = os.path.join(self.dir, "ccache")
        self.proc = None
        with open(self.krb5_conf, "w") as f:
            f.write(f"""[libdefaults]
 default_realm = {REALM}
 dns_lookup_realm = false
 dns_lookup_kdc = false
 dns_canonicalize_hostname = false
 rdns = false
 udp_preference_limit = 1
 ticket_lifetime = 1h
[realms]
 {REALM} = {{
  kdc = 127.0.0.1:{self.port}
 }}
[domain_realm]
 localhost = {REALM}
""")
        with open(self.kdc_conf, "w") as f:
            f.write(f"""[kdcdefaults]
 kdc_ports = {self.port}
 kdc_tcp_ports = {self.port}
[realms]
 {REALM} = {{
  database_name = {self.dir}/principal
  key_stash_file = {self.dir}/stash
  acl_file = {self.dir}/kadm5.acl
  kdc_ports = {self.port}
  kdc_tcp_ports = {self.port}
  max_life = 1h
 }}
[logging]
 kdc = FILE:{self.dir}/kdc.log
""")

    @property
    def env(self):
        """What a process needs to find this realm (MIT libraries and Java)."""
        return {"KRB5_CONFIG": self.krb5_conf, "KRB5_KDC_PROFILE": self.kdc_conf,
                "KRB5CCNAME": f"FILE:{self.ccache}",
                "JAVA_TOOL_OPTIONS": f"-Djava.security.krb5.conf={self.krb5_conf}"}

    def _run(self, *cmd):
        subprocess.run(cmd, check=True, capture_output=True, timeout=60,
                       env=dict(os.environ, **self.env))

    def start(self):
        self._run("kdb5_util", "create", "-s", "-r", REALM, "-P", MASTER_PASSWORD)
        log = open(os.path.join(self.dir, "krb5kdc.out"), "wb")
        self.proc = subprocess.Popen(["krb5kdc", "-n", "-r", REALM], stdout=log,
                                     stderr=subprocess.STDOUT, env=dict(os.environ, **self.env))
        log.close()
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"krb5kdc exited with {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)  # polling for the listener, bounded by the deadline
        raise RuntimeError("krb5kdc did not listen within 20 s")

    def add_principal(self, name):
        """Creates `name` with a random key; returns the path of a keytab holding it."""
        keytab = os.path.join(self.dir, name.replace("/", "_") + ".keytab")
        self._run("kadmin.local", "-r", REALM, "-q", f"addprinc -randkey {name}")
        self._run("kadmin.local", "-r", REALM, "-q", f"ktadd -k {keytab} {name}")
        return keytab

    def kinit(self, name, keytab, cache=None, lifetime=None):
        """A ticket-granting ticket for `name` in this realm's credential cache (or `cache`),
        valid for the realm's maximum or for `lifetime` (kinit's syntax, e.g. "15s")."""
        self._run("kinit", "-k", "-t", keytab, *(["-c", cache] if cache else []),
                  *(["-l", lifetime] if lifetime else []), f"{name}@{REALM}")

    def has_valid_ticket(self, cache):
        """klist -s: whether `cache` holds a ticket that has not expired."""
        return subprocess.run(["klist", "-s", "-c", cache], timeout=30,
                              env=dict(os.environ, **self.env)).returncode == 0

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def realm(tmp_path, monkeypatch):
    """A KDC with the loopback members' service principal and two clients, `client` (whose
    ticket is in the default credential cache) and `other`; this process (python-gssapi), the
    operator and the processes it starts find the realm through the environment. A test module
    uses it by importing it."""
    os.makedirs(tmp_path / "kdc")
    kdc = Kdc(tmp_path / "kdc").start()
    try:
        kdc.service_keytab = kdc.add_principal(LOOPBACK_SERVICE)
        kdc.client_keytab = kdc.add_principal("client")
        kdc.other_keytab = kdc.add_principal("other")
        kdc.kinit("client", kdc.client_keytab)
        for key, value in kdc.env.items():
            monkeypatch.setenv(key, value)
        yield kdc
    finally:
        kdc.stop()
