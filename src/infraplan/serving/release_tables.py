"""Which accelerator a serving release's measured kernel tables are read for: a what-if file's preset, where they apply.

What is modelled. A serving stack profile carries measured tables keyed by accelerator name (`ServingProfile`:
`fp8_block_gemm`, `decode_attention`, `moe_release_extra`, `matmul_fraction`, `all_reduce_table`). An accelerator file
that `extends` a preset (`catalog.loader`, `Accelerator.catalog_name`) is the preset with some figures changed; its
own name keys no table. The rule, per table:

- `all_reduce_table` (a measured custom all-reduce curve) is read as an efficiency against the link rate
  (`network.nvlink_all_reduce`, `network.nvlink_collectives`: tau = time x rate), so it scales with a changed
  NVLink figure by construction: the preset's always applies.
- The kernel tables (`fp8_block_gemm`, `decode_attention`, `moe_release_extra`, `matmul_fraction`) price time as
  seconds terms (launch, K loop, per-head, per-token-expert, a measured FLOP rate) plus fractions of the part's own
  HBM bandwidth or peak. They apply to a what-if that keeps every peak of its preset (HBM bandwidth or capacity,
  links, power changed): the seconds terms are kept and the fractions apply to the what-if's own figures. Source:
  the H100 SXM / H200 pair in the same release's tables (validation/data/stacks/trtllm-1.2.0rc6.yaml: one GH100 die,
  same SMs and clocks, HBM 3.35 vs 4.8 TB/s): every seconds term agrees within 3 % (block-fp8 GEMM fixed_s 4.45 /
  4.51 us, k_s 1.275 / 1.268 ns, wave_k_s 1.542 / 1.510 ns, activation_s 1.728 / 1.712 ps; MLA decode fixed_s 28.3 /
  28.0 us, flops_per_s 760 / 750 TFLOP/s; MoE extra 15.9 / 15.5 us) and the bandwidth fractions within 0.03
  (weight_read_fraction 0.793 / 0.763, MLA bf16 kv_read_fraction 0.81 / 0.83) -- except the fp8 MLA kernel's
  kv_read_fraction, 0.76 / 0.58: that kernel gained 9 %, not 43 %, from H200's bandwidth, so a bandwidth what-if's
  fp8 MLA decode gain is an upper bound (said in the note).
- A what-if that changes a peak (any key of `peak_flops_per_s`) does not get them: a table measured in seconds at the
  preset's peaks does not say how its terms move with a peak (no measured pair isolates one), so the deployment
  runs the catalog's kernel model on the what-if's own figures, as every accelerator without release tables does,
  and the result says so (`note`) rather than using the preset's seconds in silence. The switch of model moves the
  answer too: DeepSeek-R1, 8 H200 TP8 fp8 on trtllm-1.2.0rc6, 32 clients 1000/300: the preset 884.8 tokens/s, an
  unchanged copy read without the tables 955.1 (+7.9 %); fp8 peak x2 1,092.5 (+23.5 %; 984.6, +11.3 %, were the
  preset's seconds kept). The shipped stacks (catalog/stacks) carry no kernel tables: there a what-if compares clean.

An unchanged `extends` file reads exactly the preset's tables (its serve and serve-plan answers are the preset's).

Where each table is read (the one key per table, `kernel_key` / `link_key`):

- `fp8_block_gemm`: `release_fit` below (the block-fp8 plain GEMM floor);
- `decode_attention`: `serving.decode_kernels` (GQA fits) and `serving.mla_decode.measured_fit` (MLA fits);
- `moe_release_extra`: `serving.routed_experts.release_moe_time`;
- `matmul_fraction`: `serving.format_precision._matmul_fraction` (`RELEASE_MATMUL_RATE`);
- `all_reduce_table`: `table` below.

Measured on this rule (before: every table keyed by the what-if's own name):

- DeepSeek-R1, 8 H200 TP8 fp8, trtllm-1.2.0rc6, 32 clients 1000/300: the preset 884.81 tokens/s; an unchanged copy
  955.14 before, 884.81 after; HBM 7.2 TB/s 972.88 (tables kept); fp8 peak x2 1,092.53 (tables dropped).
- Llama 3 8B serve-plan on H200, vllm-0.12, 4 requests/s of 2000/200: the preset 783.68 tokens/s; an unchanged copy
  783.90 before, 783.68 after.

Every validation set is unchanged by it (a preset's `catalog_name` is its name; `Cluster.scaled` keeps the name).

The two tables read here were modules of their own until hR62 merged them in (moves only):
`serving.release_tables` (`table`) and `serving.release_tables` (`release_fit`); their docstrings follow.

A serving release's own measured custom all-reduce for the TP all-reduce, where it was measured apart from the
catalog's.

The TP all-reduce of a stack with `custom_all_reduce` is priced by
`network.collective_algorithms.custom_all_reduce_time`: the faster of one-shot / two-shot, bounded from below by a
measured custom all-reduce curve, by default the accelerator's table in catalog/nccl (TensorRT-LLM 1.3.0rc20's
AllReduce, AIConfigurator 0.12.0; `network.nvlink_all_reduce`). A release whose own AllReduce was measured by NVIDIA
AIConfigurator names its table in its stack YAML (`all_reduce_table`: accelerator -> a catalog/nccl file of the same
format, same NCCL columns, its own custom columns), read instead by the same rule (`table`). The same policy as the
release's other measured kernels (`validation.release_stacks`: a release runs the tables of its own release line where
AIConfigurator measured it).

Source: aiconfigurator 0.7.0 wheel (Apache-2.0), systems/data/{h100_sxm,h200_sxm}/trtllm/1.0.0rc3/
custom_allreduce_perf.txt (catalog/nccl/aiconfigurator_{h100,h200}_trtllm_1.0.0rc3_all_reduce.csv cite it). TensorRT-LLM
1.0.0rc3's kernels are slower than 1.3.0rc20's at the decode sizes on H100 (microseconds, 1.0.0rc3 / 1.3.0rc20):
2 GPUs 64 KiB 3.70 / 3.06, 256 KiB 4.35 / 3.76, 2 MiB 20.1 / 9.4; 4 GPUs 64 KiB 4.15 / 3.68, 256 KiB 6.05 / 5.48;
8 GPUs 64 KiB 5.19 / 4.59, 128 KiB 8.17 / 6.20, 1 MiB 31.2 / 26.0 (below 64 KiB 0.4-2 us slower too; the catalog's
rows start at 64 KiB, whose efficiency holds below). Rows: the 1.0.0rc3 profiles (validation/data/stacks/
trtllm-1.0.0rc3*.yaml): the dense set's Llama-3.1-8B and Qwen3-32B gap-analysis campaigns and the MoE set's Qwen3-235B
rows of that release. vLLM 0.12.0 (validation/data/stacks/vllm-0.12.yaml, hV67): its own measured all-reduce (the same
wheel, systems/data/{h100_sxm,h200_sxm}/vllm/0.12.0/custom_allreduce_perf.txt, vLLM_custom_graph), which times what
the release runs (its custom kernel only below 256 KiB at 8 GPUs on sm_90 with torch symm-mem on by default, then
symm-mem's multimem all-reduce: the YAML's comment): 8 H100s 256 KiB 15.1 / 10.2 us, 1 MiB 17.7 / 26.0, 4 MiB 34.8 /
51.9 (vLLM / 1.3.0rc20); its rows: the dense set's Qwen3-32B (H100) and Llama-3.1-8B FP8 (H200) campaigns and the
MoE set's vLLM 0.12.0 rows. Toggle `RELEASE_ALL_REDUCE` (False: every stack on the accelerator's table); effect
measured in validation/notes/serving_hopper_tried.md (round 18; vLLM 0.12.0: "Session 67, hV").

Block-fp8 plain GEMMs: a serving release's measured kernel as a floor under the roofline.

What is modelled. A checkpoint released with 128 x 128 block-scaled fp8 weights (`routed_experts.
FP8_BLOCK_MODEL_TYPES`: DeepSeek-V3/R1, Qwen3 MoE) runs its dense projections (MLA's fused q_a / kv_a down
projection, q_b, the output projection, the shared expert's gate-up and down, the dense layers' FFN) through the
engine's block-scaled fp8 Linear: the activations are quantised per 1 x 128 group and the GEMM applies one scale per
K block of 128. At decode (M of a few rows) such a GEMM has few output tiles to spread over the SMs and walks its K
blocks serially, so it takes a launch + the longer of the K loop and the weight stream, not the weight bytes at the
HBM rate that `hardware.kernels` prices (the roofline: 7.9 us for DeepSeek-V3's 2,112 x 7,168 q_a / kv_a at 4 rows;
measured 13.9 us). Form, per GEMM:

    t = fixed_s + max(k_s x K, N x K x 1 B / (weight_read_fraction x HBM bandwidth)),

applied as a floor (`max` with the roofline's time) to every plain (not grouped) fp8 GEMM of a block-fp8 model
family on a stack whose profile carries `fp8_block_gemm` for the accelerator. This form does not grow with M, so
prefill-sized GEMMs keep the roofline unless the wave form below binds ("Large M"). The router (a bf16 GEMM in
the engines' DeepSeek gate; ASSUMPTION, recalled) and the LM head (bf16) are not block-fp8: untouched; the grouped
expert GEMMs and MLA's absorbed BMMs have their own measured rules (`serving.routed_experts`, `serving.mla_absorb`).

Source: NVIDIA AIConfigurator 0.7.0 (aiconfigurator wheel, PyPI, Apache-2.0) systems/data/{h200_sxm,h100_sxm}/trtllm/
1.2.0rc5/gemm_perf.txt, gemm_dtype fp8_block (TensorRT-LLM 1.2.0rc5's block-scaled fp8 Linear, activation
quantisation included), the rows of M <= 16 and N x K >= 2^20 (1,350 shapes per GPU, N and K 128-16,384), relative
least squares: H200 fixed 4.51 us, 1.268 ns per K element, weight stream at 0.763 of 4.8 TB/s (mean |error| 4.3 %,
max 15.6 %); H100 4.45 us, 1.275 ns, 0.793 of 3.35 TB/s (4.9 %, 21.5 %). The additive form (fixed + K term +
weight stream) fits worse (5.1 / 5.8 %) and needs a read fraction above 1. The values are in the stack YAML that
carries them (validation/data/stacks/trtllm-1.2.0rc6.yaml: rc5 as the nearest measured release of 1.2.0rc6.post1,
an ASSUMPTION labelled there). Per layer at 4 rows on H200 (roofline -> floor, us): q_a / kv_a 7.9 -> 13.6, shared
gate-up 6.8 -> 13.6, q_b 5.2 -> 6.5, output projection 7.8 -> 8.5, shared down 4.3 -> 5.0.

Large M (`LARGE_M_WAVES`): from `large_m` rows (512, the fit's range) the floor is also at least the same table's
wave form, t = wave_fixed_s + waves x (wave_s + wave_k_s x K) + activation_s x M x K, waves = ceil(ceil(M / tile_m)
ceil(N / tile_n) / SMs): output tiles of 64 x 128 in waves over the SMs, each wave walking K, plus the 1 x 128
activation quantisation reading the M x K bf16 input. Fit on the rows of M >= 512, N and K 256-16,384 (1,734 shapes
per GPU): H200 3.29 us, 1.154 us per wave, 1.510 ns per wave and K element (16,384 FLOPs per SM per 1.51 ns: ~72 % of
the dense fp8 peak), 1.712 ps per activation element (~1.75 TB/s at 3 B); mean |error| 4.5 %, median 3.1 %, p90
10.7 % (H100 5.2 / 3.8 / 11.9 %); with 128 x 128 tiles 14.7 %, without the activation term 13.7 %. At 8,192 rows the
roofline prices DeepSeek's narrow GEMMs 1.3-3x under the table (shared gate-up 512 x 7,168: 51 vs 153 us; q_a / kv_a
217 vs ~280 us): a TP8 8k prompt 0.262 -> 0.283 s; at 1,024 rows the two agree (TP8 1k prompt 54.6 -> 55.4 ms).
The 1.0.0rc3 stacks (validation/data/stacks/trtllm-1.0.0rc3*.yaml) carry both forms fitted the same way to that
release's table (same wheel, trtllm/1.0.0rc3): large M mean |error| 4.4 / 5.2 % (H200 / H100).

The catalog's small-M GEMM fit (`serving.decode_kernels`, `weight_read_fraction`) prices the weight reads only and
leaves the fixed time out (by its docstring, the activation quantisation the engines fuse into the previous kernel);
the block-scaled Linear's K loop is not in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from infraplan.catalog.figures import figures_notes
from infraplan.catalog.hardware_costs import accelerator_price
from infraplan.catalog.loader import is_what_if, load_accelerator, preset_files
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.serving_profile import BlockFp8GemmFit
from infraplan.ops.layer import Gemm
from infraplan.serving.engines import serving_profile

KERNEL_TABLES = ("fp8_block_gemm", "decode_attention", "moe_release_extra", "matmul_fraction")


def _peaks_changed(accelerator: Accelerator) -> bool:
    """Whether a what-if's peaks differ from its preset's (a part with no preset: False, its own name keys)."""
    if not accelerator.extends or accelerator.catalog_name not in preset_files("accelerators"):
        return False
    return accelerator.peak_flops_per_s != load_accelerator(accelerator.catalog_name).peak_flops_per_s


def kernel_key(accelerator: Accelerator) -> str:
    """The name the kernel tables are read by: a what-if's preset where they apply (module docstring), else its own
    name (which keys no table of a what-if)."""
    return accelerator.name if _peaks_changed(accelerator) else accelerator.catalog_name


def link_key(accelerator: Accelerator) -> str:
    """The name `all_reduce_table` is read by: the preset's for any what-if (it scales with the link)."""
    return accelerator.catalog_name


