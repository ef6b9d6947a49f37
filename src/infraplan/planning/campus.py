"""Gigawatt campus planner and multi-site fleets.

A campus is a facility power budget (e.g. 1 GW) filled with one accelerator: IT budget = power / PUE, then as
many whole packing units as fit, the IT load counted by facility/campus_fabric.py (non-blocking zones joined at
1:7, so the network share does not grow with the campus). Buildings hold ~50 MW of IT each (economics.yaml).
Phases ("2026:0.3,2027:0.7") bring fractions of the campus online by year; they must sum to at most 1.
Training capacity is counted in Llama-3-405B-scale runs per year: 15.6T tokens (Llama 3 paper Sec. 3.2) at the
per-accelerator throughput `infraplan.training.estimate_training` predicts for the Llama 3 plan (TP8, PP16, V7,
seq 8192, 2,048 sequences per batch, FSDP) on the paper's stack, `meta-llama3` (its rank order TP-CP-PP-DP, DP
outermost, Sec. 3.3.2; the stack the Table 4 validation cases run), at the paper's job size of 16,384 GPUs
(Table 4), on the accelerator's reference system when it holds that many, else on that system's node and a generic
non-blocking Clos (`Cluster.for_accelerator`, cluster/generic.py), times the goodput the reliability model predicts
for that job size. The runs a year are whole jobs at once (`concurrent_jobs` of the job size, each a run every
`days_per_run_per_job`): the accelerators beyond whole jobs run no run of this job (100 MW of H100: 3 jobs of 16,384,
15.6 runs a year; 20.3 until 2026-12-05, hN55, counting the 14,792 beyond them at the job's rate, which
`all_accelerator_runs_per_year` keeps as the bound smaller jobs on them could add). (Until 2026-12-02 the job
was capped by the largest catalog system: 256 B200 or 512 GB300 ran the 2,048-sequence batch as 64-128
micro-batches per pipeline, MFU 0.52-0.58 where 16,384 H100 got 0.36, and runs
of 681-1,602 days. Until 2026-12-04 it ran the default stack and its rank order TP-CP-DP-PP, a plan the paper did
not run: on an NVL72 rack a stage's FSDP ranks shared the NVLink domain and the pipeline crossed racks, GB200 433
tokens/s per GPU, MFU 0.455, where the paper's order gives 282, MFU 0.296; H100 145 (MFU 0.385), now 134.5.)

Fleets sum several sites and generations and report H100-equivalents: accelerators x dense bf16 peak / H100 SXM
dense bf16 peak (989 TFLOP/s), the FLOP-based convention of Epoch AI's H100e counts.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable
from typing import Any

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.error_bands import FACILITY_STACK, parts_band
from infraplan.catalog.facility_loader import FleetSite as FleetSiteSpec
from infraplan.catalog.facility_loader import load_economics, load_fleet
from infraplan.catalog.figures import use_note
from infraplan.catalog.part_dates import check_ships_by
from infraplan.catalog.versioned_cache import versioned_args_cache, versioned_cache
from infraplan.cluster import Cluster
from infraplan.cluster.cost import SECONDS_PER_YEAR, CostOverrides, site_inputs
from infraplan.cluster.generic import generic_part_notes, reference_system
from infraplan.cluster.power import it_load
from infraplan.errors import InputError
from infraplan.facility.campus_fabric import campus_load
from infraplan.facility.facility import facility_report, size_facility
from infraplan.facility.reliability import goodput_basis_note, job_reliability
from infraplan.limits import MAX_ACCELERATORS
from infraplan.planning.plan_dates import parse_year
from infraplan.planning.plan_dates import year_text as date_text
from infraplan.planning.results import CampusPhase, CampusPlan, FleetSite, FleetSitesResult, TrainingCapacity
from infraplan.units import power_text

H100_BF16_PEAK = 989e12
REFERENCE_RUN_MODEL = "llama3-405b"
REFERENCE_RUN_TOKENS = 15.6e12
REFERENCE_JOB_MAX_GPUS = 16384
REFERENCE_RUN_STACK = "meta-llama3"  # the paper's stack: its rank order TP-CP-PP-DP (Sec. 3.3.2), as validated
REFERENCE_REPLICA_GPUS = 8 * 16  # TP8 x PP16: one data-parallel replica of the plan, the least job that runs it
REFERENCE_RUN_PLAN = ("TP8 PP16 V7, seq 8192, 2,048 sequences/batch, FSDP, rank order TP-CP-PP-DP on the meta-llama3 "
                      "stack (the Llama 3 paper's plan, Sec. 3.3.2)")


def parse_phases(text: str | None) -> list[tuple[int | float, float]]:
    """'2026:0.3,2027H2:0.7' -> [(2026, 0.3), (2027.5, 0.7)]: fractions of the campus brought online by date, a date
    in any form `plan` takes (planning/plan_dates.parse_year: 2026, 2026.5, 2026H2, 2026Q3, 2026-07; hE59: campus
    took whole years only, so a half-year build-out `plan` dates was refused here)."""
    if not text:
        return []
    phases: list[tuple[int | float, float]] = []
    for part in text.split(","):
        year_text, sep, frac_text = part.strip().partition(":")
        try:
            fraction = float(frac_text)
        except ValueError:
            raise InputError(f"--phases: cannot read {part.strip()!r}; expected YEAR:FRACTION, e.g. 2026:0.3") from None
        try:
            year = parse_year(year_text.strip())
        except ValueError as exc:
            raise InputError(f"--phases: {exc}") from None
        if not sep or not 0 < fraction <= 1:
            raise InputError(f"--phases: fraction for {year_text.strip()} must be in (0, 1], got {frac_text!r}")
        phases.append((year, fraction))
    years = [y for y, _ in phases]
    if any(b <= a for a, b in zip(years, years[1:], strict=False)):
        raise InputError(f"--phases: dates must be distinct and increasing, got {', '.join(map(date_text, years))}")
    total = sum(f for _, f in phases)
    if total > 1.0 + 1e-9:
        raise InputError(f"--phases: fractions sum to {total:.3g}, above the limit of 1 (the whole campus)")
    return phases


def h100_equivalents(accelerator: str | Cluster, count: float) -> float:
    """Accelerators x dense bf16 peak / H100 SXM's (Epoch AI's FLOP-based H100e)."""
    return count * Cluster.resolve(accelerator).accelerator.peak("bf16") / H100_BF16_PEAK


@versioned_cache(maxsize=32)
def reference_run_throughput(accelerator: str) -> dict[str, Any]:
    """The Llama 3 plan on the paper's 16,384-GPU job (`reference_run`), cached."""
    return reference_run(accelerator, REFERENCE_JOB_MAX_GPUS)


