"""DeepSeek Sparse Attention's dense warm-up stage (`train --dsa-stage warmup`): one step that trains the lightning
indexer alone, the rest of the model frozen, on dense attention.

The stage (DeepSeek-AI, "DeepSeek-V3.2-Exp: Boosting Long-Context Efficiency with DeepSeek Sparse Attention", 2025,
sec. 2.1; recalled, not re-read here): continued from DeepSeek-V3.1-Terminus at 128K tokens a sequence, every
parameter but the indexer's frozen, attention dense; the indexer's output is trained by a KL loss to the main
attention's distribution summed over its heads and L1-normalised, over every key (the report's sizes: 1,000 steps
x 16 sequences x 128K tokens = 2.1 B tokens at lr 1e-3; then the sparse stage, priced by default: 15,000 steps x 480
x 128K = 943.7 B tokens, top-2,048). One step is priced as:
(a) the main model forward only, with dense MLA: the step model's forward-only pass (`forward_pass.
    forward_only_terms`: no backward, no gradient traffic, the pipeline's fill and drain on forward stage times,
    the forward half of the p2p chain, the LM head and its loss kept) on the shape without the indexer
    (`index_topk` 0), plus the indexer's forward on every layer: its three projections (`ops.sparse_attention.
    indexer_gemms`, bf16, replicated over TP) and its scores over every causal key (fp8; the bf16 rate on a part
    without fp8 tensor cores, hI61), bound by the fp32 logits
    written and read (`training.attention_core.indexer_times`' rate and bound, its launches);
(b) the KL target: the heads' attention probabilities summed per (query, key) pair. Flash attention does not
    materialise them, so a second QK^T + softmax pass over the local heads and every causal key runs at the
    fused-attention rate (2 d_qk FLOPs a pair and head). ASSUMPTION: DeepSeek's warm-up kernel is not public;
    fused with the loss and its logit gradient (q - p), so the target is computed once and no per-pair tensor is
    held across layers; the TP ranks' partial targets are summed through the gradients (the loss is linear in the
    target), not exchanged. The one public dense-loss implementation read, Megatron-Core 0.19.2's cuDNN DSA
    backend (`dsa_indexer_use_sparse_loss` False; transformer/experimental_attention_variant/dsa_cudnn_kernels.py
    :1870-1935), differs: a per-head LSE pass over every key (fp32 einsum, :1624-1676), then a recompute pass
    writing the head-summed target as a B x Sq x Sk fp32 tensor (:1679-1707), all-reduced over TP with its L1 norm
    (:1463-1466, :1911-1912; the reference path likewise, dsa.py:503-505), the indexer's full scores B x Sq x Sk
    too (:1901-1902), its gradients computed in the forward (:1918-1935). Not priced here: its per-pair buffers
    (64 GiB each at 128K, one sequence, no CP) do not fit a GPU at the report's length;
(c) the indexer's backward: its scores' dq and dk over every causal key (2x the scores' forward, the logits'
    gradient bound as forward) and its projections' weight gradients only (their inputs come from the frozen model,
    detached as Megatron-Core 0.19.2 detaches them, dsa.py:1886-1888: no data gradient, no backward through the
    frozen model);
(d) the indexer's gradient all-reduce over DP x CP (`stage_params.dp_groups`, the stack's gradient bytes), exposed
    after the last micro-batch (ASSUMPTION: not overlapped; priced as an all-reduce at every ZeRO stage), and the
    stack's optimizer on the indexer's parameters alone (the shard at ZeRO >= 1): AdamW's memory-bound pass
    (`optimizer_step`), or Muon's (`--optimizer muon`, hP62; hI62 found the step AdamW's while the memory and the
    checkpoint were Muon's): megatron-core 0.16.1's Muon builder skips a parameter without `requires_grad`
    (optimizer/muon.py:240-241, the frozen model) and steps every other 2-D one but the embedding and output layer
    (:251-258), so the indexer's three projections (2-D `Linear`s, dsa.py:410-452) take Muon and its k LayerNorm
    (1-D, not counted, `TransformerShape.indexer_params_per_layer`) AdamW: Muon's unfused pass and Newton-Schulz
    on those matrices, whole on every TP rank ('duplicated', dsa.py:419; `optimizers.newton_schulz_terms`,
    `optimizer_step.optimizer_seconds`), and at ZeRO 1 / 2 its layer-wise optimizer's blocking all-gather of the
    updated indexer over DP x CP (`optimizers.blocking_gather`'s rule), exposed. The report's own warm-up
    optimizer is not stated (AdamW is DeepSeek-V3's); DeepSeek's warm-up code is not public;
(e) ZeRO-3 (hP62; hI62: it priced as ZeRO 1): the frozen weights stay sharded and are gathered for each forward,
    Megatron-FSDP building a parameter group and a sharded weight buffer for every parameter, trainable or not
    (megatron-core 0.16.1 distributed/fsdp/src/megatron_fsdp/param_and_grad_buffer.py:1330-1341 groups by
    `requires_grad` too; :1963-1980 creates the gradient and main-weight buffers for trainable groups only, the
    weight buffer for all, distributed under `optim_grads_params`, :1861-1864), so each forward all-gathers every
    layer (`step_traffic`'s per-layer gather, `forward_pass.ZERO3_FORWARD_GATHER`), with no gradient reduce-scatter
    of them: exposed as the step model exposes a forward's gathers (`zero3_forward_gather_s`: the rest beyond the
    layers' forward window, at least the first unit's, `zero3_edges`), on every micro-batch where the stack
    re-gathers per micro-batch.
Memory: the weights as the plan holds them (the indexer's included), gradients and optimizer states scaled to the
indexer's share of this GPU's parameters (as `frozen_traffic.frozen_memory` scales a LoRA's), activations: one layer's
forward working set (`ops.params.activation_bytes_per_token_layer` of the dense shape, no recompute) plus what that
layer's indexer backward reads (its inputs, the q latent and the hidden state, and its q, k and head weights, bf16),
for one micro-batch. ASSUMPTION: each layer's KL loss depends on that layer alone and the indexer's input comes from
the frozen model, so no gradient crosses a layer or a stage and the indexer's backward runs right after its layer's
forward (a framework that keeps every layer's indexer inputs until one backward holds the layers x that instead);
the LM head's logits are not held (the warm-up's loss is the KL alone).
MFU counts `WARMUP_FLOP_CONVENTION`. The host launches of the indexer's kernels are not priced. --recompute has no
effect: the frozen model runs forward only (said in a note where it is not none).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.hardware.gemm_seconds import gemm_seconds
from infraplan.hardware.kernels import KernelRates, gemm_time, memory_bound_seconds, memory_bound_time
from infraplan.identity_memo import IdentityMemo
from infraplan.network.collectives import collective_seconds
from infraplan.ops.params import activation_bytes_per_token_layer
from infraplan.ops.sparse_attention import LOGIT_BYTES, indexer_gemms, indexer_pair_flops, indexer_score_flops_per_s
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS
from infraplan.training.attention_core import INDEXER_KERNELS, indexer_scores_words
from infraplan.training.distinct_collectives import distinct_collective_time
from infraplan.training.flops import forward_flops_per_token_layer
from infraplan.training.forward_pass import FORWARD_COMPONENTS, ZERO3_FORWARD_GATHER
from infraplan.training.memory import memory_breakdown
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.optimizer_models import optimizer_of
from infraplan.training.optimizer_step import ADAM_BYTES_PER_PARAM, OPTIMIZER_KERNELS, optimizer_seconds
from infraplan.training.optimizers import newton_schulz_terms
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_outputs import MEMORY_TERMS, memory_sum, peak_flops
from infraplan.training.stage_params import dp_groups, local_params
from infraplan.training.step_assembly import COMPONENTS
from infraplan.training.step_time import balanced_split, one_plan_step_time
from infraplan.training.zero3_edges import edge_share

if TYPE_CHECKING:
    from infraplan.training.results import TrainingEstimate

# `estimate.TrainingPoint`, the resolved one-plan point; not imported, even for typing: estimate imports this module
# (import-linter's no-cycle contract counts TYPE_CHECKING imports).
TrainingPoint = Any

DSA_STAGES = ("sparse", "warmup")  # `train --dsa-stage`: the sparse stage (the default pricing) or the dense warm-up
BF16_BYTES = 2.0
WARMUP_FLOP_CONVENTION = ("dsa-warmup: the frozen model's forward (2x the matmul parameters, full s x s attention "
                          "scores, LM head), the indexer's projections forward and weight gradient, its scores forward "
                          "and 2x backward and the KL target's score pass over every head, full s keys")


def check_stage(shape: TransformerShape, stage: str, lora: bool) -> bool:
    """Whether `train --dsa-stage` asks for the warm-up; one line on a stage not known, on a model without the
    indexer, or with --lora-rank (the warm-up trains the indexer alone)."""
    if stage not in DSA_STAGES:
        raise InputError(f"--dsa-stage takes sparse | warmup, got {str(stage)[:40]!r}")
    if stage == "sparse":
        return False
    if not shape.is_sparse_attention:
        raise InputError(f"--dsa-stage warmup needs a DeepSeek Sparse Attention model (index_topk > 0, e.g. "
                         f"deepseek-v3.2): {shape.name} has no lightning indexer")
    if lora:
        raise InputError("--dsa-stage warmup trains the lightning indexer alone: it does not take --lora-rank")
    return True


def stage_of(shape: TransformerShape, warmup: bool) -> str | None:
    """The stage an answer states (`dsa_stage`): warmup, sparse on a DSA model, else None (no stage)."""
    return "warmup" if warmup else "sparse" if shape.is_sparse_attention else None


def dense_shape(shape: TransformerShape) -> TransformerShape:
    """The main model without its indexer (dense MLA over every key), kept by the model's identity."""
    kept = _DENSE.get(shape)
    if kept is not None:
        return kept
    return _DENSE.put(shape, None, shape.model_copy(update={"index_topk": 0}))


