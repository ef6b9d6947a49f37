"""Scenarios side by side (`infraplan compare`) and the TCO tornado of `infraplan plan --vary`.

Compare: each scenario is planned by planning/scenario.py; the headline numbers (devices, H100-equivalents,
facility power, capex, TCO/yr, energy, tCO2e) are listed with their deltas against the first scenario, and the
risks are each plan's warnings plus its binding choices (sites above 90 % of their power cap). An LLM service run at
different precisions on the two sides is said, and the scenarios re-planned at the formats every side runs
(`precision_notes`, `like_for_like`: planning/compare_precision.py, hC58).

Tornado: one parameter at a time is set to the low and the high end of its range and the scenario re-planned
(re-sized, re-solved, re-costed); rows are sorted by the swing of the last phase's TCO per year, largest first.
Parameters: `electricity` (USD/kWh, every site), `pue`, `headroom` (fraction), `POOL.price` (USD per device),
`POOL.available` (devices), `SITE.power` (W; each end written with its unit, 5MW..20MW, as the site's `power:`);
each row states its `unit`. A range is `LOW..HIGH` or `±P%` around the base value (electricity ±P% only where every
site has the same price: the range sets one price on all).
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from pydantic import ValidationError

from infraplan.catalog.facility_loader import load_location
from infraplan.catalog.hardware_costs import accelerator_price
from infraplan.catalog.output_files import shown_path
from infraplan.cluster import Cluster
from infraplan.errors import InputError, wrong_kind
from infraplan.limits import ElectricityPriceWarning, read_electricity_price
from infraplan.planning.compare_precision import precision_parity
from infraplan.planning.scenario import StageProgress, plan_scenario, plan_summary
from infraplan.planning.scenario_results import ScenarioComparison, ScenarioPlan, TornadoRow
from infraplan.planning.scenario_sizing import pool_kind
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario
from infraplan.units import bare_number, parse_power_w

RISK_UTILISATION = 0.9


def compare_scenarios(paths: list[str | ScenarioSpec], progress: StageProgress | None = None) -> ScenarioComparison:
    """Plan each scenario; deltas of the headline numbers against the first. `progress`: each plan's stages."""
    if isinstance(paths, str) or not isinstance(paths, list | tuple):  # one path was read letter by letter (hK66)
        raise wrong_kind("paths", "a list of scenario YAML paths or ScenarioSpecs", paths)
    if len(paths) < 2:
        raise InputError("compare needs at least two scenarios")
    read = [_plan_named(p, i, plan_share(progress, i - 1, len(paths), f"scenario {i} of {len(paths)}"))
            for i, p in enumerate(paths, 1)]
    specs, plans = [spec for spec, _ in read], [plan for _, plan in read]
    base = plan_summary(plans[0])
    deltas = [{k: None if v is None or base[k] is None or not _same_parts(k, plans[0], p) else float(v - base[k])
               for k, v in plan_summary(p).items()}
              for p in plans]  # money is None where a scenario has an unpriced pool (power/carbon objective)
    # an LLM service at different precisions on the two sides: said, and re-planned like-for-like (hC58)
    precision, common, kv, again = precision_parity(specs, plans, lambda spec: plan_scenario(spec))
    risks = []
    for p in plans:
        last = p.phases[-1].phase
        full = [f"site {s.site} at {s.utilisation * 100:.0f} % of its power cap in {last}" for s in p.sites
                if s.phase == last and s.utilisation >= RISK_UTILISATION]
        risks.append([*p.warnings, *full])
    return ScenarioComparison(scenarios=plans, metrics=list(base), deltas=deltas, risks=risks,
                              precision_notes=precision, like_for_like_dtypes=common, like_for_like_kv_dtypes=kv,
                              like_for_like=None if again is None else [
                                  None if q is None else plan_summary(q) for q in again], error_band=None,
                              error_band_basis="each scenario carries its own (scenarios[].error_band: the IT power "
                              "of its last phase, and what it rests on that no case checks)")


def _same_parts(metric: str, base: ScenarioPlan, plan: ScenarioPlan) -> bool:
    """Whether `metric` of the two plans sums the same parts: a priced-part sum (`*_priced_*`, hK77) of a plan that
    leaves out other parts than the base's (capex_unpriced_parts: the servers of its pools without a price) is no
    delta (the servers one side prices and the other does not are not a difference in cost)."""
    return "_priced_" not in metric or base.capex_unpriced_parts == plan.capex_unpriced_parts


