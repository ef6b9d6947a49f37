"""The link a disaggregated request's KV cache takes from its prefill worker to its decode worker (hK, session 74).

The transfer's bytes and their split over the GPUs are `disaggregated.kv_transfer_bytes_per_link`'s; this module
says which link they cross. Two things decide it.

The stack's KV connector. TensorRT-LLM's cache transceiver (its UCX or NIXL backend, `cache_transceiver_config`) and
vLLM's NIXL connector (`--kv-transfer-config` with NixlConnector, the connector NVIDIA Dynamo runs vLLM workers with)
move pages through UCX, which takes its cuda_ipc transport between two GPUs of one node (NVLink peer copies) and its
RDMA transports between nodes. SGLang's PD disaggregation moves them with the Mooncake transfer engine by default
(`--disaggregation-transfer-backend mooncake`), whose RDMA transport posts every page as an RDMA write through the
NIC nearest the GPU, between GPUs of one node too (its NVLink transport is opt-in; SGLang's NIXL backend likewise):
a same-node hand-off drives the NICs at the scale-out rate (`SCALE_UP_HANDOFF_ENGINES`; all as recalled from the
projects' sources and docs, not re-read here). Until session 74 every stack's hand-off took the scale-up links
wherever the pair sat in one domain.

Where the two workers sit. The pools are placed by `replica_packing.place_pools`, the one placement whose count
`replica_packing.held_gpus` holds (one worker = one group of TP x attention DP GPUs at PP 1, inside one domain):
the larger groups first, D // L a domain, the smaller groups into the room they leave, then domains of their own;
groups of one size in pool order, the prefill pool's first (ASSUMPTION: no launch interleaves them; an
interleaving holds as many GPUs). Pools packed apart (where that holds fewer, `held_gpus`) share no domain, unless
both fit one. A worker of a group spanning domains is taken to share none with the other pool's workers, unless the
whole pair fits one domain.

Pipelined workers (hS76). Each PP stage of a prefill worker holds its own layers' KV and sends them itself: SGLang's
connectors slice the decode side's per-layer pointers at the stage's `prefill_start_layer` (sglang 0.5.9
srt/disaggregation/common/conn.py:155-199), a decode receiver of PP 1 targets every prefill stage, one of the same
PP its own stage (:378-387; another PP is refused there), and a request's KV is complete once every stage's chunks
have come (nixl/conn.py:121-147); TensorRT-LLM's cache transceiver and vLLM's NIXL connector are taken to send per
rank alike (ASSUMPTION, not read here). The stage transfers run at once, each over its own GPUs' links, so a hand-off
takes the scale-up links only where every (prefill stage, decode stage) pair whose layers overlap (`stage_pairs`)
sits in one domain; one pair across the NICs sets its time. Pools of two group sizes with a PP > 1 worker are held
apart (`replica_packing.held_gpus`): no stage shares a domain, as before. Pools of one size are placed replica by
replica, pool after pool (`replica_packing.replica_starts`), so a prefill worker's stages and a decode worker may
share a domain: prefill TP2 PP3 beside decode 2 x TP2 on 8-GPU nodes holds P P P D | D, and one of the two
hand-offs stays on NVLink (f = 0.5; until hS76 a PP > 1 worker counted as sharing none, f = 0).

Which decode worker a request's KV goes to. No router these stacks are served behind picks the decode worker by
where the prefill ran: Dynamo's frontend routes round-robin by default, and its other modes are random and kv
(ai-dynamo 0.8.1 dynamo/frontend/main.py:129-135 `--router-mode` choices; the kv mode weighs the prefix blocks a
worker already caches against its active blocks, `--kv-overlap-score-weight`, main.py:136-141, no place term);
SGLang's router in PD mode picks the decode server by `--decode-policy`, else `--policy`, default cache_aware, of
random / round_robin / cache_aware / power_of_two / manual (sglang-router 0.3.2 router_args.py:28-30, 244-272;
its mini load balancer draws the prefill and the decode server independently at random, mini_lb.py:98-107);
vLLM's disaggregated proxy examples round-robin over the decode instances (examples/online_serving/
disaggregated_serving, as recalled, not re-read here). So a request's decode worker is any of the pool's alike,
a share f = sum over domains of (prefill workers in it / P) x (decode workers in it / Q) of the hand-offs stays
inside a domain (`inside_share`), and each request's transfer is priced at its expectation over the decode
workers, f x (the scale-up transfer) + (1 - f) x (the NIC transfer): decode 2 x TP6 beside prefill 2 x TP2 on
8-GPU nodes (one of each a node) hands half its prompts over NVLink (TensorRT-LLM, vLLM), none (SGLang). `serve`
says f where 0 < f < 1 and the stack's connector takes the scale-up links (`handoff_note`): a router placing each
request's decode on its prefill worker's node would hand them all over NVLink, one ignoring it as priced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.network.collectives import Fabric
from infraplan.serving.disaggregated import DisaggregatedDeployment, kv_transfer_s
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.replica_packing import held_gpus, place_pools, replica_starts, stage_unit

SCALE_UP_HANDOFF_ENGINES = ("trtllm", "vllm")  # KV connectors over UCX: cuda_ipc inside a node (module docstring)


def scale_up_handoff(engine: str) -> bool:
    """Whether the engine's KV connector moves a same-domain hand-off over the scale-up links (else the NICs)."""
    return engine in SCALE_UP_HANDOFF_ENGINES