@versioned_args_cache(maxsize=64)
def reference_run(accelerator: str, gpus: int) -> dict[str, Any]:
    """Tokens/s per accelerator of the Llama-3-405B plan on the accelerator's reference system (cached). An
    accelerator file that `extends` a preset runs on its preset's reference system (cluster/generic.py's rule for
    a plain count) with its own figures: the system with `accelerator:` this file, as a system file saying so
    would give `train`; or on that system's node and a generic Clos (`Cluster.for_accelerator`, as `train
    --system FILE --gpus 16384`). A part with no catalog system (h800, rubin, the TPUs, most MTIA, a from-scratch
    file) runs on the generic node and Clos as `train --system PART --gpus 16384` does (cluster/generic.py; until
    2026-12-04 campus said "no catalog system ... to run the training model on" where `train` ran it, hU50).
    `gpus`: the job (a whole number of the plan's TP8 x PP16 replicas), on its system or its node's Clos."""
    from infraplan.training.estimate import estimate_training  # the training model is only needed here

    acc = load_accelerator(accelerator)
    system = reference_system(acc.catalog_name)
    if system is None or system.total_accelerators < gpus:
        cluster = Cluster.for_accelerator(acc, gpus)
    elif acc.name == acc.catalog_name:  # the preset itself
        cluster = Cluster.resolve(system)
    else:
        cluster = Cluster(system.model_copy(update={"accelerator": accelerator, "name": f"{system.name} with "
                                                    f"{acc.name}"}), acc)
    result = estimate_training(REFERENCE_RUN_MODEL, cluster, gpus, tp=8, pp=16, vpp=7, seq_len=8192,
                               global_batch=2048, micro_batch=1, recompute="none", zero=3, dtype="bf16",
                               stack=REFERENCE_RUN_STACK)
    if not result.fits:
        result = estimate_training(REFERENCE_RUN_MODEL, cluster, gpus, tp=8, pp=16, vpp=7, seq_len=8192,
                                   global_batch=2048, micro_batch=1, recompute="full", zero=3, dtype="bf16",
                                   stack=REFERENCE_RUN_STACK)
    return {"system": cluster.system.name, "job_gpus": gpus, "tokens_per_s_per_gpu": result.tokens_per_s_per_gpu,
            "mfu": result.mfu, "fits": result.fits, "memory_per_gpu_bytes": result.memory_per_gpu_bytes,
            "memory_capacity_bytes": result.memory_capacity_bytes, "error_band": result.error_band,
            "error_band_basis": result.error_band.basis if result.error_band is not None else
            "the training estimate of the reference run has no band"}


