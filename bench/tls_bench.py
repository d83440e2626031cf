"""The TLS part of compare.py: both servers' client port over TLS, with the same certificates.

zkbench cannot take part: Debian builds libzookeeper-mt without TLS. The load comes from Apache
ZooKeeper's own Java client instead (bench/java/ZkJavaBench.java, compiled here against
Debian's jars), over its Netty socket, the one that speaks TLS. Each server serves a plaintext
and a TLS port from one process, and the Java client runs every workload on both ports, so the
plaintext rows show what the same client reaches without TLS and the TLS rows what it costs.

ZooKeeper serves TLS only through its Netty connection factory, so its process here runs that
factory for both ports; zookube has one connection layer for both. Certificates: one CA, a server
certificate for 127.0.0.1, a client certificate (mutual TLS, as `ssl.clientAuth` defaults to
need), PEM files both servers and the client read.
"""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from certs import make_ca, make_cert  # noqa: E402
from measure import run_load  # noqa: E402

JAVA_DIR = "/usr/share/java"
CLIENT_JARS = ("zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-nop.jar",
               *(f"netty-{part}.jar" for part in (
                   "buffer", "codec", "common", "handler", "resolver", "transport",
                   "transport-native-unix-common", "transport-native-epoll")))
SOURCE = os.path.join(REPO, "bench", "java", "ZkJavaBench.java")
CLIENT_JAVA = ["/usr/bin/java", "-Xmx512m"]

# (name, ZkJavaBench arguments). Fewer sessions than zkbench's 32: every Java session is two
# threads of its own, on the same two cores as the server.
WORKLOADS = [
    ("get 8x100", ["--workload", "get", "--sessions", "8", "--outstanding", "100"]),
    ("set 8x100", ["--workload", "set", "--sessions", "8", "--outstanding", "100"]),
    ("get 8x1", ["--workload", "get", "--sessions", "8", "--outstanding", "1"]),
    ("set 8x1", ["--workload", "set", "--sessions", "8", "--outstanding", "1"]),
]
MODES = ("plaintext", "TLS")


def names():
    """Every (workload, mode) row name, in report order."""
    return [f"java {w} {mode}" for w, _ in WORKLOADS for mode in MODES]


class Setup:
    """Certificates and the compiled client, under `workdir`."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "tls")
        os.makedirs(self.dir)
        make_ca(self.dir, "ca")
        make_cert(self.dir, "server", "/CN=localhost", san="IP:127.0.0.1,DNS:localhost")
        make_cert(self.dir, "client", "/O=zookube bench/CN=client")
        for name in ("server", "client"):  # a PEM key store: key and certificate in one file
            with open(self.path(f"{name}-keystore.pem"), "w") as out:
                for part in (f"{name}.key", f"{name}.pem"):
                    with open(self.path(part)) as f:
                        out.write(f.read())
        self.classes = os.path.join(self.dir, "classes")
        build = subprocess.run(["javac", "-nowarn", "-cp", self.classpath(), "-d", self.classes,
                                SOURCE], capture_output=True, text=True, timeout=300)
        if build.returncode != 0:
            raise SystemExit(f"javac {SOURCE} failed:\n{build.stderr[-2000:]}")

    def path(self, name):
        return os.path.join(self.dir, name)

    def classpath(self, *extra):
        return ":".join([os.path.join(JAVA_DIR, jar) for jar in CLIENT_JARS] + list(extra))

    def server_cfg(self, secure_port, zookeeper):
        """The zoo.cfg keys that add a TLS port to the image's settings, for either server."""
        cfg = {"secureClientPort": str(secure_port),
               "ssl.keyStore.location": self.path("server-keystore.pem"),
               "ssl.trustStore.location": self.path("ca.pem")}
        if zookeeper:
            cfg["serverCnxnFactory"] = "org.apache.zookeeper.server.NettyServerCnxnFactory"
        return cfg

    def runner(self, secure):
        """A load runner for compare.measured_run: (hosts, label, args, timeout) -> result."""
        tls = (["--secure", "--keystore", self.path("client-keystore.pem"),
                "--truststore", self.path("ca.pem")] if secure else [])

        def run(hosts, label, args, timeout):
            cmd = [*CLIENT_JAVA, "-cp", self.classpath(self.classes), "ZkJavaBench",
                   "--hosts", hosts, *args, *tls]
            result = run_load("ZkJavaBench", cmd, timeout)
            result["server"] = label
            return result

        return run


def turns(rounds):
    """(row name, ZkJavaBench arguments, secure) for every run, `rounds` times over."""
    return [(f"java {w} {mode}", args, mode == "TLS")
            for _ in range(rounds) for w, args in WORKLOADS for mode in MODES]


def settings_line(settings):
    return (f"- TLS, both servers: the standalone part's zoo.cfg plus a TLS port"
            " (secureClientPort, PEM key and trust stores from one CA made with openssl,"
            " client certificates required as ssl.clientAuth's default); ZooKeeper with"
            " NettyServerCnxnFactory for both its ports, which its TLS needs; zookube with its"
            " metrics endpoint on and scraped, ZooKeeper's mntr read, once a second; the load is"
            " Apache ZooKeeper's Java client over its Netty socket (bench/java/ZkJavaBench.java,"
            f" Debian's 3.8 jars, `{' '.join(CLIENT_JAVA)}`), {settings['warmup']} s warm-up +"
            f" {settings['duration']} s per run, on the plaintext port and on the TLS port in"
            " turn; the servers take turns run by run as in the standalone part")
