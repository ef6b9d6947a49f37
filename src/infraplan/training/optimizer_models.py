"""The optimizers a training plan can step with, as data: the named extension point `OPTIMIZERS` (one
`OptimizerModel` each) and what the rest of the model reads of them without pricing (the ZeRO stages each runs,
the state bytes per parameter, in memory and in a run's checkpoint). What each one is, its sources and how its
step is priced: `training.optimizers`.
The one rule for a model's parameter groups (hD, session 62): Muon steps the 2-D parameters that are not the
embedding or the output layer and hands every other parameter to AdamW (megatron-core 0.16.1 optimizer/muon.py:
251-258 the split, `is_embedding_or_output_parameter` or not 2-D; :321-333 the AdamW optimizer of the rest);
`adamw_params` counts the model's AdamW group, `bytes_per_param_of` prices a model's parameters at the two groups'
rates: the memory bound of `plan`'s first count (`state_memory.trained_bytes_per_param`) and a run's checkpoint
(`checkpoint_bytes_per_param`: `train --tokens`, `plan`, `campus`, `reliability`). The training memory prices the
same group per rank (`optimizers.adam_table_state`, `ops.params.end_params_local`).
A leaf module (catalog imports only), so `training.stack_limits` can read it below `training.plan`.
"""

from __future__ import annotations

from dataclasses import dataclass

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.errors import InputError

MASTER_BYTES = 4.0  # fp32 master weight
_MOMENT_BYTES = {"fp32": 4.0, "bf16": 2.0}
# Muon's unfused pass per matrix parameter (fp32 master, main grad and momentum; `training.optimizers`): weight decay
# (r/w 8), momentum lerp (12), Nesterov lerp into a new tensor (12), normalisation (norm read + divide: 12), casts
# to bf16 and back (6 + 6), two scalings (16), the update (12), the bf16 model copy (6), the grad-norm read and
# the grad buffer's zeroing (8, as Adam's)
MUON_BYTES_PER_PARAM = 98.0
MUON_ELEMENTWISE_KERNELS = 11.0  # per matrix: decay, 2 lerps, norm / clamp / divide, 2 casts, 2 scalings, update
NS_GEMMS_PER_STEP = 3.0  # A = X X^T, B = b A + c A A, X = a X + B X (muon_utils.py:315-319)
NS_BYTES_PER_ELEMENT = 2.0  # bf16 operands ("medium" fp32 matmul precision)


@dataclass(frozen=True)
class OptimizerModel:
    """One optimizer as the model prices it (module docstring)."""

    name: str
    moments: int  # per-parameter states beside the fp32 master weight on its matrices (Adam m and v; Muon one)
    moment_dtype: str | None  # their dtype; None: the stack's `adam_moment_dtype`
    newton_schulz_steps: int  # iterations per matrix per step (0: no orthogonalisation)
    zero_stages: tuple[int, ...]  # the ZeRO stages it runs with
    source: str
    # ZeRO 1's parameter all-gather run inside its step, the next forward waiting on it (`optimizers.blocking_gather`)
    gather_in_step: bool = False


OPTIMIZERS: dict[str, OptimizerModel] = {
    "adam": OptimizerModel("adam", 2, None, 0, (0, 1, 2, 3), "megatron-core 0.16.1 optimizer/optimizer.py, "
                           "distrib_optimizer.py (fused multi-tensor AdamW, the distributed optimizer)"),
    "muon": OptimizerModel("muon", 1, "fp32", 5, (0, 1), "megatron-core 0.16.1 optimizer/muon.py, layer_wise_"
                           "optimizer.py; emerging-optimizers 0.3.0 orthogonalized_optimizers/muon_utils.py",
                           gather_in_step=True),
}


def optimizer_of(profile: Stack) -> OptimizerModel:
    """The stack's optimizer (`Stack.optimizer`)."""
    return OPTIMIZERS[profile.optimizer]


def zero_stages_of(profile: Stack, stages: tuple[int, ...]) -> tuple[int, ...]:
    """`stages` (the stack's) that its optimizer runs with (Muon: 0 and 1)."""
    allowed = optimizer_of(profile).zero_stages
    return tuple(z for z in stages if z in allowed)