def note(accelerator: Accelerator, stack: str | None) -> str | None:
    """One line for a what-if whose stack carries kernel tables of its preset: dropped (a changed peak) or kept
    (seconds terms held, fractions on its own figures); None for a preset, an unchanged copy or no such table."""
    if not stack or not accelerator.extends or not is_what_if(accelerator):
        return None
    profile = serving_profile(stack)
    preset = accelerator.catalog_name
    names = [t for t in KERNEL_TABLES if profile is not None and preset in getattr(profile, t)]
    if not names:
        return None
    listed = ", ".join(names)
    if _peaks_changed(accelerator):
        return (f"the stack's measured tables of {preset} ({listed}) are not used on {accelerator.name}: measured "
                "in seconds at the preset's peaks, they do not scale with a changed peak; the catalog's kernel model "
                "runs on its own figures (for the peak's gain alone, compare both on a shipped stack, which carries "
                "no such tables; serving.release_tables)")
    return (f"the stack's measured tables of {preset} ({listed}) apply to {accelerator.name}, its peaks unchanged: "
            "seconds terms kept, bandwidth fractions on its own figures (the H100/H200 pair's rule; an fp8 MLA decode "
            "gain from more bandwidth is an upper bound; serving.release_tables)")


def what_if_notes(accelerator: Accelerator, stack: str | None, priced: bool = True,
                  collectives: bool = True) -> list[str]:
    """The lines `serve` and `serve-plan` add about the part: where its figures are SECONDARY or PRELIMINARY, or its
    source states it is for other work, and the collective curves it borrows where the answer prices a collective
    (`collectives`, `prices_collectives`; `catalog.figures.figures_notes`), and for a what-if its stack's preset
    tables (`note`) and, where the cost model priced it (`priced`: no --usd-per-hour), its preset's inherited price
    (`accelerator_price`)."""
    price = accelerator_price(accelerator) if priced else None
    figures = figures_notes(accelerator, "inference", collectives=collectives)
    return [line for line in (*figures, note(accelerator, stack),
                              price.note if price is not None else None) if line]


