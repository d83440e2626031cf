"""A reconfig that only the leader logged must never become anyone's membership.

The leader's links to both followers are cut, so its reconfig proposal reaches nobody; it is
killed once the proposal is in its own log, and the links stay cut until the followers have
elected a leader of the old configuration (a healed link would let the dead leader's kernel
deliver the proposal it still holds, and the followers would then rightly wait for it). When the old leader comes back, the replay of its log puts the uncommitted
reconfig in its tree; it must still start from the committed membership (Zab's "last seen"
configuration: pending until the ensemble commits or drops it), rejoin, drop its log tail and
serve in the ensemble of three, showing the committed /zookeeper/config.

zookube only: the test sees the proposal logged through srvr's Zxid, which in zookube is the
last logged zxid and in ZooKeeper the last applied one.
"""

import os
import sys
import tempfile

import pytest
from kazoo.security import make_digest_acl_credential

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import cluster as cluster_mod  # noqa: E402
import netns  # noqa: E402
import test_chaos  # noqa: E402
import workloads  # noqa: E402
from cluster import harness  # noqa: E402

SUPER_PASSWORD = "pending-secret"
SYNC_LIMIT_TICKS = 10  # 2 s of silence from the dead leader and the followers look again


def srvr_zxid(ip):
    for line in harness.four_letter(cluster_mod.CLIENT_PORT, "srvr", timeout=2.0,
                                    host=ip).splitlines():
        if line.startswith("Zxid: "):
            return int(line.split()[1], 16)
    return -1


def quorum_size(ip):
    for line in harness.four_letter(cluster_mod.CLIENT_PORT, "mntr", timeout=2.0,
                                    host=ip).splitlines():
        if line.startswith("zk_quorum_size\t"):
            return int(line.split("\t")[1])
    return None


@pytest.mark.skipif(test_chaos.skip_reason() is not None, reason=str(test_chaos.skip_reason()))
@pytest.mark.skipif(harness.impl() != "zookube", reason="srvr's Zxid is the last applied in ZooKeeper")
def test_a_reconfig_only_the_dead_leader_logged_never_becomes_active():
    with netns.Network(3) as net, tempfile.TemporaryDirectory(prefix="zkpending-") as workdir:
        cfg = {"syncLimit": SYNC_LIMIT_TICKS, "reconfigEnabled": "true",
               "DigestAuthenticationProvider.superDigest":
                   make_digest_acl_credential("super", SUPER_PASSWORD)}
        cl = cluster_mod.Cluster(net, workdir, 3, 0, extra_cfg=cfg)
        try:
            cl.start()
            cl.wait_serving()
            leader = cl.leader()
            b, c = [sid for sid in cl.members if sid != leader]
            admin = workloads.connect(cl.members[leader].hosts, 4.0)
            admin.add_auth("digest", f"super:{SUPER_PASSWORD}")
            committed, _ = admin.get("/zookeeper/config")
            logged_before = srvr_zxid(net.ip(leader))

            net.block(leader, b)
            net.block(leader, c)
            admin.reconfig_async(joining=None, leaving=str(b), new_members=None, from_config=-1)
            harness.wait_until(lambda: srvr_zxid(net.ip(leader)) > logged_before, timeout=10,
                               what="the leader to log its reconfig proposal")
            cl.members[leader].kill9()
            admin.stop()
            admin.close()
            cl.wait_serving()  # b and c, under a leader of the old configuration
            net.heal()
            cl.members[leader].launch()
            cl.wait_serving()
            assert cl.members[leader].mode() == "follower", cl.roles()

            for sid, member in cl.members.items():
                assert quorum_size(net.ip(sid)) == 3, f"member {sid} counts another quorum"
                zk = workloads.connect(member.hosts, 4.0)
                try:
                    zk.sync("/zookeeper/config")
                    data, _ = zk.get("/zookeeper/config")
                    assert data == committed, f"member {sid} serves {data!r}"
                    zk.create(f"/after-{sid}", b"")  # the old leader's member writes too
                finally:
                    zk.stop()
                    zk.close()
        except BaseException:
            for sid, member in cl.members.items():  # what each member did, for the report
                with open(member.log_path, errors="replace") as f:
                    print(f"--- member {sid} ---\n" + "".join(f.readlines()[-25:]))
            raise
        finally:
            cl.close()
