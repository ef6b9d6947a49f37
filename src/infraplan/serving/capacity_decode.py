"""The decode work a serve-plan replica must do and the sequences its KV cache lets it run at once.

Split from `capacity_candidate` (hK81, which also moved `kv_batch` here from `capacity_horizon`): the fluid bound of
a probe (`decode_utilisation`: above 1 a replica cannot keep up even with every slot busy), a request's least engine
seconds (`decode_request_s`, `decode_request_seconds`: `capacity_horizon`'s service times), the least seconds of a
colocated iteration (`mixed_step_s`) and the sequences an engine's KV blocks hold at a workload's lengths
(`kv_batch`: `capacity_horizon`'s decode batch, and with the batch cap the requests a replica runs at once that
`backlog_growth.keeps_up` judges a probe's count against, `Candidate.runs_at_once`). Sources in each docstring.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.serving.llm_iteration import Deployment, IterationCost
from infraplan.serving.loop_stepping import cost_tables, request_tokens
from infraplan.serving.serving_sim import pool_engine
from infraplan.serving.workloads import Requests


def decode_utilisation(cost: IterationCost, dep: Deployment, req: Requests, steady: np.ndarray,
                       law: Requests | None = None, request_s: float | None = None, mixed: bool = False) -> float:
    """A lower bound on a decode-only replica's utilisation by its share (`mixed`: a colocated replica's, its decode
    steps at `mixed_step_s`, its prompts left out; hQ51): the steady window's arrival rate times a
    request's mean engine seconds, over the replica's engines. A request's seconds: its decode steps at the least time
    per sequence any batch up to the cap gives (a pure decode step of k sequences, `loop_stepping.cost_tables`, over
    k), its KV reads (its i-th step reads its prompt + i x `decode_growth_tokens` cached tokens, as `fcfs_loop` sums
    them) and its finish; the mean over `law` (a long sample of the workload's lengths; None: the window's own).
    Above 1 the replica cannot keep up even with every slot busy (the fluid limit; Kleinrock, "Queueing Systems"
    vol. 1, sec. 2.1: a queue offered more work than it serves grows without bound), whatever the probe's length:
    a decode replica fills its slots over many request lifetimes, so a 1,500-request probe can end while its backlog
    still looks bounded, and its 1,500 outputs understate the mean of a long-tailed length's KV reads (the square of
    the steps). Measured (hB49): gigawatt-2027's 2026 chat, Llama 3 70B fp8 TP1 on GB300 at 2,400 requests/s, 43
    decode replicas: the probe met, the whole run's decode backlog rose 5,300 -> 18,825 (TTFT p99 8.1 s against
    2 s); this bound over 100,000 lengths 1.19 at 43 (over the probe's own 1,500: 1.11), 1.07 at 48 (0.99), 0.99 at
    52, 0.97 at 53."""
    later = steady[1:]  # arrivals within the window's span (the first opens it)
    span = float(req.arrival_s[steady[-1]] - req.arrival_s[steady[0]]) if len(steady) > 1 else 0.0
    if span <= 0.0 or not len(later):
        return 0.0
    if request_s is None:  # (`request_s`: the mean over `law`, `decode_request_s`, given)
        request_s = decode_request_s(cost, dep, law if law is not None else Requests(
            req.arrival_s[later], req.input_tokens[later], req.output_tokens[later]), mixed)
    return float(len(later) / span * request_s / dep.engines_per_replica)


def decode_request_s(cost: IterationCost, dep: Deployment, lengths: Requests, mixed: bool = False) -> float:
    """`decode_utilisation`'s least engine seconds a request, decode-only (`mixed`: colocated, `mixed_step_s`)."""
    per_sequence_s, steps, cached = _decode_terms(cost, dep, lengths, mixed)  # the mean over `lengths`
    return float((per_sequence_s * steps.sum() + cost.kv_token_s * cached.sum()
                  + cost.per_finish_s * np.count_nonzero(steps)) / len(steps))


def decode_request_seconds(cost: IterationCost, dep: Deployment, lengths: Requests, batch: int = 0) -> np.ndarray:
    """`decode_request_s` of each request, decode-only (`capacity_horizon`'s service times; its mean up to rounding);
    `batch` > 0: at most that many sequences a step (`kv_batch`: where the KV cache binds)."""
    per_sequence_s, steps, cached = _decode_terms(cost, dep, lengths, False, batch)
    return per_sequence_s * steps + cost.kv_token_s * cached + cost.per_finish_s * (steps > 0)


def _decode_terms(cost: IterationCost, dep: Deployment, lengths: Requests, mixed: bool,
                  batch: int = 0) -> tuple[float, Any, Any]:
    """The least seconds a step takes per sequence (1 .. cap or `batch` of them), each request's steps, tokens read."""
    steps, top = dep.decode_steps(lengths.output_tokens).astype(np.float64), batch or dep.max_batch
    step_s = mixed_step_s(cost, top) if mixed else np.asarray(cost_tables(cost, dep.max_batch)[3][1:top + 1])
    per_sequence_s = float(np.min(step_s / np.arange(1, len(step_s) + 1)))
    cached = steps * lengths.input_tokens + cost.decode_growth_tokens * steps * (steps - 1) / 2.0
    return per_sequence_s, steps, cached


def mixed_step_s(cost: IterationCost, cap: int) -> np.ndarray:
    """The least seconds of an iteration carrying k = 1 .. cap decode sequences on a colocated engine (k tokens of
    them, any prompt tokens beside): `fcfs_loop` prices it body_s[prompt + k] + head_s[rows >= k] + the fixed
    costs, + KV reads, attention pairs and per-token terms that only add; so at least the least body_s and head_s at
    k or more (their suffix minima: no table is assumed monotone; the head's less its decode rows' attention, + k
    rows' of it: `IterationCost.decode_row_s`) + the decode step's fixed seconds (a mixed iteration's where less:
    `IterationCost.shared_fixed_s` above the prefill's, e.g. vLLM FlashAttention's one attention call, `decode_kernels.
    one_attention_call`) and overhead seconds.
    Not the pure decode table (`cost_tables`): its host floors (`serving.host_overhead`: an eager step's launches,
    a step's per-sequence host work) bind pure decode steps only, so a mixed iteration can beat them."""
    rows_s = cost.decode_row_s  # the k decode rows' own attention; a finishing prompt's row has none (hC65)
    body = np.minimum.accumulate(cost.body_s[::-1])[::-1]
    head = np.minimum.accumulate((cost.head_s if rows_s is None else cost.head_s - rows_s)[::-1])[::-1]
    k = np.arange(1, cap + 1)
    rows = np.minimum(k, len(head) - 1)
    fixed = cost.decode_fixed_s + min(0.0, cost.prefill_fixed_s - cost.shared_fixed_s)  # a mixed one's, if less
    return body[np.minimum(k, len(body) - 1)] + (head[rows] if rows_s is None else head[rows] + rows_s[rows]) + \
        fixed + cost.overhead_s


def kv_batch(cost: IterationCost, dep: Deployment, lengths: Requests, blocks: int) -> int:
    """The most sequences an engine's KV cache of `blocks` holds at once on average over `lengths`, at most the batch
    cap (0 blocks: the cap). By Little's law the blocks held are the requests' blocks x their residence, taken as
    their decode steps (ASSUMPTION: the prefill iterations left out), so a resident sequence holds the step-weighted
    mean of its blocks: a reserve_full engine's whole reservation (`loop_stepping.request_tokens`: prompt + steps + 1
    tokens), an on_demand one's time average (prompt + half its steps' tokens, and half a block). Measured (hF56,
    saturated colocated replicas): Llama 3 70B fp8 chat TP1 PP2 on H100 (15,092 blocks an engine) 122 against the
    simulator's mean 121.3 decoding sequences; 8B summarization on H100 (61,749 blocks) 208 against 206.5."""
    steps = dep.decode_steps(lengths.output_tokens)
    if blocks <= 0 or not steps.any():
        return dep.max_batch
    if pool_engine(dep.stack).kv_admission == "reserve_full":
        held = np.asarray(request_tokens(lengths.input_tokens, np.zeros_like(lengths.input_tokens), steps,
                                         dep.block_tokens, cost.decode_growth_tokens, cost.draft_slots)[1], float)
    else:
        held = (lengths.input_tokens + cost.decode_growth_tokens * steps / 2.0) / dep.block_tokens + 0.5
    per_sequence = float((held * steps).sum() / steps.sum())
    return int(min(dep.max_batch, max(1.0, blocks // per_sequence)))
