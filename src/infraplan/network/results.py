"""Typed results of the network layer: `infraplan network` (NetworkReport, `costs.describe_fabric`) and
`infraplan collective` (CollectiveResult, `collective_schedules.estimate_collective`).

Field names are the JSON `--json` has always printed; bandwidth in bytes/s (port speeds in Gb/s), power in
watts, capex in USD. The flow-level simulation adds `analytical_time_s`, `flows_per_pair`, `seed`, `flows`;
`priced_time_s` is what `train` / `serve` price for the same collective (hT71), the analytical `time_s` since hC52
(`alpha_beta_time_s` the alpha-beta line beside it).
"""

from __future__ import annotations

from pydantic import Field

from infraplan.catalog.error_bands import ErrorBand
from infraplan.results import Result, SparseResult


class FabricTier(Result):
    """One switch tier of the folded Clos: its switches, links, optics, power and capex."""

    name: str = Field(description="tier name")
    switches: int = Field(description="switches (count)")
    radix: int = Field(description="ports per switch (count)")
    port_bytes_per_s: float = Field(description="port speed, bytes/s (a 400G port: 5e10)")
    oversubscription: float = Field(description="effective down:up ratio")
    configured_oversubscription: float = Field(description="configured down:up ratio")
    bandwidth_oversubscription: float = Field(description="the domain's NIC bandwidth over its uplinks' (line "
                                              "rates; 1 at the top): the ratio the collective models price, the "
                                              "port ratio where NICs run at the ports' speed")
    domains: int = Field(description="domains this tier forms (count)")
    domain_gpus: int = Field(description="GPUs per domain (count)")
    planes: int = Field(description="parallel planes (count)")
    down_ports_per_switch: int = Field(description="ports facing down (count)")
    up_ports_per_switch: int = Field(description="ports facing up (count)")
    links_from_below: int = Field(description="links from the tier below (count)")
    switch_model: str = Field(description="switch model")
    link_medium: str = Field(description="copper DAC | optical")
    transceivers: int = Field(description="optical modules (count)")
    power_w: float = Field(description="watts of switches and optics")
    capex_usd: float = Field(description="USD of switches, links and optics")


class NetworkReport(Result):
    """`infraplan network`: the built fabric, its bill of materials and bisection."""

    system: str = Field(description="system name")
    gpus: int = Field(description="GPUs attached (count)")
    fabric_gpus_count: int = Field(description="GPUs the fabric is built for: `gpus`, or rounded up to the whole "
                                   "domains (pods) a partial one occupies (`costs.whole_domain_topology`)")
    kind: str = Field(description="fabric kind (infiniband, roce, ...)")
    rail_optimized: bool = Field(description="rail-optimised leaves")
    rail_only: bool = Field(False, description="rail-only: no switch joins two rails (arXiv:2307.12169)")
    load_balancing: str = Field("adaptive", description="how its switches spread flows over equal-cost uplinks, as "
                                "`train`, `serve`, `collective` and the flow model price it: 'adaptive' (per packet: "
                                "the even spread) or 'ecmp' (a hash per flow: expected collisions priced, hE74)")
    load_balancing_stated: bool = Field(True, description="whether the system file states `load_balancing` (false: "
                                        "omitted, so its kind's default: adaptive on InfiniBand, ecmp elsewhere)")
    load_balancing_basis: str = Field("", description="where the balancing comes from: the file's "
                                      "`load_balancing_source`, or the kind's default taken")
    ecmp_flows_per_pair_count: int | None = Field(None, description="ecmp: the flows (QPs) each GPU pair hashes "
                                                  "(`ecmp_flows_per_pair`); null on adaptive fabrics")
    tiers: list[FabricTier] = Field(description="switch tiers, bottom first")
    switches_total: int = Field(description="switches (count)")
    links_total: int = Field(description="links cabled and priced (count): the tiers' `links_from_below` summed, "
                             "the NIC links of the servers there and the uplinks in use (`costs.populated_links`)")
    links_built_count: int = Field(description="links of the fabric as built for `fabric_gpus_count` (count): "
                                   "`links_total` where every server is there; more where whole leaves or units "
                                   "are built for part of them (their unused ports' links; the GraphML's links)")
    transceivers_total: int = Field(description="optical modules (count)")
    bisection_bytes_per_s: float = Field(description="bisection bandwidth of the `gpus` attached, bytes per second "
                                         "(line rate, per direction; not the idle ports' of a fabric built for more)")
    power_w: float = Field(description="watts of the fabric")
    capex_usd: float = Field(description="USD of the fabric")
    capex_usd_per_gpu: float = Field(description="USD of the fabric per GPU")
    power_w_per_gpu: float = Field(description="fabric watts per GPU")
    graphml: str | None = Field(description="GraphML file written, if any")
    sources: list[str] = Field(description="where the prices and powers come from")
    clos_switches_count: int | None = Field(None, description="rail-only: switches of the system's own Clos for "
                                            "the same GPUs (count)")
    clos_capex_usd: float | None = Field(None, description="rail-only: USD of the system's own Clos")
    clos_power_w: float | None = Field(None, description="rail-only: watts of the system's own Clos")
    rails_count: int | None = Field(None, description="rail-only: rails, one per NIC of a scale-up (HB) domain")
    rail_bisection_bytes_per_s: float | None = Field(
        None, description="rail-only: one rail's bisection, bytes per second (the total is rails x it; a byte to "
        "another rail crosses the scale-up domain first)")
    notes: list[str] = Field(default_factory=list, description="lines on how other commands build the same "
                             "accelerators (an accelerator preset beyond one zone: `facility`'s zones at 1:7) and "
                             "where a tier's balanced wiring or whole up ports depart from its port arithmetic")
    error_band: ErrorBand | None = Field(None, description="null: no validation case measures a fabric's bill of "
                                         "materials (catalog/error_bands.py); `error_band_basis` says why")
    error_band_basis: str = Field("", description="why the fabric answer has no band")


