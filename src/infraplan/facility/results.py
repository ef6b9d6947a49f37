"""Typed results of the facility commands: `facility` (FacilityReport) and `reliability` (ReliabilityReport).

Field names carry their unit as the JSON always has (`_w`, `_usd`, `_per_year`, `_s`, `_t`); see facility.py,
cluster/cost.py and reliability.py for what each number models and its source.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from infraplan.catalog.error_bands import ErrorBand
from infraplan.results import Result


class FacilityNetwork(Result):
    """The scale-out fabric counted by the topology builder, priced per switch port."""

    switch_ports: int = Field(description="switch ports of the scale-out fabric (count)")
    switches: int = Field(description="switches of the scale-out fabric (count)")
    tiers: int = Field(description="switch tiers of the scale-out fabric (count)")
    model: str = Field(description="where the switch counts come from")
    pricing: str = Field(description="where power and price per port come from")
    fabric_accelerators: int = Field(description="accelerators the fabric is built for (whole domains)")


class FacilityRackFit(Result):
    """How each rack is filled: the servers its power limit allows against those rack space holds."""

    limited_by: str = Field(description="what sets the servers per rack: power (the limit below), space (a 42U "
                            "rack holds no more servers of their height) or scale-up domain (one fills it)")
    servers_per_rack: int = Field(description="servers per rack built (count)")
    servers_per_rack_by_power: int = Field(description="servers the rack power limit allows (count)")
    servers_per_rack_by_space: int | None = Field(description="servers of their height a rack holds "
                                                  "(count; null: no height known, or a scale-up domain rack)")
    server_height_u: int | None = Field(description="server height, rack units (U; the system file's "
                                          "node.server_rack_units, else catalog hardware_costs.yaml)")
    rack_height_u: int = Field(description="rack height, rack units (U)")
    rack_power_w: float = Field(description="peak power per rack reached (servers and scale-up switches), W")
    rack_power_limit_w: float = Field(description="rack power asked (--rack-power), else the cooling type's "
                                      "maximum, W")
    rack_power_limit_source: str = Field(description="--rack-power, or the cooling type whose maximum applies")
    note: str | None = Field(None, description="one line when rack space, not power, sets the rack: servers per "
                             "rack by height, the rack power reached vs the limit; or when a scale-up domain spans "
                             "several racks (its system file's node.racks_per_scale_up_domain): a rack's share; "
                             "or, with no server height known, that rack space was not counted")


class FacilityRackRow(Result):
    """Racks holding the same servers: the full racks of the design, and a zone's last, part-filled rack."""

    racks: int = Field(description="racks holding this many servers (count)")
    servers_per_rack: int = Field(description="servers in each of these racks (count)")
    accelerators_per_rack: int = Field(description="accelerators in each of these racks (count)")
    rack_power_w: float = Field(description="peak power (accelerators, hosts, scale-up switches) of each of "
                                "these racks, W")
    full: bool = Field(description="whether these racks hold the design's servers per rack")


class FacilityAssumptions(Result):
    """The site figures the report used (catalog defaults or overrides)."""

    load_factor: float = Field(description="average / peak IT power (fraction): the average draw, energy, opex and "
                               "carbon (economics.yaml's 0.8 or a --costs file's)")
    wue_l_per_kwh: float = Field(description="water usage effectiveness, litres per kWh of IT energy")
    electricity_usd_per_mwh: float = Field(description="electricity price, USD per MWh")
    grid_gco2_per_kwh: float = Field(description="grid carbon intensity, gCO2e per kWh (location-based)")
    facility_usd_per_w: float = Field(description="facility (building, power, cooling) capex, USD per W of IT "
                                      "power")
    lives_years: dict[str, float] = Field(description="depreciation life per asset class (servers, network, "
                                          "facility), years")
    maintenance_fraction_of_capex_per_year: float = Field(description="maintenance opex per year as a fraction "
                                                          "of capex")
    cost_of_capital_per_year: float = Field(description="annual cost of capital (fraction per year) in the annualised "
                                                      "capex (the cost file's key of that name)")
    power: str = Field("", description="the accelerator draw the power chain takes and the part's one idle figure "
                       "(cluster.power.idle_power: catalog or the default rule), the same in serve and recsys")


