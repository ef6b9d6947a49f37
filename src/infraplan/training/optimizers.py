"""The optimizer a training plan steps with: a named extension point (`OPTIMIZERS`, one `OptimizerModel` each),
selected by the stack's `optimizer` (a model recipe's, `catalog.model_recipes`; `train` / `search --optimizer`).

* adam: AdamW as Megatron-Core's distributed optimizer runs it: fp32 master weights and two moments per parameter
  (`training.memory`), one fused memory-bound pass (`optimizer_step.ADAM_BYTES_PER_PARAM`), any ZeRO stage.
* muon: Megatron-Core 0.16.1 optimizer/muon.py with NVIDIA emerging-optimizers 0.3.0 (the package it imports,
  muon.py:26-31), as Megatron-Bridge 0.3.1 runs it (`distributed_muon_with_cosine_annealing`,
  recipes/utils/optimizer_utils.py:20-82: optimizer "dist_muon", 5 Newton-Schulz steps, muon_tp_mode "blockwise",
  Nesterov, bf16 matmuls); Moonshot's "Muon is Scalable for LLM Training" (arXiv:2502.16982, as recalled: the
  update RMS matched to AdamW's, ZeRO-1-style "Distributed Muon") and the Kimi K2 report (as recalled: MuonClip).
  - Which parameters: every 2-D parameter but the embedding and the output layer (muon.py:251-258); those, the
    norms and the biases step on AdamW (muon.py:321-333). Here: the decoder's weight matrices on Muon, the tables
    on AdamW (norms and biases are not counted in the model's parameters, `ops.params`).
  - State: one momentum buffer, `zeros_like` the fp32 main parameter (muon.py:208-212; the main parameters of
    Float16OptimizerWithFloat16Params, :301-303, layer_wise_optimizer.py:79-81): 4 B master + 4 B momentum per
    matrix parameter (Adam: 12), the tables Adam's (`optimizer_models.state_bytes_per_param`, `adam_table_state`).
  - Step (orthogonalized_optimizer.py:157-199, muon_utils.py:127-225): weight decay, the momentum's lerp, Nesterov's
    lerp, the Frobenius normalisation, a cast to bf16 ("medium" precision, :203-213), `steps` Newton-Schulz
    iterations, the cast back, two scalings and the update (`optimizer_models.MUON_BYTES_PER_PARAM` and
    `MUON_ELEMENTWISE_KERNELS` per matrix, unfused; `optimizer_step.optimizer_seconds`, every stepped parameter at
    a matrix's rate: ASSUMPTION, the tables' AdamW pass is a few % of them). One iteration on an m x n matrix,
    m <= n (transposed to the short side, :177-180): A = X X^T (2 m^2 n FLOPs), B = b A + c A A (2 m^3),
    X = a X + B X (2 m^2 n) (`newton_schulz_step`, :315-319): `newton_schulz_flops`, each GEMM priced by
    `hardware.kernels.gemm_time` in bf16.
  - Which matrices (`layer_matrices`): the layer's weight GEMMs (`ops.layer.layer_ops`, the one layer model) as
    one GPU holds them: "blockwise" orthogonalises each TP / ETP shard on its own (muon.py:131: no partition dim,
    no TP collective; "duplicated", an all-gather of the shard and the full matrix on every rank, muon_utils.py:
    272-278, and "distributed", an m x m all-reduce per iteration, :279-286, are not modelled); the GQA QKV weight
    split into its Q, K and V blocks (`muon_split_qkv` True by default, optimizer_config.py:263; muon.py:136-159);
    each routed expert's own matrices (TE's grouped linear keeps one weight per expert); the router's E x h.
  - DP: "dist_muon" is the `LayerWiseDistributedOptimizer` (Megatron-Bridge training/optim.py:70-77): whole
    parameters dealt to the DP x CP ranks (experts to the expert-DP ranks) by size, ping-pong
    (layer_wise_optimizer.py:92-144): ZeRO-1's memory (ASSUMPTION: an even deal), the same share of the
    Newton-Schulz work per parameter as the rank's matrices on average (ASSUMPTION); DDP all-reduces the gradients
    (:33-36: not reduce-scattered, so `reduces_by_all_reduce`), the updated parameters all-gathered inside the
    step (`step` calls `allgather_params` after the chained optimizers' steps, megatron-core 0.16.1
    layer_wise_optimizer.py:222-229; one blocking torch.distributed.all_gather of the flattened bf16 parameters over
    DP x CP, the experts' over expert DP, :147-184; no overlap option: "keep all megatron distributed-optimizer
    related options OFF", :30): the distributed optimizer's all-gather bytes, exposed whole before the next forward
    (`OptimizerModel.gather_in_step`, `blocking_gather`; hC, session 61: it was hidden behind the next forward as
    the distributed optimizer's overlapped gather). Muon refuses the
    distributed optimizer's ZeRO-2 / 3 sharding (muon.py:190-193): ZeRO 0 and 1 only (`optimizer_models.zero_stages_of`,
    read by `stack_limits.zero_stages`).
  - QK-clip (MuonClip; Megatron-Bridge training/train.py:752-756, megatron-core optimizer/qk_clip.py:8-39): off in
    the Kimi K2 recipe (transformer_config.py:214 default False, KimiK2Provider sets none); on, one MAX all-reduce
    of the per-head logits (heads x 4 B per layer) over DP x CP and a rescale of the q / k weights of the heads over
    the threshold: small, not priced (`optimizer_notes`).
  Muon is modelled where the stack's framework ships it (`Stack.optimizers`, `catalog.stack_framework_rules.
  optimizer_refusal`, read by `with_optimizer` and a stack file's `optimizer`): nemo-26.04 (megatron-core 0.16.1);
  megatron-core 0.8.0 to 0.15.0 ship no optimizer/muon.py (the wheels), so the older Megatron / NeMo presets refuse
  it; DeepSpeed 0.14.4 and torchtitan 0.3.0 as modelled ship none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.model_recipes import recipe_key
from infraplan.catalog.stack_framework_rules import optimizer_refusal
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.errors import InputError
from infraplan.hardware.kernels import KernelRates, gemm_time
from infraplan.identity_memo import IdentityMemo
from infraplan.ops import params as ops_params
from infraplan.ops.layer import layer_ops
from infraplan.ops.layer_records import Layout
from infraplan.scalar_path import larger, pick, smaller
from infraplan.training.activation_memory import FIRST, MIDDLE
from infraplan.training.dp_exposure import BLOCKING_GATHER
from infraplan.training.optimizer_models import NS_BYTES_PER_ELEMENT, OPTIMIZERS, optimizer_of
from infraplan.training.plan import PlanArrays
from infraplan.training.sparse_attention_rules import check_sparse_attention
from infraplan.training.stage_params import BOUND_KIND, sharded_of

_WITH: IdentityMemo[Stack] = IdentityMemo()


def with_optimizer(profile: Stack, name: str | None) -> Stack:
    """`profile` stepping with `name` (None: as it is); one InputError line for an optimizer not in `OPTIMIZERS`
    or Muon on a stack whose framework is not modelled with it (module docstring). Kept by the stack's identity."""
    if name is None or name == profile.optimizer:
        return profile
    if name not in OPTIMIZERS:
        raise InputError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    refusal = optimizer_refusal(profile, name)
    if refusal is not None:
        raise InputError(f"--optimizer {name}: {refusal}")
    kept = _WITH.get(profile, name)
    return kept if kept is not None else _WITH.put(profile, name, profile.model_copy(update={"optimizer": name}))


