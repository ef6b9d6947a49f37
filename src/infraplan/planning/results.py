"""Typed results of the planning commands: `campus` (CampusPlan, FleetSitesResult) and the whole-run totals of
`train --tokens` (TrainingRunTotals, TrainingRunResult) and of `search --tokens`'s best plan (SearchRunResult);
`fleet-mix`'s are planning/fleet_mix_results.py's.

Field names carry their unit as the JSON always has; campus.py and training_run.py say what each number models and
its source.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from infraplan.catalog.error_bands import ErrorBand
from infraplan.facility.results import FacilityNetwork, FacilityReport, SpareFields
from infraplan.results import Result
from infraplan.training.results import PlanSearchResult, TrainingEstimate


def _absent(value: object) -> bool:
    """A run field left out of the JSON: the evaluation's, where the run does not evaluate (today's keys kept)."""
    return value is None


class TrainingRunTotals(SpareFields):
    """Totals of a training run on `tokens`: wall clock with failures (and evaluations, with --eval-every), GPU-hours,
    energy, CO2 and cost; the spare fields `reliability` gives for the same job (SpareFields) first."""

    time_to_train_s: float = Field(description="wall clock, (compute time + evaluation_time_s) / goodput_with_repairs, "
                                   "seconds")
    goodput: float = Field(description="fraction of the wall clock not lost to failures and checkpoints: training "
                           "(and evaluating, with --eval-every) (reliability model)")
    job_mttf_s: float = Field(description="job mean time to an unexpected interruption, seconds")
    checkpoint_interval_s: float = Field(description="Daly's optimal checkpoint interval, seconds")
    gpu_hours: float = Field(description="billed_accelerators_count x wall clock, accelerator-hours")
    billed_accelerators_count: int = Field(description="the accelerators the run is billed for: the job's in whole "
                                           "servers (12 on 8-GPU servers: 16), as `facility --count` counts them "
                                           "(count)")
    energy_mwh: float = Field(description="facility energy of the run: GPU-hours x facility_power_w_per_gpu x "
                              "load_factor (the average draw under load), MWh")
    co2_t: float = Field(description="location-based operational tCO2e")
    co2_model_card_t: float = Field(description="the published model cards' convention, for comparing with one "
                                    "(Llama 2 / 3 / 3.1 cards, LLaMA Table 15): GPU-hours x accelerator TDP x PUE x "
                                    "grid, without the host, network and storage co2_t counts; location-based tCO2e")
    cost_usd: float | None = Field(description="GPU-hours x usd_per_gpu_hour (null: no server price, cost_reason)")
    tokens: float = Field(description="tokens trained on (count)")
    compute_time_s: float = Field(description="tokens / tokens_per_s, without failures, seconds")
    checkpoint_bytes: float = Field(description="checkpoint size, bytes")
    checkpoint_write_s: float = Field(description="time to write one checkpoint, seconds")
    restart_s: float = Field(description="restart cost per interruption, seconds")
    failure_rate: str = Field(description="failure-rate preset")
    expected_interruptions: float = Field(description="interruptions over the run, unexpected + planned (count)")
    facility_power_w_per_gpu: float = Field(description="peak facility power per accelerator (its share of the IT "
                                            "load x PUE of the job's accelerators in whole servers on an accelerator "
                                            "preset, as `facility --count`; of the whole catalog system), W")
    load_factor: float = Field(description="average / peak IT power under load (fraction; economics.yaml's or a "
                               "--costs file's): the energy's, as `facility`'s and the cost model's electricity")
    pue: float = Field(description="power usage effectiveness, facility W / IT W")
    location: str = Field(description="location preset (grid carbon, electricity price)")
    grid_gco2_per_kwh: float = Field(description="grid carbon intensity, gCO2e per kWh")
    usd_per_gpu_hour: float | None = Field(description="the cost model's price of an owned accelerator-hour "
                                           "(null: no server price)")
    co2_embodied_t: float | None = Field(description="embodied tCO2e of the servers amortised over the run (null: no "
                                         "catalog figure)")
    eval_every_sequences: int | None = Field(None, description="--eval-every: sequences trained between two "
                                             "evaluations (count; left out without it)", exclude_if=_absent)
    eval_every_steps: int | None = Field(None, description="training steps between two evaluations, ceil("
                                         "eval_every_sequences / global batch) (count)", exclude_if=_absent)
    eval_samples: int | None = Field(None, description="--eval-samples: sequences one evaluation runs forward "
                                     "(count)", exclude_if=_absent)
    evaluations: int | None = Field(None, description="evaluations in the run: one at the end of every whole "
                                    "interval of eval_every_steps steps (count)", exclude_if=_absent)
    evaluation_s: float | None = Field(None, description="one evaluation: forward-only batches at the plan "
                                       "(`training.evaluation.evaluation_s`), seconds", exclude_if=_absent)
    evaluation_time_s: float | None = Field(None, description="evaluations x evaluation_s, in the wall clock, "
                                            "seconds", exclude_if=_absent)
    evaluation_share: float | None = Field(None, description="evaluation_time_s / time_to_train_s (fraction of the "
                                           "wall clock)", exclude_if=_absent)
    cost_reason: str | None = Field(None, description="why the cost fields are null (the missing server price "
                                    "and the flag that supplies it)")
    price_note: str | None = Field(None, description="a what-if's inherited preset price (`accelerator_price`)")
    notes: list[str] = Field(default_factory=list, description="what the run's goodput rests on "
                             "(`failure_rate_notes.goodput_basis_note`: planned interruptions at a per-job rate "
                             "from one job of its source's size; a failure rate counted on another accelerator); "
                             "beyond one zone, the fabric its money is priced on (`zoned_fabric_note`)")


class TrainingRunResult(TrainingEstimate, TrainingRunTotals):
    """`train --tokens`: the plan's estimate and the whole run's totals, as one flat object."""

    notes: list[str] = Field(default_factory=list, description="the estimate's notes (what infraplan chose that the "
                             "user did not give), then the run's (what its goodput rests on)")

    @classmethod
    def joined(cls, estimate: TrainingEstimate, totals: TrainingRunTotals | dict[str, Any]) -> TrainingRunResult:
        """The estimate and the run's totals as one flat result, the notes of both kept (CLI and web alike)."""
        run = totals.model_dump() if isinstance(totals, TrainingRunTotals) else dict(totals)
        return cls.model_validate({**estimate.model_dump(), **run, "notes": [*estimate.notes,
                                                                            *run.get("notes", [])]})


