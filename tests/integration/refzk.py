"""How to launch the reference server: Apache ZooKeeper 3.8 from Debian's `zookeeper` package.

Only the command line lives here; harness.py owns the process. Settings that ZooKeeper reads as
JVM system properties rather than zoo.cfg keys are passed as -D flags.
"""

import os

JAVA_DIR = "/usr/share/java"
# zookeeper.jar's manifest pulls in its own dependencies; logging needs a binding and the
# AdminServer classes need the servlet API even when the AdminServer is off.
CLASSPATH = ":".join(
    os.path.join(JAVA_DIR, jar) for jar in ("zookeeper.jar", "slf4j-log4j12.jar",
                                             "log4j-1.2.jar", "servlet-api.jar",
                                             # NettyServerCnxnFactory, which TLS needs
                                             *(f"netty-{part}.jar" for part in (
                                                 "buffer", "codec", "common", "handler",
                                                 "resolver", "transport",
                                                 "transport-native-unix-common",
                                                 "transport-native-epoll"))))

LOG4J = """log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.Target=System.err
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
"""

# zoo.cfg keys that ZooKeeper 3.8 only honours as system properties.
SYSTEM_PROPERTY_KEYS = {
    "extendedTypesEnabled": "zookeeper.extendedTypesEnabled",
    "znode.container.checkIntervalMs": "znode.container.checkIntervalMs",
    "DigestAuthenticationProvider.superDigest":
    "zookeeper.DigestAuthenticationProvider.superDigest",
    "jute.maxbuffer": "jute.maxbuffer",
    "zookeeper.jute.maxbuffer.extrasize": "zookeeper.jute.maxbuffer.extrasize",
    "4lw.commands.whitelist": "zookeeper.4lw.commands.whitelist",
    "readonlymode.enabled": "readonlymode.enabled",
    "netty.server.outstandingHandshake.limit": "zookeeper.netty.server.outstandingHandshake.limit",
    # SASL: the JAAS file and the switches AuthenticationHelper and the SASL callback read.
    "java.security.auth.login.config": "java.security.auth.login.config",
    "sessionRequireClientSASLAuth": "zookeeper.sessionRequireClientSASLAuth",
    "enforce.auth.enabled": "zookeeper.enforce.auth.enabled",
    "enforce.auth.schemes": "zookeeper.enforce.auth.schemes",
    "kerberos.removeHostFromPrincipal": "zookeeper.kerberos.removeHostFromPrincipal",
    "kerberos.removeRealmFromPrincipal": "zookeeper.kerberos.removeRealmFromPrincipal",
    "superUser": "zookeeper.superUser",
}

# zookube-only keys that ZooKeeper would misread; they are left out of its zoo.cfg.
ZOOKUBE_ONLY_KEYS = {"metricsProvider.httpPort"}


def available():
    return os.path.exists(os.path.join(JAVA_DIR, "zookeeper.jar")) and os.path.exists(
        "/usr/bin/java")


def prepare(workdir, cfg, quorum=False):
    """Returns (zoo.cfg dict for ZooKeeper, command line) for a server in workdir; quorum: an
    ensemble member (QuorumPeerMain) rather than a standalone server."""
    log4j_path = os.path.join(workdir, "log4j.properties")
    with open(log4j_path, "w") as f:
        f.write(LOG4J)
    props = [f"-D{SYSTEM_PROPERTY_KEYS[k]}={v}" for k, v in cfg.items()
             if k in SYSTEM_PROPERTY_KEYS]
    zk_cfg = {k: v for k, v in cfg.items() if k not in ZOOKUBE_ONLY_KEYS}
    zk_cfg.setdefault("admin.enableServer", "false")
    cfg_path = os.path.join(workdir, "zoo.cfg")
    main = ("org.apache.zookeeper.server.quorum.QuorumPeerMain" if quorum else
            "org.apache.zookeeper.server.ZooKeeperServerMain")
    heap = os.environ.get("REFZK_HEAP", "256m")  # a test of a large tree raises it
    cmd = ["/usr/bin/java", f"-Xmx{heap}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
           f"-Dlog4j.configuration=file:{log4j_path}",
           f"-Dzookeeper.admin.enableServer={zk_cfg['admin.enableServer']}",
           *props, "-cp", CLASSPATH, main, cfg_path]
    return zk_cfg, cmd