def worker_domains(pools: Sequence[Deployment], domain: int) -> list[list[int]] | None:
    """Per pool, the domain each of its workers sits in (module docstring's placement), -1 for a worker of PP > 1
    or of a group spanning domains; None where the pools are held apart (`held_gpus`: fewer that way)."""
    placed, held = place_pools(pools, domain)
    return None if held > held_gpus(pools, domain) else placed


def stage_domains(pools: Sequence[Deployment], domain: int) -> list[list[tuple[int, ...]]] | None:
    """Per pool, per worker, the domain of each of its PP stage groups, where the pools' groups are of one size
    within the domain and a worker has PP > 1: the replicas placed pool after pool at `replica_starts`, the
    placement `held_gpus` counts for one unit (`aligned_gpus`); None otherwise (two units of PP > 1 sit apart)."""
    units = {stage_unit(dep) for dep in pools}
    unit = min(units)
    if len(units) != 1 or unit > domain or all(dep.pp == 1 for dep in pools):
        return None
    starts = iter(replica_starts([(dep.replicas, dep.pp) for dep in pools], unit, domain))
    per = domain // unit
    return [[tuple((start + k) // per for k in range(dep.pp)) for start in (next(starts) for _ in range(dep.replicas))]
            for dep in pools]


def stage_pairs(prefill_pp: int, decode_pp: int) -> list[tuple[int, int]]:
    """The (prefill stage, decode stage) pairs whose layers overlap, each stage holding an equal share of the
    layers: the transfers one hand-off makes (module docstring, "Pipelined workers")."""
    return [(i, j) for i in range(prefill_pp) for j in range(decode_pp)
            if i * decode_pp < (j + 1) * prefill_pp and j * prefill_pp < (i + 1) * decode_pp]


def inside_share(pair: DisaggregatedDeployment, domain: int) -> float:
    """The share of hand-offs whose prefill and decode workers sit in one domain, under a router that does not pick
    by place (module docstring): 1 where the whole pair fits one domain; with PP > 1 a hand-off is inside where each
    of its stage-to-stage transfers is (`stage_pairs`; module docstring, "Pipelined workers")."""
    if pair.gpus <= domain:
        return 1.0
    if (stages := stage_domains((pair.prefill, pair.decode), domain)) is not None:
        links = stage_pairs(pair.prefill.pp, pair.decode.pp)
        pre_at, dec_at = stages
        inside = sum(all(p[i] == d[j] for i, j in links) for p in pre_at for d in dec_at)
        return inside / (len(pre_at) * len(dec_at))
    placed = worker_domains((pair.prefill, pair.decode), domain)
    if placed is None:
        return 0.0
    pre, dec = placed
    shared = sum(pre.count(d) * dec.count(d) for d in set(pre) if d >= 0)
    return shared / (len(pre) * len(dec))


def handoff_transfer_s(shape: TransformerShape, fabric: Fabric, pair: DisaggregatedDeployment,
                       prompt_tokens: np.ndarray) -> np.ndarray:
    """Seconds each prompt's KV takes from its prefill worker to its decode worker: over the scale-up links for the
    share of hand-offs inside one domain where the stack's connector takes them (`scale_up_handoff`), the NICs
    otherwise, at its expectation over the decode workers (module docstring)."""
    pre, dec = pair.prefill, pair.decode
    across = kv_transfer_s(shape, fabric, pre, dec, prompt_tokens, dec.kv_dtype, False)
    share = inside_share(pair, fabric.scale_up_domain) if scale_up_handoff(dec.engine) else 0.0
    if share <= 0.0:
        return across
    inside = kv_transfer_s(shape, fabric, pre, dec, prompt_tokens, dec.kv_dtype, True)
    return np.asarray(share * inside + (1.0 - share) * across, dtype=np.float64)


def handoff_note(pair: DisaggregatedDeployment, domain: int, word: str) -> str | None:
    """The share of hand-offs priced inside one domain, and the router it assumes, where it is neither all nor none
    and the stack's connector takes the scale-up links there (module docstring); else None."""
    share = inside_share(pair, domain) if scale_up_handoff(pair.decode.engine) else 0.0
    if not 0.0 < share < 1.0:
        return None
    return (f"KV hand-off: {share * 100:.0f} % of prefill / decode worker pairs sit in one {domain}-{word} scale-up "
            f"domain (f = {share:.3f}), so each prompt's transfer is priced as {share:.3f} x its scale-up-link time + "
            f"{1.0 - share:.3f} x its NIC time; ASSUMPTION: the router picks the decode worker without regard to "
            "where the prefill ran (Dynamo round-robin / random / kv, SGLang router policies, vLLM's proxy: none "
            "weighs placement); a router keeping each hand-off in its domain would price all of it over the "
            "scale-up links")


def stated_handoff_note(deployment: Mapping[str, Any], domain: int, word: str) -> str | None:
    """`handoff_note` of a run's stated `deployment` (`serve`'s, and the serve-plan answer's, which said none,
    hL75): its prefill and decode pools as priced, a prefill pool in the decode pool's layout (`serve --prefill-gpus`
    without --prefill-tp, whose f was priced but not said) too; None for a colocated run."""
    pools = [p for part in ("prefill", "decode") if (p := deployment.get(part))]
    if len(pools) < 2:
        return None
    pre, dec = (Deployment(tp=p["tp"], pp=p["pp"], attention_dp=p["attention_dp"], replicas=p["replicas"],
                           engine=deployment["engine"]) for p in pools)
    return handoff_note(DisaggregatedDeployment(pre, dec), domain, word)