class SearchRunResult(PlanSearchResult):
    """`search --tokens`: the search and its best plan's whole run, as `train --tokens` of its `train_command`."""

    best_run: TrainingRunResult | None = Field(description="the best plan's estimate and whole-run totals on "
                                               "--tokens: `train --tokens` of `best.train_command`, the same figures "
                                               "(`planning.search_run.search_with_run`); null where no plan fits")
    best_run_command: str | None = Field(description="the `infraplan train` command line that prices `best_run` "
                                         "again: `best.train_command` with the run's options as given (--tokens, "
                                         "--location, --server-price, --costs, --eval-every, --eval-samples; "
                                         "`planning.search_run.run_flags`); the line `search --tokens` prints and "
                                         "the web page shows; null where no plan fits")
    run_ranked_count: int = Field(0, description="plans by step time (the first of `top`, in the best's tier) "
                                  "whose runs were priced and ranked by time_to_train_s, the repair policy's goodput "
                                  "and evaluations in it: the best is the one that finishes first (count; "
                                  "planning.search_run.RUN_RANKED_PLANS)")


class TrainingCapacity(Result):
    """Llama-3-405B-scale runs per year of a campus (or why there is no estimate)."""

    available: bool = Field(description="whether the estimate exists (false: `reason`)")
    reason: str | None = Field(None, description="why there is no estimate")
    model: str | None = Field(None, description="model of the reference run (llama3-405b)")
    tokens_per_run: float | None = Field(None, description="tokens per run (count; Llama 3's 15.6T)")
    runs_per_year: float | None = Field(None, description="runs per year of whole jobs: `concurrent_jobs` jobs of "
                                        "`job_gpus` at once, each a run every `days_per_run_per_job` (count per "
                                        "year); the accelerators beyond whole jobs run none")
    all_accelerator_runs_per_year: float | None = Field(
        None, description="runs per year counting every accelerator at the job's rate and goodput, those beyond "
        "whole jobs included: the bound smaller jobs on them could add (count per year; `runs_per_year` before hN55)")
    job_gpus: int | None = Field(None, description="accelerators per job (count; Llama 3's 16,384)")
    concurrent_jobs: int | None = Field(None, description="jobs of job_gpus the campus holds at once (count)")
    days_per_run_per_job: float | None = Field(None, description="wall clock of one run on one job, failures "
                                               "included, days")
    tokens_per_s_per_gpu: float | None = Field(None, description="training throughput, tokens per second per "
                                               "accelerator")
    mfu: float | None = Field(None, description="model FLOPs utilisation of the plan (fraction of the dense peak)")
    goodput: float | None = Field(None, description="fraction of the wall clock that trains at job_gpus")
    job_mttf_s: float | None = Field(None, description="job mean time to an unexpected interruption, seconds")
    reference_system: str | None = Field(None, description="system the job runs on (or the generic Clos)")
    plan: str | None = Field(None, description="the parallel plan run")
    notes: list[str] = Field(default_factory=list, description="a use other than its source's: training on an "
                             "accelerator its source describes for other work (`catalog.figures.use_note`); what "
                             "the goodput rests on (`failure_rate_notes.goodput_basis_note`)")
    error_band: ErrorBand | None = Field(None, description="expected relative error of the training throughput "
                                         "(predicted / measured - 1), the training estimate's own band; null: "
                                         "`error_band_basis` says why")
    error_band_basis: str = Field("", description="which validation cases the band comes from, or why there is "
                                  "none")


