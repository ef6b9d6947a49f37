"""Recommendation (DLRM) inference on one accelerator: QPS, latency at a batch, power and QPS/W.

Per batch of B samples, evaluated for an array of batch sizes at once:

- embedding lookups: B x (row bytes gathered per sample from each tier) / (tier bandwidth x its
  random-access efficiency), tiers as placed by `embedding.place` (SRAM / HBM or LPDDR or DDR / host DRAM);
- MLP and DCN GEMMs (M = B): the compute time of `hardware.kernels.gemm_time` (tile and wave quantisation at
  the catalog's measured or assumed matmul fraction, so small batches run below peak) against the bytes of
  weights (from the tiers holding them) and activations (in the fastest on-device tier); the larger wins;
- the DLRM dot interaction as a batched (B*F x d) @ (d x F) GEMM; element-wise work at the vector rate
  (`vector_rate`: the recsys profile's, else the catalog fp32 peak, else 1/16 of the peak; the answer's
  `figures_note` says which figure it assumed);
- the DCN-v2 cross layer's bias, gate and residual, x_{l+1} = x0 * (y + b) + x_l (Wang et al., arXiv:2008.13535,
  eq. 1; 3 FLOPs an element as TorchRec's LowRankCrossNet computes it, `DCN_POINTWISE_FLOPS_PER_ELEMENT`), as
  one pointwise kernel per layer reading y, x0 and x_l and writing x_{l+1} (4 x width x the cross dtype's bytes
  per sample at the activation bandwidth, or its FLOPs at the vector rate if slower): TensorRT fuses adjacent
  pointwise layers into one kernel and a bias / activation into a GEMM, not a product with two more tensors
  (TensorRT Developer Guide, "Types of Fusions"; confidence C+). It is what makes DLRM-v2 on H200 reproduce
  MLPerf v5.1 (validation/recsys_mlperf.py: 25.4 % mean |error| without it, 4.7 % with it);
- per-part precision: the DCN cross GEMMs may run in `interaction_dtype` (e.g. fp16 cross layers, int8 MLPs);
- a fixed cost per kernel launch (catalog `kernel_overhead_s`);
- the host link (PCIe): request bytes (dense features, indices, offsets, the score) plus rows and weights
  that spilled to host DRAM; transfers of batch i+1 overlap the compute of batch i.

Device time is the serial sum of the on-device terms; the period is max(device time, host-link time), so
QPS = B / period and latency = device time + host-link time. `bound` names the largest of compute,
memory and host-link; a compute side more than half of it kernel launches is "kernel-launch" (a larger FLOP peak would
not shorten it; hO63). Power = idle + (TDP - idle) x busy fraction, idle = the part's one idle figure
(`cluster.power.idle_power`: the catalog's `idle_power_w`, else the default share of TDP that `serve` and `facility`
use too; until session 44 recsys took the TDP itself, so a part drew its TDP whether busy or not); platform power
is that same device draw plus the device's one host share (`cluster.host_share`: its own figure, e.g. MTIA v1's
Yosemite V3 40 W, else its reference system's node, e.g. DGX B200's 14.3 kW datasheet less 8 x 1 kW, else Epoch's
1.82 x TDP server): the host `serve`, `plan`, `facility` and `fleet-mix` add, so that
no device's platform QPS/W leaves its host out while another's includes it, nor takes another host. One
accelerator draw (`device_power_w`, up to the catalog TDP) feeds the device and the platform QPS/W alike, so the two
ratios between chips differ only by the host shares (MTIA v2: 90 W, the Meta blog's figure, the same source as
its 1.5x platform perf/W claim).
Sources of every figure are in the catalog files (`catalog/recsys/`, `catalog/accelerators/`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.catalog.error_bands import error_band, no_band_basis
from infraplan.catalog.figures import figures_notes
from infraplan.catalog.inference_loader import (
    has_recsys_profile,
    load_recsys_model,
    load_recsys_profile,
)
from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.part_files import default_host_link_text, warn_default_host_link
from infraplan.catalog.recsys_schemas import DCN_POINTWISE_FLOPS_PER_ELEMENT, RecsysModel, RecsysProfile
from infraplan.catalog.schemas import Accelerator
from infraplan.cluster.cluster import part_of
from infraplan.cluster.generic import generic_node
from infraplan.cluster.host_share import assumed_share_note, host_share
from infraplan.cluster.power import idle_power
from infraplan.errors import InputError
from infraplan.hardware.kernels import KernelRates, gemm_time
from infraplan.recsys import queueing
from infraplan.recsys.batch_choice import batch_rule, best_point, candidate_batches, pick
from infraplan.recsys.embedding import Placement, place, resolve_tiers
from infraplan.recsys.results import RecsysEstimate
from infraplan.units import significant_text

# vector rate / dense fp16-bf16 tensor peak where a part has neither a recsys profile rate nor a catalog fp32 figure:
# A100 SXM datasheet, FP32 19.5 vs FP16 / BF16 tensor 312 TFLOP/s (H100 SXM: 67 vs 989, 1/14.8; `vector_rate`)
VECTOR_FALLBACK_RATIO = 16.0
DCN_POINTWISE_PASS = True  # price the DCN gate / residual as a memory-bound pointwise kernel per layer
# fp8 on a part without an fp8 peak: its 8-bit float format first, MX8 on MTIA 300/400/450 (Meta's Mar 2026
# MTIA roadmap as press summaries give it, "MX8/MX4"; an fp8 GEMM re-scaled per 32 is MXFP8, where int8 would need
# an integer quantisation), then int8
_STAND_INS = {"fp16": ("bf16",), "bf16": ("fp16",), "int8": ("fp16", "bf16"),
              "fp8": ("mxfp8", "int8", "bf16", "fp16"), "fp32": ("tf32",), "tf32": ("fp32",)}


def device_power_w(accelerator: Accelerator, busy: Any) -> Any:
    """THE accelerator draw of recsys serving at a busy fraction: idle + (TDP - idle) x busy (idle: the part's one
    idle figure, `cluster.power.idle_power`)."""
    idle = idle_power(accelerator).watts
    return idle + (accelerator.tdp_w - idle) * busy


def power_assumption(accelerator: Accelerator) -> str:
    """The answer's power assumption: the draw above and the idle figure it used, with where that comes from."""
    return (f"device power = idle + (TDP - idle) x busy fraction, {idle_power(accelerator).basis}; platform adds "
            "the device's host share (cluster/host_share.py); no PUE")


