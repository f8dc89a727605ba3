"""kit.mlops.champion against an in-memory registry: every interleaving of a few promoters (an
exhaustive search over the reachable states) and random interleavings of many (hypothesis) end
with the best candidate as champion; the old read-compare-set does not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit.mlops.champion import (
    MAX_ROUNDS,
    Entry,
    MarkCandidate,
    Op,
    Promoter,
    ReadCandidates,
    ReadHolder,
    Rule,
    SetAlias,
    TooManyRounds,
    best,
    reason,
)

RULE = Rule("roc_auc")


@dataclass(frozen=True)
class Registry:
    """One model's alias and candidate tags; each op is atomic, as one REST call is. ``runs`` is
    each version's run metric (what an untagged, older champion is judged by)."""

    runs: tuple[tuple[int, float], ...]
    alias: int | None = None
    tags: tuple[tuple[int, str], ...] = ()

    def apply(self, op: Op, rule: Rule) -> tuple[Registry, Entry | tuple[Entry, ...] | None]:
        tags = dict(self.tags)
        if isinstance(op, ReadHolder):
            if self.alias is None:
                return self, None
            value = rule.read_tag(tags.get(self.alias, ""))
            return self, Entry(self.alias, dict(self.runs)[self.alias] if value is None else value)
        if isinstance(op, ReadCandidates):
            found = ((v, rule.read_tag(text)) for v, text in sorted(tags.items()))
            return self, tuple(Entry(v, value) for v, value in found if value is not None)
        if isinstance(op, MarkCandidate):
            tags[op.version] = op.text
            return replace(self, tags=tuple(sorted(tags.items()))), None
        assert isinstance(op, SetAlias)
        return replace(self, alias=op.version), None


class Machine(Protocol):
    @property
    def done(self) -> bool: ...
    def op(self) -> Op: ...
    def after(self, result: Entry | tuple[Entry, ...] | None = None) -> Machine: ...


@dataclass(frozen=True)
class ReadCompareSet:
    """The old promote_if_better: read the holder, set the alias if this version beats it."""

    me: Entry
    rule: Rule
    step: str = "read"
    target: bool = False

    @property
    def done(self) -> bool:
        return self.step == "done"

    def op(self) -> Op:
        return ReadHolder() if self.step == "read" else SetAlias(self.me.version)

    def after(self, result: Entry | tuple[Entry, ...] | None = None) -> ReadCompareSet:
        if self.step == "read":
            assert result is None or isinstance(result, Entry)
            beats = result is None or self.rule.better(self.me.value, result.value)
            return replace(self, step="set" if beats else "done")
        return replace(self, step="done")


State = tuple[Registry, tuple[Machine, ...]]


def step(state: State, i: int) -> State:
    registry, machines = state
    registry, result = registry.apply(machines[i].op(), machines[i].rule)  # type: ignore[attr-defined]
    return registry, (*machines[:i], machines[i].after(result), *machines[i + 1 :])


def _key(state: State) -> tuple:
    """What a state's future depends on: a promoter's rounds (only counted) and the holder it saw
    before marking (only reported) are left out, so that schedules reaching the same registry and
    the same next steps are searched once."""
    registry, machines = state
    return registry, tuple(
        (m.step, m.holder, m.target, m.champion) if isinstance(m, Promoter) else m for m in machines
    )


def every_ending(start: State) -> list[State]:
    """The final states of every interleaving (a search over reachable states, not schedules)."""
    seen, todo, ends = {_key(start)}, [start], []
    while todo:
        state = todo.pop()
        live = [i for i, m in enumerate(state[1]) if not m.done]
        if not live:
            ends.append(state)
        for i in live:
            following = step(state, i)
            if _key(following) not in seen:
                seen.add(_key(following))
                todo.append(following)
    return ends


def scenario(
    values: tuple[float, ...], holder: float | None = None, tagged: bool = False
) -> tuple[State, Entry]:
    """Promoters of versions 1..n with ``values``; optionally version 0 already holding the alias
    (tagged as a candidate, or from before candidates existed). Returns the start and the best."""
    mine = [Entry(v, value) for v, value in enumerate(values, start=1)]
    runs = tuple((e.version, e.value) for e in mine)
    registry = Registry(runs)
    before = None
    if holder is not None:
        before = Entry(0, holder)
        tags = ((0, RULE.tag_value(holder)),) if tagged else ()
        registry = Registry(((0, holder), *runs), alias=0, tags=tags)
    top = best(mine, before, RULE)
    assert top is not None
    return (registry, tuple(Promoter(e, RULE) for e in mine)), top


CASES = [
    # Which version holds which value only matters for ties; three orders are enough.
    ((0.91, 0.93, 0.95), None, False),
    ((0.95, 0.93, 0.91), None, False),
    ((0.93, 0.95, 0.91), None, False),
    ((0.91, 0.95, 0.93), 0.92, False),  # an old champion, no tag: it counts by its run's metric
    ((0.91, 0.95, 0.93), 0.92, True),
    ((0.91, 0.90, 0.93), 0.97, False),  # nobody beats the old champion: it stays
    ((0.93, 0.95, 0.95), None, False),  # a tie: the lower version, for every promoter
    ((0.93, 0.93), 0.93, False),  # ties the champion: it stays
]


