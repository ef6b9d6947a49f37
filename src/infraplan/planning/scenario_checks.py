"""A scenario's inputs checked before any sizing (planning/scenario.py's `plan_scenario`): presets and files named,
each part bought no earlier than it ships, and every site's power cap above its smallest useful build. Each is one
line (InputError), named for what is wrong and what to write instead. (In planning/scenario.py until session 70.)
"""

from __future__ import annotations

from infraplan.catalog.loader import load_accelerator, load_model, looks_like_path
from infraplan.catalog.part_dates import check_ships_by, ships_after
from infraplan.catalog.serving_loader import load_diffusion_model, load_workload
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.planning.dsa_training_stages import check_service_stages
from infraplan.planning.fields_read import check_pool_stacks, check_pool_system
from infraplan.planning.image_capacity import DEFAULT_IMAGE_WORKLOAD
from infraplan.planning.retirement import successor_year
from infraplan.planning.scenario_sizing import pool_kind
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.units import power_text, year_text


def check_part_dates(spec: ScenarioSpec) -> None:
    """InputError (one line) for the first pool that buys its part before the part ships.

    A plan that buys a part before it ships is refused (hT59; the dates: `Accelerator.available_year`,
    catalog/part_dates.py). A pool buys its device from its `from_year`, else from the first phase; a `refresh_with`
    successor is bought from the year its pool's first devices reach their lifetime
    (planning/retirement.successor_year). Each is checked against the part's first-shipping date; the message names the
    pool, the phase (or the field that dates the buy), the part and its date, and what to write instead. An installed
    base is not checked: the plan does not buy it, and its `installed_year` is the user's record (retirement tests date
    H100 bases 2020-2022, before the recalled Oct 2022 date). A video ASIC and a part without a date are not checked.
    (planning/part_dates_check.py until session 62, hS.)
    """
    phases = [(ph.name, ph.year) for ph in spec.phases]
    years = [y for _, y in phases]
    for pool in spec.pools:
        if pool_kind(pool) == "video-asic":
            continue
        part = Cluster.resolve(pool.device).accelerator
        if pool.from_year is not None:
            check_ships_by(part, pool.from_year, f"pool {pool.name!r} (from_year)", "; give a later from_year")
        else:
            date = year_text(part.available_year or 0.0)
            fix = (f"; give the pool from_year: {date} or later" if any(not ships_after(part, y) for y in years)
                   else f"; no phase is on or after {date}: drop the pool")
            check_ships_by(part, years[0], f"pool {pool.name!r} in phase {phases[0][0]!r}", fix)
        if pool.refresh_with is not None:
            succ = successor_year(pool, years)
            if succ is not None:
                check_ships_by(load_accelerator(pool.refresh_with), succ,
                               f"pool {pool.name!r}: its refresh_with successor", "; refresh with a part that ships "
                               "by then")


def check_presets(spec: ScenarioSpec) -> None:
    """Unknown presets fail before any sizing: one line, with the catalog's did-you-mean."""
    from infraplan.catalog.inference_loader import load_recsys_model

    for pool in spec.pools:
        pool_kind(pool)  # an unknown device, named
        if pool.system:  # the system's accelerator is what is sized and powered: the device must name the same
            check_pool_system(pool.name, pool.device, pool.system)
    check_pool_stacks(spec.pools)  # a pool's stack file, read now (the spec's check leaves files to the run)
    check_part_dates(spec)  # a part bought before it ships (hT59)
    for svc in spec.services:
        if svc.kind in ("training", "llm"):
            load_model(svc.model or "")
        if svc.kind == "training" and looks_like_path(svc.model or ""):  # (a preset's: the spec's check at load)
            check_service_stages(svc.name, svc.model or "", svc.dsa_stage, svc.dsa_warmup_tokens,
                                 svc.dsa_warmup_global_batch)  # a model file's indexer, read now (hL62)
        if svc.kind == "llm":
            load_workload(svc.workload or "")
        if svc.kind == "recsys":
            load_recsys_model(svc.model or "")
        if svc.kind == "image":
            workload = load_workload(svc.workload or DEFAULT_IMAGE_WORKLOAD)
            if workload.kind != "diffusion":
                raise InputError(f"service {svc.name!r}: workload {workload.name!r} is not image generation")
            # (as `serving.diffusion` reads it: None or "default" the workload's model, "" refused here, hS63)
            load_diffusion_model(svc.model if svc.model not in (None, "default") else str(workload.diffusion_model))


def check_power_caps(spec: ScenarioSpec, unit_w: dict[str, float]) -> None:
    for site in spec.sites:
        pools = [p for p in spec.pools if p.site == site.name]
        if pools and site.power < min(unit_w[p.name] for p in pools):
            p = min(pools, key=lambda q: unit_w[q.name])
            raise InputError(f"site {site.name!r}: power cap {power_text(site.power)} is below the smallest useful "
                             f"build (one rack unit of pool {p.name!r} needs {power_text(unit_w[p.name])})")
