"""A training service under a deadline skips the device counts no plan can meet it on (hA62): `plan`'s doubling
(`scenario_sizing.size_training`) searches a count only where the run's wall-clock floor
(`planning.training_run.wall_floor_s`: the weights' matmuls and LM head, forward + backward, at the accelerator's
highest dense peak, goodput 1) is within the deadline, so every answer and message stays the full search's."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.planning import scenario_sizing
from infraplan.planning.scenario_spec import PoolSpec, ServiceSpec
from infraplan.planning.training_run import wall_floor_s

TOKENS = 15e12
DEADLINE_S = 30 * 86400.0


@pytest.mark.parametrize(("model", "device", "system", "gpus"), [
    ("llama3-8b", "h100-sxm", None, 8), ("llama3-8b", "h100-sxm", None, 512), ("mixtral-8x7b", "h100-sxm", None, 64),
    ("llama3-70b", "gb300", "gb300-nvl72-superpod", 64)])
def test_the_floor_is_below_the_searched_wall(model: str, device: str, system: str | None, gpus: int) -> None:
    """The best plan's wall clock (fp8 at ~38 % MFU on H100: 2.9x its floor; nvfp4 on GB300: 5x) is above the floor,
    which is positive (a floor of 0 would skip nothing)."""
    got = scenario_sizing._training_point(model, device, system, gpus, 4096, 512, "auto", None, TOKENS, None)
    assert got is not None
    floor = wall_floor_s(model, [p for p in (device, system) if p], gpus, 4096, TOKENS)
    assert 0.0 < floor < got.wall_s < 10.0 * floor


def _sized(monkeypatch: pytest.MonkeyPatch, floored: bool, deadline_s: float = DEADLINE_S) -> tuple[Any, list[int]]:
    """`size_training` of llama3-8b on H100 (15T tokens), the counts it searched; `floored` False: no count skipped
    (the search before hA62)."""
    searched: list[int] = []
    point = scenario_sizing._training_point

    def counted(*args: Any) -> Any:
        searched.append(args[3])
        return point(*args)

    monkeypatch.setattr(scenario_sizing, "_training_point", counted)
    if not floored:
        monkeypatch.setattr(scenario_sizing, "wall_floor_s", lambda *a, **k: 0.0)
    svc = ServiceSpec.model_validate({"name": "t", "kind": "training", "model": "llama3-8b", "tokens": TOKENS,
                                      "deadline": deadline_s, "seq_len": 4096, "global_batch": 512})
    return scenario_sizing.size_training(svc, PoolSpec(name="h", device="h100-sxm", site="s")), searched


def test_a_deadline_answer_is_the_full_search_s_with_fewer_searches(monkeypatch: pytest.MonkeyPatch) -> None:
    """30 days: 8 .. 128 H100 cannot (their floors are beyond it): not searched; the answer is the same Sized."""
    with monkeypatch.context() as m:
        full, every = _sized(m, floored=False)
    got, searched = _sized(monkeypatch, floored=True)
    assert got == full
    assert not isinstance(got, str) and got.unit_devices > 128
    assert [g for g in every if g not in searched] == [8, 16, 32, 64, 128]
    assert set(searched) < set(every)


def test_no_count_meets_the_same_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no count meets (a 2-day deadline within 64 devices) the skipped counts are searched for the "fastest
    found" line: the message is the full search's."""
    monkeypatch.setattr(scenario_sizing, "TRAINING_MAX_GPUS", 64)
    with monkeypatch.context() as m:
        full, _ = _sized(m, floored=False, deadline_s=2 * 86400.0)
    got, searched = _sized(monkeypatch, floored=True, deadline_s=2 * 86400.0)
    assert isinstance(got, str) and got == full and "fastest found" in got
    assert sorted(searched) == [8, 16, 32, 64]