@pytest.mark.parametrize(("values", "holder", "tagged"), CASES)
def test_every_interleaving_ends_on_the_best(
    values: tuple[float, ...], holder: float | None, tagged: bool
) -> None:
    start, top = scenario(values, holder, tagged)
    ends = every_ending(start)
    assert ends  # the search reached the end of every interleaving
    for registry, promoters in ends:
        # Ties: any version as good as the best (the holder keeps the alias on a tie).
        assert dict(registry.runs)[registry.alias] == top.value, (registry, promoters)
        if len(set(values)) == len(values) and holder not in values:
            assert registry.alias == top.version
        for p in promoters:  # each saw the alias on a version at least as good as its own
            assert isinstance(p, Promoter) and p.champion is not None
            assert not RULE.better(p.me.value, p.champion.value), p


def test_the_old_read_compare_set_ends_worse_in_some_interleaving() -> None:
    """The search has teeth: it finds the lost update of the code this replaced."""
    start, top = scenario((0.93, 0.95), 0.90, False)
    registry, promoters = start
    naive = tuple(ReadCompareSet(p.me, RULE) for p in promoters)  # type: ignore[attr-defined]
    finals = {r.alias for r, _ in every_ending((registry, naive))}
    assert top.version == 2 and finals == {1, 2}  # version 1 (0.93) can win over 0.95


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(1, 40), min_size=2, max_size=12, unique=True),
    holder=st.none() | st.integers(1, 40),
    tagged=st.booleans(),
    lower_is_better=st.booleans(),
    schedule=st.lists(st.integers(0, 11), max_size=400),
)
def test_random_interleavings_of_many_promoters_end_on_the_best(
    values: list[int],
    holder: int | None,
    tagged: bool,
    lower_is_better: bool,
    schedule: list[int],
) -> None:
    rule = Rule("loss" if lower_is_better else "roc_auc", not lower_is_better)
    mine = [Entry(v, x / 40) for v, x in enumerate(values, start=1)]
    registry = Registry(tuple((e.version, e.value) for e in mine))
    before = None
    if holder is not None:
        before = Entry(0, holder / 40)
        tags = ((0, rule.tag_value(before.value)),) if tagged else ()
        registry = Registry(((0, before.value), *registry.runs), alias=0, tags=tags)
    machines: list[Promoter] = [Promoter(e, rule) for e in mine]
    picks = iter(schedule)
    while live := [i for i, m in enumerate(machines) if not m.done]:
        i = live[next(picks, 0) % len(live)]  # the schedule, then the first live one
        registry, result = registry.apply(machines[i].op(), rule)
        machines[i] = machines[i].after(result)
    top = best(mine, before, rule)
    assert top is not None and registry.alias == top.version
    assert max(m.rounds for m in machines) < MAX_ROUNDS


def test_best_ties_keep_the_holder_then_the_lowest_version() -> None:
    a, b, c = Entry(3, 0.9), Entry(2, 0.9), Entry(5, 0.8)
    assert best([a, b, c], None, RULE) == b
    assert best([a, b], Entry(7, 0.9), RULE) == Entry(7, 0.9)
    assert best([c], Entry(7, 0.85), Rule("loss", False)) == c
    assert best([], None, RULE) is None


def test_a_candidate_tag_counts_only_under_the_same_metric_and_direction() -> None:
    text = RULE.tag_value(0.93)
    assert RULE.read_tag(text) == 0.93
    assert Rule("accuracy").read_tag(text) is None
    assert Rule("roc_auc", False).read_tag(text) is None
    for bad in ("", "0.93", "{}", '{"metric": "roc_auc", "value": "nan"}', "[1]"):
        assert RULE.read_tag(bad) is None, bad


def run_alone(promoter: Promoter, registry: Registry) -> tuple[Promoter, Registry]:
    while not promoter.done:
        registry, result = registry.apply(promoter.op(), promoter.rule)
        promoter = promoter.after(result)
    return promoter, registry


def test_the_reason_says_what_happened() -> None:
    runs = ((1, 0.9), (2, 0.95), (3, 0.8))
    first, registry = run_alone(Promoter(Entry(1, 0.9), RULE), Registry(runs))
    assert reason(first, "champion") == "no champion yet: version 1 becomes champion"
    better, registry = run_alone(Promoter(Entry(2, 0.95), RULE), registry)
    assert reason(better, "champion") == (
        "version 2 roc_auc=0.9500 beats champion version 1 roc_auc=0.9000"
    )
    worse, registry = run_alone(Promoter(Entry(3, 0.8), RULE), registry)
    assert reason(worse, "champion").endswith("does not beat champion version 2 roc_auc=0.9500")
    again, _ = run_alone(Promoter(Entry(2, 0.95), RULE), registry)
    assert reason(again, "champion") == "version 2 is already champion"


def test_a_better_version_promoted_at_the_same_time_is_named() -> None:
    """Both beat the champion; the lesser one's reason names the one that took the alias."""
    start, _ = scenario((0.93, 0.95), 0.90, False)
    registry, (low, high) = start
    low = low.after(registry.apply(ReadHolder(), RULE)[1])  # it looks first,
    high, registry = run_alone(high, registry)  # the better one runs to the end,
    low, registry = run_alone(low, registry)  # then the lesser one finishes
    assert registry.alias == 2 and high.champion == low.champion == Entry(2, 0.95)
    assert reason(low, "champion") == (
        "version 1 roc_auc=0.9300 beats champion version 0 roc_auc=0.9000; "
        "version 2 roc_auc=0.9500, promoted at the same time, is champion"
    )


def test_promotions_that_never_settle_stop_with_a_clear_error() -> None:
    promoter = Promoter(Entry(1, 0.9), RULE, max_rounds=1)
    promoter = promoter.after(None).after()  # looked, marked
    promoter = promoter.after(Entry(0, 0.5))  # the holder is worse
    with pytest.raises(TooManyRounds, match="another metric or direction than 'roc_auc'"):
        promoter.after((Entry(1, 0.9),))