class FacilityReport(Result):
    """`infraplan facility`: power, racks, floor, water, capex, opex, $/GPU-hour, energy and carbon of a site."""

    it_power_w: float = Field(description="peak IT power (accelerators, hosts, network, storage), W: the design "
                              "load a site's power and cooling are sized for (capacity, capex)")
    facility_power_w: float = Field(description="peak facility power, IT x PUE, W")
    it_power_average_w: float = Field(description="average IT draw under the site's load: peak IT x the load factor "
                                      "(assumptions.load_factor, the one figure energy, opex and carbon use), W; "
                                      "what TOP500 reports of a cluster (the HPL run's average), not its design load")
    facility_power_average_w: float = Field(description="average facility draw: it_power_average_w x PUE, W; x "
                                            "8,760 h = energy_mwh_per_year")
    pue: float = Field(description="power usage effectiveness, facility W / IT W")
    racks: int = Field(description="racks (count)")
    rack_power_w: float = Field(description="peak power of a full rack (accelerators, hosts, scale-up "
                                "switches), W: the rack design; a part-filled rack draws less (racks_by_fill)")
    full_racks: int = Field(0, description="racks holding the design's servers per rack (count)")
    racks_by_fill: list[FacilityRackRow] = Field(default_factory=list, description="the racks by what they hold: "
                                                 "full racks, then each zone's last, part-filled rack")
    rack_fit: FacilityRackFit | None = Field(None, description="how each rack is filled: power- or space-limited, "
                                             "with the note saying so")
    floor_area_m2: float = Field(description="white-space floor area, m^2")
    water_m3_per_year: float = Field(description="cooling water consumed, m^3 per year")
    capex_usd: dict[str, float] | None = Field(description="servers, network, facility; null without a server "
                                               "price (cost_reason)")
    opex_usd_per_year: float | None = Field(description="electricity and maintenance, USD per year (null: no "
                                            "server price)")
    capex_priced_usd: dict[str, float] = Field(default_factory=dict, description="the capex parts that are priced, "
                                               "USD: capex_usd's where the servers are; without a server price the "
                                               "network and facility (building, power chain, cooling), which need "
                                               "none (hK76)")
    capex_unpriced_parts: list[str] = Field(default_factory=list, description="capex parts left out of "
                                            "capex_priced_usd for want of a price (servers: cost_reason says which "
                                            "flag or file field prices them); empty: capex_usd is whole")
    usd_per_gpu_hour: float | None = Field(description="the cost model's price of an owned accelerator-hour, USD per "
                                           "accelerator-hour of any kind (GPU, TPU, MTIA or other ASIC, CPU: the "
                                           "name keeps `gpu`, which clients parse; the table says the device's word)")
    cost_reason: str | None = Field(None, description="why the money fields are null (no server price)")
    price_note: str | None = Field(None, description="where the server price comes from when it is not the "
                                   "accelerator's own: a what-if's inherited preset price (`accelerator_price`)")
    figures_notes: list[str] = Field(default_factory=list, description="the accelerator's figures (power among "
                                     "them) where they are SECONDARY or PRELIMINARY (`catalog.figures.figures_notes`)")
    count_note: str | None = Field(None, description="where --count is not a whole number of servers: the "
                                   "accelerators housed in whole servers, which every figure counts")
    rack_fabric_note: str | None = Field(None, description="where the racks built split the fabric's top-of-rack "
                                         "leaf domains over two racks: how many, and what their NIC links would "
                                         "add as optics (`facility.rack_fabric`; not in the figures)")
    energy_mwh_per_year: float = Field(description="facility energy at the load factor, MWh per year")
    co2_t_per_year: float = Field(description="location-based operational tCO2e per year (the facility's energy "
                                  "x the grid intensity; embodied_co2_t_per_year is the hardware's)")
    total_co2_t_per_year: float | None = Field(None, description="operational + embodied tCO2e per year (null: no "
                                               "embodied figure, embodied_co2_t_reason)")
    accelerator: str = Field(description="accelerator preset")
    system: str | None = Field(description="catalog system, or None for a plain accelerator count")
    accelerators: int = Field(description="accelerators housed (count)")
    servers: int = Field(description="servers (count)")
    servers_per_rack: int = Field(description="servers per rack (count)")
    accelerators_per_rack: int = Field(description="accelerators per full rack (count)")
    cooling: str = Field(description="air | liquid | immersion")
    location: str = Field(description="location preset (electricity price, grid carbon, climate)")
    climate: str = Field(description="climate class of the location (sets PUE and water)")
    build_type: str = Field(description="hyperscale | low-cost | high-cost | ai-campus (facility $/W)")
    power_breakdown_w: dict[str, float] = Field(description="peak facility power by part (accelerators, hosts, "
                                                "scale-up switches (NVL72's NVSwitch trays), network, storage and "
                                                "misc, cooling and power distribution), W")
    network: FacilityNetwork = Field(description="the scale-out fabric counted")
    capex_total_usd: float | None = Field(description="servers + network + facility capex, USD (null: no server "
                                          "price)")
    annualized_capex_usd_per_year: dict[str, float] | None = Field(description="capex per asset class over its life "
                                                                   "at the cost of capital, USD per year")
    opex_breakdown_usd_per_year: dict[str, float] = Field(description="electricity only without a server price")
    tco_usd_per_year: float | None = Field(description="annualised capex + opex, USD per year (null: no server "
                                           "price)")
    warnings: list[str] = Field(default_factory=list, description="what reading the inputs warned of "
                                "(a bare --electricity-price, a cost file's old key, an accelerator file): each line "
                                "the CLI also prints on stderr (raised_warnings.py)")
    embodied_co2_t: float | None = Field(description="embodied tCO2e of the servers (null: no catalog figure)")
    embodied_co2_t_reason: str | None = Field(None, description="why embodied carbon is null (no catalog figure)")
    embodied_co2_t_per_year: float | None = Field(description="embodied tCO2e spread linearly over the servers' "
                                                  "life (assumptions.lives_years), t per year")
    assumptions: FacilityAssumptions = Field(description="the site figures used (catalog defaults or overrides)")
    plot: str | None = Field(None, description="HTML file the charts were written to (--plot)")
    error_band: ErrorBand | None = Field(None, description="expected relative error of the IT power (predicted / "
                                         "published - 1) from the facility cases of the power chain "
                                         "(catalog/error_bands.py); null: `error_band_basis` says why")
    error_band_basis: str = Field("", description="which validation cases the IT power band comes from, or why "
                                  "there is none; the PUE (facility power = IT x PUE) is not validated")
    cost_error_band: ErrorBand | None = Field(None, description="expected relative error of capex / TCO / energy "
                                              "cost (predicted / published - 1); null: `cost_error_band_basis`")
    cost_error_band_basis: str = Field("", description="which validation cases the cost band comes from, or why "
                                       "there is none")