def training_capacity(accelerator: str, accelerators: int) -> TrainingCapacity:
    """Llama-3-405B-scale runs per year for a campus of `accelerators`, at the predicted goodput. The job is the
    paper's 16,384 GPUs, or on a smaller campus the most TP8 x PP16 replicas whose data-parallel count divides the
    2,048-sequence batch (a power of two: 6,432 GPUs run a 4,096-GPU job, the rest counted at its rate), timed at
    the 16,384-GPU rate (`_job_speed_note`).
    None where the plan does not fit the accelerator's memory, at 16,384 or at the campus's job, even with full
    recompute, or the campus holds less than one replica: a run that does not fit is no capacity (`reason` says
    why; until 2026-12-04 its tokens/s were counted and a job below one replica ran at a fractional DP, hL47)."""
    acc = load_accelerator(accelerator)
    word = acc.device_word
    replicas = accelerators // REFERENCE_REPLICA_GPUS  # whole DP ranks, a power of two dividing the 2,048 batch
    job = min(REFERENCE_JOB_MAX_GPUS, REFERENCE_REPLICA_GPUS * (1 << (replicas.bit_length() - 1))) if replicas else 0
    if job <= 0:
        return _no_capacity(f"the Llama 3 plan ({REFERENCE_RUN_PLAN}) needs {REFERENCE_REPLICA_GPUS} {word}s for one "
                            f"replica (TP8 x PP16); the campus holds {accelerators:,}", job)
    run = reference_run_throughput(accelerator)
    at_job = run if job == run["job_gpus"] else reference_run(accelerator, job)
    if not at_job["fits"]:
        return _no_capacity(f"the Llama 3 plan ({REFERENCE_RUN_PLAN}) does not fit {acc.name}'s memory on {job:,} "
                            f"{word}s even with full recompute: {at_job['memory_per_gpu_bytes'] / 2**30:.1f} GiB per "
                            f"{word} of {at_job['memory_capacity_bytes'] / 2**30:.1f} GiB, so no Llama-3-405B-scale "
                            "run is counted", job, at_job["system"])
    if not run["fits"]:  # the rate a smaller job is timed at needs the 16,384-GPU run
        return _no_capacity(f"the Llama 3 plan ({REFERENCE_RUN_PLAN}) does not fit {acc.name}'s memory on "
                            f"{run['job_gpus']:,} {word}s, the job its rate is timed at, even with full recompute: "
                            f"{run['memory_per_gpu_bytes'] / 2**30:.1f} GiB per {word} of "
                            f"{run['memory_capacity_bytes'] / 2**30:.1f} GiB, so no Llama-3-405B-scale run is counted",
                            job, run["system"])
    params = float(load_model(REFERENCE_RUN_MODEL).total_params())
    rated = acc.extends or accelerator  # a what-if: its preset's rate; a from-scratch
    rel = job_reliability(rated, job, params)  # file: its own (its catalog_name is no preset)
    useful_tokens_per_s = accelerators * run["tokens_per_s_per_gpu"] * rel["goodput"]
    one_job_s = REFERENCE_RUN_TOKENS / (job * run["tokens_per_s_per_gpu"] * rel["goodput"])
    return TrainingCapacity(
        available=True, model=REFERENCE_RUN_MODEL, tokens_per_run=REFERENCE_RUN_TOKENS,
        runs_per_year=accelerators // job * SECONDS_PER_YEAR / one_job_s,  # whole jobs at once (module docstring)
        all_accelerator_runs_per_year=useful_tokens_per_s * SECONDS_PER_YEAR / REFERENCE_RUN_TOKENS,
        job_gpus=job, concurrent_jobs=accelerators // job,
        days_per_run_per_job=one_job_s / 86400.0, tokens_per_s_per_gpu=run["tokens_per_s_per_gpu"],
        mfu=run["mfu"], goodput=rel["goodput"], job_mttf_s=rel["job_mttf_s"], reference_system=run["system"],
        plan=REFERENCE_RUN_PLAN,
        notes=[n for n in [plan_note(accelerator, word), use_note(acc, "training", "generative-ai"),
                           goodput_basis_note(rel, job), _job_speed_note(run, job, word)] if n],
        error_band=run["error_band"], error_band_basis=run["error_band_basis"],
    )


