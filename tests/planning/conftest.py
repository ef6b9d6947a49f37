"""Shared helpers of the planning tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np
import pytest
import yaml

from infraplan.cli.main import main as cli_main
from infraplan.planning import milp_start, scenario_sizing
from infraplan.planning.phased_mix import MixOption

T = TypeVar("T")


def stub_colocated_answer(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """serve-plan's answer stubbed for `scenario_sizing.size_llm`: 4 colocated replicas of TP4 PP2 bf16 (32 GPUs,
    batch <= 128); gives its deployment, which a test may turn disaggregated."""
    dep = SimpleNamespace(replicas=4, tp=4, pp=2, dtype="bf16", kv_dtype="bf16", max_batch=128, disaggregated=False,
                          prefill_replicas=1, decode_replicas=3, attention_dp=1, prefill=None, decode=None)
    answer = SimpleNamespace(feasible=True, gpus=32, deployment=dep, serve=None, slo=None, why=None,
                             meets_slo_full_run=True)  # a real answer has it (hG57 reads it)
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a, **k: answer)
    return dep


def count_cold_milp(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each solve that falls back to scipy's `milp` (`planning.milp_start`'s cold path): one "milp" a call."""
    calls: list[str] = []
    cold = milp_start.milp

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append("milp")
        return cold(*args, **kw)

    monkeypatch.setattr(milp_start, "milp", counted)
    return calls