def training_stack(stack: str | Stack | None, shape: TransformerShape, optimizer: str | None) -> Stack:
    """The training stack a plan of `shape` is priced under: `stack` with its recipe for the model
    (`catalog.stacks.resolve_stack`), stepping with `optimizer` (`with_optimizer`; None: the stack's); one InputError
    line where the model's DeepSeek Sparse Attention is not shipped by the stack (`sparse_attention_rules`)."""
    profile = with_optimizer(resolve_stack(stack, "training", recipe_key(shape)), optimizer)
    check_sparse_attention(profile, shape)
    return profile


def reduces_by_all_reduce(profile: Stack) -> bool:
    """Whether ZeRO 1 / 2 reduce the gradients with an all-reduce: the stack's `grad_reduce_all_reduce`, or Muon's
    layer-wise distributed optimizer (DDP's all-reduce, layer_wise_optimizer.py:33-36)."""
    return profile.grad_reduce_all_reduce or profile.optimizer == "muon"


def blocking_gather(traffic: dict[str, Any], profile: Stack) -> dict[str, Any]:
    """`traffic` (DP collectives, `training.step_traffic`) with ZeRO 1/2's parameter all-gather moved to
    `dp_exposure.BLOCKING_GATHER`, exposed whole, where the stack's optimizer runs it inside its step
    (`OptimizerModel.gather_in_step`: Muon's layer-wise optimizer, module docstring); else `traffic` itself."""
    if not optimizer_of(profile).gather_in_step or "gather" not in traffic:
        return traffic
    return traffic | {"gather": 0.0 * traffic["gather"], BLOCKING_GATHER: traffic["gather"]}