def host_assumptions(accelerator: Accelerator, model: RecsysModel, profile: RecsysProfile,
                     picked: dict[str, Any]) -> dict[str, str]:
    """The two host figures an answer rests on, with their basis (session 44's review: MTIA 400's per-joule lead is
    its 300 W host share; MTIA 450's QPS its 64 GB/s link): the host share in the platform power, and the host link
    with the fraction of its bandwidth below which it would bound the batch (the link time's PCIe part scales)."""
    share = host_share(accelerator)
    out = {"host_share": f"{share.watts:.4g} W per device in platform_power_w ({share.basis} figure: "
                         f"{share.source}); qps_per_w leaves it out"}
    bw = accelerator.host_link_bytes_per_s
    if bw <= 0:
        out["host_link"] = "none (the part is its own host)"
        return out
    link = picked["breakdown_s"]["host_link"]
    device = picked["latency_s"] - link
    pcie = picked["batch"] * model.host_input_bytes_per_sample() / (bw * profile.host_link_efficiency)
    line = (f"{bw / 1e9:.4g} GB/s x {profile.host_link_efficiency:.3g} efficiency "
            f"({accelerator.host_link_basis or 'no source recorded in the part file'}): {link * 1e3:.3g} ms per "
            f"batch against {device * 1e3:.3g} ms on the device; ")
    if link >= device:
        line += "it bounds the batch (QPS scales with it)"
    elif pcie > 0:  # link < device, so device > the link's non-PCIe part
        line += f"it would bound it below {pcie / (device - (link - pcie)):.1%} of this bandwidth"
    out["host_link"] = line
    return out


def no_host_link_note(accelerator: Accelerator) -> str | None:
    """Where a part other than a CPU has no host link figure: its requests' transfers are priced at the default
    link (`Accelerator.host_link_bytes_per_s`; hN2, session 70: at nothing, as a CPU's, until then, while its
    platform power added a GPU server's host). None for a CPU or a part with the figure."""
    return default_host_link_text(accelerator, "the requests' transfers from the host are priced")


def compute_dtype(accelerator: Accelerator, dtype: str) -> str:
    """The model dtype if the accelerator runs it, else the nearest it does (fp16 <-> bf16 on CPUs and MTIA v1)."""
    for candidate in (dtype, *_STAND_INS.get(dtype, ())):
        if accelerator.supports(candidate):
            return candidate
    raise InputError(f"{accelerator.name} has no peak for {dtype} or a stand-in; it lists "
                     f"{', '.join(accelerator.peak_flops_per_s)}")


