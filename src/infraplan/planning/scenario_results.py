"""Typed results of `infraplan plan` (ScenarioPlan, planning/scenario.py) and `infraplan compare`
(ScenarioComparison, planning/compare.py): the rows per phase, service, pool and site, and the TCO tornado.

Field names carry their unit as the JSON always has; scenario.py, scenario_report.py and compare.py say what each
number models and its source.
"""

from __future__ import annotations

from pydantic import Field

from infraplan.catalog.error_bands import ErrorBand
from infraplan.results import Result


class ScenarioServiceRow(Result):
    """One service in one phase on one pool: what it needs and how much margin it has."""

    phase: str = Field(description="phase name")
    service: str = Field(description="service name")
    kind: str = Field(description="training | llm | recsys | image | video")
    pool: str = Field(description="pool serving it")
    devices: int = Field(description="devices assigned (count)")
    replicas: int | None = Field(None, description="llm: serve-plan's replicas among those devices (count; a "
                                 "disaggregated deployment's prefill and decode replicas together; `detail` says each "
                                 "one's layout and devices); null otherwise")
    demand: float = Field(description="demand in `demand_unit` (with the policy headroom)")
    served: float = Field(description="capacity assigned, in `demand_unit`")
    demand_unit: str = Field(description="requests/s, qps, streams or runs")
    slo_headroom: float | None = Field(description="fraction below the SLO at the planned point (latency or "
                                       "deadline); null where the model gives no margin")
    detail: str = Field(description="operating point: deployment, plan, batch, encoder")
    time_to_train_s: float | None = Field(None, description="training: wall clock of one run, failures and "
                                          "checkpoints included, seconds (as `train --tokens`); null otherwise")
    optimizer: str | None = Field(None, description="training: the optimizer the run steps with, adam | muon (the "
                                  "service's `optimizer`, else the stack's or its model recipe's, as train's); null "
                                  "otherwise")
    checkpoint_bytes: float | None = Field(None, description="training: one checkpoint of the run, the model's "
                                           "parameters at its optimizer's bytes per parameter (Adam 14; Muon 10 on the "
                                           "matrices, 14 on the embedding and LM head: as "
                                           "train --tokens), bytes; null otherwise")
    checkpoint_write_s: float | None = Field(None, description="training: that checkpoint's write time at the "
                                             "storage's sustained bandwidth, seconds (as train --tokens); null "
                                             "otherwise")
    mfu: float | None = Field(None, description="training: model FLOPs utilisation of the chosen plan, fraction of "
                              "the dtype's dense peak; null otherwise")
    goodput: float | None = Field(None, description="training: fraction of the wall clock that trains (reliability "
                                  "model at that job size); null otherwise")
    serving_stack: str | None = Field(None, description="llm: the serving stack the pool's deployment ran (the "
                                      "pool's `stack`, else the service's, else the part's vendor default); null "
                                      "otherwise")
    serving_stack_basis: str | None = Field(None, description="llm: why that stack: whose `stack` asked it, or the "
                                            "vendor default and its reason; image: no stack profile, the software "
                                            "its figure assumes, as `serve`'s `stack_basis` (hU67); null otherwise")
    weight_dtype: str | None = Field(None, description="llm: the weight format serve-plan's answer runs (its "
                                     "--dtype: bf16, fp8, mxfp8, ...); null otherwise")
    kv_dtype: str | None = Field(None, description="llm: the answer's KV-cache dtype; null otherwise")
    precision: str | None = Field(None, description="llm: weights, GEMM activations and KV cache in words "
                                  "(planning/llm_precision.py); null otherwise")