def blocking_gathers(price: Callable[..., list[dict[str, Any]]],
                     profile: Stack) -> Callable[..., list[dict[str, Any]]]:
    """`price` (a stage's DP collectives, `step_traffic.EndStageTraffic.price`) with `blocking_gather` on each."""
    if not optimizer_of(profile).gather_in_step:
        return price
    return lambda *args: [blocking_gather(out, profile) for out in price(*args)]


def adam_table_state(shape: TransformerShape, plan: PlanArrays, kind: int, head: Any, copies: Any, zero1: Any,
                     extra_bytes: float) -> Any:
    """Bytes of AdamW state beyond the matrices' rate on the tables a stage of the kind holds (`extra_bytes` per
    parameter: AdamW's less the optimizer's): an end stage's table (both without PP, untied), a mirrored first
    rank's output head (`head`, `stage_params.head_table`), times the rank's parameter copies; sharded over DP x CP
    under ZeRO >= 1. A middle stage holds none. ASSUMPTION: an MTP module's embedding copy at the matrices' rate."""
    if kind == MIDDLE:
        return 0.0
    tables = ops_params.end_params_local(shape, plan.tp, plan.pp)
    if head is not None and kind in (FIRST, BOUND_KIND):
        tables = tables + head
    tables = tables * copies
    return pick(zero1, sharded_of(plan, tables, 0.0 * tables), tables) * extra_bytes


def newton_schulz_flops(rows: Any, cols: Any, steps: int) -> Any:
    """FLOPs of `steps` Newton-Schulz iterations on a rows x cols matrix (module docstring):
    steps x (4 m^2 n + 2 m^3), m the short side, n the long one."""
    m, n = smaller(rows, cols), larger(rows, cols)
    return steps * (4.0 * m * m * n + 2.0 * m * m * m)


def layer_matrices(shape: TransformerShape, plan: PlanArrays) -> list[tuple[Any, Any, Any]]:
    """(rows, cols, how many) of the weight matrices one GPU holds for one mean layer (`ops.layer.layer_ops`'
    GEMMs: a matrix n x k per GEMM, `count` x `share` of them), the GQA QKV weight as its Q, K and V blocks."""
    lay = Layout(tokens=1.0, tp=plan.tp, ep=plan.ep, etp=plan.expert_tp, folded=plan.folded,
                 sequence_parallel=plan.sequence_parallel == 1, phase="training")
    out: list[tuple[Any, Any, Any]] = []
    for g in layer_ops(shape, lay).gemms:
        many = g.count * g.share
        if g.role == "qkv":  # muon_split_qkv (muon.py:136-159)
            kv = ops_params.kv_width(shape, plan.tp) / 2.0
            out += [(ops_params.q_width(shape, plan.tp), g.k, many), (kv, g.k, many), (kv, g.k, many)]
        else:
            out.append((g.n, g.k, many))
    return out