def prices_collectives(deployment: Mapping[str, Any]) -> bool:
    """Whether a serving answer's deployment (`LLMDeployment`'s fields) prices a collective: TP or EP above one rank
    in its pool or its prefill pool (attention DP above one is EP above one); a TP1 replica, or pipeline stages
    alone (point to point), price none (hC51: the borrowed-curves note was on those answers too)."""
    return any(int(pool.get("tp", 1)) > 1 or int(pool.get("ep", 1)) > 1
               for pool in (deployment, deployment.get("prefill") or {}))


RELEASE_ALL_REDUCE = True  # a release's own measured custom all-reduce table (`all_reduce_table`; docstring)


def table(accelerator: Accelerator, stack: str | None) -> str | None:
    """The catalog/nccl table of the stack release's measured custom all-reduce on this accelerator, or None (the
    accelerator's own table: `network.nvlink_all_reduce.table_file`)."""
    profile = serving_profile(stack) if RELEASE_ALL_REDUCE and stack else None
    return profile.all_reduce_table.get(link_key(accelerator)) if profile is not None else None


RELEASE_BLOCK_FP8_GEMM = True  # a stack release's measured block-fp8 GEMM floor (module docstring; toggle to compare)
LARGE_M_WAVES = True  # the floor's wave form from `large_m` rows up (module docstring, "Large M"; toggle to compare)
NOT_BLOCK_FP8_ROLES = ("router",)  # plain GEMMs the engines run in bf16 (module docstring)
FP8_WEIGHT_BYTES = 1.0


