"""Which LLM services of the scenarios `compare` sets side by side are the same service: matched by what a service
is, not by its name (hB59).

No physics of its own. An LLM service is, for this match, its model (the catalog's name of it: `load_model`), its
workload (the preset or file named: its length distributions), the traffic its last phase was planned for (the
rows' `demand`, requests/s with growth and the policy headroom: what every pool was sized to serve) and its TTFT /
TPOT SLOs (the service's, else its workload's). Two services that agree on all four are one service whatever their
names (a scenario's "chat" and another's "assistant"); two of one name that differ in any are not, and are said
apart (`unmatched_line`). Before, `compare_precision` paired services by name only: differently named copies of one
workload got no like-for-like line, and two "chat" services of different models were compared as one (hC58's left).
Within one scenario a service is matched at most once, to the one of its own name where several agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import load_workload
from infraplan.planning.scenario_results import ScenarioPlan
from infraplan.planning.scenario_spec import ScenarioSpec


class Identity(NamedTuple):
    """What an LLM service is, for the match (module docstring)."""

    model: str
    workload: str
    requests_per_s: float  # the last phase's demand, to 6 significant figures
    ttft_slo_s: float | None
    tpot_slo_s: float | None

    def words(self) -> str:
        slo = "/".join("-" if v is None else f"{v:g} s" for v in (self.ttft_slo_s, self.tpot_slo_s))
        return (f"{self.model}, workload {self.workload}, {self.requests_per_s:,.6g} requests/s in its last phase, "
                f"TTFT/TPOT SLOs {slo}")


def last_llm_rows(plan: ScenarioPlan, service: str) -> list[Any]:
    """The LLM rows of `service` in the plan's last phase (one per pool it runs on)."""
    last = plan.phases[-1].phase
    return [r for r in plan.services if r.service == service and r.phase == last and r.kind == "llm"
            and r.weight_dtype is not None]


def identity(spec: ScenarioSpec, plan: ScenarioPlan, service: str) -> Identity | None:
    """What the LLM service `service` of a planned scenario is; None where it runs no LLM row in the last phase."""
    rows = last_llm_rows(plan, service)
    if not rows:
        return None
    svc = next(s for s in spec.services if s.name == service)
    workload = load_workload(svc.workload or "")
    return Identity(load_model(svc.model or "").name, svc.workload or "", float(f"{rows[0].demand:.6g}"),
                    svc.ttft_slo if svc.ttft_slo is not None else workload.ttft_slo_s,
                    svc.tpot_slo if svc.tpot_slo is not None else workload.tpot_slo_s)


def matched_services(specs: Sequence[ScenarioSpec], plans: Sequence[ScenarioPlan]
                     ) -> tuple[list[dict[int, str]], dict[str, dict[int, Identity]]]:
    """(the groups: {scenario index: its service's name} of each LLM service, the sides matched to it, in the
    order they first appear; per name on two or more sides, each side's identity, for `unmatched_line`)."""
    ids = [{s.name: it for s in spec.services if s.kind == "llm" and (it := identity(spec, p, s.name)) is not None}
           for spec, p in zip(specs, plans, strict=True)]
    claimed: list[set[str]] = [set() for _ in specs]
    groups: list[dict[int, str]] = []
    for i, side in enumerate(ids):
        for name, ident in side.items():
            if name in claimed[i]:
                continue
            claimed[i].add(name)
            group = {i: name}
            for j in range(i + 1, len(ids)):
                free = [m for m, other in ids[j].items() if other == ident and m not in claimed[j]]
                if free:
                    group[j] = name if name in free else free[0]
                    claimed[j].add(group[j])
            groups.append(group)
    by_name: dict[str, dict[int, Identity]] = {}
    for i, side in enumerate(ids):
        for name, ident in side.items():
            by_name.setdefault(name, {})[i] = ident
    return groups, {n: sides for n, sides in by_name.items() if len(sides) > 1}


def group_label(group: dict[int, str], plans: Sequence[ScenarioPlan]) -> str:
    """'chat' where every side names it so, else 'chat (a) / assistant (b)'."""
    if len(set(group.values())) == 1:
        return next(iter(group.values()))
    return " / ".join(f"{name} ({plans[i].scenario})" for i, name in group.items())


def matched_words(group: dict[int, str], ident: Identity) -> str:
    """', matched as one service by what it is (...)' where the sides name it differently; '' where one name."""
    if len(set(group.values())) == 1:
        return ""
    return f", matched as one service by what it is ({ident.words()})"


def unmatched_line(name: str, sides: dict[int, Identity], plans: Sequence[ScenarioPlan]) -> str:
    """One line: LLM services of one name that are not the same service, what differs, and that their precisions are
    not compared."""
    first = next(iter(sides.values()))
    differs = [label for label, k in (("model", 0), ("workload", 1), ("traffic", 2), ("SLOs", 3))
               if any(ident[k] != first[k] or (k == 3 and ident[4] != first[4]) for ident in sides.values())]
    each = "; ".join(f"{plans[i].scenario}: {ident.words()}" for i, ident in sides.items())
    return (f"precision: {name} is not one service across the scenarios (different {' and '.join(differs)}: "
            f"{each}): its precisions are not compared")