def record_binding_calls(monkeypatch: pytest.MonkeyPatch, method: str, read: Callable[[Any], T]) -> list[T]:
    """Record what each call of `_Highs.<method>` of `planning.milp_start`'s binding is handed, as `read` gives it
    (the binding patched with a `_Highs` that records and then calls HiGHS's own method)."""
    real = milp_start._highs
    seen: list[T] = []
    own = getattr(real._Highs, method)

    def recorded(self: Any, arg: Any) -> Any:
        seen.append(read(arg))
        return own(self, arg)

    class Recording(real._Highs):  # type: ignore[misc, name-defined]
        pass

    setattr(Recording, method, recorded)
    binding = SimpleNamespace(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
    binding._Highs = Recording
    monkeypatch.setattr(milp_start, "_highs", binding)
    return seen


def record_starts(monkeypatch: pytest.MonkeyPatch) -> list[list[float]]:
    """Record each start handed to HiGHS (`_Highs.setSolution` of `planning.milp_start`'s binding), value for value."""
    return record_binding_calls(monkeypatch, "setSolution", lambda solution: list(solution.col_value))


def plan_cli(raw: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`infraplan plan SPEC --json` of the scenario `raw` written as YAML in `tmp_path`: (exit code, its stdout where
    0, else its stderr stripped)."""
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    capsys.readouterr()
    rc = cli_main(["plan", str(file), "--json"])
    out = capsys.readouterr()
    return rc, out.out if rc == 0 else out.err.strip()


Phase = tuple[list[MixOption], np.ndarray, np.ndarray, list[int]]
"""A phase of the fixed-server rule's tests: (options, need per service, room per pool, watts a device per pool)."""


def random_phase(rng: np.random.Generator, watts: Sequence[int] = ()) -> Phase | None:
    """One seeded random phase of the fixed-server rule's tests (planning/fixed_servers.py; hB64, hP64): 2-3 pools,
    each at one of `watts` a device (drawn; 0 each where none given), 1-2 services, 2-4 options of 1-4 devices at
    1.5-12 a unit (whole with probability 0.3), a need of 1-12 a service and a room of 2-12 devices a pool. None
    where a service has no option (drawn before the room, so the draws of the phases that follow are the same)."""
    n_pools, n_services = int(rng.integers(2, 4)), int(rng.integers(1, 3))
    drawn = [int(w) for w in rng.choice(watts, size=n_pools)] if watts else [0] * n_pools
    options = [MixOption(int(rng.integers(n_services)), int(rng.integers(n_pools)), 0,
                         float(rng.integers(1, 9)) * 1.5, int(rng.integers(1, 5)), bool(rng.random() < 0.3))
               for _ in range(int(rng.integers(2, 5)))]
    need = np.array([[float(rng.integers(1, 13))] for _ in range(n_services)])
    if any(not any(o.service == s for o in options) for s in range(n_services)):
        return None
    room = np.array([[int(rng.integers(2, 13))] for _ in range(n_pools)])
    return options, need, room, drawn


def exhaustive(options: list[MixOption], need: np.ndarray, room: np.ndarray, watts: list[int]) -> list[int] | None:
    """The fixed-server rule by enumeration (hP64): the unique least (devices, power, pool-weighted devices,
    rank-weighted units) of the assignments within the room covering every demand; None where there is none or the
    least is tied. With every pool at the same power its power term ties, leaving hB64's three keys."""
    most = [1 if o.whole else int(room[o.pool, 0] // o.unit_devices) for o in options]
    best: list[tuple[tuple[int, ...], list[int]]] = []
    for x in itertools.product(*(range(m + 1) for m in most)):
        used = np.zeros(room.shape[0])
        got = np.zeros(need.shape[0])
        for n, o in zip(x, options, strict=True):
            used[o.pool] += n * o.unit_devices
            got[o.service] += n * o.capacity
        if np.any(used > room[:, 0]) or np.any(got < need[:, 0] * (1 - 1e-9)):
            continue
        pairs = list(zip(x, options, strict=True))
        key = (sum(n * o.unit_devices for n, o in pairs), sum(n * o.unit_devices * watts[o.pool] for n, o in pairs),
               sum(n * o.unit_devices * o.pool for n, o in pairs), sum(n * (i + 1) for i, n in enumerate(x)))
        best.append((key, list(x)))
    if not best:
        return None
    least = min(k for k, _ in best)
    tied = [x for k, x in best if k == least]
    return tied[0] if len(tied) == 1 else None


def raw_purchase_bound(monkeypatch: pytest.MonkeyPatch, spec: Any) -> tuple[float, float, float]:
    """`plan --optimality-gap` on `spec` with the purchase bound's own terms recorded (planning/purchase_bound.py:
    the MILP's and the bases', before `min` with the answer): (the answer's objective, those terms summed, the gap)."""
    from infraplan.planning import purchase_bound
    from infraplan.planning.scenario import plan_scenario

    raw: list[float] = []
    solve, increments = purchase_bound.solve_phased_bound, purchase_bound.least_increments

    def record(*args: Any, **kw: Any) -> Any:
        out = solve(*args, **kw)
        raw.append(out[2])
        return out

    def terms(*args: Any) -> Any:
        out = increments(*args)
        raw.append(out[1])
        return out

    monkeypatch.setattr(purchase_bound, "solve_phased_bound", record)
    monkeypatch.setattr(purchase_bound, "least_increments", terms)
    plan = plan_scenario(spec, optimality_gap=True)
    assert plan.objective_value is not None and plan.optimality_gap_fraction is not None and len(raw) == 2
    return plan.objective_value, sum(raw), plan.optimality_gap_fraction


def without_hb71(monkeypatch: pytest.MonkeyPatch) -> None:
    """The purchase bound as it was before hB71's parts (planning/purchase_bound.py): the least the smallest
    increment, no windows, spares(u) under the hull's lines alone, the facility floor free to fall below the bases'
    and at the least W per device in service."""
    from infraplan.planning import purchase_bound, purchase_windows

    for name, value in (("DIPS_PER_POOL", 0), ("SPARE_STEPS", False), ("HELD_FLOOR", False)):
        monkeypatch.setattr(purchase_bound, name, value)
    monkeypatch.setattr(purchase_windows, "WINDOWS", False)
    monkeypatch.setattr(purchase_windows, "IT_LINES", False)