def newton_schulz_terms(shape: TransformerShape, plan: PlanArrays, rates: KernelRates, profile: Stack,
                        stepped: list[tuple[Any, Any, Any]] | None = None) -> dict[str, Any]:
    """Per matrix parameter a GPU steps: the Newton-Schulz seconds (`newton_schulz_s_per_param`, its GEMMs by
    `gemm_time` in bf16), FLOPs (`newton_schulz_flops_per_param`) and matrices (`matrices_per_param`), the means of
    one layer's matrices (`layer_matrices`; `stepped`: those matrices instead, as (rows, cols, how many): the DSA
    warm-up's indexer, `training.dsa_warmup`); {} for an optimizer without orthogonalisation."""
    steps = optimizer_of(profile).newton_schulz_steps
    if not steps:
        return {}
    seconds = flops = matrices = params = 0.0
    for rows, cols, many in layer_matrices(shape, plan) if stepped is None else stepped:
        m, n = smaller(rows, cols), larger(rows, cols)
        one = (gemm_time(rates, m, m, n, NS_BYTES_PER_ELEMENT) + gemm_time(rates, m, m, m, NS_BYTES_PER_ELEMENT)
               + gemm_time(rates, m, n, m, NS_BYTES_PER_ELEMENT))
        seconds = seconds + many * steps * one
        flops = flops + many * newton_schulz_flops(rows, cols, steps)
        matrices, params = matrices + many, params + many * rows * cols
    out = {"newton_schulz_s_per_param": seconds / params, "newton_schulz_flops_per_param": flops / params,
           "matrices_per_param": matrices / params}
    return {k: float(v) if np.ndim(v) == 0 else v for k, v in out.items()}  # (one plan's row: its floats)


def optimizer_notes(profile: Stack, zero: int) -> list[str]:
    """What a plan stepping with Muon says of what is not priced as the source runs it (module docstring)."""
    recipe = next((r for r in profile.model_recipes if r.model == profile.recipe_model), None)
    if recipe is not None and recipe.optimizer not in (None, profile.optimizer):  # --optimizer over the recipe's
        others = recipe.model_copy(update={"optimizer": None}).describe()
        return [f"optimizer {profile.optimizer} in place of the {recipe.model} recipe's {recipe.optimizer} "
                f"(--optimizer): the recipe's other settings stay ({others})"]
    if profile.optimizer != "muon":
        return []
    said = [f"optimizer muon (stack {profile.name}): Newton-Schulz ({OPTIMIZERS['muon'].newton_schulz_steps} bf16 "
            "iterations) on each TP shard of the decoder's 2-D weights ('blockwise'), AdamW on the embedding and "
            "LM head; momentum 4 B + fp32 master 4 B per matrix parameter; MuonClip's QK-clip (off in Megatron-"
            "Bridge's recipe) not priced"]
    if zero >= 2:
        said.append(f"optimizer muon at ZeRO-{zero}: Megatron-Core refuses Muon with the distributed optimizer "
                    "(megatron-core 0.16.1 optimizer/muon.py:190-193; its ZeRO stages 0 and 1): priced as asked, a "
                    "plan its framework would refuse and search does not propose")
    elif zero == 1:
        said.append("optimizer muon at ZeRO-1 is Megatron-Core's layer-wise distributed optimizer: gradients "
                    "all-reduced, the updated parameters all-gathered inside the step (layer_wise_optimizer.py:222-"
                    "229, a blocking all_gather, :147-184) priced exposed whole, none of it behind the next forward")
    return said