def state_bytes_per_param(profile: Stack) -> tuple[float, float]:
    """Optimizer-state bytes per parameter: (the optimizer's on the decoder's matrices, AdamW's on the tables,
    `adamw_params`)."""
    adam = MASTER_BYTES + 2.0 * _MOMENT_BYTES[profile.adam_moment_dtype]
    model = optimizer_of(profile)
    moment = _MOMENT_BYTES[model.moment_dtype or profile.adam_moment_dtype]
    return MASTER_BYTES + model.moments * moment, adam


def adamw_params(shape: TransformerShape) -> int:
    """The model's parameters a Muon-class optimizer leaves to AdamW (module docstring): the input embedding and the
    output layer (`TransformerShape.embedding_params`, one table where tied; the two weights Megatron-Core flags
    `is_embedding_or_output_parameter`, models/common/language_module/language_module.py:181-185). Its split also
    sends the norms' and biases' 1-D parameters to AdamW; the model's counts leave them out (`TransformerShape.
    params_per_layer`, < 0.1 %), and a GPT-OSS model's attention sinks (1-D, heads x layers: 2,304 of GPT-OSS-120B's
    117 B) stay in the matrices' count (ASSUMPTION: negligible). The router's E x h weight is 2-D and not flagged
    (transformer/moe/router.py:53-55): Muon's. Moonlight's recipe (arXiv:2502.16982, as recalled) likewise keeps
    AdamW for the embedding, the LM head and the RMSNorm weights only."""
    return shape.embedding_params()


def bytes_per_param_of(shape: TransformerShape, matrix_bytes: float, table_bytes: float) -> float:
    """Bytes a parameter of `shape` takes on average with its matrices at `matrix_bytes` and its AdamW group
    (`adamw_params`) at `table_bytes`: the one rule every whole-model figure of an optimizer's state reads."""
    total = float(shape.total_params())
    tables = float(adamw_params(shape))
    return (matrix_bytes * (total - tables) + table_bytes * tables) / total


def checkpoint_bytes_per_param(optimizer: str, shape: TransformerShape | str | None = None) -> float:
    """Bytes a parameter takes in a run's checkpoint with `optimizer`: the catalog's Adam figure (catalog/facility/
    reliability.yaml `checkpoint`: bf16 weights, fp32 master, Adam's fp32 m and v, 14 B) less the fp32 moments the
    optimizer does not keep. Muon saves one fp32 momentum per matrix parameter (megatron-core 0.16.1 optimizer/muon.py:
    208-212, its state_dict's momentum buffer): 10 B; its AdamW group (`adamw_params`: the embedding and output
    layer) keeps Adam's two moments (`adam_init_state_fn`, muon.py:214-222), 14 B. With `shape`, the model's mean
    over the two groups (`bytes_per_param_of`: Llama 3 8B 10.52 B, Kimi K2 10.009 B; hD62, was 10 B for every
    parameter); without it, the matrices' rate (a LoRA run's adapters, every one a matrix); a model's name or file
    (`reliability --model`) is read only where the groups' rates differ. The one figure
    `train --tokens` (`planning.training_run.optimizer_checkpoint_bytes`), `plan`'s training services and `campus`'s
    reference run read, and `reliability --optimizer`."""
    from infraplan.catalog.reliability_loader import load_reliability  # (`train` without --tokens never loads it)

    if optimizer not in OPTIMIZERS:  # (`reliability --optimizer`, the web's `optimizer`: one line, as `train`'s)
        raise InputError(f"--optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
    adam = load_reliability().checkpoint.bytes_per_param
    fewer = OPTIMIZERS["adam"].moments - OPTIMIZERS[optimizer].moments
    matrices = adam - fewer * MASTER_BYTES
    if shape is None or matrices == adam:
        return matrices
    if isinstance(shape, str):
        from infraplan.catalog.loader import load_model

        shape = load_model(shape)
    return bytes_per_param_of(shape, matrices, adam)
