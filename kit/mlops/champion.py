"""Concurrent promotions to one alias, ordered with reads and writes alone (no I/O here).

MLflow has no compare-and-set for aliases, so "read the champion, compare, set the alias" lets a
slower, worse promotion overwrite a better one. Instead every promotion first marks its version as
a *candidate* (a model-version tag with the metric, its direction and the value), then loops: read
the alias holder, read the candidates, set the alias to the best of them if it is not there, and
stop only when a read after its own last write shows the alias on the best. Whoever writes last
then read every candidate tagged before that read, so the alias ends on the best candidate under
any interleaving (docs/registry.md has the argument; tests/mlops/test_champion_protocol.py checks
it against every interleaving of a few promoters and random ones of many).

``Promoter`` is an immutable state machine: ``op()`` says what to do next, ``after(result)`` gives
the next state. kit.mlops.registry runs it against MLflow's REST API; the tests run many against an
in-memory registry in any order they like.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

# Enough for a dozen promotions at once with room to spare: each round of one promoter follows a
# write by another, and writes stop once the candidates stop arriving (the tests measure it).
MAX_ROUNDS = 60


def candidate_tag(alias: str) -> str:
    """The model-version tag that marks a version as a candidate for ``alias``."""
    return f"kit.candidate.{alias}"


@dataclass(frozen=True)
class Rule:
    """How versions are compared: a metric and its direction."""

    metric: str
    greater_is_better: bool = True

    def better(self, value: float, other: float) -> bool:
        """Whether ``value`` is strictly better than ``other``."""
        return value > other if self.greater_is_better else value < other

    def tag_value(self, value: float) -> str:
        """The candidate tag's text for a version whose metric is ``value``."""
        return json.dumps(
            {"metric": self.metric, "greater_is_better": self.greater_is_better, "value": value},
            sort_keys=True,
        )

    def read_tag(self, text: str) -> float | None:
        """The value a candidate tag carries, or None when it was written under another rule
        (another metric or direction: not comparable) or is not a candidate tag at all."""
        try:
            data = json.loads(text)
            value = float(data["value"])
        except (ValueError, TypeError, KeyError):
            return None
        same = data.get("metric") == self.metric
        if not same or data.get("greater_is_better") is not self.greater_is_better:
            return None
        return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Entry:
    """A version and its value on the rule's metric."""

    version: int
    value: float


def best(entries: Iterable[Entry], holder: Entry | None, rule: Rule) -> Entry | None:
    """The best of ``entries`` and the holder. Ties keep the holder (a version must beat it to
    take the alias), else the lowest version, so every promoter picks the same one."""
    pool = [*entries, *([holder] if holder else [])]
    if not pool:
        return None
    top = pool[0]
    for entry in pool[1:]:
        if rule.better(entry.value, top.value) or (
            entry.value == top.value and entry.version < top.version
        ):
            top = entry
    if holder is not None and not rule.better(top.value, holder.value):
        return holder
    return top


# What a promoter asks the registry to do next.
@dataclass(frozen=True)
class ReadHolder:
    """Read which version the alias names (None when none) and its value by the rule."""


@dataclass(frozen=True)
class ReadCandidates:
    """Read every version tagged as a candidate under the same rule, with its value."""


@dataclass(frozen=True)
class MarkCandidate:
    """Tag ``version`` as a candidate carrying ``text``."""

    version: int
    text: str


@dataclass(frozen=True)
class SetAlias:
    """Point the alias at ``version``."""

    version: int


Op = ReadHolder | ReadCandidates | MarkCandidate | SetAlias
Step = Literal["look", "mark", "holder", "candidates", "set", "done"]


class TooManyRounds(RuntimeError):
    """Promotions kept moving the alias: candidates kept arriving, or promoters disagree."""


@dataclass(frozen=True)
class Promoter:
    """One promotion of ``me`` under ``rule``; start with ``Promoter(me, rule)``."""

    me: Entry
    rule: Rule
    step: Step = "look"
    rounds: int = 0
    max_rounds: int = MAX_ROUNDS
    before: Entry | None = None  # the holder before this promotion marked its candidate
    holder: Entry | None = None  # the holder at the last read
    target: Entry | None = None  # the best at the last read, which the alias must name
    champion: Entry | None = None  # the holder when done: the best of the candidates

    @property
    def done(self) -> bool:
        """Whether the promotion is over (``champion`` then holds the alias's final holder)."""
        return self.step == "done"

    def op(self) -> Op:
        """What to do next (not to be called when done)."""
        if self.step in ("look", "holder"):
            return ReadHolder()
        if self.step == "mark":
            return MarkCandidate(self.me.version, self.rule.tag_value(self.me.value))
        if self.step == "candidates":
            return ReadCandidates()
        if self.step == "set":
            assert self.target is not None
            return SetAlias(self.target.version)
        raise RuntimeError(f"promotion of version {self.me.version} is done: nothing to do")

    def after(self, result: Entry | None | tuple[Entry, ...] = None) -> Promoter:
        """The state after this promoter's op ran; ``result`` is what a read returned (the
        holder, or the candidates); writes return nothing (a write that lost a race to another
        counts as done: the next read shows what is there)."""
        if self.step == "look":
            assert result is None or isinstance(result, Entry)
            return replace(self, step="mark", before=result)
        if self.step == "mark":
            return replace(self, step="holder")
        if self.step == "holder":
            assert result is None or isinstance(result, Entry)
            return replace(self, step="candidates", holder=result)
        if self.step == "candidates":
            assert isinstance(result, tuple)
            top = best(result, self.holder, self.rule)
            assert top is not None  # our own candidate is among them
            if self.holder is not None and top.version == self.holder.version:
                return replace(self, step="done", champion=top)
            if self.rounds + 1 >= self.max_rounds:
                raise TooManyRounds(
                    f"promotion of version {self.me.version} read the alias {self.rounds + 1} "
                    "times and it was never on the best candidate: are promotions with another "
                    f"metric or direction than {self.rule.metric!r} running at the same time?"
                )
            return replace(self, step="set", target=top, rounds=self.rounds + 1)
        if self.step == "set":
            return replace(self, step="holder")
        raise RuntimeError(f"promotion of version {self.me.version} is done")


def reason(promoter: Promoter, alias: str) -> str:
    """Why the alias names what it names, for a finished promotion."""
    assert promoter.done and promoter.champion is not None
    me, was, now, metric = (
        promoter.me,
        promoter.before,
        promoter.champion,
        promoter.rule.metric,
    )
    other = (
        f"; version {now.version} {metric}={now.value:.4f}, promoted at the same time, is {alias}"
    )
    if was is None:
        if now.version == me.version:
            return f"no {alias} yet: version {me.version} becomes {alias}"
        return f"no {alias} yet: version {me.version} {metric}={me.value:.4f}{other}"
    if was.version == me.version:
        return f"version {me.version} is already {alias}"
    beats = promoter.rule.better(me.value, was.value)
    verdict = "beats" if beats else "does not beat"
    text = (
        f"version {me.version} {metric}={me.value:.4f} {verdict} {alias} version "
        f"{was.version} {metric}={was.value:.4f}"
    )
    expected = me.version if beats else was.version
    return text if now.version == expected else text + other