class ScenarioPoolRow(Result):
    """A pool in one phase: devices installed, their racks, cluster fabric, power and money (the one cost model)."""

    phase: str = Field(description="phase name")
    pool: str = Field(description="pool name")
    device: str = Field(description="device preset")
    site: str = Field(description="site name")
    devices: int = Field(description="devices installed, spares included (count)")
    new_devices: int = Field(description="devices delivered in this phase (count; the pool's installed base is in "
                             "place before the first phase)")
    retired_devices: int = Field(0, description="devices of the phase before that leave service in this one at their "
                                 "lifetime_years (count; planning/retirement.py)")
    racks: int = Field(description="racks (count)")
    network_tiers: int = Field(description="tiers of the scale-out fabric built by the network builder (count)")
    switches: int = Field(description="scale-out switches (count)")
    h100_equivalents: float = Field(description="devices x dense bf16 peak / H100's (Epoch AI convention)")
    it_power_w: float = Field(description="peak IT power of the power chain, watts")
    facility_power_w: float = Field(description="IT power x PUE, watts")
    facility_power_average_w: float = Field(description="average facility draw: facility_power_w x the site's load "
                                            "factor (policy load_factor, else economics.yaml's 0.8), watts; x 8,760 h "
                                            "= energy_mwh_per_year (hC57)")
    capex_usd: float | None = Field(description="money spent on the pool in this phase: fleet_value_usd less the "
                                    "value of what was already in service (the previous phase's fleet, or the "
                                    "installed base in the first; where devices retire, the survivors' value, "
                                    "planning/retirement.py), by the same cost model, never below 0; the facility "
                                    "share only for the site's IT above its peak so far, planning/site_building.py, "
                                    "USD (null: no price, cost_reason)")
    fleet_value_usd: float | None = Field(description="the pool's hardware installed in this phase at the one cost "
                                          "model's capex (servers + network + facility share), installed base "
                                          "included, USD (null: no price, cost_reason)")
    fleet_value_priced_usd: float = Field(0.0, description="the part of fleet_value_usd priced without a device "
                                          "price: its network and facility share (`facility`'s capex_priced_usd); "
                                          "= fleet_value_usd where the pool is priced, USD (hK76)")
    capex_priced_usd: float = Field(0.0, description="the part of capex_usd priced without a device price: the "
                                    "network and facility share the phase buys, by capex_usd's rules; = capex_usd "
                                    "where the pool is priced, USD (hK77)")
    tco_priced_usd_per_year: float = Field(0.0, description="the TCO of the priced parts: tco_usd_per_year with "
                                           "the servers at $0 where the pool has no price (network and facility "
                                           "annualised, energy, maintenance); = tco_usd_per_year where priced, USD "
                                           "per year (hK77)")
    tco_usd_per_year: float | None = Field(description="annualised fleet_value_usd + opex, USD per year: the "
                                           "installed base is amortised too (owned hardware at the cost model's "
                                           "price over its life, its economic cost, not cash spent) (null: no "
                                           "price)")
    energy_mwh_per_year: float = Field(description="facility energy at the load factor, MWh per year")
    co2_t_per_year: float = Field(description="location-based operational tCO2e per year (the energy at the site's "
                                  "grid intensity; embodied_co2_t_per_year is the hardware's)")
    embodied_co2_t_per_year: float | None = Field(None, description="embodied tCO2e of the hardware per year: "
                                                  "`facility`'s kgCO2e per accelerator over the servers' life (null: "
                                                  "no catalog figure, embodied_co2_reason)")
    total_co2_t_per_year: float | None = Field(None, description="operational + embodied tCO2e per year (null: "
                                               "no catalog figure, embodied_co2_reason)")
    embodied_co2_reason: str | None = Field(None, description="why embodied_co2_t_per_year is null")
    spare_nodes: int = Field(0, description="spare nodes from the reliability model (count; 0 without "
                             "policy.spare_probability), sized on the devices the services use")
    spare_devices: int = Field(0, description="devices in the spare nodes (count)")
    idle_devices: int = Field(0, description="devices in service that no service uses and that are not spares: the "
                              "rest of the whole servers bought, and hardware kept from a phase before (count; the "
                              "policy's N+k spare racks not included; hR63)")
    expected_nodes_down: float = Field(0.0, description="mean nodes in repair: nodes x failures per node-hour x "
                                       "repair hours (count)")
    node_failures_per_hour: float | None = Field(None, description="failures of one node that take it out of "
                                                 "service, per hour (the rate x node_out_of_service_fraction)")
    node_out_of_service_fraction: float | None = Field(None, description="share of the failure rate's events that "
                                                       "take a node out of service (fraction; 1 for a node-failure "
                                                       "rate, planning/spares.py)")
    spare_rate_basis: str | None = Field(None, description="the failure rate, what it counts and the share used")
    repair_time_s: float | None = Field(None, description="repair time used (failure to node back), seconds")
    failure_rate_source: str | None = Field(None, description="failure-rate preset used and its source")
    cost_reason: str | None = Field(None, description="why capex and TCO are null (the pool has no price)")


class ScenarioSiteRow(Result):
    """A site in one phase: facility power against its cap."""

    phase: str = Field(description="phase name")
    site: str = Field(description="site name")
    location: str = Field(description="location preset (grid carbon, electricity price)")
    power_cap_w: float = Field(description="facility power cap in this phase, watts (0 before it is online)")
    facility_power_w: float = Field(description="sum of the pools' facility power, watts")
    it_power_w: float = Field(description="sum of the pools' IT power, watts")
    utilisation: float = Field(description="facility power / cap (fraction)")