def _plan_named(path: str | ScenarioSpec, index: int,
                progress: StageProgress | None = None) -> tuple[ScenarioSpec, ScenarioPlan]:
    """One scenario read and planned; its error names the file (or, from the web form, the scenario) it came from."""
    try:
        spec = load_scenario(path) if isinstance(path, str) else path
        return spec, plan_scenario(spec, progress=progress)
    except InputError as exc:
        label = path if isinstance(path, str) else f"scenario {index} ({path.name!r})"
        raise InputError(str(exc) if label in str(exc) else f"{label}: {exc}") from None


def vary_unit(name: str) -> str:
    """The unit a --vary parameter's range is written in (module docstring)."""
    fixed = {"electricity": "USD/kWh", "pue": "facility W / IT W", "headroom": "fraction of demand"}
    field = name.partition(".")[2]
    return fixed.get(name) or {"price": "USD per device", "available": "devices", "power": "W"}[field]


def _base_value(spec: ScenarioSpec, name: str) -> float:
    if name == "electricity":
        if spec.policy.electricity_usd_per_kwh is not None:
            return spec.policy.electricity_usd_per_kwh
        # LOW..HIGH sets one price on every site; ±P% around one base only means that where the sites share it
        prices = {s.name: load_location(s.location or "us-average").electricity_usd_per_mwh for s in spec.sites}
        if len(set(prices.values())) > 1:
            listed = " and ".join(f"{k} (${v:g}/MWh)" for k, v in prices.items())
            raise InputError(f"--vary electricity=±P%: sites {listed} have different prices and the range sets one "
                             "price on every site; give LOW..HIGH in USD/kWh")
        return next(iter(prices.values())) / 1e3
    if name == "headroom":
        return spec.policy.headroom
    if name == "pue":
        if spec.policy.pue is None:
            raise InputError("--vary pue=±P% needs policy.pue in the scenario; give LOW..HIGH instead")
        return spec.policy.pue
    owner, _, field = name.partition(".")
    pools = {p.name: p for p in spec.pools}
    sites = {s.name: s for s in spec.sites}
    if owner in pools and field == "price":
        pool = pools[owner]
        cost = None if pool_kind(pool) == "video-asic" else accelerator_price(  # the one price rule
            Cluster.resolve(pool.system or pool.device).accelerator)
        if pool.price_usd_per_device is None and cost is None:
            raise InputError(f"--vary {name}: pool {owner!r} has no price to vary; give LOW..HIGH")
        price = pool.price_usd_per_device
        return price if price is not None else cost.server_usd_per_accelerator  # type: ignore[union-attr]
    if owner in pools and field == "available":
        if pools[owner].available is None:
            raise InputError(f"--vary {name}: pool {owner!r} is unlimited; give LOW..HIGH")
        return float(pools[owner].available)  # type: ignore[arg-type]
    if owner in sites and field == "power":
        return sites[owner].power
    raise InputError(f"--vary: unknown parameter {shown_path(name)!r}; known: {', '.join(_known(spec))}")


