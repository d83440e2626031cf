"""Checks a recorded client history against the guarantees a ZooKeeper ensemble gives.

An operation is a dict: {"proc", "f", "key", "args", "start", "end", "outcome", "result"} with
monotonic seconds for start/end. outcome is "ok" (the server answered yes), "fail" (the server
answered a definite no, e.g. BadVersion: the op took no effect) or "info" (timeout, connection
loss, session expiry while in flight: it may or may not have taken effect; end is None, meaning
it may take effect at any time after start).

Every check returns a list of human-readable problems; an empty list means the check passed.
"""

import math
from collections import Counter, defaultdict

INF = math.inf


class SearchBudgetExceeded(Exception):
    pass


def _end(op):
    return INF if op["outcome"] == "info" or op["end"] is None else op["end"]


# --- register model: state is (value, version) ----------------------------------------------


def _step_register(state, op):
    """The state after op, or None if op cannot happen in this state with its recorded outcome."""
    value, version = state
    f = op["f"]
    if f == "read":
        return state if tuple(op["result"]) == state else None
    if f == "write":
        if op["outcome"] == "ok" and op["result"] is not None and op["result"] != version + 1:
            return None
        return (op["args"]["value"], version + 1)
    if f == "cas":
        matches = op["args"]["version"] == version
        if op["outcome"] == "fail":
            return state if not matches else None
        if not matches:
            # An indeterminate CAS that did not match is the same as one that never ran.
            return None
        return (op["args"]["value"], version + 1)
    raise ValueError(f"unknown register op {f!r}")


def _register_ops(ops):
    """Drops what carries no information: reads that did not return, failed plain writes."""
    kept = []
    for op in ops:
        if op["f"] == "read" and op["outcome"] != "ok":
            continue
        if op["f"] == "write" and op["outcome"] == "fail":
            continue
        kept.append(op)
    return sorted(kept, key=lambda o: o["start"])


def linearizable_register(ops, init, budget=2_000_000):
    """Wing & Gong's search with Lowe's memoization of (linearized set, state).

    Returns None if some order of the ops respects real time and the register model (every ok
    op placed, indeterminate ops placed or dropped), else a dict describing the furthest point the
    search reached. Raises SearchBudgetExceeded when budget states were explored.
    """
    ops = _register_ops(ops)
    n = len(ops)
    ends = [_end(o) for o in ops]
    starts = [o["start"] for o in ops]
    must = 0
    for i, o in enumerate(ops):
        if o["outcome"] != "info":
            must |= 1 << i
    start_state = tuple(init)
    seen = {(0, start_state)}
    stack = [(0, start_state)]
    best = (0, 0, start_state)
    explored = 0
    while stack:
        mask, state = stack.pop()
        explored += 1
        if explored > budget:
            raise SearchBudgetExceeded(f"{explored} states, {n} ops")
        if mask & must == must:
            return None
        done = bin(mask & must).count("1")
        if done > best[0]:
            best = (done, mask, state)
        open_ops = [i for i in range(n) if not mask >> i & 1]
        horizon = min(ends[i] for i in open_ops)
        for i in open_ops:
            if starts[i] > horizon:
                break
            nxt = _step_register(state, ops[i])
            if nxt is None:
                continue
            key = (mask | 1 << i, nxt)
            if key not in seen:
                seen.add(key)
                stack.append(key)
    _, mask, state = best
    pending = [ops[i] for i in range(n) if not mask >> i & 1 and ops[i]["outcome"] != "info"]
    first = min(pending, key=lambda o: o["end"])
    return {"state": state, "stuck_at": first,
            "concurrent": [o for o in ops
                           if o["start"] <= first["end"] and _end(o) >= first["start"]]}


def check_registers(ops, init_value, budget=2_000_000):
    """Linearizability per key, plus a count check that cannot be fooled by the search budget:
    the final version lies between the acknowledged and the possible number of writes."""
    problems = []
    by_key = defaultdict(list)
    for op in ops:
        by_key[op["key"]].append(op)
    for key, kops in sorted(by_key.items()):
        try:
            bad = linearizable_register(kops, (init_value, 0), budget)
        except SearchBudgetExceeded as e:
            problems.append(f"register {key}: inconclusive, search budget exceeded ({e})")
            continue
        if bad is not None:
            problems.append(f"register {key}: not linearizable; register was {bad['state']} when "
                            f"nothing could explain {_fmt(bad['stuck_at'])}; concurrent: "
                            + "; ".join(_fmt(o) for o in bad["concurrent"][:12]))
    return problems


def _fmt(op):
    end = "?" if op["outcome"] == "info" else f"{op['end']:.3f}"
    return (f"[{op['proc']} {op['f']} {op.get('args')} -> {op['outcome']} {op.get('result')} "
            f"{op['start']:.3f}..{end}]")


def check_final_versions(ops, final):
    """final: key -> (value, version) read after healing. Each ok write/cas bumped the version
    once; each indeterminate one at most once."""
    problems = []
    acked = Counter()
    maybe = Counter()
    for op in ops:
        if op["f"] in ("write", "cas"):
            if op["outcome"] == "ok":
                acked[op["key"]] += 1
            elif op["outcome"] == "info":
                maybe[op["key"]] += 1
    for key, (_, version) in sorted(final.items()):
        if not acked[key] <= version <= acked[key] + maybe[key]:
            problems.append(f"register {key}: final version {version}, but {acked[key]} writes "
                            f"were acknowledged and {maybe[key]} are indeterminate")
    return problems


