"""The least time a disaggregated request's first token spends between its prefill and the client: what a prefill
pool's capacity probe adds to each TTFT so that it judges the TTFT the whole run reports, not the prefill's alone.

In a whole disaggregated run (`serving_sim.simulate_disaggregated`, open loop) a request's first token leaves the
decode worker (`disaggregated.decode_first_token_s`, DECODE_SIDE_FIRST_TOKEN): its prompt's KV cache moves to a decode
worker (`disaggregated.kv_transfer_s`), which admits it at an iteration boundary (`admitted` >= the KV's arrival) and
emits the token `decode_pickup_iterations` - BOUNDARY_WAIT_ITERATIONS of the request's own mean decode iteration after
(the whole pickup after the KV's arrival without ADMISSION_FIRST_TOKEN: later still). `serve-plan`'s prefill probes
(`capacity_candidate.Candidate`, prefill-only engines) ended the TTFT at the prefill's first token, so a prefill pool
sized on them missed the TTFT SLO in the whole run by that hand-off: Llama 3 70B code completion at 80 requests/s on
H100 (TTFT SLO 0.25 s), TP4 PP1 with 13 prefill + 1 decode replicas: prefill-only TTFT p99 0.244 s, whole run 0.275 s
(hand-off mean 29.5 ms: 2 pickup iterations of ~10 ms under load, the KV transfer, the admission wait; hB47).

A floor, so that a probe stays optimistic (never rejects a layout whose whole run would meet on this account): the
transfer over the faster of the two paths the pair may take (the scale-up domain when two replicas fit in one and the
stack's KV connector takes the scale-up links inside one, `kv_handoff.scale_up_handoff`: not SGLang's Mooncake), and
each iteration at least the decode step of this one sequence alone at its prompt's context (`IterationCost.time`;
more sequences and a longer context only lengthen it). The admission wait (a full decode batch) is not in it.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.network.collectives import Fabric
from infraplan.serving.disaggregated import (
    BOUNDARY_WAIT_ITERATIONS,
    DECODE_SIDE_FIRST_TOKEN,
    decode_pickup_iterations,
    kv_transfer_s,
)
from infraplan.serving.kv_handoff import scale_up_handoff
from infraplan.serving.llm_iteration import Deployment, IterationCost


def _transfer_floor_s(shape: TransformerShape, fabric: Fabric, dep: Deployment, prompt: np.ndarray) -> np.ndarray:
    """Each prompt's KV transfer over the faster path the pair may take (module docstring)."""
    transfer = kv_transfer_s(shape, fabric, dep, dep, prompt, dep.kv_dtype, False)
    if 2 * dep.gpus_per_replica <= fabric.scale_up_domain and scale_up_handoff(dep.engine):  # may share a domain
        transfer = np.minimum(transfer, kv_transfer_s(shape, fabric, dep, dep, prompt, dep.kv_dtype, True))
    return transfer


def _decoded(dep: Deployment, output_tokens: np.ndarray) -> np.ndarray:
    """The requests whose first token leaves the decode worker (a one-token output's is the prefill's)."""
    return (np.asarray(output_tokens) > 1) & (dep.decode_steps(output_tokens) > 0) & DECODE_SIDE_FIRST_TOKEN


def handoff_floor_s(shape: TransformerShape, fabric: Fabric, dep: Deployment, decode_cost: IterationCost,
                    prompt_tokens: np.ndarray, output_tokens: np.ndarray) -> np.ndarray:
    """Seconds at least from each request's prefill first token to its first token leaving a decode worker of the
    same layout `dep` (module docstring); 0 for a one-token output (the prefill's token is the first)."""
    prompt = np.asarray(prompt_tokens, dtype=np.int64)
    decoded = _decoded(dep, output_tokens)
    if not decoded.any():
        return np.zeros(len(prompt))
    step = decode_cost.time(np.zeros_like(prompt), np.ones_like(prompt), prompt, np.zeros_like(prompt))
    pickup = decode_pickup_iterations(dep) - BOUNDARY_WAIT_ITERATIONS
    return np.where(decoded, _transfer_floor_s(shape, fabric, dep, prompt) + pickup * step, 0.0)