def release_fit(accelerator: Accelerator, stack: str | None, dtype: str,
                block_fp8_model: bool) -> BlockFp8GemmFit | None:
    """The stack profile's `fp8_block_gemm` fit for this accelerator where the rule applies (fp8 weights of a
    block-scaled model family), else None."""
    if not (RELEASE_BLOCK_FP8_GEMM and stack and dtype == "fp8" and block_fp8_model):
        return None
    profile = serving_profile(stack)
    return profile.fp8_block_gemm.get(kernel_key(accelerator)) if profile is not None else None


def floor_s(fit: BlockFp8GemmFit, accelerator: Accelerator, g: Gemm, compute_units: int) -> np.ndarray:
    """Seconds below which the plain GEMM record `g` (`ops.layer`, `g.count` per mean layer) does not run: 0 where it
    has no rows, for grouped GEMMs and for the roles outside the block-fp8 Linear; from `large_m` rows up the wave
    form over `compute_units` SMs (module docstring, "Large M") where the fit has one (`LARGE_M_WAVES`)."""
    m = np.asarray(g.m, dtype=np.float64)
    if g.grouped or g.role in NOT_BLOCK_FP8_ROLES:
        return np.zeros_like(m)
    k, n = np.asarray(g.k, dtype=np.float64), np.asarray(g.n, dtype=np.float64)
    stream_s = n * k * FP8_WEIGHT_BYTES / (fit.weight_read_fraction * accelerator.memory_bandwidth_bytes_per_s)
    small_s = fit.fixed_s + np.maximum(fit.k_s * k, stream_s)
    if LARGE_M_WAVES and fit.wave_k_s > 0:
        waves = np.ceil(np.ceil(m / fit.tile_m) * np.ceil(n / fit.tile_n) / compute_units)
        wave_form_s = fit.wave_fixed_s + waves * (fit.wave_s + fit.wave_k_s * k) + fit.activation_s * m * k
        small_s = np.where(m >= fit.large_m, np.maximum(small_s, wave_form_s), small_s)
    return np.where(m > 0, g.count * small_s, 0.0)