class CollectiveResult(SparseResult):
    """`infraplan collective`: time, algbw, busbw (nccl-tests conventions) and the bottleneck tier."""

    op: str = Field(description="collective")
    system: str = Field(description="system name")
    gpus: int = Field(description="group size (count)")
    placement: str = Field(description="packed | spread")
    stride: int = Field(description="GPU index stride between members")
    algorithm: str = Field(description="ring | tree | ...")
    sim: str = Field(description="analytical | flow")
    size_bytes: float = Field(description="message bytes")
    analytical_time_s: float | None = Field(None, description="alpha-beta seconds (flow simulation; = "
                                            "`alpha_beta_time_s`)")
    analytical_answer_time_s: float | None = Field(None, description="seconds `--sim analytical` answers for the "
                                                   "same question (its `time_s`: the priced time, the alpha-beta line "
                                                   "with message-size efficiency; flow simulation only)")
    flows_per_pair: int | None = Field(None, description="flows (QPs) per GPU pair (flow simulation; hashed on an "
                                       "ECMP fabric, spread on an adaptive one)")
    sized_time_s: float | None = Field(None, description="the flow schedule's seconds at the message-size "
                                       "efficiency the analytical answer reads (flow simulation, where that answer "
                                       "has one: `network.flow_sized`)")
    seed: int | None = Field(None, description="random seed (flow simulation; None where nothing is drawn: the "
                             "analytical model, or adaptive routing with no failed link and no SHARP tree)")
    flows: int | None = Field(None, description="flows simulated (count)")
    difference_reason: str | None = Field(None, description="why the flow and analytical times differ by more "
                                          "than 5 % (flow simulation), null when they agree")
    time_s: float = Field(description="seconds: analytical, the time train and serve price for it (`priced_time_s`, "
                          "NCCL's fastest algorithm, or the named algorithm's same price; the alpha-beta line for the "
                          "hierarchical schedule); flow, the flow simulation's; `time_basis` says which")
    alpha_beta_time_s: float = Field(description="seconds of the alpha-beta line of `algorithm` (no message-size "
                                     "efficiency): the line the flow model shares and compares with")
    time_basis: str = Field(description="where `time_s` comes from")
    algbw_bytes_per_s: float = Field(description="algorithm bandwidth, bytes per second")
    busbw_bytes_per_s: float = Field(description="bus bandwidth, bytes per second")
    bottleneck_tier: str = Field(description="the tier that bounds the time")
    priced_time_s: float = Field(description="seconds train and serve price for this collective "
                                 "(`network.priced_collective`): the alpha-beta time bounded by the message-size "
                                 "efficiency (SimAI NCCL tables at the group's node count; inside one scale-up "
                                 "domain the measured NVLink curves), NCCL's fastest algorithm; the analytical "
                                 "`time_s` where `--algorithm auto`")
    priced_efficiency: float | None = Field(None, description="bus-bandwidth efficiency at this message size, "
                                            "relative to the large-message busbw, that bounds `priced_time_s`; "
                                            "null where none applies (send-recv, SHARP)")
    priced_basis: str = Field(description="where `priced_time_s`'s efficiency comes from (table file, node count)")
    serving_custom_time_s: float | None = Field(None, description="seconds a serving stack with a custom all-reduce "
                                                "(`custom_all_reduce`: every shipped one) prices for this all-reduce: "
                                                "one-shot / two-shot NVLink kernels, NCCL's time where faster "
                                                "(`collective_algorithms.custom_all_reduce_time`); null outside one "
                                                "scale-up domain, above the 8 MiB buffer, for another collective or "
                                                "where no shipped engine runs its kernel at this many ranks (vLLM / "
                                                "SGLang: 2, 4, 6, 8; `priced_basis` names the stacks that do)")
    assumptions: list[str] = Field(description="what the model assumes")
    error_band: ErrorBand | None = Field(None, description="expected relative busbw error (predicted / measured "
                                         "busbw - 1; the time's is the same, inverted) from the NCCL all-reduce "
                                         "validation cases (catalog/error_bands.py); null: `error_band_basis` says why")
    error_band_basis: str = Field("", description="which validation cases the band comes from, or why there is none")
    notes: list[str] = Field(default_factory=list, description="lines on the fabric the group crosses (NICs slower "
                             "or faster than the leaf ports: the tiers' bandwidth oversubscription)")
