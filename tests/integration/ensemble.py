"""An ensemble of real server processes on loopback: voters and observers, each a harness.Server
with its own directory, client port, quorum port and election port.

Members are launched together (none can serve before a quorum runs) and every wait has a
deadline. Roles are read from `srvr`, as an operator or a person would read them.
"""

import os

import harness

ELECTION_DEADLINE_S = 30.0


def mode_of(server):
    """The member's srvr Mode (leader, follower, observer, standalone), or None while it does not
    serve (electing, syncing, down)."""
    if not server.alive():
        return None
    try:
        answer = server.four("srvr")
    except OSError:
        return None
    for line in answer.splitlines():
        if line.startswith("Mode: "):
            return line[len("Mode: "):].strip()
    return None


def mntr_of(server):
    out = {}
    for line in server.four("mntr").splitlines():
        key, _, value = line.partition("\t")
        out[key] = value
    return out


def mntr_value(server, key):
    """One mntr figure as a number; None when the server does not report it."""
    value = mntr_of(server).get(key)
    return None if value is None else float(value)


class Ensemble:
    def __init__(self, workdir, voters=3, observers=0, tick_ms=200, **cfg):
        self.workdir = workdir
        self.members = {}
        ids = list(range(1, voters + observers + 1))
        for sid in ids:
            member = harness.Server(os.path.join(workdir, f"member{sid}"), tick_ms=tick_ms,
                                    **{"initLimit": 10, "syncLimit": 5, **cfg})
            member.myid = sid
            member.quorum_port = harness.free_port()
            member.election_port = harness.free_port()
            member.observer = sid > voters
            self.members[sid] = member
        for sid, member in self.members.items():
            for other_id, other in self.members.items():
                kind = "observer" if other.observer else "participant"
                member.cfg[f"server.{other_id}"] = (
                    f"127.0.0.1:{other.quorum_port}:{other.election_port}:{kind}"
                    f";127.0.0.1:{other.port}")
            if member.observer:
                member.cfg["peerType"] = "observer"

    @property
    def voters(self):
        return [m for m in self.members.values() if not m.observer]

    @property
    def observers(self):
        return [m for m in self.members.values() if m.observer]

    @property
    def hosts(self):
        return ",".join(m.hosts for m in self.members.values())

    def start(self):
        for member in self.members.values():
            member.launch()
        self.wait_serving()
        return self

    def stop(self):
        for member in self.members.values():
            member.kill9()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

    def roles(self):
        return {sid: mode_of(m) for sid, m in self.members.items()}

    def wait_serving(self, timeout=ELECTION_DEADLINE_S):
        """Waits until every running member serves, exactly one of them as leader; returns the
        leader's Server."""
        def settled():
            for m in self.members.values():
                if m.proc is not None and m.proc.poll() is not None:
                    raise harness.ServerError(
                        f"member {m.myid} exited with {m.proc.returncode}:\n{m.log_tail()}")
            running = [m for m in self.members.values() if m.alive()]
            modes = {id(m): mode_of(m) for m in running}
            if None in modes.values() or "read-only" in modes.values():
                return None
            leaders = [m for m in running if modes[id(m)] == "leader"]
            return leaders[0] if len(leaders) == 1 else None

        try:
            return harness.wait_until(settled, timeout=timeout, interval=0.1,
                                      what="every running member serving under one leader")
        except TimeoutError as e:
            raise TimeoutError(f"{e}; roles now {self.roles()}") from None

    def leader(self):
        return self.wait_serving()

    def followers(self):
        return [m for m in self.voters if mode_of(m) == "follower"]
