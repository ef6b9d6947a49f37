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

- `fp8_block_gemm`: `serving.block_fp8_gemm.release_fit` (the block-fp8 plain GEMM floor);
- `decode_attention`: `serving.decode_kernels` (GQA fits) and `serving.mla_decode.measured_fit` (MLA fits);
- `moe_release_extra`: `serving.routed_experts.release_moe_time`;
- `matmul_fraction`: `serving.llm_iteration._matmul_fraction` (`RELEASE_MATMUL_RATE`);
- `all_reduce_table`: `serving.release_all_reduce.table`.

Measured on this rule (before: every table keyed by the what-if's own name):

- DeepSeek-R1, 8 H200 TP8 fp8, trtllm-1.2.0rc6, 32 clients 1000/300: the preset 884.81 tokens/s; an unchanged copy
  955.14 before, 884.81 after; HBM 7.2 TB/s 972.88 (tables kept); fp8 peak x2 1,092.53 (tables dropped).
- Llama 3 8B serve-plan on H200, vllm-0.12, 4 requests/s of 2000/200: the preset 783.68 tokens/s; an unchanged copy
  783.90 before, 783.68 after.

Every validation set is unchanged by it (a preset's `catalog_name` is its name; `Cluster.scaled` keeps the name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infraplan.catalog.figures import figures_notes
from infraplan.catalog.hardware_costs import accelerator_price
from infraplan.catalog.loader import is_what_if, load_accelerator, preset_files
from infraplan.catalog.schemas import Accelerator
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