class ScenarioPhaseRow(Result):
    """Totals of one phase."""

    phase: str = Field(description="phase name")
    year: int | float = Field(description="calendar year, with its fraction for a date within it (2025.5: 1 July "
                              "2025; planning/plan_dates.py)")
    devices: int = Field(description="devices installed (count)")
    new_devices: int = Field(0, description="devices delivered in this phase, the pools' new_devices (count)")
    retired_devices: int = Field(0, description="devices that leave service in this phase at their lifetime_years, "
                                 "a pool's whole fleet included (count; planning/retirement.py)")
    h100_equivalents: float = Field(description="H100-equivalents installed")
    facility_power_w: float = Field(description="facility power, watts")
    facility_power_average_w: float = Field(description="average facility draw, the pools' (peak x load factor), "
                                            "watts")
    capex_usd: float | None = Field(description="money spent in this phase: the pools' capex_usd (new devices "
                                    "and what their count adds to servers, racks, fabric and facility), USD (null: "
                                    "a pool has no price)")
    fleet_value_usd: float | None = Field(description="what is installed in this phase at the one cost model's "
                                          "capex, installed base included, USD (null: a pool has no price)")
    tco_usd_per_year: float | None = Field(description="TCO of the installed fleet, installed base amortised too, "
                                           "USD per year (null: a pool has no price)")
    capex_priced_usd: float = Field(0.0, description="the pools' capex_priced_usd: capex_usd over the parts "
                                    "priced (= capex_usd where every pool is), USD (hK77)")
    fleet_value_priced_usd: float = Field(0.0, description="the pools' fleet_value_priced_usd, USD (hK77)")
    tco_priced_usd_per_year: float = Field(0.0, description="the pools' tco_priced_usd_per_year, USD per year "
                                           "(hK77)")
    energy_mwh_per_year: float = Field(description="energy, MWh per year")
    co2_t_per_year: float = Field(description="location-based operational tCO2e per year")
    embodied_co2_t_per_year: float | None = Field(None, description="embodied tCO2e of the hardware per year: "
                                                  "`facility`'s kgCO2e per accelerator over the servers' life (null: "
                                                  "a pool has no figure)")
    total_co2_t_per_year: float | None = Field(None, description="operational + embodied tCO2e per year (null: "
                                               "a pool has no figure)")


class TornadoRow(Result):
    """One parameter swept from low to high: the TCO of the last phase at each end."""

    parameter: str = Field(description="what was varied (electricity, pue, headroom, POOL.price, ...)")
    low_value: float = Field(description="low end of the range, in `unit`")
    high_value: float = Field(description="high end of the range, in `unit`")
    unit: str = Field(description="unit of low_value and high_value: USD/kWh (electricity), facility W / IT W (pue), "
                      "fraction of demand (headroom), USD per device (POOL.price), devices (POOL.available), W "
                      "(SITE.power)")
    tco_low_usd_per_year: float | None = Field(description="TCO per year at the low end (null: infeasible, "
                                                 "or a pool without a price)")
    tco_high_usd_per_year: float | None = Field(description="TCO per year at the high end (null: "
                                                  "infeasible, or a pool without a price)")
    swing_usd_per_year: float | None = Field(description="|high - low| TCO, USD per year")