_DENSE: IdentityMemo[TransformerShape] = IdentityMemo(64)


def warmup_pair_flops(shape: TransformerShape, keys: Any) -> tuple[Any, Any, Any]:
    """(forward, backward, KL target) indexer FLOPs per query token over `keys` keys: its scores, their dq and dk
    (2x), and the target's score pass over every head (2 d_qk a head; the caller splits the heads over TP)."""
    score = indexer_pair_flops(shape) * keys
    return score, 2.0 * score, 2.0 * shape.head_dim * shape.num_heads * keys


def indexer_layer_seconds(shape: TransformerShape, rates: KernelRates, row: PlanArrays,
                          grid: bool = False) -> tuple[Any, Any]:
    """(forward with the KL target, backward) seconds of one layer's indexer for one micro-batch on one GPU (module
    docstring (a)-(c)): its CP share of the tokens, each query over its s / 2 causal keys on average. `row`: one
    plan's Python numbers (`PlanArrays.one_row`), or with `grid` a search's plan arrays (the same formulas)."""
    tokens: Any = row.micro_batch * row.seq_len / row.cp
    keys: Any = row.seq_len / 2.0
    bf16 = rates.matmul_flops_per_s
    gemm: Callable[..., Any] = gemm_time if grid else gemm_seconds
    larger: Callable[[Any, Any], Any] = np.maximum if grid else max
    gemms = indexer_gemms(shape, tokens)
    projections = sum(gemm(rates, g.m, g.n, g.k, BF16_BYTES, bf16) for g in gemms)
    wgrads = sum(gemm(rates, g.k, g.n, g.m, BF16_BYTES, bf16) for g in gemms)
    fwd, bwd, target = warmup_pair_flops(shape, keys)
    scores = indexer_score_flops_per_s(rates.attention_flops_per_s, rates.fp8_tensor_cores)  # 1x without fp8 (hI61)
    launches = INDEXER_KERNELS * rates.kernel_overhead_s
    logits = LOGIT_BYTES * tokens * keys / rates.memory_bytes_per_s
    kl = tokens * target / row.tp / rates.attention_flops_per_s + launches
    return (projections + larger(tokens * fwd / scores, logits) + launches + kl,
            wgrads + larger(tokens * bwd / scores, logits) + launches)


