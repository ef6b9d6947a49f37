"""`plan` keeps engine runs (`serving.engine_memo`) only while it sizes an LLM service on the pools whose part another
pool names under a different system (hA63): meta-2024's `rsc` (meta-rsc) and `rsc-2` (dgx-a100-superpod), both
A100 80GB; not on `other-h100` or `other-gpus` (MI300X), whose searches recall nothing and paid the digests (~7 % of
its CPU), nor on the training-only GenAI clusters (H100 systems that no LLM search runs on). The scope closes after
the last such pool, and when a sizing raises. Checked failing before: on the base tree `shared_part_pools` does not
exist (the import errors), and with the whole plan under one scope (as before) every pool is sized with it open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infraplan.errors import InputError
from infraplan.planning import scenario
from infraplan.planning.scenario_sizing import repeated_parts, shared_part_pools
from infraplan.planning.scenario_spec import load_scenario
from infraplan.serving import engine_memo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _meta(kinds: tuple[str, ...] = ("llm",)) -> Any:
    spec = load_scenario(str(EXAMPLES / "meta-2024.yaml"))
    return spec.model_copy(update={"services": [s for s in spec.services if s.kind in kinds]})


def test_shared_pools_are_the_two_a100_systems() -> None:
    spec = _meta(("training", "llm", "image", "recsys", "video"))
    names = [spec.pools[i].name for i in shared_part_pools(spec.services, spec.pools)]
    assert names == ["rsc", "rsc-2"]
    assert repeated_parts(spec.services, spec.pools)
    assert shared_part_pools([s for s in spec.services if s.kind != "llm"], spec.pools) == []


@pytest.mark.parametrize("example", ["gigawatt-2027", "mtia-vs-gpu", "plan-minimal"])
def test_no_shared_pools_where_parts_do_not_repeat(example: str) -> None:
    spec = load_scenario(str(EXAMPLES / f"{example}.yaml"))
    assert shared_part_pools(spec.services, spec.pools) == []


def _sized_with_scope(monkeypatch: pytest.MonkeyPatch, spec: Any, fail_on: str | None = None) -> list[tuple[str, int]]:
    """Each pool `plan` sizes the spec's services on, with the count of open memo scopes then (each sizing stubbed to
    a refusal, so the plan stops with "no pool can serve" after the first service's pools)."""
    seen: list[tuple[str, int]] = []

    def stub(svc: Any, pool: Any, need: float) -> str:
        seen.append((pool.name, engine_memo._SCOPES.open))
        if pool.name == fail_on:
            raise RuntimeError("a sizing that fails")
        return "stubbed"

    monkeypatch.setattr(scenario, "size_options", stub)
    with pytest.raises((InputError, RuntimeError)):
        scenario.plan_scenario(spec)
    return seen


def test_llm_sizing_keeps_runs_only_on_the_shared_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _sized_with_scope(monkeypatch, _meta())
    assert [name for name, open_ in seen if open_ > 0] == ["rsc", "rsc-2"]
    assert {name for name, _ in seen} >= {"other-h100", "other-gpus", "rsc", "rsc-2"}
    assert engine_memo._SCOPES.open == 0 and engine_memo.kept_runs() == 0


def test_other_services_size_without_the_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _sized_with_scope(monkeypatch, _meta(("image",)))  # its image service on every pool, the A100 ones too
    assert {"rsc", "rsc-2"} <= {name for name, _ in seen} and all(open_ == 0 for _, open_ in seen)


def test_a_failing_sizing_closes_the_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _sized_with_scope(monkeypatch, _meta(), fail_on="rsc-2")
    assert seen[-1] == ("rsc-2", 1)
    assert engine_memo._SCOPES.open == 0 and engine_memo.kept_runs() == 0
