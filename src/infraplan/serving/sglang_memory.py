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

The pool (`static_pool_bytes`): SGLang applies the fraction to the memory FREE before the weights load, not to the
total: `total_gpu_memory` / `pre_model_load_memory` is `get_available_gpu_memory` (torch.cuda.mem_get_info's free
bytes, the smallest rank's) after `init_torch_distributed` (0.5.8.post1 model_runner.py:779-803, 0.5.9 :828-853,
0.5.10.post1 :999-1024, passed to `init_memory_pool`: 0.5.9 :392 / :590), so the CUDA context, NCCL and the custom
all-reduce buffers are gone from both terms: KV = f x (total - runtime reserve) - weights (0.5.9
model_runner_kv_cache_mixin.py:143-149, 0.5.10.post1 :171-177). The runtime reserve is the model's
(`ops.params.RUNTIME_RESERVE_BYTES`, 1.5e9 B, ASSUMPTION as there). A pool <= 0 is SGLang's own refusal ("Not
enough memory. Please try to increase --mem-fraction-static", 0.5.9 model_runner_kv_cache_mixin.py:415-418):
DeepSeek-R1 fp8 at TP4 on B200 (157.4 GiB of weights a GPU, f 0.856 of 180 GiB) is refused by SGLang's default
too, so the measured TP4 runs of that campaign set --mem-fraction-static themselves (value not in the source).
Toggle `POOL_OF_AVAILABLE` (False: f x total, the rule until session 49).

0.5.10.post1 reserves more before the fraction (read in its wheel, not modelled: no stack runs it): piecewise CUDA
graphs on by default (`disable_piecewise_cuda_graph: bool = False`, server_args.py:637; turned off before the
fraction only for the reasons of `_handle_piecewise_cuda_graph`, :1078-1139, e.g. DP attention or speculative
decoding), + 1.5 GiB on an MLA model or 8 MiB per captured token count otherwise (:1304-1311), and 4 GiB for EAGLE
drafts (:1322). On B300 at TP8 DeepSeek's 0.901 becomes 0.896, 1.3 GiB of its ~162 GiB pool: the Blackwell set's
0.5.10.post1 rows (DeepSeek fp8 on B300, TP4 / TP8) hold 10-100x their clients' tokens either way.

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
DRAFT_RESERVED_MIB = 2 * GIB_MIB  # EAGLE / MTP draft model and its CUDA graphs (0.5.9 server_args.py:1055-1057)
POOL_OF_AVAILABLE = True  # the fraction of the memory free before the weights (module docstring); False: of the total


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


def mem_fraction_static(rule: FractionRule, memory_bytes: float, tp: int, pp: int = 1, dp: int = 1,
                        drafts: bool = False) -> float:
    """SGLang's default mem_fraction_static under `rule` on a GPU of `memory_bytes` (module docstring).

    `tp` is SGLang's tp_size (every GPU of the replica: with DP attention, attention TP x `dp`), `pp` its
    pp_size, `dp` > 1 the DP-attention ranks (`--enable-dp-attention`). `drafts`: EAGLE / MTP speculative decoding
    reserves `DRAFT_RESERVED_MIB` more for the draft model and its CUDA graphs (0.5.9 server_args.py:1051-1057,
    after the 10 GiB floor; 0.5.1.post1 the same 2 GiB), which load outside the pool: the draft runner's KV cache
    holds the target's token count (`draft_runner_cache_size`, model_runner_kv_cache_mixin.py:402-412), so the
    target's pool is sized over its own layers and weights only (:124-146)."""
    if memory_bytes <= 0:
        return FALLBACK_FRACTION
    gpu_mib = memory_bytes / MIB
    if rule == "sglang-0.5.1":
        reserved = _reserved_051_mib(gpu_mib, tp * pp, dp > 1)
    elif rule == "sglang-0.5.6":
        reserved = _reserved_056_mib(gpu_mib, tp, pp)
    else:
        raise InputError(f"mem_fraction_rule {rule!r} is not an SGLang rule; choose from {', '.join(RULES[1:])}")
    reserved += DRAFT_RESERVED_MIB if drafts else 0.0
    return round((gpu_mib - reserved) / gpu_mib, 3)


def static_pool_bytes(fraction: float, total_bytes: float, weights_bytes: float, workspace_bytes: float,
                      reserve_bytes: float) -> float:
    """KV bytes per GPU of SGLang's static pool (may be negative: SGLang refuses to start): the fraction of the
    memory free before the weights load (`total_bytes` less the runtime reserve) less the weights (module
    docstring, model_runner_kv_cache_mixin.py `profile_max_num_token`). Activations live in the rest; where the
    model's activation workspace exceeds it, the pool gives up the excess (the model's guard against an OOM that
    SGLang's heuristic does not check)."""
    available = total_bytes - reserve_bytes if POOL_OF_AVAILABLE else total_bytes
    outside = 0.0 if POOL_OF_AVAILABLE else reserve_bytes  # the reserve, counted once
    short = max(workspace_bytes + outside - (1.0 - fraction) * available, 0.0)
    return fraction * available - weights_bytes - short
