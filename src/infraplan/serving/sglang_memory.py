"""SGLang's default `mem_fraction_static` as its code computes it, by release, GPU memory and parallel size.

SGLang gives its static pool, weights plus KV cache, `mem_fraction_static` of the GPU memory and leaves the rest
to activations and CUDA graphs (`serving.engines`, convention `static_of_total`); the KV pool is what the
fraction leaves after the weights (model_runner.py `profile_max_num_token`: rest = free memory after the weights
- (1 - fraction) x free memory before them, 0.5.1.post1 `:1044-1077`, 0.5.6.post2 `:1363-1440`, 0.5.8.post1 /
0.5.9 `model_runner_kv_cache_mixin.py:111-144 / :116-149`). When the user does not set it, the server computes the
fraction as (gpu_mem - reserved_mem) / gpu_mem rounded to three decimals, gpu_mem the GPU's total memory in MiB
(`get_device_memory_capacity`: nvidia-smi memory.total, the smallest GPU's), by one of two rules (read in the
PyPI wheels; `ServingProfile.mem_fraction_rule` names the rule a stack runs):

* `sglang-0.5.1` (0.5.1.post1 server_args.py:351-393): reserved_mem by GPU-memory tier and parallel size
  p = TP x PP: (2.8 + p / 10) GiB below 35 GiB (T4, A10, L40, 4090), (9.5 + p / 2) GiB below 90 GiB (H100,
  A100), (12 + p / 2) GiB below 160 GiB (H20, H200), 32 GiB above (B200, MI300); + 2 GiB with speculative
  decoding, + 4 GiB with DP attention. H100: 0.874 / 0.868 / 0.856 / 0.831 at TP1 / 2 / 4 / 8; H200: 0.911 /
  0.907 / 0.900 / 0.886.
* `sglang-0.5.6` (0.5.6.post2 server_args.py:728-889 `_handle_gpu_memory_settings`; the same code in 0.5.8.post1
  `:879-1031` and 0.5.9 `:911-1063`): first the defaults by GPU memory, chunked_prefill_size 2048 below 35 GiB,
  4096 below 60 GiB, 8192 below 160 GiB, 16384 above; cuda_graph_max_bs 8 below 20 GiB, 24 / 80 (TP < 4 / >= 4)
  below 35 GiB, 32 / 160 below 60 GiB, 256 / 512 below 160 GiB, 512 above (NPU tiers left out); then
  reserved_mem = 512 MiB + 1.5 MiB x max(chunked_prefill_size, 2048) + 2 MiB x cuda_graph_max_bs + 1 GiB x TP x
  PP / 8, at least 10 GiB on GPUs above 60 GiB; + 2 GiB with EAGLE speculative decoding. H100: 0.835 /
  0.834 / 0.824 / 0.818 at TP1 / 2 / 4 / 8; H200: 0.907 / 0.906 / 0.900 / 0.897.

Not modelled: DP attention's extra reservation in 0.5.6+ (+ 3 MiB x cuda_graph_max_bs x DP, + 1.5 MiB more above
a graph batch of 300: 0.5.6.post2 :860-869), which at wide-EP sizes exceeds the GPU (DP 72: ~160 GiB), so those
deployments set --mem-fraction-static themselves (ASSUMPTION: the rule without it; TP in it is every GPU of the
replica, attention TP x DP, as SGLang's tp_size); speculative decoding (no serving stack here drafts), piecewise
CUDA graphs (off by default in
0.5.6-0.5.9: `enable_piecewise_cuda_graph: bool = False`), multimodal models' adjustment, AMD's aiter backend
(x 0.85 above 8192-token contexts). ASSUMPTION: the campaign / user leaves chunked_prefill_size and
cuda_graph_max_bs at these defaults (AIConfigurator's generated runs pass --cuda-graph-bs 1..batch, which moves
the fraction by at most 2 MiB x 512 = 1 GiB, 0.7 % of an H200).
"""

from __future__ import annotations

from typing import get_args

from infraplan.catalog.stacks import FractionRule
from infraplan.errors import InputError

MIB = 2.0**20
GIB_MIB = 1024.0
RULES: tuple[FractionRule, ...] = get_args(FractionRule)
FALLBACK_FRACTION = 0.88  # both rules when the GPU memory is unknown (server_args.py `else 0.88`)


def _reserved_051_mib(gpu_mib: float, parallel: int, dp_attention: bool) -> float:
    """0.5.1.post1 server_args.py:366-389: reserved memory (MiB) by GPU-memory tier and TP x PP."""
    if gpu_mib < 35 * GIB_MIB:
        reserved = (2.8 + parallel / 10) * GIB_MIB
    elif gpu_mib < 90 * GIB_MIB:
        reserved = (9.5 + parallel / 2) * GIB_MIB
    elif gpu_mib < 160 * GIB_MIB:
        reserved = (12 + parallel / 2) * GIB_MIB
    else:
        reserved = 32 * GIB_MIB
    return reserved + (4 * GIB_MIB if dp_attention else 0.0)


def default_chunked_prefill_tokens(gpu_mib: float) -> int:
    """0.5.6+ `_handle_gpu_memory_settings`: chunked_prefill_size by GPU memory (MiB)."""
    if gpu_mib < 35 * GIB_MIB:
        return 2048
    if gpu_mib < 60 * GIB_MIB:
        return 4096
    return 8192 if gpu_mib < 160 * GIB_MIB else 16384


def default_cuda_graph_max_bs(gpu_mib: float, tp: int) -> int:
    """0.5.6+ `_handle_gpu_memory_settings`: cuda_graph_max_bs by GPU memory (MiB) and TP size."""
    if gpu_mib < 20 * GIB_MIB:
        return 8
    if gpu_mib < 35 * GIB_MIB:
        return 24 if tp < 4 else 80
    if gpu_mib < 60 * GIB_MIB:
        return 32 if tp < 4 else 160
    if gpu_mib < 160 * GIB_MIB:
        return 256 if tp < 4 else 512
    return 512


def _reserved_056_mib(gpu_mib: float, tp: int, pp: int) -> float:
    """0.5.6.post2 server_args.py:848-872 (0.5.8.post1 :988-1017, 0.5.9 :1020-1049): reserved memory (MiB),
    DP attention's term left out (module docstring)."""
    graph_bs = default_cuda_graph_max_bs(gpu_mib, tp)
    reserved = 512 + max(default_chunked_prefill_tokens(gpu_mib), 2048) * 1.5 + graph_bs * 2 + tp * pp / 8 * 1024
    return max(reserved, 10 * GIB_MIB) if gpu_mib > 60 * GIB_MIB else reserved


def mem_fraction_static(rule: FractionRule, memory_bytes: float, tp: int, pp: int = 1, dp: int = 1) -> float:
    """SGLang's default mem_fraction_static under `rule` on a GPU of `memory_bytes` (module docstring).

    `tp` is SGLang's tp_size (every GPU of the replica: with DP attention, attention TP x `dp`), `pp` its
    pp_size, `dp` > 1 the DP-attention ranks (`--enable-dp-attention`)."""
    if memory_bytes <= 0:
        return FALLBACK_FRACTION
    gpu_mib = memory_bytes / MIB
    if rule == "sglang-0.5.1":
        reserved = _reserved_051_mib(gpu_mib, tp * pp, dp > 1)
    elif rule == "sglang-0.5.6":
        reserved = _reserved_056_mib(gpu_mib, tp, pp)
    else:
        raise InputError(f"mem_fraction_rule {rule!r} is not an SGLang rule; choose from {', '.join(RULES[1:])}")
    return round((gpu_mib - reserved) / gpu_mib, 3)