def plan_note(accelerator: str, word: str = "GPU") -> str:
    """Which plan the runs are counted with and why, on every accelerator (hU61, session 47: GB200 counted 281
    tokens/s per GPU where `search` finds 513 unguarded, 422 under its published-MFU ceiling, and the answer did not
    say). The paper's plan stays the yardstick: the one plan published and measured at this job size (Table 4, the
    validation cases of the meta-llama3 stack), the same work on every part; `plan`'s training services are sized
    with `search`'s best plan instead (`scenario_sizing._training_point`)."""
    search = shlex.join(["infraplan", "search", REFERENCE_RUN_MODEL, "--system", accelerator, "--gpus",
                         str(REFERENCE_JOB_MAX_GPUS), "--seq-len", "8192", "--global-batch", "2048", "--dtype", "bf16"])
    return (f"runs counted with the Llama 3 paper's plan on every accelerator ({REFERENCE_RUN_PLAN}): the one plan "
            "published and measured at this job size (Table 4), so every campus counts the same job; not this "
            f"{word}'s best plan: a larger scale-up domain (an NVL72 rack) or a narrower format runs it "
            f"faster under a searched plan (`{search}`, ranked under its published-MFU ceiling), as `plan` sizes "
            "its training services")


def _no_capacity(reason: str, job: int, system: str | None = None) -> TrainingCapacity:
    """No Llama-3-405B-scale run on the campus, and why (`training_capacity`)."""
    return TrainingCapacity(available=False, reason=reason, model=REFERENCE_RUN_MODEL,
                            tokens_per_run=REFERENCE_RUN_TOKENS, job_gpus=job or None, reference_system=system,
                            plan=REFERENCE_RUN_PLAN, error_band_basis="no run: no throughput to band")


def _job_speed_note(run: dict[str, Any], job: int, word: str = "GPU") -> str | None:
    """What a job smaller than the reference one is timed at (module docstring: the paper's 16,384-GPU job), in
    the part's word (`Accelerator.device_word`: "per GPU" on an ASIC read wrong, hU50)."""
    if job >= run["job_gpus"]:
        return None
    return (f"the {job:,}-{word} job is timed at the {run['tokens_per_s_per_gpu']:.1f} tokens/s per {word} (MFU "
            f"{run['mfu']:.2f}) of the Llama 3 plan on {run['job_gpus']:,} {word}s (Table 4's job size), not its "
            f"own: `infraplan train` on {job:,} {word}s prices fewer data-parallel ranks and more micro-batches per "
            "pipeline")