class CampusPhase(Result):
    """One build-out phase of `campus --phases`."""

    year: int | float = Field(description="date the phase comes online, a calendar year with its fraction "
                              "(2026.5: 2026H2 or 2026-07; a whole year an int, as a plan's phase `year`)")
    date: str = Field(description="the phase's date as every output writes it (2026, 2026-07: `units.year_text`), "
                      "the --plot chart's and the web page's label")
    fraction: float = Field(description="fraction of the campus built in this phase")
    cumulative_fraction: float = Field(description="fraction built by the end of this phase (the rest: no phase)")
    facility_power_w: float = Field(description="facility power added in this phase (peak): that of the whole packing "
                                    "units it adds, their share of the campus's, W")
    facility_power_average_w: float = Field(description="average facility draw added in this phase: "
                                            "facility_power_w x the load factor (the campus facility's, hC57), W")
    accelerators: int = Field(description="accelerators added in this phase (whole packing units, count)")
    capex_usd: float | None = Field(description="capex of this phase, its units' share of the campus's, USD (null: no "
                                    "server price)")
    cumulative_facility_power_w: float = Field(description="facility power online by the end of this phase, W")


class CampusPlan(Result):
    """`infraplan campus --power`: a power budget filled with one accelerator."""

    power_w: float = Field(description="facility power budget, W")
    reserve_fraction: float = Field(0.0, description="share of the budget kept unbuilt (--reserve: redundancy, "
                                    "derating, growth); 0: the whole budget built at peak IT draw x PUE")
    unbuilt_power_w: float = Field(0.0, description="facility power of the budget left unbuilt: the reserve and what "
                                   "whole scale-up domains or servers leave, W")
    accelerators: int = Field(description="accelerators that fit the budget (count)")
    racks: int = Field(description="racks (count)")
    buildings: int = Field(description="buildings of ~50 MW IT each (count)")
    network: FacilityNetwork = Field(description="the campus fabric (zones joined at 1:7)")
    capex_usd: dict[str, float] | None = Field(description="null without a server price (facility.cost_reason)")
    capex_priced_usd: dict[str, float] = Field(default_factory=dict, description="the capex parts priced, USD "
                                               "(facility.capex_priced_usd: network and facility without servers)")
    capex_unpriced_parts: list[str] = Field(default_factory=list, description="parts without a price (servers)")
    opex_usd_per_year: float | None = Field(description="opex, USD per year (null: no server price)")
    energy_mwh_per_year: float = Field(description="facility energy, MWh per year")
    co2_t_per_year: float = Field(description="location-based operational tCO2e per year")
    embodied_co2_t_per_year: float | None = Field(None, description="embodied tCO2e of the hardware per year: "
                                                  "`facility`'s kgCO2e per accelerator over the servers' life (null: "
                                                  "no catalog figure, facility.embodied_co2_t_reason)")
    total_co2_t_per_year: float | None = Field(None, description="operational + embodied tCO2e per year (null: "
                                               "no catalog figure, facility.embodied_co2_t_reason)")
    training_capacity: TrainingCapacity = Field(description="Llama-3-405B-scale runs per year")
    h100_equivalents: float = Field(description="accelerators x dense bf16 peak / H100's (Epoch AI convention)")
    phases: list[CampusPhase] = Field(description="the --phases build-out (empty without it)")
    facility: FacilityReport = Field(description="the whole campus as `facility` reports it")
    notes: list[str] = Field(default_factory=list, description="what the campus itself says beside `facility`'s "
                             "figures notes (whole scale-up domains against plan's packing)")
    plot: str | None = Field(None, description="HTML file the charts were written to (--plot)")
    error_band: ErrorBand | None = Field(None, description="null: a composite; its parts carry their bands "
                                         "(facility.error_band: IT power; training_capacity.error_band: training "
                                         "throughput)")
    error_band_basis: str = Field("", description="what the parts' bands cover and what is not validated")