def stand_in_note(accelerator: Accelerator, model: RecsysModel) -> str | None:
    """The model's GEMM dtypes the part lists no peak for, each with the one it is priced in (`compute_dtype`), where
    that is not fp16 <-> bf16 (one width, one rate on every part listing both); None where there is none (hU60,
    session 46: an int8 model on a part of no int8 peak was priced in fp16 / bf16, half the rate, without a word)."""
    used = {d: compute_dtype(accelerator, d) for d in {model.dtype, model.gemm_dtype("interaction")}}
    swaps = [f"{d} as {c}" for d, c in sorted(used.items()) if c != d and {d, c} != {"fp16", "bf16"}]
    return (f"{accelerator.name} lists no peak for the model's {', '.join(swaps)}: its GEMMs are priced at that "
            "dtype's peak and bytes" if swaps else None)


def dcn_pointwise_flops(model: RecsysModel) -> float:
    """Element-wise FLOPs per sample of the DCN bias, gate and residual (`DCN_POINTWISE_FLOPS_PER_ELEMENT`, 3 per
    element per layer: TorchRec's LowRankCrossNet)."""
    return DCN_POINTWISE_FLOPS_PER_ELEMENT * model.interaction_width() * model.interaction.layers


def profile_assumption(accelerator: Accelerator, profile: RecsysProfile) -> dict[str, str]:
    """The default recsys profile's figures where the part has no profile of its own (hA50, session 45: the answer
    said "default (assumed efficiencies)" and named none of them): its tiers' usable share and gather efficiency."""
    if has_recsys_profile(accelerator.catalog_name, accelerator.recsys_profile):
        return {}
    tiers = ", ".join(f"{t.label} ({t.usable_fraction:.0%} usable, row gathers at {t.random_access_efficiency:g} of "
                      "its peak bandwidth)" for t in profile.tiers)
    return {"profile": f"ASSUMPTION: no recsys profile of {accelerator.name}, so the default one "
                       f"(catalog/recsys/devices/default.yaml): tables and weights in {tiers}; request transfers at "
                       f"{profile.host_link_efficiency:g} of the host link (a part file's `recsys_profile` names its "
                       "own: `infraplan schema catalog recsys-devices`)"}


def vector_rate(accelerator: Accelerator, profile: RecsysProfile, dtype: str) -> tuple[float, str | None]:
    """The non-GEMM (element-wise) FLOP/s and, where that figure is assumed, the note the answer carries.

    In order: the recsys profile's `vector_flops_per_s` (each names its datasheet or paper figure); else the
    accelerator's catalog fp32 peak (the datasheet's vector / CUDA-core FP32 rate where a part lists one: H800,
    MI300X, MI325X, MI355X); else `dtype`'s peak / `VECTOR_FALLBACK_RATIO`. Either fallback is stated in the answer.
    """
    if profile.vector_flops_per_s:
        return profile.vector_flops_per_s, None
    name = accelerator.name
    if "fp32" in accelerator.peak_flops_per_s:
        rate = accelerator.peak("fp32")
        return rate, (f"{name}: vector (element-wise) rate ASSUMED to be its catalog fp32 peak, "
                      f"{rate / 1e12:.4g} TFLOP/s (no recsys profile gives one)")
    rate = accelerator.peak(dtype) / VECTOR_FALLBACK_RATIO
    return rate, (f"{name}: vector (element-wise) rate ASSUMED {rate / 1e12:.4g} TFLOP/s, 1/{VECTOR_FALLBACK_RATIO:g} "
                  f"of its {dtype} peak (A100's datasheet ratio; no recsys profile or catalog fp32 figure)")


def _gemm_rates(accelerator: Accelerator, model: RecsysModel, part: str) -> tuple[KernelRates, float]:
    """GEMM rates (no launch cost, no memory roof: both are counted separately) and operand bytes of `part`."""
    dtype = compute_dtype(accelerator, model.gemm_dtype(part))
    rates = replace(KernelRates.for_dtype(accelerator, dtype), kernel_overhead_s=0.0, memory_bytes_per_s=np.inf)
    return rates, DTYPE_BYTES[dtype]


