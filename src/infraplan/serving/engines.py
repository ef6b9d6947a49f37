"""Serving engines' own memory and batch conventions: how much memory the KV cache gets, and the batch limits.

The three engines size their KV cache differently, and the difference is several GiB per GPU on Hopper:

* TensorRT-LLM: `KvCacheConfig.free_gpu_memory_fraction` (`kv_cache_free_gpu_mem_fraction` in trtllm-bench and
  the LLM API; default 0.9) is a fraction of the memory FREE after the weights, the runtime buffers and the
  activation workspace are allocated (TensorRT-LLM docs, "Useful runtime flags" / KV cache management):
  `kv = 0.9 * (total - weights - workspace - reserve)`.
* vLLM: `gpu_memory_utilization` (default 0.9) is a fraction of the TOTAL memory that the instance may use for
  weights, the profiled peak activations and the KV cache (vLLM engine arguments docs):
  `kv = 0.9 * total - weights - workspace - reserve`.
* SGLang: `mem_fraction_static` is a fraction of the TOTAL memory for the static pool, weights plus KV cache;
  activations and CUDA graphs live in the rest (SGLang server arguments docs). Its default depends on the TP
  size (server_args.py, 0.4/0.5 series: 0.88 at TP1, 0.87 at TP2, 0.85 at TP4, 0.81 at TP8, 0.79 at TP16):
  `kv = f(TP) * total - weights`.

Batch limits (the engine's defaults, which an offline max-throughput run uses unless told otherwise):
TensorRT-LLM's `max_batch_size` defaults to 2048 and `max_num_tokens` to 8192 (trtllm-build / LLM API
BuildConfig defaults, also what trtllm-bench throughput starts from); vLLM V1 on GPUs with >= 70 GiB sets
`max_num_seqs` 1024 (`EngineArgs._set_default_args_v1`); SGLang leaves `max_running_requests` unset and sizes
it from its KV pool, modelled as 4096 (ASSUMPTION: its request-to-token pool cap), so the KV cache binds first.
The chunked-prefill budget is 8192 tokens for all three (TensorRT-LLM max_num_tokens, vLLM's server
max_num_batched_tokens, SGLang chunked_prefill_size on 80 GB GPUs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from infraplan.errors import InputError

KvConvention = Literal["free_after_weights", "of_total", "static_of_total"]


@dataclass(frozen=True)
class ServingEngine:
    """One engine's KV-memory rule and default batch limits (see the module docstring for the sources)."""

    name: str
    kv_convention: KvConvention
    kv_memory_fraction: float
    offline_max_batch: int
    token_budget: int = 8192
    # SGLang's static fraction by TP (smallest TP first): (TP at least, fraction)
    fraction_by_tp: tuple[tuple[int, float], ...] = ()

    def memory_fraction(self, tp: int) -> float:
        fraction = self.kv_memory_fraction
        for at_least, value in self.fraction_by_tp:
            if tp >= at_least:
                fraction = value
        return fraction

    def usable_bytes(self, total_bytes: float, tp: int) -> float:
        """Memory the engine may use for weights, workspace, reserve and KV cache together."""
        return self.memory_fraction(tp) * total_bytes if self.kv_convention == "of_total" else total_bytes

    def kv_cache_bytes(self, total_bytes: float, weights_bytes: float, workspace_bytes: float,
                       reserve_bytes: float, tp: int) -> float:
        """Bytes per GPU the engine gives its KV cache (may be negative: nothing fits)."""
        f = self.memory_fraction(tp)
        if self.kv_convention == "free_after_weights":
            return f * (total_bytes - weights_bytes - workspace_bytes - reserve_bytes)
        if self.kv_convention == "of_total":
            return f * total_bytes - weights_bytes - workspace_bytes - reserve_bytes
        # static pool: weights + KV inside the fraction; activations and reserve must fit in the rest
        rest = (1.0 - f) * total_bytes
        short = max(workspace_bytes + reserve_bytes - rest, 0.0)
        return f * total_bytes - weights_bytes - short


ENGINES: dict[str, ServingEngine] = {
    "trtllm": ServingEngine("trtllm", "free_after_weights", 0.9, offline_max_batch=2048),
    "vllm": ServingEngine("vllm", "of_total", 0.9, offline_max_batch=1024),
    "sglang": ServingEngine("sglang", "static_of_total", 0.88, offline_max_batch=4096,
                            fraction_by_tp=((2, 0.87), (4, 0.85), (8, 0.81), (16, 0.79))),
}
DEFAULT_ENGINE = "trtllm"
ONLINE_MAX_BATCH = 256  # online default sequences per engine, as before (vLLM V0's max_num_seqs)


def load_engine(name: str | ServingEngine | None) -> ServingEngine:
    """An engine by name; a versioned stack name (`vllm-0.12.0`, `trtllm-1.0`) picks its engine by prefix."""
    if isinstance(name, ServingEngine):
        return name
    key = (name or DEFAULT_ENGINE).lower()
    for engine, spec in ENGINES.items():
        if key == engine or key.startswith(engine + "-") or key.startswith(engine + "_"):
            return spec
    raise InputError(f"unknown serving engine {name!r}; choose from {', '.join(ENGINES)} "
                     "(a versioned name such as vllm-0.12 picks its engine)")