class SpareFields(Result):
    """A training job's hold on its system's servers or scale-up domains and what it does while none is spare: the
    fields `reliability` (ReliabilityReport) and a run (`train` / `search --tokens`, planning's TrainingRunTotals)
    share, declared once (facility/outage.py `domain_hold`, facility/spare_policy.py)."""

    expected_gpus_out_of_service: float | None = Field(None, description="mean accelerators of the job's servers or "
                                                       "scale-up domains out of service at once at the repair time, "
                                                       "a failed domain's healthy ones included (a run: reliability's "
                                                       "at a 3-day repair with no spare trays); the goodput assumes "
                                                       "spares outside the job stand in for them (count; null: the "
                                                       "rate does not say which failures take a node out)")
    goodput_of_gpus_held: float | None = Field(None, description="goodput x job accelerators / (accelerators held + "
                                               "out of service): the share of the hardware committed that trains")
    no_spare_policy: str = Field("shrink", description="--no-spare-policy: shrink (fewer data-parallel replicas) | "
                                 "wait, what the job does while its system has no spare server or domain for a "
                                 "failed one (facility/spare_policy.py)")
    full_size_fraction: float | None = Field(None, description="share of the time the job's servers or domains are "
                                             "all in service, its system's spares counted (null: spares always "
                                             "suffice, or none is known)")
    goodput_with_repairs: float = Field(description="the wall clock's goodput: goodput with the policy's waits or "
                                        "smaller size and its grows' restarts counted (shrink: x mean throughput "
                                        "share; wait: x full_size_fraction); equal to goodput where spares always "
                                        "suffice; above 1 where the plan's smaller plans run faster than it "
                                        "(shrink, said in a note)")