def parse_vary(spec: ScenarioSpec, text: str) -> tuple[str, float, float]:
    """'electricity=0.05..0.12', 'mtia-400.price=±30%' or 'h100.price=-50%..+10%' (relative to the base value)
    -> (parameter, low, high)."""
    name, sep, rng = text.partition("=")
    name, rng = name.strip(), rng.strip().replace(" ", "")
    if not sep or not name or not rng:
        raise InputError(f"--vary: cannot read {shown_path(text)!r}; expected NAME=LOW..HIGH or NAME=±P%")
    pct = r"([+-]?[0-9]*\.?[0-9]+)%"
    rel = re.fullmatch(r"(?:±|\+-|\+/-)([0-9]*\.?[0-9]+)%", rng) or re.fullmatch(pct + r"\.\." + pct, rng)
    if rel:  # ±P% is -P%..+P%: one rule for both spellings of a range relative to the base value
        lo_pct, hi_pct = (float(rel.group(1)), float(rel.group(2))) if rel.lastindex == 2 else (
            -float(rel.group(1)), float(rel.group(1)))
        if lo_pct <= -100:  # was a ValidationError traceback (a negative price)
            give = "less than ±100 %" if rel.lastindex == 1 else "a low end above -100 %"
            raise InputError(f"--vary {shown_path(name)}: {shown_path(rng)} takes the low end to zero or below; "
                             f"give {give} or LOW..HIGH")
        if lo_pct > hi_pct:
            raise InputError(f"--vary: the range {shown_path(rng)!r} must be LOW%..HIGH% with LOW <= HIGH")
        base = _base_value(spec, name)
        return name, base * (1 + lo_pct / 100), base * (1 + hi_pct / 100)
    if name not in _known(spec):  # the base value is needed by ±P% only ("needs policy.pue" for a LOW..HIGH)
        _base_value(spec, name)
    lo_text, dots, hi_text = rng.partition("..")
    if name == "electricity" and dots:
        lo, hi = _electricity_range(lo_text, hi_text, rng)
    else:
        if name.endswith(".power") and dots and (bare_number(lo_text) or bare_number(hi_text)):  # as `power:` (hU68)
            raise InputError(f"--vary {shown_path(name)}={shown_path(rng)}: a site's power takes its unit, as its "
                             f"`power:` does; write each end with one, e.g. {shown_path(name)}=50MW..100MW")
        try:
            read = parse_power_w if name.endswith(".power") else float
            lo, hi = read(lo_text), read(hi_text)
        except (ValueError, InputError):
            raise InputError(f"--vary: cannot read the range {shown_path(rng)!r}; expected LOW..HIGH, ±P% or "
                             "-P%..+Q%") from None
    if not dots or lo > hi or lo < 0:
        raise InputError(f"--vary: the range {shown_path(rng)!r} must be LOW..HIGH with 0 <= LOW <= HIGH")
    return name, float(lo), float(hi)


def _electricity_range(lo_text: str, hi_text: str, rng: str) -> tuple[float, float]:
    """`--vary electricity=LOW..HIGH` in USD/kWh (the tornado's unit for it): each end with its unit ('50/MWh',
    '0.05/kWh') read as written; bare ends, the old spelling, as USD/kWh with one warning; a bare end that is a
    USD/MWh slip or a price in either unit (1 .. 10) refused (`limits.read_electricity_price`)."""
    try:
        (lo, lo_warning), (hi, hi_warning) = (read_electricity_price(t, "--vary electricity", "kWh")
                                              for t in (lo_text, hi_text))
    except InputError as exc:
        if str(exc).startswith("cannot read"):
            raise InputError(f"--vary: cannot read the range {shown_path(rng)!r}; expected LOW..HIGH with units, e.g. "
                             "0.05/kWh..0.12/kWh, or ±P%") from None
        raise InputError(f"{exc} (in {shown_path(rng)})") from None  # cut: a 5,000-digit end was echoed (hX50)
    if lo_warning or hi_warning:
        warnings.warn_explicit(_bare_range_line(rng, lo, hi), ElectricityPriceWarning, __file__, 0, module=__name__)
    return lo, hi


def _bare_range_line(rng: str, lo: float, hi: float) -> str:
    return (f"--vary electricity={rng} has no unit: read as USD/kWh (the old spelling); write each end with its "
            f"unit, e.g. electricity={lo:g}/kWh..{hi:g}/kWh")


def vary_warnings(varies: list[str]) -> list[str]:
    """The warning lines `tornado` prints reading `varies` (a bare electricity range, the old spelling): the web puts
    them in its answer, where the CLI prints them on stderr. Ranges it cannot read give none (tornado refuses them)."""
    lines = []
    for text in varies:
        name, _, rng = text.partition("=")
        lo_text, dots, hi_text = rng.strip().replace(" ", "").partition("..")
        if name.strip() != "electricity" or not dots:
            continue
        try:
            ends = [read_electricity_price(t, "--vary electricity", "kWh") for t in (lo_text, hi_text)]
        except InputError:
            continue
        if any(warning for _, warning in ends):
            lines.append(_bare_range_line(rng.strip().replace(" ", ""), ends[0][0], ends[1][0]))
    return lines




def _known(spec: ScenarioSpec) -> list[str]:
    pools, sites = [p.name for p in spec.pools], [s.name for s in spec.sites]
    return ["electricity", "pue", "headroom", *(f"{p}.price" for p in pools), *(f"{p}.available" for p in pools),
            *(f"{s}.power" for s in sites)]