def _most_units(it_w_of: Callable[[int], float], budget_w: float) -> int:
    """The most units n with it_w_of(n) <= budget_w (0 if not even one fits). IT power grows with n, but in steps
    at fabric-domain and building boundaries, so a local search stalls there: double, then bisect."""
    if it_w_of(1) > budget_w:
        return 0
    lo, hi = 1, 2
    while it_w_of(hi) <= budget_w:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if it_w_of(mid) <= budget_w:
            lo = mid
        else:
            hi = mid
    return lo


def plan_campus(power_w: float, accelerator: str, cooling: str | None = None, phases: str | None = None,
                location: str | None = None, build_type: str | None = None,
                overrides: CostOverrides | None = None, power_name: str = "--power",
                reserve: float = 0.0) -> CampusPlan:
    """Fill a facility power budget with one accelerator; size, cost, carbon, phases and training capacity.
    `power_name` is what the messages call the budget (a fleet site's `power`, not the CLI's --power). `reserve`:
    the share of the budget kept unbuilt (--reserve; redundancy, derating, growth: hF52's F8, a site's 1.2 GW
    interconnect is not 1.2 GW of racks at peak), 0 to below 1; 0 builds the whole budget at peak IT draw x PUE."""
    if not power_w > 0 or not math.isfinite(power_w):
        raise InputError(f"{power_name} must be positive and finite, got {power_text(power_w)}")
    if not 0.0 <= reserve < 1.0:  # NaN too
        raise InputError(f"--reserve is the share of the power budget kept unbuilt, 0 to below 1, got {reserve:g}")
    phase_list = parse_phases(phases)
    cluster = Cluster.for_accelerator(accelerator, purpose="a campus")  # an unknown name lists no CPU preset
    for year, _ in phase_list[:1]:  # the first phase buys first (hT59: a part bought before it ships)
        check_ships_by(cluster.accelerator, year, "--phases", "; start the phases on or after that date")
    layout = cluster.layout
    site = site_inputs(layout, cooling, location, build_type, overrides)
    it_budget = power_w * (1.0 - reserve) / site.pue
    kept = f" less its {reserve} reserve ({power_text(power_w * (1.0 - reserve))})" if reserve else ""  # (hR53)
    unit = layout.packing_unit_accelerators
    probe = it_load(layout, 16 * unit, site.cooling, site.cooling_name)
    if probe.it_w / 16 > it_budget:
        raise InputError(f"{power_name} {power_text(power_w)}{kept} is below one {unit}-accelerator unit of "
                         f"{accelerator} ({power_text(probe.it_w / 16 * site.pue)} of facility power)")

    def campus_it_w(units: int) -> float:
        return campus_load(layout, units * unit, site.cooling, site.cooling_name).it_w

    if it_budget > campus_it_w(MAX_ACCELERATORS // unit):  # the stated limit, before any fabric beyond it is built
        raise InputError(f"{power_name} {power_text(power_w)} holds more than {MAX_ACCELERATORS:,} accelerators of "
                         f"{accelerator}, the limit of one campus plan (infraplan.limits)")
    count = _most_units(campus_it_w, it_budget) * unit
    if count < unit:
        raise InputError(f"{power_name} {power_text(power_w)}{kept} is below one {unit}-accelerator unit of "
                         f"{accelerator} ({power_text(probe.it_w / 16 * site.pue)} of facility power)")
    load = campus_load(layout, count, site.cooling, site.cooling_name)
    econ = load_economics()
    report = facility_report(layout, load, site)
    generic = generic_part_notes(cluster.accelerator, host=True, node=True)  # a part on the generic node (hU50)
    packing = whole_domains_note(count, layout.accelerators_per_server, unit, cluster.accelerator.device_word,
                                 power_text(power_w * (1.0 - reserve)),  # the site a plan would be given
                                 lambda n: campus_load(layout, n, site.cooling, site.cooling_name).it_w <= it_budget)
    # the generic part's notes are `facility --count`'s too; the packing note is the campus's own (the same campus
    # as `facility` answers: tests/test_consistency_hC44.py)
    report = report.model_copy(update={"figures_notes": [*report.figures_notes, *generic]}) if generic else report
    phases_out: list[CampusPhase] = []
    cumulative = 0.0
    units_built = 0  # whole units online so far: each phase adds round(cumulative x units) - those, so the phases
    for year, fraction in phase_list:  # add up to the campus (4 x 0.25 of 6,713 racks rounded each gave 6,712)
        cumulative += fraction
        units_now = min(int(round(cumulative * load.accelerators / unit)), load.accelerators // unit)
        phases_out.append(CampusPhase(
            year=year, date=date_text(year), fraction=fraction, cumulative_fraction=cumulative,
            facility_power_w=fraction * report.facility_power_w,
            facility_power_average_w=fraction * report.facility_power_average_w,
            accelerators=(units_now - units_built) * unit,
            capex_usd=None if report.capex_total_usd is None else fraction * report.capex_total_usd,
            cumulative_facility_power_w=cumulative * report.facility_power_w,
        ))
        units_built = units_now
    return CampusPlan(
        power_w=power_w, reserve_fraction=reserve, unbuilt_power_w=max(power_w - report.facility_power_w, 0.0),
        accelerators=load.accelerators,
        racks=load.racks,
        buildings=max(1, math.ceil(load.it_w / econ.building_it_power_w)),
        network=report.network,
        capex_usd=report.capex_usd,
        opex_usd_per_year=report.opex_usd_per_year,
        energy_mwh_per_year=report.energy_mwh_per_year,
        co2_t_per_year=report.co2_t_per_year,
        embodied_co2_t_per_year=report.embodied_co2_t_per_year,
        total_co2_t_per_year=report.total_co2_t_per_year,
        training_capacity=training_capacity(accelerator, load.accelerators),  # the reference (a preset or file)
        h100_equivalents=h100_equivalents(cluster, load.accelerators),
        phases=phases_out,
        facility=report, notes=[packing] if packing else [],
        error_band=None, error_band_basis=CAMPUS_BAND_BASIS,
    )


def whole_domains_note(count: int, per_server: int, unit: int, word: str, power: str,
                       fits: Callable[[int], bool]) -> str | None:
    """Why a campus of whole scale-up domains holds fewer accelerators than `plan` packs at the same power (hH53): a
    campus is built of whole packing units (an NVL72 rack is delivered whole, with its switch trays), while `plan` and
    `facility --count` pack whole servers, a part-filled last domain drawing its switches in full. None where the
    unit is one server, or no server beyond the whole domains fits (`fits`: the devices' IT load within budget)."""
    if unit <= per_server:
        return None
    most = count
    while most + per_server < count + unit and fits(most + per_server):
        most += per_server
    if most == count:
        return None
    return (f"the campus counts whole {unit}-{word} scale-up domains ({count // unit:,} racks, each built and "
            f"powered whole with its switches); `plan` and `facility --count` pack whole servers, so a plan site of "
            f"{power} holds up to {most:,} {word}s: a part-filled last domain of {most - count} {word}s, its "
            "switches drawn in full")


CAMPUS_BAND_BASIS = (
    "a composite, banded by its parts: facility.error_band (IT power; the PUE has no validation case) and "
    "training_capacity.error_band (training throughput); the power budget is an input, and the accelerators it holds "
    "(the budget over the facility power per accelerator) carry the IT power's and the PUE's errors")


def _fleet_site(site: FleetSiteSpec, where: str, overrides: CostOverrides | None) -> FleetSite:
    """One site of a fleet: a catalog system, a count of accelerators, or a power budget filled (`plan_campus`)."""
    if site.system is not None:  # a catalog system brings its own size, fabric and power chain
        if site.count is not None or site.power_w is not None:
            raise InputError(f"{where}: a system brings its own size; drop count and power")
        report = size_facility(system=site.system, cooling=site.cooling, location=site.location,
                               overrides=overrides)
        if site.accelerator is not None and site.accelerator != report.accelerator:
            raise InputError(f"{where}: accelerator {site.accelerator} but system {site.system} holds "
                             f"{report.accelerator}")
    elif site.accelerator is None or (site.count is None) == (site.power_w is None):
        raise InputError(f"{where}: give a system, or an accelerator with exactly one of count or power")
    elif site.count is not None:
        report = size_facility(accelerator=site.accelerator, count=site.count, cooling=site.cooling,
                               location=site.location, overrides=overrides)
    else:
        assert site.power_w is not None  # exactly one of count and power_w is set (checked above)
        report = plan_campus(site.power_w, site.accelerator, cooling=site.cooling, location=site.location,
                             overrides=overrides, power_name="power").facility
    return FleetSite(
        name=site.name, accelerator=report.accelerator, accelerators=report.accelerators,
        h100_equivalents=h100_equivalents(site.system or str(site.accelerator), report.accelerators),  # a ref
        it_power_w=report.it_power_w, facility_power_w=report.facility_power_w,
        capex_usd=report.capex_total_usd, opex_usd_per_year=report.opex_usd_per_year,
        energy_mwh_per_year=report.energy_mwh_per_year, co2_t_per_year=report.co2_t_per_year,
        embodied_co2_t_per_year=report.embodied_co2_t_per_year, total_co2_t_per_year=report.total_co2_t_per_year,
        cooling=report.cooling, location=report.location, figures_notes=report.figures_notes)


def plan_fleet(fleet: str, overrides: CostOverrides | None = None) -> FleetSitesResult:
    """Sum the sites of a fleet (preset or YAML file): accelerators, H100-equivalents, power, cost, carbon."""
    spec = load_fleet(fleet)
    sites: list[FleetSite] = []
    for site in spec.sites:
        where = f"fleet {spec.name!r}, site {site.name!r}"
        try:
            sites.append(_fleet_site(site, where, overrides))
        except InputError as exc:  # name the site a catalog error (location, accelerator, power) comes from
            raise InputError(str(exc) if str(exc).startswith(where) else f"{where}: {exc}") from None
    keys = ("h100_equivalents", "it_power_w", "facility_power_w", "capex_usd", "opex_usd_per_year",
            "energy_mwh_per_year", "co2_t_per_year", "embodied_co2_t_per_year", "total_co2_t_per_year")
    totals: dict[str, Any] = {k: None if any(getattr(s, k) is None for s in sites) else  # a site without a price
                              sum(getattr(s, k) for s in sites) for k in keys}
    totals["accelerators"] = sum(s.accelerators for s in sites)
    published = spec.published_h100_equivalents or None
    band, basis = parts_band([ref.accelerator or s.accelerator for ref, s in zip(spec.sites, sites, strict=True)],
                             FACILITY_STACK, "facility", "it_power",
                             "the IT power summed over the sites", "the sites' accelerators are inputs; the facility "
                             "power adds the PUE (no validation case)")
    return FleetSitesResult(
        fleet=spec.name, source=spec.source, sites=sites, **totals,
        embodied_co2_reason="; ".join(f"site {s.name!r}: no embodied carbon for {s.accelerator} in the catalog"
                                      for s in sites if s.embodied_co2_t_per_year is None) or None,
        error_band=band, error_band_basis=basis,
        published_h100_equivalents=published,
        h100_equivalents_vs_published=totals["h100_equivalents"] / published if published else None,
        h100_equivalents_vs_published_reason=None if published else
        f"fleet {spec.name!r} states no published_h100_equivalents to compare with")