def check_session_order(ops):
    """Sequential consistency as one session sees it: a session never reads a version of a key
    older than one it already read or wrote (ZooKeeper's FIFO client order and lastZxidSeen)."""
    problems = []
    latest = {}
    for op in sorted(ops, key=lambda o: o["start"]):
        if op["outcome"] != "ok":
            continue
        if op["f"] == "read":
            version = op["result"][1]
        elif op["f"] in ("write", "cas"):
            version = op["result"] if op["f"] == "write" else op["args"]["version"] + 1
        else:
            continue
        k = (op["proc"], op.get("session"), op["key"])
        if version is not None and version < latest.get(k, -1):
            problems.append(f"session {k[:2]} went back in time on {op['key']}: saw version "
                            f"{latest[k]}, then {_fmt(op)}")
        latest[k] = max(latest.get(k, -1), version if version is not None else -1)
    return problems


# --- sequential creates ---------------------------------------------------------------------


def check_sequential(creates, final_children):
    """creates: ops with f == "create_seq" whose result is the created name. No name twice, every
    acknowledged name still present at the end, nothing present that nobody tried to create."""
    problems = []
    names = Counter(op["result"] for op in creates if op["outcome"] == "ok")
    for name, count in names.items():
        if count > 1:
            problems.append(f"sequential name {name} handed out {count} times")
    final = set(final_children)
    lost = sorted(set(names) - final)
    if lost:
        problems.append(f"acknowledged sequential nodes lost: {lost[:10]} ({len(lost)} total)")
    possible = sum(1 for op in creates if op["outcome"] in ("ok", "info"))
    if len(final) > possible:
        problems.append(f"{len(final)} sequential nodes exist but only {possible} creates could "
                        "have made them")
    seqs = Counter(name[-10:] for name in final)
    dup = [s for s, c in seqs.items() if c > 1]
    if dup:
        problems.append(f"sequence numbers used twice in the final listing: {dup[:10]}")
    return problems


# --- lock -----------------------------------------------------------------------------------


def check_lock(holds):
    """holds: {"proc", "acquired", "released", "confirmed"}. A hold is confirmed when the holder's
    own lock node still existed at release (its delete succeeded): from the getChildren that made
    it lowest to that delete, no other node could be lowest. Unconfirmed holds (session lost
    meanwhile) prove nothing: the recipe itself cannot keep a holder whose session expired."""
    problems = []
    confirmed = sorted((h for h in holds if h["confirmed"]), key=lambda h: h["acquired"])
    for a, b in zip(confirmed, confirmed[1:]):
        if b["acquired"] < a["released"]:
            problems.append(f"lock held twice: {a['proc']} {a['acquired']:.3f}..{a['released']:.3f}"
                            f" overlaps {b['proc']} {b['acquired']:.3f}..{b['released']:.3f}")
    return problems


# --- counter by CAS -------------------------------------------------------------------------


def check_counter(incs, reads, final):
    """incs: ops with f == "incr" whose ok result is the value written. reads: ok reads with the
    value read. final: the value after healing."""
    problems = []
    ok_values = Counter(op["result"] for op in incs if op["outcome"] == "ok")
    for value, count in ok_values.items():
        if count > 1:
            problems.append(f"counter: {count} acknowledged increments all wrote {value}")
    n_ok = sum(ok_values.values())
    n_info = sum(1 for op in incs if op["outcome"] == "info")
    if not n_ok <= final <= n_ok + n_info:
        problems.append(f"counter: final {final}, acknowledged {n_ok}, indeterminate {n_info}")
    if ok_values and max(ok_values) > final:
        problems.append(f"counter: final {final} below an acknowledged value {max(ok_values)}")
    last = {}
    for op in sorted(reads, key=lambda o: o["start"]):
        k = (op["proc"], op.get("session"))
        if op["result"] < last.get(k, -1):
            problems.append(f"counter went backwards for {k}: {last[k]} then {_fmt(op)}")
        last[k] = max(last.get(k, -1), op["result"])
    return problems


# --- ephemerals of a paused client -------------------------------------------------------------


def check_ephemeral(observations, last_touch, timeout_s, final_exists, slack_s=0.0):
    """observations: ok exists-reads {"start", "end", "result": bool} of the paused client's
    ephemeral by another client. last_touch: start time of that client's last successful request
    before it stopped; timeout_s: its negotiated session timeout. The session may not expire
    before last_touch + timeout_s - slack_s, so an absence seen (read completed) before then is
    premature; after healing the node must be gone.

    slack_s: a learner reports its sessions' touches to the leader only in its PING replies, and
    the leader keeps a learner that is up to syncLimit ticks late; so, as in ZooKeeper, the leader
    may act on a touch that late (run.py passes syncLimit x tickTime)."""
    problems = []
    not_before = last_touch + timeout_s - slack_s
    for op in observations:
        if op["outcome"] == "ok" and op["result"] is False and op["end"] < not_before:
            problems.append(f"ephemeral gone at {op['end']:.3f}, {not_before - op['end']:.3f}s "
                            f"before its session could expire (last touch {last_touch:.3f}, "
                            f"timeout {timeout_s}s, slack {slack_s}s)")
            break
    if final_exists:
        problems.append("ephemeral of the expired session still exists after healing")
    return problems