def stage_indexer_params(shape: TransformerShape, row: PlanArrays, mtp_num_layers: int = 0) -> Any:
    """The indexer's parameters on the heaviest stage of one GPU, replicated over TP: every layer's and the stack's
    MTP modules' (each a layer of the decoder's last kind, its DSA indexer built: megatron-core 0.16.1
    models/gpt/gpt_layer_specs.py:698-710 takes the MTP layer's spec from the block's last layer; the report freezes
    every parameter "except the lightning indexer", so theirs train). ASSUMPTION: the modules counted on the
    heaviest stage beside its ceil(L / PP) layers (an upper bound where the last stage holds fewer layers)."""
    layers = -(-shape.num_layers // row.pp) + mtp_num_layers
    return shape.indexer_params_per_layer() * (float(layers) if isinstance(layers, int) else layers.astype(float))


def warmup_step(point: TrainingPoint) -> dict[str, float]:
    """The warm-up step's components (seconds; `step_assembly.COMPONENTS`, adding up to `step_time_s`) and host
    phases at a resolved point (module docstring)."""
    step = warmup_step_terms(point.shape, point.cluster, point.plan, point.profile)
    return {k: float(v) for k, v in step.items()}


def warmup_step_terms(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> dict[str, Any]:
    """`warmup_step`'s terms of one plan (`PlanArrays.is_one`: Python floats) or of a search's grid (arrays,
    `dsa_warmup_grid`): the same formulas."""
    grid = not plan.is_one
    row = plan if grid else plan.one_row
    rates = cluster_pricing(cluster, profile).rates
    fwd, bwd = indexer_layer_seconds(shape, rates, row, grid)

    gathers: list[Any] = []

    def with_indexer(terms: dict[str, Any]) -> dict[str, Any]:  # each layer's forward runs the indexer's work too
        terms = terms | {"compute_fwd": terms["compute_fwd"] + fwd + bwd,
                         "compute_paired": terms["compute_paired"] + fwd + bwd}
        gathers.append(zero3_forward_gather_s(terms, row, profile, grid))  # (ZeRO-3's frozen weights, (e))
        return terms

    out = one_plan_step_time(dense_shape(shape), cluster, plan, profile, forward_only=with_indexer)
    step = {k: out[k] if grid else float(out[k]) for k in FORWARD_COMPONENTS}
    step["pp_comm"] = 0.5 * step["pp_comm"]  # the forward half of the p2p chain (`evaluation.forward_batch_s`)
    held = stage_indexer_params(shape, row, profile.mtp_num_layers)
    ranks, stride = dp_groups(row)[0], dp_groups(row)[1]
    size = held * profile.grad_reduce_bytes
    per_param = ADAM_BYTES_PER_PARAM if profile.adamw_bytes_per_param is None else profile.adamw_bytes_per_param
    # Muon on the indexer's matrices (module docstring (d)); {} for AdamW
    muon = newton_schulz_terms(shape, row, rates, profile, [(g.n, g.k, 1.0) for g in indexer_gemms(shape, 1.0)])
    gathered: Any = 0.0  # (Muon's layer-wise all-gather of the updated indexer at ZeRO 1 / 2)
    if grid:
        reduced = distinct_collective_time(cluster.fabric, "all_reduce", size, ranks, stride)
        step["dp_comm_exposed"] = np.where(ranks > 1, reduced, 0.0)
        stepped = np.where(row.zero >= 1, held / ranks, held)
        step["optimizer"] = (optimizer_seconds(stepped, rates, profile, 0.0, _no_host, NUMPY_OPS, muon)[0] if muon
                             else memory_bound_time(rates, stepped * per_param, OPTIMIZER_KERNELS))
        if optimizer_of(profile).gather_in_step:
            weights = held * BF16_BYTES
            gathered = np.where((ranks > 1) & (row.zero >= 1) & (row.zero < 3),
                                distinct_collective_time(cluster.fabric, "all_gather", weights, ranks, stride), 0.0)
    else:
        ranks, stride = float(ranks), float(stride)
        step["dp_comm_exposed"] = (collective_seconds(cluster.fabric, "all_reduce", size, ranks, stride)
                                   if ranks > 1 else 0.0)
        stepped = held / ranks if int(row.zero) >= 1 else held
        step["optimizer"] = (optimizer_seconds(stepped, rates, profile, 0.0, _no_host, FLOAT_OPS, muon)[0] if muon
                             else memory_bound_seconds(rates, stepped * per_param, OPTIMIZER_KERNELS))
        if optimizer_of(profile).gather_in_step and ranks > 1 and 1 <= int(row.zero) < 3:
            gathered = collective_seconds(cluster.fabric, "all_gather", held * BF16_BYTES, ranks, stride)
    step["dp_comm_exposed"] = step["dp_comm_exposed"] + gathered + gathers[0]
    total: Any = 0.0
    for k in COMPONENTS:
        total = total + step[k]
    step["step_time_s"] = total
    step.update({k: v for k, v in out.items() if k.startswith("host_exposed_")})
    step["host_exposed_optimizer"] = 0.0  # (its launches not priced: `host_exposed` is the forward's)
    return step


def _no_host(*_: Any) -> float:
    """The host time `optimizer_step.optimizer_seconds` exposes: none here (the warm-up prices no optimizer
    launches, `host_exposed_optimizer` 0)."""
    return 0.0


def zero3_forward_gather_s(terms: dict[str, Any], row: PlanArrays, profile: Stack, grid: bool) -> Any:
    """Seconds a ZeRO-3 warm-up step exposes of the frozen weights' forward all-gathers (module docstring (e)): a
    micro-batch's per-layer gathers (`ZERO3_FORWARD_GATHER`) beyond its layers' forward window (the forward's GPU
    work with the indexer's, x the stack's DP overlap, as `dp_exposure.dp_windows`' without the host's share), at
    least the first unit's gather (the embedding and a layer, `zero3_edges.edge_share`), times the micro-batches
    where the stack re-gathers on each (`Stack.zero3_collectives_per_micro_batch`, with PP its pipelined twin); 0
    below ZeRO 3. `terms`: the forward-only terms (`forward_pass.forward_only_terms`) with the indexer's work."""
    ops = NUMPY_OPS if grid else FLOAT_OPS
    gather = terms[ZERO3_FORWARD_GATHER]
    pp = ops.as_float(row.pp)
    overlap = profile.dp_overlap_fraction
    if profile.pipeline_dp_overlap_fraction is not None:
        overlap = ops.where(pp > 1.0, profile.pipeline_dp_overlap_fraction, overlap)
    layers = terms["stage_layers"] + terms["mtp_stage"] * terms["mtp_layer_equivalent"]
    window = overlap * layers * (terms["compute_fwd"] + terms["other_fwd"] + terms["tp_fwd"])
    traffic_layers = ops.ceil((terms["stage_layers"] + terms["other_layers"]) / pp)  # (the traffic's ceil(L / p))
    share = edge_share(terms, traffic_layers, terms["embedding_params"], ops)
    exposed = ops.maximum(gather - window, share * gather)
    if profile.zero3_collectives_per_micro_batch:
        m = ops.as_float(row.micro_batches)
        repeats = m if profile.zero3_pipeline_collectives_per_micro_batch else ops.where(pp > 1.0, 1.0, m)
        exposed = repeats * exposed
    return ops.where(row.zero >= 3, exposed, 0.0)


def warmup_memory(point: TrainingPoint) -> dict[str, float]:
    """Bytes per GPU by term of the warm-up (module docstring)."""
    split = balanced_split(point.shape, point.cluster, point.plan, point.profile)
    memory = warmup_memory_terms(point.shape, point.plan.one_row, point.profile, split)
    return {k: float(v) for k, v in memory.items()}


def warmup_memory_terms(shape: TransformerShape, row: PlanArrays, profile: Stack, split: Any) -> dict[str, Any]:
    """`warmup_memory`'s terms of one plan's Python numbers (`PlanArrays.one_row`) or of a search's grid (arrays):
    `memory.memory_breakdown` at the step's balanced `split`, the trained state scaled to the indexer's share."""
    memory = dict(memory_breakdown(shape, row, profile, split))
    held = stage_indexer_params(shape, row, profile.mtp_num_layers)
    share = held / local_params(shape, row)
    tokens = row.micro_batch * row.seq_len / row.cp
    working = activation_bytes_per_token_layer(dense_shape(shape), row.tp, row.sequence_parallel, row.seq_len, False)
    saved = BF16_BYTES * (shape.q_lora_rank + shape.hidden_size + shape.index_n_heads * shape.index_head_dim
                          + shape.index_head_dim + shape.index_n_heads)
    memory.update(gradients=memory["gradients"] * share, optimizer=memory["optimizer"] * share,
                  activations=tokens * (working + saved))
    return memory


def warmup_outputs(point: TrainingPoint) -> dict[str, float | bool]:
    """`plan_outputs.one_plan_outputs`' keys for the warm-up step at a resolved point: its step, rates, MFU in
    `WARMUP_FLOP_CONVENTION` (HFU and the executed FLOPs' utilisation the same count) and memory."""
    shape, row = point.shape, point.plan.one_row
    out: dict[str, float | bool] = dict(warmup_step(point))
    t, gpus = float(out["step_time_s"]), float(row.gpus)
    tokens = float(row.global_batch) * float(row.seq_len)
    out["tokens_per_s"] = tokens / t
    out["tokens_per_s_per_gpu"] = tokens / t / gpus
    weights, scores = forward_flops_per_token_layer(dense_shape(shape), int(row.seq_len))
    fwd, bwd, target = warmup_pair_flops(shape, float(row.seq_len))
    indexer = 2.0 * 2.0 * shape.indexer_params_per_layer() + fwd + bwd + target
    per_token = (shape.num_layers * (weights + float(scores) + indexer)
                 + 2.0 * shape.hidden_size * shape.vocab_size)
    peak = float(np.ravel(peak_flops(point.cluster, point.plan))[0])  # (the MFU denominator)
    out["model_tflops_per_gpu"] = per_token * tokens / (t * gpus) / 1e12
    out["mfu"] = out["hfu"] = out["executed_flops_utilisation"] = out["model_tflops_per_gpu"] * 1e12 / peak
    memory = warmup_memory(point)
    out.update({f"mem_{k}": memory[k] for k in MEMORY_TERMS})
    total = memory_sum(memory)
    out["memory_per_gpu_bytes"] = total
    out["fits"] = total <= point.cluster.accelerator.memory_bytes
    return out


def warmup_estimate(point: TrainingPoint, estimate: TrainingEstimate) -> TrainingEstimate:
    """The finished warm-up estimate (`estimate.finish_training` of `warmup_outputs`) with its stage, its trained
    parameters, its FLOP count and the lines saying what is assumed (the sparse stage's line dropped)."""
    notes = full_step_notes_left(estimate.notes)
    trained = shape_indexer_params(point.shape, point.profile.mtp_num_layers)
    notes += warmup_notes(point.shape, point.cluster.accelerator, trained, point.profile.optimizer,
                          estimate.config.recompute)
    return estimate.model_copy(update={
        "dsa_stage": "warmup", "mfu_flop_convention": WARMUP_FLOP_CONVENTION, "notes": notes,
        "trainable_params_count": trained})


def full_step_notes_left(notes: Sequence[str]) -> list[str]:
    """A full step's notes without those the warm-up does not keep: the sparse stage's line, and Muon's line of the
    whole decoder (the warm-up steps the indexer alone, `warmup_notes` says it); `warmup_estimate`'s, and `search
    --dsa-stage warmup`'s of `train`'s notes of its best plan (`search_rows.DsaWarmup.kept_notes`)."""
    return [n for n in notes if not n.startswith(("DeepSeek Sparse Attention priced in its sparse",
                                                  "optimizer muon (stack "))]


def shape_indexer_params(shape: TransformerShape, mtp_num_layers: int = 0) -> int:
    """The indexer's parameters in the whole model: every layer's and the stack's MTP modules' (`stage_indexer_
    params`)."""
    return shape.indexer_params_per_layer() * (shape.num_layers + mtp_num_layers)


def warmup_notes(shape: TransformerShape, accelerator: Accelerator, trained: int, optimizer: str = "adam",
                 recompute: str = "none") -> list[str]:
    """What the warm-up step assumes, one line each (module docstring); the indexer's scores' rate on `accelerator`
    as the sparse stage's note says it (`attention_core.indexer_scores_words`); the optimizer stepping the indexer
    (`optimizer`: the stack's) and a --recompute that does nothing here."""
    stepper = ("Muon on its three projection matrices, whole on every TP rank (megatron-core 0.16.1 optimizer/muon.py:"
               "240-258 skips the frozen parameters and steps the 2-D ones; its k LayerNorm on AdamW, not counted), "
               "at ZeRO 1 the updated indexer all-gathered in the step, exposed" if optimizer == "muon" else "AdamW")
    said = [] if recompute == "none" else [
        f"--recompute {recompute} does nothing in the DSA warm-up: the frozen model runs forward only and the "
        "indexer's backward reads its own layer's saved inputs, so nothing is recomputed (the step and memory are "
        "--recompute none's)"]
    return [f"DeepSeek Sparse Attention's dense warm-up stage priced (DeepSeek-V3.2-Exp report sec. 2.1, recalled: "
            f"1,000 steps x 16 x 128K tokens = 2.1 B tokens): the model frozen runs forward only with dense MLA; the "
            f"lightning indexer ({trained / 1e9:.2f} B parameters, the MTP modules' included) alone trains, forward "
            f"over every causal key ({indexer_scores_words(accelerator)}), backward (its scores' dq and dk, its "
            f"projections' weight gradients), its gradients all-reduced over DP x CP and stepped by {stepper}; no "
            "main-model gradients or optimizer states; at ZeRO 3 the frozen weights still sharded and all-gathered "
            "every forward (Megatron-FSDP shards every parameter), no reduce-scatter of them "
            "(training/dsa_warmup.py)",
            "ASSUMPTION (DeepSeek's warm-up kernel is not public): the KL target, the heads' attention probabilities "
            "summed per key, is a second QK^T + softmax pass over the local heads and every causal key, fused with the "
            "loss; each layer's indexer backward runs right after its forward (its loss and input are the layer's "
            "own: no gradient crosses a layer or a stage), so one layer's activations are held; the gradient "
            "all-reduce exposed; the indexer's kernels' host launches not priced", *said]
