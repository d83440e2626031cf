"""The checker on small hand-made histories: each pair shows one that must pass and one that must
fail, so a checker that accepts everything (or nothing) is caught."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checker  # noqa: E402


def op(proc, f, start, end, outcome="ok", result=None, key="k", **args):
    return {"proc": proc, "f": f, "key": key, "args": args, "start": start,
            "end": None if outcome == "info" else end, "outcome": outcome, "result": result}


def lin(ops):
    return checker.linearizable_register(ops, ("init", 0)) is None


def test_sequential_history_passes():
    assert lin([op(1, "write", 0, 1, result=1, value="a"),
                op(2, "read", 2, 3, result=("a", 1))])


def test_stale_read_after_acknowledged_write_fails():
    assert not lin([op(1, "write", 0, 1, result=1, value="a"),
                    op(2, "read", 2, 3, result=("init", 0))])


def test_concurrent_read_may_see_old_or_new():
    w = op(1, "write", 0, 5, result=1, value="a")
    assert lin([w, op(2, "read", 1, 2, result=("init", 0))])
    assert lin([w, op(2, "read", 1, 2, result=("a", 1))])


def test_read_cannot_flip_back():
    w = op(1, "write", 0, 10, result=1, value="a")
    assert not lin([w, op(2, "read", 1, 2, result=("a", 1)),
                    op(3, "read", 3, 4, result=("init", 0))])


def test_indeterminate_write_may_take_effect_late():
    # The write timed out at 1, yet its effect shows at 20: allowed, it was in flight.
    assert lin([op(1, "write", 0, None, outcome="info", value="a"),
                op(2, "read", 10, 11, result=("init", 0)),
                op(2, "read", 20, 21, result=("a", 1))])


def test_indeterminate_write_may_never_take_effect():
    assert lin([op(1, "write", 0, None, outcome="info", value="a"),
                op(2, "read", 10, 11, result=("init", 0))])


def test_indeterminate_write_cannot_take_effect_before_it_started():
    assert not lin([op(2, "read", 0, 1, result=("a", 1)),
                    op(1, "write", 5, None, outcome="info", value="a")])


def test_cas_success_and_badversion():
    assert lin([op(1, "cas", 0, 1, result=None, version=0, value="a"),
                op(2, "cas", 2, 3, outcome="fail", version=0, value="b"),
                op(3, "read", 4, 5, result=("a", 1))])


def test_two_cas_on_the_same_version_cannot_both_succeed():
    assert not lin([op(1, "cas", 0, 3, version=0, value="a"),
                    op(2, "cas", 1, 4, version=0, value="b")])


def test_badversion_when_the_version_matched_fails():
    assert not lin([op(1, "cas", 0, 1, outcome="fail", version=0, value="a")])


def test_write_must_return_the_next_version():
    assert not lin([op(1, "write", 0, 1, result=2, value="a")])


def test_lost_write_is_caught_by_final_read():
    ops = [op(1, "write", 0, 1, result=1, value="a"), op(9, "read", 5, 6, result=("init", 0))]
    assert not lin(ops)


def test_search_budget_is_reported_not_silently_passed():
    ops = [op(i, "write", 0, None, outcome="info", value=str(i)) for i in range(12)]
    ops.append(op(99, "read", 1, 2, result=("nobody", 5)))
    with pytest.raises(checker.SearchBudgetExceeded):
        checker.linearizable_register(ops, ("init", 0), budget=100)


def test_check_registers_names_the_key():
    problems = checker.check_registers(
        [op(1, "write", 0, 1, result=1, value="a", key="k3"),
         op(2, "read", 2, 3, result=("init", 0), key="k3"),
         op(2, "read", 2, 3, result=("init", 0), key="k4")], "init")
    assert len(problems) == 1 and "k3" in problems[0]


def test_final_versions():
    ops = [op(1, "write", 0, 1, result=1, value="a"),
           op(1, "write", 2, None, outcome="info", value="b")]
    assert checker.check_final_versions(ops, {"k": ("a", 1)}) == []
    assert checker.check_final_versions(ops, {"k": ("b", 2)}) == []
    assert checker.check_final_versions(ops, {"k": ("init", 0)})
    assert checker.check_final_versions(ops, {"k": ("c", 3)})


def test_session_order():
    good = [op(1, "read", 0, 1, result=("a", 2)), op(1, "read", 2, 3, result=("a", 2)),
            op(2, "read", 2, 3, result=("init", 0))]
    assert checker.check_session_order(good) == []
    bad = [op(1, "write", 0, 1, result=3, value="a"), op(1, "read", 2, 3, result=("x", 2))]
    assert checker.check_session_order(bad)


def seq(name, outcome="ok"):
    return op(1, "create_seq", 0, 1, outcome=outcome, result=name if outcome == "ok" else None)


def test_sequential_creates():
    creates = [seq("s-0000000001"), seq("s-0000000002"), seq(None, "info")]
    assert checker.check_sequential(creates, ["s-0000000001", "s-0000000002"]) == []
    assert checker.check_sequential(creates, ["s-0000000001", "s-0000000002", "s-0000000003"]) == []
    assert checker.check_sequential(creates, ["s-0000000001"])  # an acknowledged one lost
    dup = [seq("s-0000000001"), seq("s-0000000001")]
    assert checker.check_sequential(dup, ["s-0000000001"])
    assert checker.check_sequential([seq("s-0000000001")], ["s-0000000001", "s-0000000002"])


def hold(proc, a, r, confirmed=True):
    return {"proc": proc, "acquired": a, "released": r, "confirmed": confirmed}


def test_lock_exclusivity():
    assert checker.check_lock([hold(1, 0, 1), hold(2, 1.5, 2), hold(3, 2.5, 3)]) == []
    assert checker.check_lock([hold(1, 0, 2), hold(2, 1, 3)])
    # A holder whose session was lost proves nothing about the others.
    assert checker.check_lock([hold(1, 0, 2, confirmed=False), hold(2, 1, 3)]) == []


def test_counter():
    incs = [op(1, "incr", 0, 1, result=1), op(2, "incr", 0, 2, result=2),
            op(3, "incr", 3, None, outcome="info")]
    reads = [op(1, "read", 1, 2, result=1), op(1, "read", 3, 4, result=2)]
    assert checker.check_counter(incs, reads, 2) == []
    assert checker.check_counter(incs, reads, 3) == []
    assert checker.check_counter(incs, reads, 1)  # acknowledged increment lost
    assert checker.check_counter(incs, reads, 4)  # more than could have happened
    twice = [op(1, "incr", 0, 1, result=1), op(2, "incr", 0, 1, result=1)]
    assert checker.check_counter(twice, [], 2)
    back = [op(1, "read", 1, 2, result=2), op(1, "read", 3, 4, result=1)]
    assert checker.check_counter(incs, back, 2)


def test_ephemeral_expiry():
    seen = [op(9, "exists", 1, 1.1, result=True), op(9, "exists", 4, 4.1, result=False)]
    assert checker.check_ephemeral(seen, last_touch=0.5, timeout_s=3.0, final_exists=False) == []
    assert checker.check_ephemeral(seen, last_touch=2.0, timeout_s=3.0, final_exists=False)
    assert checker.check_ephemeral(seen, last_touch=0.5, timeout_s=3.0, final_exists=True)
    # Within the slack a learner's late touch report allows; beyond it still premature.
    assert checker.check_ephemeral(seen, 1.5, 3.0, False, slack_s=0.5) == []
    assert checker.check_ephemeral(seen, 2.0, 3.0, False, slack_s=0.5)


def simulated_history(seed, n_ops=300, procs=5):
    """A history of a truly atomic register: each op takes effect at a random instant inside its
    interval; some lose their answer (info) and took effect or not. Also returns, per read, the
    states that were already overwritten by a write that ended before the read began."""
    rng = __import__("random").Random(seed)
    ops, t = [], 0.0
    for i in range(n_ops):
        t += rng.uniform(0, 0.01)
        start = t
        end = start + rng.uniform(0.001, 0.05)
        f = rng.choice(("read", "write", "cas"))
        o = op(i % procs, f, start, end, value=f"v{i}")
        o["point"] = rng.uniform(start, end)
        if f == "cas":
            o["args"]["version"] = None  # filled from the state at its point
        if f != "read" and rng.random() < 0.05:
            o["outcome"], o["end"] = "info", None
            o["applied"] = rng.random() < 0.5
        ops.append(o)
    state = ("init", 0)
    for o in sorted(ops, key=lambda o: o["point"]):
        if o["f"] == "read":
            o["result"] = state
        elif o["f"] == "cas":
            o["args"]["version"] = state[1] if rng.random() < 0.7 else state[1] + 1
            if o["args"]["version"] != state[1]:
                if o["outcome"] == "info":
                    o["applied"] = False
                else:
                    o["outcome"] = "fail"
                continue
        if o["f"] != "read" and o.get("applied", True):
            state = (o["args"]["value"], state[1] + 1)
            o["result"] = state[1] if o["f"] == "write" else None
    return ops


@pytest.mark.parametrize("seed", range(5))
def test_an_atomic_register_history_passes_and_a_corrupted_one_fails(seed):
    ops = simulated_history(seed)
    assert checker.linearizable_register(ops, ("init", 0)) is None
    # Give one late read the very first state back: a write acknowledged long before it
    # started changed the register since, so no order can explain it.
    reads = [o for o in ops if o["f"] == "read" and o["result"][1] >= 2 and o["start"] > 1.0]
    victim = reads[len(reads) // 2]
    victim["result"] = ("init", 0)
    assert checker.linearizable_register(ops, ("init", 0)) is not None