def varied(spec: ScenarioSpec, name: str, value: float) -> ScenarioSpec:
    """A copy of the scenario with one parameter set (validated like the file)."""
    data: dict[str, Any] = spec.model_dump()
    if name == "electricity":
        data["policy"]["electricity_usd_per_kwh"] = value
    elif name in ("pue", "headroom"):
        data["policy"][name] = value
    else:
        owner, _, field = name.partition(".")
        group, key = ("sites", "power") if field == "power" else ("pools", "price_usd_per_device"
                                                                  if field == "price" else "available")
        for item in data[group]:
            if item["name"] == owner:
                item[key] = int(value) if key == "available" else value
    try:
        return ScenarioSpec.model_validate(data, context={"si_dump": True})  # its SLOs in seconds
    except ValidationError as exc:  # a varied value the scenario schema refuses (pue 0.5): one line, not a traceback
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(f"--vary {name}={value:g}: {where}: {err['msg']}") from None


def _tco(spec: ScenarioSpec, progress: StageProgress | None = None) -> float | None:
    try:
        return plan_scenario(spec, progress=progress).tco_usd_per_year
    except InputError:
        return None


def plan_share(progress: StageProgress | None, index: int, count: int, label: str) -> StageProgress | None:
    """Plan `index` of `count` run one after another, told to `progress` as its share of the whole (1,000 steps a
    plan), its stage named after `label`."""
    if progress is None:
        return None

    def tick(stage: str, done: int, total: int, report: StageProgress = progress) -> None:
        report(f"{label}: {stage}", index * 1000 + 1000 * done // max(total, 1), count * 1000)
    return tick


def vary_ranges(spec: ScenarioSpec, varies: list[str]) -> list[tuple[str, float, float]]:
    """Every --vary range read (`parse_vary`), a parameter given twice refused: before the plan runs, so a bad range
    is one line at once, not after the scenario's plan (`plan --vary bogus=1..2` planned gigawatt-2027 first, ~17 s
    CPU, hR52)."""
    ranges = [parse_vary(spec, text) for text in varies]
    names = [name for name, _, _ in ranges]
    if repeated := next((name for i, name in enumerate(names) if name in names[:i]), None):
        raise InputError(f"--vary {repeated} is given {names.count(repeated)} times: give one range per parameter")
    return ranges


def tornado(spec: ScenarioSpec | str, varies: list[str], progress: StageProgress | None = None,
            plans_before: int = 0, ranges: list[tuple[str, float, float]] | None = None) -> list[TornadoRow]:
    """TCO per year at each end of every range, largest swing first; a parameter varied twice is refused (two rows
    of one parameter, was). `progress`: told each varied plan's stages (`plan_scenario`), after `plans_before`
    plans of the same run; `ranges`: `varies` already read (`vary_ranges`: its warnings said once)."""
    spec = load_scenario(spec) if isinstance(spec, str) else spec
    ranges = vary_ranges(spec, varies) if ranges is None else ranges  # every range read before any plan is run
    rows = []
    count = plans_before + 2 * len(ranges)
    for j, (name, lo, hi) in enumerate(ranges):
        at = plans_before + 2 * j
        t_lo = _tco(varied(spec, name, lo), plan_share(progress, at, count, f"--vary {name}={lo:g}"))
        t_hi = _tco(varied(spec, name, hi), plan_share(progress, at + 1, count, f"--vary {name}={hi:g}"))
        swing = abs(t_hi - t_lo) if t_lo is not None and t_hi is not None else None
        rows.append(TornadoRow(parameter=name, low_value=lo, high_value=hi, unit=vary_unit(name),
                               tco_low_usd_per_year=t_lo, tco_high_usd_per_year=t_hi, swing_usd_per_year=swing))
    return sorted(rows, key=lambda r: -(r.swing_usd_per_year if r.swing_usd_per_year is not None else float("inf")))


def plan_with_tornado(path: str, varies: list[str], optimality_gap: bool = False,
                      progress: StageProgress | None = None) -> ScenarioPlan:
    """`plan`: the scenario's plan and, with `varies`, its tornado; `progress` told every plan's stages."""
    spec = load_scenario(path)
    ranges = vary_ranges(spec, varies)  # a bad range refused before the plan runs
    first = plan_share(progress, 0, 1 + 2 * len(varies), "plan") if varies else progress
    plan = plan_scenario(spec, optimality_gap, first)
    return plan.model_copy(update={"tornado": tornado(spec, varies, progress, 1, ranges)}) if varies else plan
