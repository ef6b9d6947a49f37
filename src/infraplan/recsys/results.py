"""Typed result of `infraplan recsys` (`recsys.estimate.estimate_recsys`): a DLRM-family model on one accelerator.

Field names are the JSON `--json` has always printed; times in seconds, sizes in bytes, power in watts.
"""

from __future__ import annotations

from pydantic import Field

from infraplan.catalog.error_bands import ErrorBand
from infraplan.results import Result


class PlacementTier(Result):
    """One memory tier of the embedding placement (SRAM, device memory, host DRAM)."""

    label: str = Field(description="tier name as shown")
    used_bytes: float = Field(description="bytes of tables and dense weights placed here")
    capacity_bytes: float = Field(description="usable bytes of the tier")
    dense_fraction: float = Field(description="fraction of the dense weights placed here")


class RecsysEstimate(Result):
    """QPS, latency, power, QPS/W and the bound at the chosen batch."""

    batch: int = Field(description="samples per batch")
    qps: float = Field(description="queries (samples) per second")
    latency_s: float = Field(description="seconds per batch")
    power_w: float = Field(description="device watts")
    qps_per_w: float = Field(description="queries per second per device watt")
    bound: str = Field(description="the term that bounds the batch time: compute, kernel-launch (a compute side "
                       "more than half launches), memory or host-link")
    platform_power_w: float = Field(description="watts of the device draw (power_w) plus the host share")
    platform_qps_per_w: float = Field(description="queries per second per platform watt")
    busy_fraction: float = Field(description="fraction of the device busy")
    breakdown_s: dict[str, float] = Field(description="seconds per batch by term")
    model: str = Field(description="model name")
    accelerator: str = Field(description="accelerator name")
    dtype: str = Field(description="dense dtype")
    meets_slo: bool | None = Field(description="the latency meets the SLO (null: no SLO)")
    latency_slo_s: float | None = Field(description="latency SLO, seconds")
    p99_latency_s: float | None = Field(None, description="p99 request latency at `qps` under Poisson arrivals and "
                                        "greedy dynamic batching up to `batch` (recsys/queueing.py), seconds; null: "
                                        "no SLO, or the SLO read as one batch's latency")
    flops_per_sample: float = Field(description="FLOPs per sample")
    embedding_bytes_per_sample: float = Field(description="bytes of embedding rows read per sample")
    lookups_per_sample: float = Field(description="embedding lookups per sample (count)")
    embedding_table_bytes: float = Field(description="bytes of embedding tables")
    dense_weight_bytes: float = Field(description="bytes of dense weights")
    achieved_flops_per_s: float = Field(description="FLOPs per second achieved")
    placement: dict[str, PlacementTier] = Field(description="memory tiers by name (sram, device, host)")
    profile: str = Field(description="the recsys efficiency profile used")
    assumptions: dict[str, str] = Field(default_factory=dict, description="power: the device draw's model and the "
                                        "idle figure it used (the part's catalog figure or the default rule, "
                                        "cluster.power.idle_power), as serve's and facility's; host_share, "
                                        "host_link: the host figures and their basis; profile: the default "
                                        "recsys profile's figures, where the part has no profile of its own")
    figures_note: str | None = Field(None, description="where the accelerator's figures are SECONDARY (third-party "
                                     "or press summaries) or PRELIMINARY, or its source states it is for other work "
                                     "(`catalog.figures.figures_notes`), or the vector rate was ASSUMED (no recsys "
                                     "profile: `recsys.estimate.vector_rate`), or a non-GPU part's host share comes "
                                     "from the generic GPU-server rule or its SRAM holds nothing "
                                     "(`recsys.estimate._platform_notes`); lines joined by '; '; null: none")
    error_band: ErrorBand | None = Field(None, description="expected relative QPS error (predicted / measured - 1; "
                                         "catalog/error_bands.yaml); null: no band, `error_band_basis` says why")
    error_band_basis: str = Field("", description="which validation cases the band comes from, or why there is none")
    warnings: list[str] = Field(default_factory=list, description="what reading the inputs warned of "
                                "(an accelerator file named like a preset or with a power figure out of its "
                                "range): each line the CLI also prints on stderr (raised_warnings.py)")
