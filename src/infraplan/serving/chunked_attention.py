"""Chunked-attention layers (Llama 4) in serving: the keys a query reads, priced for the run's own requests.

Layer model (the one training prices, `ops.layer.attention_keys`; read by `catalog.model_config_llama4`): a query
at position p of a chunked layer attends the keys of its own aligned chunk of C = `attention_chunk_size` tokens,
positions C floor(p / C) .. p (transformers 5.25.0 masking_utils.py:102-111 `chunked_overlay`, and-ed with the
causal mask at :159-163; modeling_llama4.py:544-548 builds it for the "chunked_attention" layers); Llama 4's NoPE
layers (every 4th: 12 of Scout's 48) attend the whole context. So at position x a decode row reads x mod C cached
keys on a chunked layer (x on a full one), and a prompt token at position i pays (i mod C) + 1 (query, key) pairs.

The engines compute it so: vLLM 0.12.0 builds the RoPE layers as `ChunkedLocalAttention` (model_executor/models/
llama4.py:255-266), which cuts every request into one virtual batch per chunk (attention/layers/
chunked_local_attention.py:69-114, v1/attention/backends/utils.py:565 `make_local_attention_virtual_batches`):
a row reads its chunk's keys only. SGLang 0.5.6.post2 runs Llama 4 on FA3 on Hopper (server_args.py:1178-1200)
with the same local-attention metadata (layers/attention/flashattention_backend.py:1300-1330). TensorRT-LLM:
ASSUMPTION, the same (recalled: its Llama 4 attention hands `attention_chunk_size` to the attention op; the wheel
is not readable here).

Their KV pools keep more than the chunk: `serving.kv_pool_window` (vLLM 0.12.0 and TensorRT-LLM: the whole context
on every layer; SGLang 0.5.8.post1: its hybrid SWA split).

Pricing. An `IterationCost` is linear in the batch's cached tokens and prompt pairs (the simulator's closed-form
stretches, `serving.engine_loop`), but x mod C is not linear in x. So `for_requests` moves the chunked layers'
share of the cached-token term (`kv_token_s`) to a per-row term (`head_s`, as the sliding windows' in
`serving.llm_iteration`): the run's x mod C over its decode steps, spread over the rows whose reads `head_s`
charges (each decode step's; a prompt's sampled row reads none since hC65, `IterationCost.decode_row_s`), and
their share of the pair term
(`pair_s`) to a per-prompt-token term (`per_prefill_token_s`) at the run's mean (i mod C) + 1 over the prompt
tokens it prefills (closed forms: `chunk_key_sum`). Over the run the chunked layers' reads and pairs are exact (a
request decodes at positions P + s, s < its steps; with drafts the span P .. P + steps x tokens a step); one
iteration pays the run's mean, not its own rows'. A cost not re-priced (`build_iteration_cost` alone: the
validation sets, none of which has a chunked model; serve-plan's probes re-price theirs since hB48) prices the
chunked layers as full attention: exact while a request stays within one chunk, an overestimate above it.
Toggle `CHUNKED_ATTENTION`.

Hand check (Scout, bf16 cache, TP1: 8 KV heads x 128 x 2 (K, V) x 2 B = 4 KiB a token and layer; a decode row at
x = 32,768 + 4,096): full attention reads 48 x 36,864 tokens = 1.77 M token-layers (7.25 GB); chunked, 12 x 36,864
+ 36 x 4,096 = 0.59 M (2.42 GB), a third (`tests/serving/test_chunked_attention_hL48.py`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.serving.llm_iteration import IterationCost

CHUNKED_ATTENTION = True  # chunked layers read / attend their chunk (module docstring; False: as full attention)


def chunk_key_sum(end: np.ndarray | float, chunk: int) -> np.ndarray:
    """Sum over positions x < `end` of x mod `chunk` (the cached keys a query at x reads in its chunk): q whole
    chunks of C (C - 1) / 2 and a last one of r (r - 1) / 2, with end = q C + r."""
    n = np.asarray(end, dtype=np.float64)
    q = np.floor(n / chunk)
    r = n - q * chunk
    return q * chunk * (chunk - 1) / 2.0 + r * (r - 1) / 2.0  # type: ignore[no-any-return]


def prefill_keys_per_token(chunk: int, prompt: np.ndarray, cached: np.ndarray) -> float:
    """Mean (query, key) pairs of a prompt token on a chunked layer, (i mod C) + 1 over the positions prefilled,
    [cached, prompt) of every request; 0 where none is prefilled."""
    prompt, cached = np.asarray(prompt, dtype=np.float64), np.asarray(cached, dtype=np.float64)
    tokens = float(np.sum(prompt - cached))
    if tokens <= 0:
        return 0.0
    return float(np.sum(chunk_key_sum(prompt, chunk) - chunk_key_sum(cached, chunk))) / tokens + 1.0


def decode_key_total(chunk: int, context: np.ndarray, steps: np.ndarray, growth: float = 1.0) -> float:
    """Cached keys the decode rows read on a chunked layer over the run: x mod C at every request's decode steps,
    positions context + s x growth (s < steps; exact for growth 1, the span's mean a step otherwise)."""
    context, steps = np.asarray(context, dtype=np.float64), np.asarray(steps, dtype=np.float64)
    span = np.maximum(np.round(steps * growth), 1.0)
    per_step = (chunk_key_sum(context + span, chunk) - chunk_key_sum(context, chunk)) / span
    return float(np.sum(np.where(steps > 0, per_step * steps, 0.0)))


def for_requests(cost: IterationCost, shape: TransformerShape, prompt: np.ndarray, cached: np.ndarray,
                 steps: np.ndarray) -> IterationCost:
    """`cost` with its chunked layers priced at the run's mean keys (module docstring): `prompt` tokens per request,
    `cached` of them not prefilled (a prefix-cache hit, or a decode pool's handed-over prompt: all of them), and its
    decode `steps` (0: a prefill pool). Unchanged for a model without chunked layers or with the toggle off."""
    share = shape.chunked_fraction()
    if not (CHUNKED_ATTENTION and share):
        return cost
    chunk = shape.attention_chunk_size
    kv_s, pair_s = share * cost.kv_token_s, share * cost.pair_flop_s  # their part of the linear terms
    # the rows whose KV reads `head_s` charges: every decode step's (a prompt's sampled row reads none: its last
    # token is a prefill token, `IterationCost.decode_row_s`, hC65)
    rows_charged = float(np.sum(steps))
    keys = decode_key_total(chunk, prompt, steps, cost.decode_growth_tokens) / rows_charged if rows_charged else 0.0
    row_s = kv_s * keys
    rows = np.arange(len(cost.head_s), dtype=np.float64)
    decode_rows = (np.zeros_like(rows) if cost.decode_row_s is None else cost.decode_row_s) + row_s * rows
    return replace(cost, kv_token_s=cost.kv_token_s - kv_s, head_s=cost.head_s + row_s * rows, decode_row_s=decode_rows,
                   pair_s=cost.pair_s - pair_s, pair_flop_s=cost.pair_flop_s - pair_s,
                   per_prefill_token_s=cost.per_prefill_token_s + pair_s * prefill_keys_per_token(chunk, prompt,
                                                                                                   cached))


def chunked_note(shape: TransformerShape) -> list[str]:
    """The answer's note on how a model's chunked layers were priced (none without them)."""
    if not shape.num_chunked_layers:
        return []
    how = ("their attention and decode KV reads are priced at this run's mean keys in the chunk (exact over the run, "
           "not per iteration)" if CHUNKED_ATTENTION else "priced as full attention (CHUNKED_ATTENTION off)")
    return [f"{shape.num_chunked_layers} of {shape.num_layers} layers of {shape.name} attend in "
            f"{shape.attention_chunk_size:,}-token chunks: {how}; their KV cache holds the whole context (vLLM, "
            "TensorRT-LLM) or SGLang's hybrid SWA share (serving.kv_pool_window)"]