class FleetSite(Result):

    """One site of a `campus --fleet`."""

    name: str = Field(description="site name")
    accelerator: str = Field(description="accelerator preset")
    accelerators: int = Field(description="accelerators (count)")
    h100_equivalents: float = Field(description="accelerators x dense bf16 peak / H100's")
    it_power_w: float = Field(description="peak IT power, W")
    facility_power_w: float = Field(description="peak facility power, W")
    capex_usd: float | None = Field(description="capex, USD (null without a server price for the accelerator)")
    capex_priced_usd: float = Field(0.0, description="the capex priced: capex_usd, or without a server price the "
                                    "network and facility (facility.capex_priced_usd), USD")
    opex_usd_per_year: float | None = Field(description="opex, USD per year (null without a server price)")
    energy_mwh_per_year: float = Field(description="facility energy, MWh per year")
    co2_t_per_year: float = Field(description="location-based operational tCO2e per year")
    embodied_co2_t_per_year: float | None = Field(None, description="embodied tCO2e of the hardware per year: "
                                                  "`facility`'s kgCO2e per accelerator over the servers' life (null: "
                                                  "no catalog figure for the accelerator)")
    total_co2_t_per_year: float | None = Field(None, description="operational + embodied tCO2e per year (null: "
                                               "no catalog figure for the accelerator)")
    figures_notes: list[str] = Field(default_factory=list, description="the site's accelerator's figures where they "
                                     "are SECONDARY or PRELIMINARY (`catalog.figures.figures_notes`)")
    cooling: str = Field(description="air | liquid | immersion")
    location: str = Field(description="location preset")


class FleetSitesResult(Result):
    """`infraplan campus --fleet`: the sites of a fleet summed."""

    fleet: str = Field(description="fleet preset or file name")
    source: str = Field(description="where the fleet's figures come from")
    accelerators: int = Field(description="accelerators over all sites (count)")
    h100_equivalents: float = Field(description="H100-equivalents over all sites")
    it_power_w: float = Field(description="peak IT power, W")
    facility_power_w: float = Field(description="peak facility power, W")
    capex_usd: float | None = Field(description="capex, USD (null when a site has no server price)")
    opex_usd_per_year: float | None = Field(description="opex, USD per year (null when a site has no server price)")
    energy_mwh_per_year: float = Field(description="facility energy, MWh per year")
    co2_t_per_year: float = Field(description="location-based operational tCO2e per year")
    embodied_co2_t_per_year: float | None = Field(None, description="embodied tCO2e of the hardware per year: "
                                                  "`facility`'s kgCO2e per accelerator over the servers' life (null: "
                                                  "a site has no figure, embodied_co2_reason)")
    total_co2_t_per_year: float | None = Field(None, description="operational + embodied tCO2e per year (null: "
                                               "a site has no figure, embodied_co2_reason)")
    embodied_co2_reason: str | None = Field(None, description="why embodied carbon is null: the sites whose "
                                            "accelerator has no catalog figure")
    sites: list[FleetSite] = Field(description="the sites")
    published_h100_equivalents: float | None = Field(None, description="the fleet's published H100e")
    h100_equivalents_vs_published: float | None = Field(None, description="itemised H100e / published (fraction)")
    h100_equivalents_vs_published_reason: str | None = Field(
        None, description="why the comparison is null (the fleet states no published H100e)")
    error_band: ErrorBand | None = Field(None, description="expected relative error of the IT power summed over "
                                         "the sites (predicted / measured - 1): the envelope of the sites' bands "
                                         "(catalog/answer_bands.py `envelope`); null: `error_band_basis` says why")
    error_band_basis: str = Field("", description="which validation cases the band comes from, what is not "
                                  "validated, or why there is none")
    warnings: list[str] = Field(default_factory=list, description="what reading the inputs warned of "
                                "(a bare --electricity-price, a cost file's old key, a site's accelerator file): "
                                "each line the CLI also prints on stderr (raised_warnings.py)")