def evaluate_batches(model: RecsysModel, accelerator: Accelerator, profile: RecsysProfile,
                     batches: np.ndarray | list[int]) -> dict[str, Any]:
    """Every time, rate and power term for each batch size in `batches` (arrays of the same length)."""
    b = np.asarray(batches, dtype=np.float64)
    if b.size == 0 or np.any(b < 1):
        raise InputError("batch sizes must be >= 1")
    tiers = resolve_tiers(accelerator, profile)
    placement = place(model, accelerator, tiers)
    dtype = compute_dtype(accelerator, model.dtype)
    bpe = DTYPE_BYTES[dtype]
    rates = replace(KernelRates.for_dtype(accelerator, dtype), kernel_overhead_s=0.0, memory_bytes_per_s=np.inf)
    part_rates = {part: _gemm_rates(accelerator, model, part) for part in ("bottom_mlp", "interaction", "top_mlp")}
    on_device = [j for j, t in enumerate(tiers) if t.name != "host"]
    host = [j for j, t in enumerate(tiers) if t.name == "host"]
    act_bw = tiers[on_device[0]].stream_bytes_per_s  # activations live in the fastest on-device tier
    weight_s_per_byte = sum(placement.dense_fraction[j] / tiers[j].stream_bytes_per_s for j in on_device)
    vector_flops_per_s = vector_rate(accelerator, profile, dtype)[0]  # element-wise work (`vector_rate`)

    gemm_compute, gemm_memory, gemm_total = np.zeros_like(b), np.zeros_like(b), np.zeros_like(b)
    for part, k, n in model.gemms():
        part_rate, part_bpe = part_rates[part]
        c = gemm_time(part_rate, b, n, k, part_bpe)
        m = k * n * part_bpe * weight_s_per_byte + b * (k + n) * part_bpe / act_bw
        gemm_compute += c
        gemm_memory += m
        gemm_total += np.maximum(c, m)
    kernels = len(model.gemms()) + 1  # + one element-wise/concat launch
    if model.interaction.kind == "dot":
        f, d = model.num_tables + 1, model.bottom_mlp[-1]
        c = gemm_time(rates, b * f, f, d, bpe)
        m = b * (f * d + f * f) * bpe / act_bw
        inter_total, inter_compute, inter_memory = np.maximum(c, m), c, m
        kernels += 1
    elif model.interaction.kind == "dcn" and DCN_POINTWISE_PASS:
        # x_{l+1} = x0 * y + x_l after the cross GEMMs' y = U V^T x_l + b: one fused pointwise kernel per layer
        # reading y, x0, x_l and writing x_{l+1} (TensorRT fuses adjacent pointwise layers into one kernel but not
        # a multi-input product into the GEMM epilogue), at the vector rate or the activation bandwidth
        layers, width = model.interaction.layers, model.interaction_width()
        inter_bpe = part_rates["interaction"][1]
        inter_compute = b * dcn_pointwise_flops(model) / vector_flops_per_s
        inter_memory = b * layers * 4.0 * width * inter_bpe / act_bw
        inter_total = np.maximum(inter_compute, inter_memory)
        kernels += layers
    else:
        inter_total = inter_compute = inter_memory = np.zeros_like(b)

    emb_per_sample = placement.embedding_bytes_per_sample(model)
    emb_tier = {t.name: b * emb_per_sample[j] / t.gather_bytes_per_s for j, t in enumerate(tiers)}
    kernels += sum(1 for j in on_device if emb_per_sample[j] > 0)
    pointwise = dcn_pointwise_flops(model) if model.interaction.kind == "dcn" and DCN_POINTWISE_PASS else 0.0
    vector = b * (model.vector_flops_per_sample() - pointwise) / vector_flops_per_s
    overhead = np.full_like(b, kernels * accelerator.efficiency.kernel_overhead_s)

    warn_default_host_link(accelerator, "the requests' transfers from the host are priced")
    link_bw = accelerator.host_link_bytes_per_s * profile.host_link_efficiency
    link = b * model.host_input_bytes_per_sample() / link_bw if link_bw > 0 else np.zeros_like(b)
    for j in host:
        link = link + emb_tier["host"] + model.dense_bytes() * placement.dense_fraction[j] / tiers[j].stream_bytes_per_s

    emb_device = sum((emb_tier[tiers[j].name] for j in on_device), np.zeros_like(b))
    device = emb_device + gemm_total + inter_total + vector + overhead
    period = np.maximum(device, link)
    compute_side = gemm_compute + inter_compute + vector + overhead
    memory_side = gemm_memory + inter_memory + emb_device
    # a compute side that is mostly launches is named so: "compute" read as a matrix-unit limit, and a part with 1.5x
    # the FLOPs (MTIA 450 vs 300 at 4 us a launch) gave 1.10x the QPS (hI63 / hO63)
    launches = np.where(overhead > compute_side - overhead, "kernel-launch", "compute")
    bound = np.where(link > device, "host-link", np.where(compute_side >= memory_side, launches, "memory"))

    busy = device / period
    power = device_power_w(accelerator, busy)
    qps = b / period
    return {
        "batch": b, "qps": qps, "latency_s": device + link, "power_w": power, "qps_per_w": qps / power,
        "platform_power_w": power + host_share(accelerator).watts, "bound": bound,
        "busy_fraction": busy,
        "breakdown_s": {
            "embedding_sram": emb_tier.get("sram", np.zeros_like(b)),
            "embedding_device_memory": emb_tier.get("device", np.zeros_like(b)),
            "mlp_gemm": gemm_total, "interaction": inter_total, "vector": vector, "kernel_overhead": overhead,
            "host_link": link,
        },
        "dtype": dtype, "placement": placement, "tiers": tiers,
    }


