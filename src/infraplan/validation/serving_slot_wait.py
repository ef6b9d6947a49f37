"""A batch slot held to the next completion on AIConfigurator's Dynamo TensorRT-LLM worker (a toggle, off).

Finding (notes/serving_hopper_tried.md rounds 4, 8, 14, 15): on the TensorRT-LLM 1.0.0rc3 Llama-3.1-8B bf16 H100
campaign of AIConfigurator's gap-analysis harness (Dynamo worker, `validation.serving_front_end`), at 8-32 clients
TTFT ~ 0.066 s + 1.09 R / c (R the request time, c the clients): the mean interval between two completions of a
closed loop, i.e. the wait of a request admitted only at the next completion (Little's law for one request always
queued). Hypothesis tested: the engine's max_batch_size b equals the clients and a finished request's slot is freed
only at the next completion, so one of the b slots is always held: b - 1 slots for admission, here as
max_batch = b - 1 (the start burst then admits c - 1 too; every later cycle is the held-slot rule's).

Sources read (round 15). b: AIConfigurator's Dynamo TensorRT-LLM template writes `max_batch_size: {{ bs }}`, the
batch size of the generator's selected agg config (0.2.0 cli/templates/trtllm/dynamo/extra_engine_args.1.0.0rc3
.yaml.j2, cli/backends/trtllm.py:104-116 `agg_best_config.iloc[0]`; 0.5.0-0.6.0 generator/rule_plugin/trtllm.rule:2),
and the eval pipeline benchmarks a concurrency list against that one engine (0.2.0-0.6.0 eval/pipeline.py
`_read_max_batch_size`, `_auto_concurrency_values`: 1, ~b/8, b/4, b/2, 3b/4, b when no list is given). The rows'
`batch_size` is the benchmark concurrency (`silicon_concurrency`); their grid 8/16/32/64/128 is no auto list (no 1,
no 3b/4), and their ids number TP -> clients -> ISL x OSL, an engine per (TP, c) config. So b = c is what
`serving_hopper.campaign_limits` already prices, an ASSUMPTION: the gap-analysis harness itself is unpublished.
Slot release: no file read says when TensorRT-LLM 1.0.0rc3's PyExecutor frees a finished request's slot (the wheel is
on pypi.nvidia.com only; PyPI's tensorrt-llm 1.0.0 is a stub); Dynamo 0.4.0's worker adds no limit (ai-dynamo 0.4.0
dynamo/trtllm/request_handlers/handler_base.py:147-181 streams `generate_async`, breaks on `res.finished`; main.py
passes the template's engine args; publisher.py only reports numActiveRequests / maxNumActiveRequests). A lag of
one or two iterations (the overlap scheduler) delays a new request by about that much, not by R / c: only a slot
held through a whole completion interval gives the finding.

Measured (round 15, one tree; dense mean |error| / TTFT / TPOT): off 20.09 / 27.59 / 12.60 %. Scope "trtllm", every
1.0.0rc3 Dynamo row (the one rule for the release): 26.96 / 41.10 / 12.82 % (Llama-8B TTFT at <= 32 clients 32.0 ->
65.1 %, Qwen3-32B 23.0 -> 80.8 %), MoE set every row 15.45 -> 33.48 % (Qwen3-235B 1.0.0rc3), disaggregated unchanged
(15.87 %). The Qwen3 campaigns exclude a held slot whatever the arrival pattern (in lock-step waves as in staggered
completions it makes one request per cycle wait for a completion, mean TTFT >= R / c): at <= 32 clients their
measured TTFT is under 0.8 R / c on 26 of 107 Qwen3-32B rows (TP1, 8 clients, 1024 / 512: 263 ms vs R / c 1066) and
47 of 78 Qwen3-235B rows, against 2 of 108 Llama-8B rows. Hence off: not one rule for the release. Scope "llama"
(reference only, a per-campaign rule): 22.65 %; with no front-end time on that campaign (its intercept 0.066 s is
about one prefill) 18.79 % (Llama-8B TTFT <= 32 clients 32.0 -> 12.7 %, 64-128 clients 43.6 -> 45.7 %).
"""

from __future__ import annotations

from infraplan.validation.serving_front_end import served_by_dynamo

SLOT_HELD_SCOPE: str | None = None  # None (off), "trtllm" (every 1.0.0rc3 Dynamo row) or "llama" (reference)
SLOT_HELD_VERSIONS = ("1.0.0rc3",)  # the TensorRT-LLM releases whose Dynamo campaigns the rule would cover


def held_slots(row: dict[str, str]) -> int:
    """Batch slots held by finished requests on the row's engine: 1 on the TensorRT-LLM Dynamo rows the scope
    covers, else 0 (module docstring)."""
    if SLOT_HELD_SCOPE is None or row.get("backend") != "trtllm" or not served_by_dynamo(row):
        return 0
    if row.get("backend_version") not in SLOT_HELD_VERSIONS:
        return 0
    if SLOT_HELD_SCOPE == "llama" and "Llama" not in row.get("model_path", ""):
        return 0
    return 1
