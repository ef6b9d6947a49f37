"""`compare`: an LLM service run at different precisions by the scenarios set side by side, said, and the scenarios
re-planned like-for-like at the formats every side runs (hC58).

Why: each LLM answer is serve-plan's on its pool, searching the service's `dtypes` (bf16 and fp8 by default) that
the pool's part and serving stack run (`planning.llm_precision.runnable_dtypes`). A part without one of them runs
the others: Llama 3 70B chat at 500 requests/s under vLLM 0.12 ran bf16 on an MTIA-400 rack (its catalog lists
mxfp8, no fp8; vLLM 0.12 has no MXFP8 linear method) and fp8 on GB200 NVL72, so `compare` ranked GB200 ahead (84 vs
128 devices, 181 vs 246 kW facility) where at bf16 on both MTIA 400 leads (128 vs 148 devices, 246 vs 315 kW), and
the same question under SGLang with mxfp8 asked flipped the other way (hG57): the ranking was the precision's.

Rule, per LLM service of the same name in two or more scenarios whose last-phase rows ran different (weight, KV)
precisions (`ScenarioServiceRow.weight_dtype` / `kv_dtype`) and whose supplies differ (the pools offered to it:
system, stack, asked `dtypes` and availability; where every side offers the same, the precisions differ by the
MILP's choice at each side's demand, not by a part one side lacks, and nothing is said: benchmarks/scenario_plan.py
compares one menu at three scales, whose chat ran h200 fp8, b200 bf16 and b200 fp8):
- the common formats: the first scenario's asked `dtypes` that every scenario runs on every pool its rows use (the
  part and the stack as its answer chose them), each scenario's own `dtypes` too;
- none: one line saying so and that the comparison is not like-for-like; no re-plan;
- each scenario already searched exactly those formats (no side was short of one): one line, each side ran its
  fastest of the same formats, like-for-like as asked; no re-plan;
- else every scenario that ran a format outside them is re-planned with the service's `dtypes` set to them (as
  `plan` of the file with that `dtypes:` would: one answer), the others' plans standing (dropping formats a pool
  cannot run leaves its search the same), and `compare` adds the like-for-like headline numbers
  (`ScenarioComparison.like_for_like`), a line naming each side's precision there and one giving each side's
  facility power (peak) over the first's, like-for-like and as asked (at one demand, the per-watt ratio: 1.28x
  like-for-like, 0.737x as asked for hG57's GB200 over MTIA 400 under vLLM). A re-plan that fails is said, its
  numbers null.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from infraplan.errors import InputError
from infraplan.planning.fleet_mix_llm import asked_stack
from infraplan.planning.llm_precision import runnable_dtypes
from infraplan.planning.scenario_results import ScenarioPlan
from infraplan.planning.scenario_sizing import serving_system
from infraplan.planning.scenario_spec import ScenarioSpec


def _last_llm_rows(plan: ScenarioPlan, service: str) -> list[Any]:
    last = plan.phases[-1].phase
    return [r for r in plan.services if r.service == service and r.phase == last and r.kind == "llm"
            and r.weight_dtype is not None]


def _said(plan: ScenarioPlan, rows: list[Any]) -> str:
    """'llm-gb200: gb200 fp8 weights and activations (W8A8), fp8 KV (vllm-0.x)', each pool once."""
    pools = dict.fromkeys(f"{r.pool} {r.precision} ({r.serving_stack})" for r in rows)
    return f"{plan.scenario}: {'; '.join(pools)}"


def _runnable(spec: ScenarioSpec, service: str, pools: set[str], dtypes: Sequence[str]) -> tuple[list[str], list[str]]:
    """The `dtypes` every pool in `pools` of `spec` runs for `service` (its stack as asked), and why each other not."""
    svc = next(s for s in spec.services if s.name == service)
    runs, gaps = list(dtypes), []
    for pool in (p for p in spec.pools if p.name in pools):
        ok, why = runnable_dtypes(dtypes, serving_system(pool), asked_stack(svc, pool.stack))
        runs = [d for d in runs if d in ok]
        gaps += [f"{pool.name} cannot run {line}" for line in why]
    return runs, gaps


def precision_parity(specs: Sequence[ScenarioSpec], plans: Sequence[ScenarioPlan],
                     plan: Callable[[ScenarioSpec], ScenarioPlan]
                     ) -> tuple[list[str], dict[str, list[str]], list[ScenarioPlan | None] | None]:
    """(the lines, {service: the common formats it was re-planned at}, the like-for-like plans or None where no
    service needed one): module docstring. `plan`: how a re-planned scenario is planned (`plan_scenario`)."""
    lines: list[str] = []
    common_by: dict[str, list[str]] = {}
    ran_by: dict[str, dict[int, list[str]]] = {}  # per re-planned service, the formats each side's pools run
    names = dict.fromkeys(s.name for spec in specs for s in spec.services if s.kind == "llm")
    for name in names:
        sides = [(i, rows) for i, p in enumerate(plans) if (rows := _last_llm_rows(p, name))]
        if len(sides) < 2 or len({frozenset((r.weight_dtype, r.kv_dtype) for r in rows) for _, rows in sides}) < 2:
            continue
        if len({_menu(specs[i], name) for i, _ in sides}) < 2:  # the same supply on every side: the MILP's choice
            continue
        said = "; ".join(_said(plans[i], rows) for i, rows in sides)
        asked = [d for d in _dtypes(specs[sides[0][0]], name) if all(d in _dtypes(specs[i], name) for i, _ in sides)]
        runs = {i: _runnable(specs[i], name, {r.pool for r in rows}, _dtypes(specs[i], name)) for i, rows in sides}
        common = [d for d in asked if all(d in runs[i][0] for i, _ in sides)]
        short = sorted({gap for i, _ in sides for gap in runs[i][1]})
        head = f"precision: {name} runs at different precisions ({said})"
        if not common:
            lines.append(f"{head}; no asked format runs on every side ({'; '.join(short) or 'none in common'}): "
                         "not compared like-for-like")
        elif all(set(runs[i][0]) == set(common) for i, _ in sides):
            lines.append(f"{head}; every side searched the same formats ({', '.join(common)}) and ran its fastest: "
                         "like-for-like as asked")
        else:
            common_by[name] = common
            ran_by[name] = {i: runs[i][0] for i, _ in sides}
            lines.append(f"{head}, since {'; '.join(short)}: like-for-like below, every side at "
                         f"{', '.join(common)} (the `dtypes` every side runs)")
    if not common_by:
        return lines, common_by, None
    again: list[ScenarioPlan | None] = []
    for i, (spec, p) in enumerate(zip(specs, plans, strict=True)):
        # its plan stands where every re-planned service's pools ran only common formats (its search the same)
        if all(set(ran_by[n][i]) <= set(c) for n, c in common_by.items() if i in ran_by[n]):
            again.append(p)
            continue
        try:
            again.append(plan(_restricted(spec, common_by)))
        except InputError as exc:
            lines.append(f"like-for-like: {p.scenario} re-planned at {_formats(common_by)} fails: {exc}")
            again.append(None)
    for name in common_by:
        ran = [_said(q, rows) for q in again if q is not None and (rows := _last_llm_rows(q, name))]
        lines.append(f"like-for-like: {name} at {', '.join(common_by[name])}: {'; '.join(ran)}")
    base, asked0 = again[0], plans[0]
    ratios = [f"{q.scenario} / {asked0.scenario} {q.facility_power_w / base.facility_power_w:.3g}x like-for-like, "
              f"{p.facility_power_w / asked0.facility_power_w:.3g}x as asked" for p, q in zip(plans[1:], again[1:],
                                                                                             strict=True)
              if q is not None and base is not None and base.facility_power_w > 0 and asked0.facility_power_w > 0]
    if ratios:  # the per-watt answer at one demand: the sides' facility power (peak), like-for-like and as asked
        lines.append(f"like-for-like: facility power (peak) {'; '.join(ratios)}")
    return lines, common_by, again


def _menu(spec: ScenarioSpec, service: str) -> frozenset[tuple[str, str | None, tuple[str, ...], int | None]]:
    """The pools a scenario offers an LLM service, as its search sees them: (system, asked stack, asked dtypes,
    devices available)."""
    svc = next(s for s in spec.services if s.name == service)
    return frozenset((serving_system(p), asked_stack(svc, p.stack), tuple(svc.dtypes), p.available)
                     for p in spec.pools if p.serves is None or "llm" in p.serves)


def _dtypes(spec: ScenarioSpec, service: str) -> list[str]:
    return next(s for s in spec.services if s.name == service).dtypes


def _formats(common_by: dict[str, list[str]]) -> str:
    return "; ".join(f"{name} dtypes [{', '.join(c)}]" for name, c in common_by.items())


def _restricted(spec: ScenarioSpec, common_by: dict[str, list[str]]) -> ScenarioSpec:
    """A copy of the scenario with each named service's `dtypes` set to its common formats (validated as a file)."""
    data: dict[str, Any] = spec.model_dump()
    for svc in data["services"]:
        if svc["name"] in common_by:
            svc["dtypes"] = list(common_by[svc["name"]])
    try:
        return ScenarioSpec.model_validate(data, context={"si_dump": True})  # its SLOs in seconds, as `varied`
    except ValidationError as exc:
        raise InputError(f"{_formats(common_by)}: {exc.errors()[0]['msg']}") from None