def _platform_notes(accelerator: Accelerator, profile: RecsysProfile) -> list[str]:
    """What a non-GPU part's answer assumes without saying (hU50): an on-chip SRAM that the default profile does not
    place tables in (device memory only: `catalog/recsys/devices/default.yaml`). Its host share from the generic
    GPU-server rule is said once, in `figure_lines`' platform_qps_per_w line (`cluster.host_share.
    assumed_share_note`, which `cluster.generic.generic_part_notes` says in answers without that line; hK71)."""
    if accelerator.kind == "gpu":
        return []  # a GPU's `sram_bytes` is its L2, a cache
    notes: list[str] = []
    name = accelerator.name
    if accelerator.sram_bytes > 0 and not any(t.name == "sram" for t in profile.tiers):
        which = ("its recsys profile" if has_recsys_profile(accelerator.catalog_name, accelerator.recsys_profile)
                 else "the default recsys profile, catalog/recsys/devices/default.yaml,")
        notes.append(f"{name}: its {accelerator.sram_bytes / 2**20:.4g} MiB of SRAM holds no tables or weights "
                     f"({which} places them in device memory only)")
    return notes


def figure_lines(acc: Accelerator, model: RecsysModel, profile: RecsysProfile, dtype: str, *,
                 pool: bool = False) -> list[str]:
    """The lines of an answer's `figures_note`: the part's figures' standing and use, an assumed vector rate, a
    stand-in dtype, the platform notes. `pool`: a fleet-mix or `plan` pool's (planning/pool_capacity.py), whose own
    lines say the part's standing and its host share (planning/device_money.pool_figures_note, pool_generic_note;
    its power is the pool's): those left out, so that each is said once."""
    said = figures_notes(acc) if pool else []
    lines = [line for line in figures_notes(acc, "inference", "recommendation") if line not in said]
    assumed = None if pool else assumed_share_note(generic_node(acc)[0], acc.device_word)  # MTIA 400's 350 W (hM70)
    return lines + [note for note in [vector_rate(acc, profile, dtype)[1], stand_in_note(acc, model),
                                      no_host_link_note(acc), *_platform_notes(acc, profile),
                                      assumed and f"platform_qps_per_w: {assumed}"] if note]


def pool_notes(model: str | RecsysModel, acc: Accelerator, dtype: str) -> list[str]:
    """`figure_lines` of `model` on a fleet pool of `acc` at the answer's `dtype` (`RecsysEstimate.dtype`)."""
    m = load_recsys_model(model) if isinstance(model, str) else model
    return figure_lines(acc, m, load_recsys_profile(acc.catalog_name, acc.recsys_profile), dtype, pool=True)