class ScenarioPlan(Result):
    """`infraplan plan`: a scenario sized, placed, packed, powered and costed, phase by phase."""

    scenario: str = Field(description="scenario name")
    objective: str = Field(description="capex | tco | power | carbon")
    phases: list[ScenarioPhaseRow] = Field(description="totals per phase")
    services: list[ScenarioServiceRow] = Field(description="services per phase and pool")
    pools: list[ScenarioPoolRow] = Field(description="pools per phase")
    sites: list[ScenarioSiteRow] = Field(description="sites per phase")
    devices: int = Field(description="devices in the last phase (count)")
    h100_equivalents: float = Field(description="H100-equivalents in the last phase")
    facility_power_w: float = Field(description="facility power in the last phase, watts")
    facility_power_average_w: float = Field(description="average facility draw in the last phase (peak x load "
                                            "factor: its energy's), watts")
    capex_usd: float | None = Field(description="money spent over the phases: their capex_usd summed (the last "
                                    "phase's fleet_value_usd less installed_base_value_usd where no price fell), USD "
                                    "(null: cost_reason)")
    installed_base_value_usd: float | None = Field(description="the pools' installed bases (whole servers) before "
                                                   "the first phase at the one cost model's capex: hardware owned, "
                                                   "not bought by the plan, USD (0: none; null: cost_reason)")
    fleet_value_usd: float | None = Field(description="the last phase's fleet at the one cost model's capex, "
                                          "installed base included, USD (null: cost_reason)")
    tco_usd_per_year: float | None = Field(description="TCO of the last phase's fleet, USD per year: "
                                           "fleet_value_usd annualised, each asset class over its life (the "
                                           "installed base included: owned hardware at its economic cost, not "
                                           "cash) + opex (null: cost_reason)")
    capex_priced_usd: float = Field(0.0, description="capex_usd over the parts that are priced, summed over the "
                                    "phases: a pool without a device price adds the network and facility it buys, "
                                    "not its servers (capex_unpriced_parts); = capex_usd where every pool is "
                                    "priced, USD (hK77; `facility`'s capex_priced_usd, hK76)")
    fleet_value_priced_usd: float = Field(0.0, description="fleet_value_usd over the parts that are priced (the "
                                          "last phase's pools' fleet_value_priced_usd), USD (hK77)")
    tco_priced_usd_per_year: float = Field(0.0, description="tco_usd_per_year over the parts that are priced: the "
                                           "servers of a pool without a price at $0 (its network and facility "
                                           "annualised, its energy and their maintenance counted), USD per year "
                                           "(hK77)")
    capex_unpriced_parts: list[str] = Field(default_factory=list, description="what the *_priced_* sums leave out "
                                            "for want of a price: the servers of each pool with devices in some "
                                            "phase and no price (cost_reason says how to price it); empty: the "
                                            "sums are the money fields")
    energy_mwh_per_year: float = Field(description="energy of the last phase, MWh per year")
    co2_t_per_year: float = Field(description="location-based operational tCO2e per year in the last phase")
    embodied_co2_t_per_year: float | None = Field(None, description="embodied tCO2e of the hardware per year in the "
                                                  "last phase: `facility`'s kgCO2e per accelerator over the servers' "
                                                  "life (null: a pool has no figure, embodied_co2_reason)")
    total_co2_t_per_year: float | None = Field(None, description="operational + embodied tCO2e per year in the last "
                                               "phase (null: a pool has no figure, embodied_co2_reason)")
    embodied_co2_reason: str | None = Field(None, description="why embodied carbon is null: the last phase's "
                                            "pools without a catalog figure")
    excluded: list[str] = Field(description="service/pool pairs that cannot work, and why")
    warnings: list[str] = Field(description="what the planner noticed (sites over their cap after packing, ...)")
    solver: str = Field(description="the programme and its solver")
    pricing_rounds: int = Field(0, description="MILP solves of the pricing fixed point: each pool priced per device "
                                "at the devices it is reported at (count; at most PRICING_ROUNDS)")
    pricing_converged: bool = Field(False, description="whether the devices each pool is priced at repeated (every "
                                    "pool priced at its own size)")
    pricing: str | None = Field(None, description="how the MILP priced the pools, in words")
    objective_value: float | None = Field(None, description="the MILP's objective at the answer's own per-pool "
                                          "prices, in objective_unit")
    objective_unit: str | None = Field(None, description="the unit of objective_value (by objective)")
    objective_lower_bound: float | None = Field(None, description="--optimality-gap: a proven lower bound on the "
                                                "programme's optimum with every pool at its own size, in "
                                                "objective_unit (null: not asked, or not computed: optimality "
                                                "says why; one above objective_value proves nothing, and "
                                                "optimality_gap_fraction is then null: optimality says so)")
    optimality_gap_fraction: float | None = Field(None, description="--optimality-gap: (objective_value - "
                                                  "objective_lower_bound) / objective_value (0: optimal; null: "
                                                  "not asked, or not computed)")
    optimality_solves: int | None = Field(None, description="--optimality-gap: MILP solves of the lower-bounding "
                                          "programme (count)")
    optimality: str | None = Field(None, description="--optimality-gap: the bound, in words")
    wall_time_s: float = Field(description="the planner's own wall clock (not a model answer: it differs run to "
                               "run), seconds")
    tornado: list[TornadoRow] = Field(default_factory=list, description="--vary: TCO sensitivity, largest first")
    published: dict[str, float] = Field(default_factory=dict, description="the preset's published anchors")
    cost_reason: str | None = Field(None, description="why capex and TCO are null: the pools without a price in any "
                                    "phase (capex is null where one is in any phase, fleet value and TCO where one is "
                                    "in the last; objective power or carbon plans them; a pool's "
                                    "price_usd_per_device prices them)")
    price_note: str | None = Field(None, description="pools priced at a what-if's inherited preset price")
    figures_note: str | None = Field(None, description="pools used (any phase) whose accelerator's figures are "
                                     "SECONDARY or assumed (its catalog `figures_note`), one per pool; null: none")
    notes: list[str] = Field(default_factory=list, description="what the training rows' goodput rests on, one per "
                             "service, pool and job size (`failure_rate_notes.goodput_basis_note`: the planned "
                             "interruptions' per-job rate; a failure rate counted on another accelerator); what "
                             "a video service's devices per stream rest on, `video`'s notes for its job on each pool "
                             "used (video/notes.py), and a recsys service's QPS per device (`recsys`'s figures_note "
                             "lines but the pool's own), each line once after the `service on pool` pairs it holds "
                             "for")
    error_band: ErrorBand | None = Field(None, description="expected relative error of the last phase's IT power "
                                         "(predicted / measured - 1): the envelope of its pools' bands "
                                         "(catalog/answer_bands.py `parts_band`); null: `error_band_basis` says why")
    error_band_basis: str = Field("", description="which validation cases the band comes from and what the plan "
                                  "rests on that no case checks (its demand, an input; the PUE; the money)")


