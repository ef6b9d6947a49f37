"""Parallel plans as arrays: one element per configuration, the same code for one plan or millions.

A plan maps a model onto `tp * cp * pp * dp` accelerators. Ranks are placed on nodes in order; TP is
innermost, then CP, then either PP and DP outermost (`tp-cp-pp-dp`, the Llama 3 order, keeps pipeline
neighbours close and lets DP cross pods) or DP and PP outermost (`tp-cp-dp-pp`, Megatron-LM's default).
Expert parallelism (EP) is the innermost factor of DP.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.errors import InputError

RECOMPUTE_MODES = ("none", "selective", "full")
DTYPES = ("bf16", "fp8")
ATTENTION_KINDS = ("flash", "unfused")
ORDERS = ("tp-cp-pp-dp", "tp-cp-dp-pp")


@dataclass(frozen=True)
class PlanArrays:
    """Struct of integer arrays, all of one length.

    `recompute` indexes RECOMPUTE_MODES, `dtype` DTYPES, `attention` ATTENTION_KINDS (fused
    FlashAttention-style kernels, or the unfused score matrix of Megatron-LM before 2023), `order` ORDERS,
    `sequence_parallel` 1/0 (Korthikanti et al. 2022; earlier Megatron replicated norms and dropout over TP).
    """

    tp: np.ndarray
    pp: np.ndarray
    dp: np.ndarray
    cp: np.ndarray
    ep: np.ndarray
    vpp: np.ndarray
    micro_batch: np.ndarray
    global_batch: np.ndarray
    seq_len: np.ndarray
    recompute: np.ndarray
    zero: np.ndarray
    dtype: np.ndarray
    attention: np.ndarray
    order: np.ndarray
    sequence_parallel: np.ndarray

    @classmethod
    def build(cls, **columns) -> PlanArrays:
        """Broadcast scalars and sequences to arrays of one length.

        Defaults: flash attention, order tp-cp-pp-dp, sequence parallelism on.
        """
        columns.setdefault("attention", 0)
        columns.setdefault("order", 0)
        columns.setdefault("sequence_parallel", 1)
        arrays = {k: np.atleast_1d(np.asarray(v, dtype=np.int64)) for k, v in columns.items()}
        length = max(a.size for a in arrays.values())
        return cls(**{k: np.broadcast_to(a, (length,)).copy() for k, a in arrays.items()})

    def __len__(self) -> int:
        return int(self.tp.size)

    @property
    def gpus(self) -> np.ndarray:
        return self.tp * self.cp * self.pp * self.dp

    @property
    def pp_stride(self) -> np.ndarray:
        """Rank distance between pipeline neighbours."""
        return np.where(self.order == 0, self.tp * self.cp, self.tp * self.cp * self.dp)

    @property
    def dp_stride(self) -> np.ndarray:
        """Rank distance between data-parallel (and expert-parallel) peers."""
        return np.where(self.order == 0, self.tp * self.cp * self.pp, self.tp * self.cp)

    @property
    def micro_batches(self) -> np.ndarray:
        """Micro-batches per DP replica per step (gradient-accumulation steps)."""
        return self.global_batch // np.maximum(self.dp * self.micro_batch, 1)

    def take(self, index) -> PlanArrays:
        return PlanArrays(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def row(self, i: int) -> dict:
        """One plan as a plain dict with readable recompute/dtype names."""
        out = {f.name: int(getattr(self, f.name)[i]) for f in fields(self)}
        out["recompute"] = RECOMPUTE_MODES[out["recompute"]]
        out["dtype"] = DTYPES[out["dtype"]]
        out["attention"] = ATTENTION_KINDS[out["attention"]]
        out["order"] = ORDERS[out["order"]]
        out["sequence_parallel"] = bool(out["sequence_parallel"])
        out["gpus"] = int(self.gpus[i])
        out["micro_batches"] = int(self.micro_batches[i])
        return out


def plan_violations(shape: TransformerShape, plan: PlanArrays) -> list[tuple[np.ndarray, str]]:
    """(mask of invalid plans, reason) for every rule a plan must meet; vectorised."""
    heads_ok = shape.num_heads % plan.tp == 0
    stages = plan.pp * plan.vpp
    experts_ok = (shape.num_experts % plan.ep == 0) if shape.is_moe else plan.ep == 1
    return [
        (np.any([plan.tp < 1, plan.pp < 1, plan.dp < 1, plan.cp < 1, plan.ep < 1, plan.vpp < 1,
                 plan.micro_batch < 1, plan.global_batch < 1, plan.seq_len < 1], axis=0),
         "every parallel degree, batch and sequence length must be >= 1"),
        (~heads_ok, f"attention heads ({shape.num_heads}) not divisible by TP"),
        (stages > shape.num_layers,
         f"pipeline stages x virtual stages exceeds the model's {shape.num_layers} layers"),
        ((plan.vpp > 1) & (plan.pp == 1), "virtual pipeline stages need PP > 1"),
        (plan.global_batch % np.maximum(plan.dp * plan.micro_batch, 1) != 0,
         "global batch not divisible by DP x micro-batch"),
        (plan.seq_len % (2 * plan.cp) != 0, "sequence length not divisible by 2 x CP (load-balanced chunks)"),
        (~experts_ok, f"expert parallel must divide the {shape.num_experts} experts (EP=1 for dense models)"),
        (plan.dp % plan.ep != 0, "EP must divide DP (experts are sharded inside the data-parallel group)"),
    ]


def valid_mask(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    mask = np.ones(len(plan), dtype=bool)
    for bad, _ in plan_violations(shape, plan):
        mask &= ~bad
    return mask


def check_single_plan(shape: TransformerShape, plan: PlanArrays, gpus: int) -> None:
    """Raise InputError with the first broken rule for a one-element plan."""
    if int(plan.gpus[0]) != gpus:
        p = plan.row(0)
        raise InputError(
            f"plan TP{p['tp']} x CP{p['cp']} x PP{p['pp']} x DP{p['dp']} = {p['gpus']} GPUs, not --gpus {gpus}"
        )
    for bad, reason in plan_violations(shape, plan):
        if bad[0]:
            raise InputError(reason)
