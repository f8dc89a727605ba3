"""Many promotions of one model's versions at once against a real MLflow server, over REST, as
deploy tasks and notebooks make them; shared by the embedded stacks' and the Compose stack's tests.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mlflow

from kit.mlops.registry import promote_if_better

Promote = Callable[..., dict[str, Any]]


@dataclass
class RaceRound:
    """One round: the versions promoted at once, the champion expected and the one found."""

    versions: dict[int, float]
    expected: int
    champion: int
    results: dict[int, dict[str, Any]]
    seconds: float
    champion_before: tuple[int, float]  # the champion (version, score) the round started from

    @property
    def early(self) -> int:
        """Reports that name another champion than the round's: promotions that ended before the
        best one had marked its candidate."""
        return sum(r["champion_version"] != self.expected for r in self.results.values())


def register(uri: str, model: str, values: list[float]) -> dict[int, float]:
    """A version of ``model`` per value, each from a finished run that logged ``score``."""
    client = mlflow.MlflowClient(uri, uri)
    name = f"{model}-runs"
    experiment = client.get_experiment_by_name(name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
    versions = {}
    for value in values:
        run = client.create_run(experiment_id).info.run_id
        client.log_metric(run, "score", value)
        client.set_terminated(run)
        version = client.create_model_version(model, f"runs:/{run}/model", run).version
        versions[int(version)] = value
    return versions


def at_once(versions: list[int], model: str, promote: Promote) -> dict[int, dict[str, Any]]:
    """Promote every version in its own thread, all released together; errors are raised."""
    barrier = threading.Barrier(len(versions))
    results: dict[int, dict[str, Any]] = {}
    errors: list[BaseException] = []

    def deploy(version: int) -> None:
        barrier.wait()
        try:
            results[version] = promote(model, version, "score")
        except BaseException as exc:  # noqa: BLE001 - raised below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=deploy, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    if errors:
        raise errors[0]
    return results


def race(
    uri: str,
    model: str,
    rounds: int,
    promotions: int,
    promote: Promote = promote_if_better,
    seed: int = 0,
) -> list[RaceRound]:
    """``rounds`` rounds of ``promotions`` promotions at once. The model starts with a champion
    set the old way (no candidate tag); in each round every version beats the champion before
    it (the race the lost update needs) but one, which is worse than all, in a shuffled order.
    MLFLOW_TRACKING_URI must name ``uri`` (promote_if_better uses the default client)."""
    client = mlflow.MlflowClient(uri, uri)
    client.create_registered_model(model)
    (old,) = register(uri, model, [0.5])
    client.set_registered_model_alias(model, "champion", str(old))
    pick = random.Random(seed)
    before, played = (old, 0.5), []
    for r in range(1, rounds + 1):
        values = [r + k / 100 for k in range(promotions - 1)] + [0.1 * r]
        pick.shuffle(values)
        versions = register(uri, model, values)
        order = list(versions)
        pick.shuffle(order)
        started = time.monotonic()
        results = at_once(order, model, promote)
        seconds = time.monotonic() - started
        best_version = max(versions, key=versions.__getitem__)
        champion = int(client.get_model_version_by_alias(model, "champion").version)
        played.append(RaceRound(versions, best_version, champion, results, seconds, before))
        before = (champion, versions.get(champion, before[1]))
    return played


def check(rounds: list[RaceRound]) -> None:
    """The exact best version is champion after every round and its promotion says so; every
    other report names a champion at least as good as its own version and as the champion before
    the round. A promotion may finish before a slower one has marked its candidate: its report is
    then true of the moment it ended, not of the round's end (docs/registry.md)."""
    for n, played in enumerate(rounds, start=1):
        assert played.champion == played.expected, (n, played.versions, played.results)
        best = played.results[played.expected]
        assert best["promoted"] and best["champion_version"] == played.expected, best
        before = played.champion_before
        known = {**played.versions, before[0]: before[1]}
        for version, result in played.results.items():
            named = result["champion_version"]
            assert named in known, result
            assert known[named] >= max(played.versions[version], before[1]), result
            assert result["promoted"] == (named == version), result
    worst = min(rounds[0].versions, key=rounds[0].versions.__getitem__)
    assert "does not beat champion version" in rounds[0].results[worst]["reason"]
    print(
        f"{len(rounds)} rounds x {len(rounds[0].versions)} promotions: "
        f"{', '.join(f'{r.seconds:.1f}' for r in rounds)} s; most rounds of one promotion "
        f"{max(res['rounds'] for r in rounds for res in r.results.values())}; reports ended "
        f"before the round's best was marked: {sum(r.early for r in rounds)}"
    )