def estimate_recsys(model: str | RecsysModel, accelerator: str | Accelerator, batch: int | None = None,
                    latency_slo_s: float | None = None) -> RecsysEstimate:
    """QPS, latency, power and QPS/W of a DLRM-family model on one accelerator.

    With `batch`, that batch; with only `latency_slo_s`, the batch (power of two up to 4096, or the model's
    default) with the most QPS whose latency meets the SLO, of the least device power among those of that QPS
    (`recsys.batch_choice`; the answer's `assumptions["batch"]` says so); with neither, the model's default batch.
    Under an SLO and `queueing.P99_UNDER_LOAD`, the SLO bounds the p99 of Poisson requests under greedy dynamic
    batching capped at that batch (`recsys.queueing`): `qps` is the highest such rate, `busy_fraction` and the
    power are at it.
    """
    m = load_recsys_model(model) if isinstance(model, str) else model
    acc = part_of(accelerator) if isinstance(accelerator, str) else accelerator
    if batch is not None and batch < 1:
        raise InputError(f"--batch must be >= 1, got {batch}")
    if latency_slo_s is not None and not 0 < latency_slo_s <= 1e9:  # 1e9 s: infraplan.limits.Seconds
        raise InputError(f"--latency-slo must be > 0 s and at most 1e9 s, got {latency_slo_s:g}")
    profiled = acc.catalog_name  # a what-if file's `extends` preset's profile: fractions of this part's own figures
    profile = load_recsys_profile(profiled, acc.recsys_profile)  # the part file's own, where it names one
    if batch is not None:
        widest = max([m.interaction_width(), *(max(k, n) for _, k, n in m.gemms())])
        activations = 2.0 * batch * widest * DTYPE_BYTES[m.dtype]  # input and output of the widest layer
        if activations > acc.memory_bytes:
            raise InputError(f"--batch {batch}: the activations of the widest layer "
                             f"({significant_text(activations / 1e9, 3)} GB) exceed {acc.name}'s "
                             f"{significant_text(acc.memory_bytes / 1e9, 3)} GB of device memory")
        batches = np.array([batch])
    elif latency_slo_s is not None:
        batches = candidate_batches(m)
    else:
        batches = np.array([m.default_batch])
    chosen: dict[str, str] = {}
    under_load = latency_slo_s is not None and queueing.P99_UNDER_LOAD  # the p99 of Poisson requests at the rate
    if under_load and latency_slo_s is not None:  # (recsys/queueing.py)
        caps = [int(c) for c in batches]
        arrays = evaluate_batches(m, acc, profile, np.arange(1, max(caps) + 1))
        point = queueing.slo_point(arrays["batch"] / arrays["qps"], arrays["latency_s"], caps, latency_slo_s,
                                   most_throughput=batch is None)  # a --batch is the cap asked for
        i, meets = int(point["batch"]) - 1, point["rate_per_s"] > 0
        out = pick(arrays, i)
        rate, power = point["rate_per_s"], float(device_power_w(acc, point["busy_fraction"]))
        platform = power + host_share(acc).watts
        out.update(qps=rate, busy_fraction=point["busy_fraction"], power_w=power, qps_per_w=rate / power,
                   platform_power_w=platform, platform_qps_per_w=rate / platform, p99_latency_s=point["p99_s"])
    else:
        arrays = evaluate_batches(m, acc, profile, batches)
        i, meets = best_point(arrays, latency_slo_s)
        out = pick(arrays, i)
        if batch is None and latency_slo_s is not None and meets:
            chosen = {"batch": batch_rule(arrays, i, latency_slo_s)}  # the rule, and the batches tying on QPS
    placement: Placement = arrays["placement"]
    out.update({
        "model": m.name, "accelerator": acc.name, "dtype": arrays["dtype"],
        "meets_slo": (bool(out["latency_s"] <= latency_slo_s) if batch is not None and not under_load else meets)
        if latency_slo_s is not None else None,
        "latency_slo_s": latency_slo_s,
        "flops_per_sample": m.flops_per_sample(),
        "embedding_bytes_per_sample": float(sum(m.embedding_bytes_per_sample())),
        "lookups_per_sample": m.lookups_per_sample(), "embedding_table_bytes": m.embedding_bytes(),
        "dense_weight_bytes": m.dense_bytes(),
        "achieved_flops_per_s": out["qps"] * m.flops_per_sample(),
        "placement": placement.as_dict(),
        "profile": (acc.recsys_profile or profiled) if has_recsys_profile(profiled, acc.recsys_profile)
        else "default (assumed efficiencies)",
        "assumptions": {"power": power_assumption(acc), **host_assumptions(acc, m, profile, out),
                        **profile_assumption(acc, profile), **chosen},
        "figures_note": "; ".join(figure_lines(acc, m, profile, arrays["dtype"])) or None,
    })
    # the MLPerf DLRM-v2 rows' stack (validation.recsys_mlperf.STACK): TensorRT; one campaign today, so no band
    band = error_band(acc.catalog_name, "tensorrt", "recsys")
    out.update(error_band=band, error_band_basis=band.basis if band else no_band_basis("recsys"))
    return RecsysEstimate.model_validate(out)
