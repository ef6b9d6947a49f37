"""`compare`: an LLM service run at different precisions by the scenarios set side by side, said, and the scenarios
re-planned like-for-like at the formats every side runs (hC58).

Why: each LLM answer is serve-plan's on its pool, searching the service's `dtypes` (bf16 and fp8 by default) that
the pool's part and serving stack run (`planning.llm_precision.runnable_dtypes`). A part without one of them runs
the others: Llama 3 70B chat at 500 requests/s under vLLM 0.12 ran bf16 on an MTIA-400 rack (its catalog lists
mxfp8, no fp8; vLLM 0.12 has no MXFP8 linear method) and fp8 on GB200 NVL72, so `compare` ranked GB200 ahead (84 vs
128 devices, 181 vs 246 kW facility) where at bf16 on both MTIA 400 leads (128 vs 148 devices, 246 vs 315 kW), and
the same question under SGLang with mxfp8 asked flipped the other way (hG57): the ranking was the precision's.

Rule, per LLM service in two or more scenarios (matched by what it is, not its name: model, workload, last-phase
traffic and SLOs, `planning.service_match`, hB59; a pair matched across different names is said so in its line, and
services of one name that are not one service, at different precisions, get one line saying what differs and that
they are not compared) whose last-phase rows ran different (weight, KV)
precisions (`ScenarioServiceRow.weight_dtype` / `kv_dtype`) and whose supplies differ (the pools offered to it:
system, stack, asked `dtypes` and availability; where every side offers the same, the precisions differ by the
MILP's choice at each side's demand, not by a part one side lacks, and nothing is said: benchmarks/scenario_plan.py
compares one menu at three scales, whose chat ran h200 fp8, b200 bf16 and b200 fp8; the service's `kv_dtype` is
part of the supply, hB59):
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
KV cache (hB59): a deployment's KV dtype is its service's `kv_dtype`, else its weight format's default
(`serving.kv_default`), so where every side asks the same (or none) the KV follows the formats above. Where the
sides ask different ones, the like-for-like KV is the first side's as it ran, else the next side's, the first that
every pool of every side runs (`llm_precision.pools_kv_gaps`: the stack's engine offers it, the part lists it, as
`serve-plan --kv-dtype` refuses it); every side whose search it would change is re-planned with the service's
`kv_dtype` set to it (with the common formats), and `like_for_like_kv_dtypes` names it; none: one line, not compared
like-for-like. A KV-only difference (same weights) is re-planned so too (before, it was said at most, never
re-planned: the rule restricted weight `dtypes` only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from infraplan.catalog import load_model
from infraplan.errors import InputError
from infraplan.planning.fleet_mix_llm import asked_stack
from infraplan.planning.llm_precision import pools_kv_gaps, pools_runnable
from infraplan.planning.scenario_results import ScenarioPlan
from infraplan.planning.scenario_sizing import serving_system
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.service_match import (
    group_label,
    identity,
    last_llm_rows,
    matched_services,
    matched_words,
    unmatched_line,
)
from infraplan.serving.kv_default import default_kv_dtype, varies_by_part

Edits = dict[str, dict[str, Any]]  # per service of one scenario, the fields its like-for-like re-plan sets


def _said(plan: ScenarioPlan, rows: list[Any]) -> str:
    """'llm-gb200: gb200 fp8 weights and activations (W8A8), fp8 KV (vllm-0.x)', each pool once."""
    pools = dict.fromkeys(f"{r.pool} {r.precision} ({r.serving_stack})" for r in rows)
    return f"{plan.scenario}: {'; '.join(pools)}"


def _precisions(rows: list[Any]) -> frozenset[tuple[str, str]]:
    return frozenset((r.weight_dtype, r.kv_dtype) for r in rows)


def precision_parity(specs: Sequence[ScenarioSpec], plans: Sequence[ScenarioPlan],
                     plan: Callable[[ScenarioSpec], ScenarioPlan]
                     ) -> tuple[list[str], dict[str, list[str]], dict[str, str], list[ScenarioPlan | None] | None]:
    """(the lines, {service: the common formats it was re-planned at}, {service: the KV dtype it was re-planned
    at, where the sides asked different ones}, the like-for-like plans or None where no service needed one): module
    docstring. A service is the one of its matched group (`service_match`), named as `group_label` names it. `plan`:
    how a re-planned scenario is planned (`plan_scenario`)."""
    lines: list[str] = []
    common_by: dict[str, list[str]] = {}
    kv_by: dict[str, str] = {}
    edits: list[Edits] = [{} for _ in specs]
    keep = [True] * len(specs)  # a side's plan stands (its searches the same at the like-for-like settings)
    replanned: dict[str, dict[int, str]] = {}
    groups, by_name = matched_services(specs, plans)
    compared = {(i, n) for g in groups if len(g) > 1 for i, n in g.items()}
    for name, named in by_name.items():  # one name, not one service: said where the old pairing would have spoken,
        # of the sides whose service of that name no group compares (hN59: a "chat" matched to another side's
        # "assistant" was also said "not compared" beside a third side's different "chat")
        sides_of = {i: ident for i, ident in named.items() if (i, name) not in compared}
        if len(sides_of) < 2:
            continue
        ran_by = {i: last_llm_rows(plans[i], name) for i in sides_of}
        if len({_precisions(r) for r in ran_by.values()}) > 1 and len({_menu(specs[i], name) for i in sides_of}) > 1:
            lines.append(unmatched_line(name, sides_of, plans))
    for group in (g for g in groups if len(g) > 1):
        sides = [(i, n, last_llm_rows(plans[i], n)) for i, n in group.items()]
        if len({_precisions(rows) for *_, rows in sides}) < 2 or len({_menu(specs[i], n) for i, n, _ in sides}) < 2:
            continue  # the same supply on every side: the MILP's choice
        label, (first, first_name) = group_label(group, plans), next(iter(group.items()))
        svcs = {i: _service(specs[i], n) for i, n, _ in sides}
        said = "; ".join(_said(plans[i], rows) for i, _, rows in sides)
        asked = [d for d in svcs[first].dtypes if all(d in svcs[i].dtypes for i in svcs)]
        runs = {i: pools_runnable(svcs[i], _pools(specs[i], rows), svcs[i].dtypes) for i, _, rows in sides}
        common = [d for d in asked if all(d in runs[i][0] for i in runs)]
        short = sorted({gap for i in runs for gap in runs[i][1]})
        ident = identity(specs[first], plans[first], first_name)
        head = (f"precision: {label}{matched_words(group, ident) if ident else ''} runs at different precisions "
                f"({said})")
        kv, asks = _like_kv(specs, plans, sides, svcs)
        if not common:
            lines.append(f"{head}; {_no_common(asked, short, svcs, sides, specs, plans)}: not compared like-for-like")
            continue
        if asks and kv is None:
            lines.append(f"{head}; {asks}: not compared like-for-like")
            continue
        same_formats = all(set(runs[i][0]) == set(common) for i in runs)
        if same_formats and kv is None:
            lines.append(f"{head}; every side searched the same formats ({', '.join(common)}) and ran its fastest: "
                         "like-for-like as asked")
            continue
        common_by[label], replanned[label] = common, group
        narrower = [] if same_formats or short else [  # no pool short of a format: a side asked fewer
            "the sides ask different dtypes (" + "; ".join(f"{plans[i].scenario}: [{', '.join(svcs[i].dtypes)}]"
                                                          for i in svcs) + ")"]
        since = "; ".join([*([] if same_formats else short), *narrower, *([asks] if asks else [])])
        if kv is not None:
            kv_by[label] = kv
        lines.append(f"{head}, since {since}: like-for-like below, every side at {', '.join(common)} (the `dtypes` "
                     f"every side runs){'' if kv is None else f' with a {kv} KV cache'}")
        shape = load_model(svcs[first].model or "")
        for i, n, _ in sides:
            searched = [d for d in common if d in runs[i][0]]  # what the side searches, restricted
            kv_stands = kv is None or svcs[i].kv_dtype == kv or (  # a DSA model's default is the part's (hF66)
                svcs[i].kv_dtype is None and not varies_by_part(shape) and all(
                    default_kv_dtype(shape, d)[0] == kv for d in searched))
            edits[i][n] = {"dtypes": common, **({} if kv is None else {"kv_dtype": kv})}
            keep[i] = keep[i] and set(runs[i][0]) <= set(common) and kv_stands
    if not common_by:
        return lines, common_by, kv_by, None
    again: list[ScenarioPlan | None] = []
    for i, (spec, p) in enumerate(zip(specs, plans, strict=True)):
        if keep[i]:  # its plan stands where every re-planned service's search is the same (dropping formats it
            again.append(p)  # cannot run; a KV cache it already runs on every format)
            continue
        try:
            again.append(plan(_restricted(spec, edits[i])))
        except InputError as exc:
            lines.append(f"like-for-like: {p.scenario} re-planned at {_formats(edits[i])} fails: {exc}")
            again.append(None)
    for label, group in replanned.items():
        ran = [_said(q, rows) for i, n in group.items()
               if (q := again[i]) is not None and (rows := last_llm_rows(q, n))]
        kv_text = f", KV {kv_by[label]}" if label in kv_by else ""
        lines.append(f"like-for-like: {label} at {', '.join(common_by[label])}{kv_text}: {'; '.join(ran)}")
    base, asked0 = again[0], plans[0]
    ratios = [f"{q.scenario} / {asked0.scenario} {q.facility_power_w / base.facility_power_w:.3g}x like-for-like, "
              f"{p.facility_power_w / asked0.facility_power_w:.3g}x as asked" for p, q in zip(plans[1:], again[1:],
                                                                                             strict=True)
              if q is not None and base is not None and base.facility_power_w > 0 and asked0.facility_power_w > 0]
    if ratios:  # the per-watt answer at one demand: the sides' facility power (peak), like-for-like and as asked
        lines.append(f"like-for-like: facility power (peak) {'; '.join(ratios)}")
    return lines, common_by, kv_by, again


def _no_common(asked: list[str], short: list[str], svcs: dict[int, Any], sides: list[tuple[int, str, list[Any]]],
               specs: Sequence[ScenarioSpec], plans: Sequence[ScenarioPlan]) -> str:
    """Why no format is common: an asked one some pool cannot run (`short`), or no format asked by every side, with
    those of any side's `dtypes` every side's pools run (hN75: nvfp4 on B200 against fp8 on H100 read "no asked
    format runs on every side (none in common)", though B200 runs the fp8 the other side asked)."""
    if asked:
        return f"no asked format runs on every side ({'; '.join(short)})"
    everywhere = [d for d in dict.fromkeys(d for i in svcs for d in svcs[i].dtypes)
                  if all(pools_runnable(svcs[i], _pools(specs[i], rows), [d])[0] for i, _, rows in sides)]
    ran = (f"; {', '.join(everywhere)} {'runs' if len(everywhere) == 1 else 'run'} on every side: ask "
           f"{'it' if len(everywhere) == 1 else 'one'} in every side's `dtypes` to compare like-for-like"
           if everywhere else "")
    return ("the sides ask no format in common (" + "; ".join(f"{plans[i].scenario}: [{', '.join(svcs[i].dtypes)}]"
                                                             for i in svcs) + f"){ran}")


def _like_kv(specs: Sequence[ScenarioSpec], plans: Sequence[ScenarioPlan], sides: list[tuple[int, str, list[Any]]],
             svcs: dict[int, Any]) -> tuple[str | None, str]:
    """(the KV dtype every side is re-planned at, why) where the sides ask different KV caches (a service's
    `kv_dtype`, else each weight format's default): the first side's KV as it ran, else the next side's, the first
    that every pool of every side runs (`llm_precision.pools_kv_gaps`); (None, why) where none does; (None, '')
    where the sides ask the same."""
    if len({svcs[i].kv_dtype for i in svcs}) < 2:
        return None, ""
    asks = "the sides ask different KV caches (" + "; ".join(
        f"{plans[i].scenario}: {'kv_dtype ' + k if (k := svcs[i].kv_dtype) else 'each weight format default'}"
        for i in svcs) + ")"
    gaps: list[str] = []
    for kv in dict.fromkeys(r.kv_dtype for *_, rows in sides for r in rows):
        these = [g for i, _, rows in sides for g in pools_kv_gaps(svcs[i], _pools(specs[i], rows), kv)]
        if not these:
            return kv, asks
        gaps += these
    return None, f"{asks} and none runs on every side ({'; '.join(dict.fromkeys(gaps))})"


def _menu(spec: ScenarioSpec, service: str
          ) -> frozenset[tuple[str, str | None, tuple[str, ...], int | None, str | None]]:
    """The pools a scenario offers an LLM service, as its search sees them: (system, asked stack, asked dtypes,
    devices available, asked KV dtype)."""
    svc = _service(spec, service)
    return frozenset((serving_system(p), asked_stack(svc, p.stack), tuple(svc.dtypes), p.available, svc.kv_dtype)
                     for p in spec.pools if p.serves is None or "llm" in p.serves)


def _service(spec: ScenarioSpec, service: str) -> Any:
    return next(s for s in spec.services if s.name == service)


def _pools(spec: ScenarioSpec, rows: list[Any]) -> list[Any]:
    """The pools of `spec` its rows `rows` run on."""
    used = {r.pool for r in rows}
    return [p for p in spec.pools if p.name in used]


def _formats(edits: Edits) -> str:
    return "; ".join(f"{name} dtypes [{', '.join(e['dtypes'])}]" + (f" kv_dtype {e['kv_dtype']}" if "kv_dtype" in e
                                                                     else "") for name, e in edits.items())


def _restricted(spec: ScenarioSpec, edits: Edits) -> ScenarioSpec:
    """A copy of the scenario with each named service's `dtypes` set to its common formats and, where the sides
    asked different KV caches, its `kv_dtype` to the like-for-like one (validated as a file)."""
    data: dict[str, Any] = spec.model_dump()
    for svc in data["services"]:
        if svc["name"] in edits:
            svc.update({k: list(v) if k == "dtypes" else v for k, v in edits[svc["name"]].items()})
    try:
        return ScenarioSpec.model_validate(data, context={"si_dump": True})  # its SLOs in seconds, as `varied`
    except ValidationError as exc:
        raise InputError(f"{_formats(edits)}: {exc.errors()[0]['msg']}") from None