class ReliabilityReport(SpareFields):
    """`infraplan reliability`: interruptions, job MTTF, checkpoint interval and goodput of a training job."""

    expected_interruptions: float = Field(description="job interruptions expected over `days`, unexpected + "
                                          "planned (count)")
    expected_interruptions_per_day: float = Field(description="job interruptions expected per day, unexpected + "
                                                  "planned (count per day)")
    job_mttf_s: float = Field(description="job mean time to an unexpected interruption, seconds")
    checkpoint_interval_s: float = Field(description="compute time between checkpoints that `goodput` is priced at, "
                                         "seconds: the one given (--checkpoint-interval), else Daly's optimum "
                                         "(`daly_interval_s`)")
    checkpoint_interval_basis: Literal["daly", "given"] = Field(description="where `checkpoint_interval_s` comes "
                                                                "from: daly (the optimum) or given (the option)")
    daly_interval_s: float = Field(description="Daly's optimal checkpoint interval, seconds: sqrt(2 d M) "
                                   "[1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d for a write d < 2M, else M")
    goodput: float = Field(description="effective training time ratio at `checkpoint_interval_s`: fraction of the "
                           "wall clock that trains")
    goodput_at_daly_interval: float = Field(description="the same ratio at Daly's interval (`daly_interval_s`), the "
                                            "most a checkpoint interval gives (fraction)")
    expected_unexpected_interruptions: float = Field(description="failures expected over `days` (count)")
    expected_planned_interruptions: float = Field(description="planned interruptions (maintenance) expected over "
                                                  "`days` (count)")
    interruptions_by_component: dict[str, float] = Field(description="unexpected interruptions by root cause "
                                                         "(Llama 3 Table 5 mix), count each")
    system: str = Field(description="system preset")
    accelerator: str = Field(description="accelerator preset")
    gpus: int = Field(description="accelerators in the job (count)")
    days: float = Field(description="job length, days")
    model: str | None = Field(description="model whose checkpoint is written (sets its size); null where "
                              "--checkpoint-size gave the size (the model is then not used)")
    checkpoint_size_basis: str = Field("", description="what sized the checkpoint: --checkpoint-size, or the "
                                       "model's weights and optimizer state at the optimizer's bytes per parameter")
    optimizer: str | None = Field(None, description="the optimizer whose state the model's checkpoint holds "
                                  "(--optimizer: adam 14 B a parameter, muon 10 B a matrix parameter and 14 B on "
                                  "the embedding and LM head); null where --checkpoint-size "
                                  "gave the size")
    failure_rate: str = Field(description="failure-rate preset")
    failures_per_1000_node_days: float = Field(description="the preset's unexpected failures per 1,000 node-days")
    failure_rate_counts: str | None = Field(None, description="what the rate counts: node_failures (nodes found "
                                            "failed) or job_interruptions (every cause that ends a job); null: "
                                            "not stated in the rate's file")
    checkpoint_bytes: float = Field(description="checkpoint size (weights and optimizer state), bytes")
    checkpoint_write_s: float = Field(description="time to write one checkpoint, seconds")
    restart_s: float = Field(description="restart cost per interruption, seconds")
    young_interval_s: float = Field(description="Young's first-order checkpoint interval, sqrt(2 x write x "
                                    "MTTF), seconds")
    notes: list[str] = Field(default_factory=list, description="how the figures were reached: the checkpoint "
                             "interval's formula (Daly 2006, Young 1974) with its inputs; where planned "
                             "interruptions are charged, their per-job rate and the job it was counted on")
    error_band: ErrorBand | None = Field(None, description="expected relative error of the job MTTF (predicted / "
                                         "published - 1) from the facility cases of job MTTF (catalog/error_bands.py); "
                                         "null: `error_band_basis` says why")
    error_band_basis: str = Field("", description="which validation cases the MTTF band comes from, or why there "
                                  "is none")
    failure_rate_node_gpus: int = Field(0, description="GPUs of the node the failure rate was counted on (its "
                                        "`failures_per_1000_node_days` are per such node; applied per GPU) (count)")
    server_gpus: int = Field(0, description="GPUs of one server (tray) of the system, its node (count)")
    scale_up_domain_gpus: int = Field(0, description="GPUs one failed server takes out of the job's service: its "
                                      "scale-up domain where that spans servers (NVL72: 72), else the server (count)")
    spare_trays_per_domain: int = Field(0, description="spare servers (trays) held in each such domain (count; "
                                        "ASSUMPTION option, default 0)")
    domains: int = Field(0, description="scale-up domains (or servers) the job occupies (count)")
    gpus_held: int = Field(0, description="GPUs in those domains: the job's, spare trays and a part-used domain's "
                           "idle ones (count)")
    repair_time_s: float = Field(description="failure to server back in service, seconds (required: the model's "
                                 "default is an assumption, 3 days, facility/outage.py DEFAULT_REPAIR_S)")
    shrink_unit_gpus: int = Field(0, description="GPUs the job sheds and regains together under shrink: one "
                                  "data-parallel replica (count; --shrink-unit, or the --plan's replica; default one "
                                  "scale-up domain or the largest count dividing it and the job)")
