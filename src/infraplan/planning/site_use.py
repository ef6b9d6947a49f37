"""Why a plan leaves a site unused (hT59, hE59's gigawatt walk: a 5 GW site online in 2030 held nothing, and the
plan did not say so). A site whose facility power is zero in every phase it is online in gets one note: its pools
(or that none is at it), what keeps each out where a rule does (`retirement.out_of_service`: not delivered yet, or
refreshed), and otherwise that the plan's objective meets every phase's demand on the other sites' pools, with the
most any of them draws while the site is online against its cap (room was not the reason). No physics: a reading
of the plan's own rows (`ScenarioSiteRow`, `ScenarioPoolRow`).
"""

from __future__ import annotations

from infraplan.planning.retirement import out_of_service
from infraplan.planning.scenario_results import ScenarioPoolRow, ScenarioSiteRow
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.units import power_text


def unused_site_notes(spec: ScenarioSpec, sites: list[ScenarioSiteRow], pools: list[ScenarioPoolRow]) -> list[str]:
    """One note per site with no facility power in any phase it is online in (cap > 0)."""
    out = []
    for site in spec.sites:
        rows = [r for r in sites if r.site == site.name and r.power_cap_w > 0]
        if not rows or any(r.facility_power_w > 0 for r in rows):
            continue
        phases = [r.phase for r in rows]
        online = ", ".join(phases)
        mine = [(p, pool) for p, pool in enumerate(spec.pools) if pool.site == site.name]
        if not mine:
            out.append(f"site {site.name} ({power_text(rows[0].power_cap_w)}) is unused: no pool is at it")
            continue
        kept = []
        for p, pool in mine:
            why = {ph.name: r for k, ph in enumerate(spec.phases)
                   if ph.name in online and (r := out_of_service(spec, p, k))}
            said = "; ".join(f"{ph} {r}" for ph, r in why.items())
            kept.append(f"{pool.name} ({pool.device}{': ' + said if said else ''})")
        others = [r for r in sites if r.site != site.name and r.power_cap_w > 0 and r.phase in phases]
        busiest = max(others, key=lambda r: r.utilisation, default=None)
        room = ("" if busiest is None else f"; while it is online the other sites draw at most "
                f"{power_text(busiest.facility_power_w)} of {busiest.site}'s {power_text(busiest.power_cap_w)} cap "
                f"({busiest.utilisation:.1%}) in {busiest.phase}")
        out.append(f"site {site.name} ({power_text(rows[0].power_cap_w)}, online in {online}) is unused: the plan "
                   f"buys nothing on its pool{'s' if len(mine) > 1 else ''} {', '.join(kept)}: the "
                   f"{spec.policy.objective} objective meets every phase's demand on other sites' pools{room}")
    return out