class ScenarioComparison(Result):
    """`infraplan compare`: scenarios side by side, with deltas against the first."""

    scenarios: list[ScenarioPlan] = Field(description="each scenario's plan")
    metrics: list[str] = Field(description="compared fields of ScenarioPlan")
    deltas: list[dict[str, float | None]] = Field(description="per scenario: metric -> value minus the first "
                                                  "scenario's (null where either has no price; a priced-part sum, "
                                                  "*_priced_*, null where the two leave out different parts: "
                                                  "capex_unpriced_parts)")
    risks: list[list[str]] = Field(description="per scenario: its warnings and binding choices")
    precision_notes: list[str] = Field(default_factory=list, description="LLM services run at different precisions "
                                       "by the scenarios (weights, activations, KV), why, and whether they are "
                                       "compared like-for-like (planning/compare_precision.py)")
    like_for_like_dtypes: dict[str, list[str]] = Field(default_factory=dict, description="per LLM service re-planned "
                                                       "like-for-like (its name; 'chat (a) / assistant (b)' where "
                                                       "matched across names, planning/service_match.py): the "
                                                       "weight formats (its `dtypes`) every scenario runs, at which "
                                                       "each was re-planned")
    like_for_like_kv_dtypes: dict[str, str] = Field(default_factory=dict, description="per LLM service re-planned "
                                                    "like-for-like whose sides asked different KV caches (a "
                                                    "service's `kv_dtype`): the KV-cache dtype every side was "
                                                    "re-planned at (hB59)")
    like_for_like: list[dict[str, float | None] | None] | None = Field(None, description=(
        "per scenario: the headline metrics (as `metrics`, each in its field's unit) re-planned with "
        "like_for_like_dtypes and like_for_like_kv_dtypes (a scenario that needed no change: its own plan's; null: "
        "its re-plan failed, precision_notes says why); null where no service needed it"))
    error_band: ErrorBand | None = Field(None, description="null: each scenario carries its own "
                                         "(scenarios[].error_band)")
    error_band_basis: str = Field("", description="where the scenarios' bands are")
    warnings: list[str] = Field(default_factory=list, description="every warning line the run raised, each once (an "
                                "accelerator, stack or model config file's, a bare price's, a pool's old price "
                                "key), as the CLI says them on stderr: a file read by several scenarios warns once, "
                                "so a line is the run's, not one scenario's; a pool's old price key is also in its "
                                "scenario's warnings and risks (`results.with_warnings`, hF60)")

    def with_read_warnings(self, read: list[list[str]]) -> ScenarioComparison:
        """The comparison with each scenario's lines reading its file (`read`, one list per scenario: a pool's old
        price key, `planning.pool_price_key.old_price_key_warning`) first in its plan's `warnings` and its `risks`
        row, a line there already not repeated: the web's answer (hC49) and the CLI's `--json` (hJ59) alike."""
        if not any(read):
            return self
        plans = [p.model_copy(update={"warnings": [*(x for x in lines if x not in p.warnings), *p.warnings]})
                 for p, lines in zip(self.scenarios, read, strict=True)]
        risks = [[*(x for x in lines if x not in risk), *risk] for risk, lines in zip(self.risks, read, strict=True)]
        return self.model_copy(update={"scenarios": plans, "risks": risks})
