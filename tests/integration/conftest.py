"""Fixtures: servers (zookube or Apache ZooKeeper, picked by ZK_IMPL) and kazoo clients.

Most tests share one session-wide server and work under their own base path; tests that need a
special config, a restart or a crash ask `server_factory` for a private server.
"""

import itertools
import logging
import os
import sys

import pytest
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl_credential

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

SUPER_PASSWORD = "super-secret"
SUPER_DIGEST = make_digest_acl_credential("super", SUPER_PASSWORD)

_servers_by_test = {}
_counter = itertools.count()

logging.getLogger("kazoo").setLevel(logging.CRITICAL)


def pytest_report_header(config):
    return f"ZK_IMPL={harness.impl()} build={harness.build_dir()}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in _servers_by_test.get(item.nodeid, []):
            report.sections.append((f"server log {server.workdir}", server.log_tail(80)))


def _track(request, server):
    _servers_by_test.setdefault(request.node.nodeid, []).append(server)


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory):
    server = harness.Server(str(tmp_path_factory.mktemp("shared")),
                            DigestAuthenticationProvider__superDigest=SUPER_DIGEST)
    try:
        server.start()
    except harness.ServerError as e:
        pytest.exit(f"cannot start the {harness.impl()} server: {e}", returncode=3)
    yield server
    server.stop()


@pytest.fixture
def zk_server(request, shared_server):
    """The shared server (restarted first if an earlier test left it dead)."""
    if not shared_server.alive():
        shared_server.start()
    _track(request, shared_server)
    return shared_server


@pytest.fixture
def server_factory(request, tmp_path):
    """Makes private servers with extra zoo.cfg keys; all are killed at teardown."""
    made = []

    def make(start=True, **cfg):
        server = harness.Server(str(tmp_path / f"server{len(made)}"), **cfg)
        made.append(server)
        _track(request, server)
        return server.start() if start else server

    yield make
    for server in made:
        server.kill9()


@pytest.fixture
def client_factory():
    """Makes started kazoo clients; stops and closes all of them at teardown."""
    made = []

    def make(server, timeout=10.0, start=True, **kwargs):
        """server: a harness.Server, or a connect string ("host:port,host:port")."""
        hosts = server if isinstance(server, str) else server.hosts
        client = KazooClient(hosts=hosts, timeout=timeout, **kwargs)
        made.append(client)
        if start:
            client.start(timeout=15)
        return client

    yield make
    for client in made:
        try:
            client.stop()
            client.close()
        except Exception:  # noqa: BLE001 - teardown must not mask the test result
            pass


@pytest.fixture
def zk(zk_server, client_factory):
    return client_factory(zk_server)


@pytest.fixture
def base(zk, request):
    """A fresh, unique parent path for this test on the shared server."""
    name = "".join(c if c.isalnum() else "_" for c in request.node.name)[:60]
    path = f"/t{next(_counter)}_{os.getpid()}_{name}"
    zk.create(path)
    yield path
    try:
        zk.delete(path, recursive=True)
    except Exception:  # noqa: BLE001 - the session may be gone by design
        pass


@pytest.fixture
def is_apache():
    return harness.impl() == "apache"
