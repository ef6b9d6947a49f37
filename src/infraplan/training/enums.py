"""The named variants of a training plan: integer enums that keep plan arrays integer and fast.

Each member is an `int` (so `PlanArrays` columns stay int64 and `plan.dtype == Dtype.FP8` is a vectorised
comparison) and knows its CLI string: `str(Dtype.FP8) == "fp8"`, `Dtype.parse("fp8") is Dtype.FP8`.
Members are numbered in the order the CLI and the JSON have always listed them, so stored codes do not move.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TypeVar

from infraplan.errors import InputError

_E = TypeVar("_E", bound="LabelledEnum")


class LabelledEnum(IntEnum):
    """An IntEnum whose members carry a CLI label: members are declared as `NAME = code, "label"`."""

    label: str

    def __new__(cls, code: int, label: str) -> LabelledEnum:
        member = int.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    def __str__(self) -> str:
        return self.label

    def __format__(self, spec: str) -> str:
        return format(self.label, spec)

    @classmethod
    def labels(cls) -> tuple[str, ...]:
        """CLI strings of every member, in code order."""
        return tuple(m.label for m in cls)

    @classmethod
    def parse(cls: type[_E], text: str, option: str) -> _E:
        """The member labelled `text`; InputError naming the CLI `option` and the choices otherwise."""
        by_label = _BY_LABEL.get(cls)
        if by_label is None:  # built once per enum (a dict lookup, not a walk over the members, per parse)
            by_label = _BY_LABEL[cls] = {member.label: member for member in cls}
        member = by_label.get(text)
        if member is None:
            raise InputError(f"{option} must be one of {', '.join(cls.labels())}, got {str(text)[:40]!r}")
        return member  # type: ignore[return-value]

    @classmethod
    def from_code(cls: type[_E], code: int) -> _E:
        """The member stored as integer `code` in a plan array."""
        member = cls._value2member_map_.get(code)  # the enum's own value -> member table
        if member is None:
            raise ValueError(f"{code} is not a {cls.__name__} code")
        return member  # type: ignore[return-value]


_BY_LABEL: dict[type[LabelledEnum], dict[str, LabelledEnum]] = {}


class Dtype(LabelledEnum):
    """GEMM precision of the linear layers; each label's recipe (rate, operand bytes, casts, layers kept in
    bf16) is `ops.precision.RECIPES`. Weights keep a bf16 copy beside the low-precision ones."""

    BF16 = 0, "bf16"
    FP8 = 1, "fp8"  # Transformer Engine fp8; the scaling (delayed / current / blockwise) is the stack's
    MXFP8 = 2, "mxfp8"  # OCP microscaling, 32-element blocks (Blackwell)
    NVFP4 = 3, "nvfp4"  # NVIDIA 4-bit, 16-element blocks + per-tensor scale (Blackwell)


class Recompute(LabelledEnum):
    """Activation recomputation (Korthikanti et al. 2022): none, selective (attention core), full layer."""

    NONE = 0, "none"
    SELECTIVE = 1, "selective"
    FULL = 2, "full"


class Attention(LabelledEnum):
    """Attention kernels: fused FlashAttention-style, or the unfused s x s scores of Megatron-LM before 2023."""

    FLASH = 0, "flash"
    UNFUSED = 1, "unfused"


class RankOrder(LabelledEnum):
    """Rank-to-node placement, innermost first: PP inside DP (Llama 3) or DP inside PP (Megatron-LM)."""

    TP_CP_PP_DP = 0, "tp-cp-pp-dp"
    TP_CP_DP_PP = 1, "tp-cp-dp-pp"


# a plan's `order` built without one (`PlanArrays.build`): the rank order of the stack pricing it (`Stack.rank_order`,
# else tp-cp-pp-dp), set where it is priced (`PlanArrays.with_expert_layout`; hN, session 53)
STACK_ORDER = -1


class Schedule(LabelledEnum):
    """Pipeline schedule; its bubble, in-flight micro-batches and validity live in `training.schedules`."""

    ONE_F_ONE_B = 0, "1f1b"
    INTERLEAVED = 1, "interleaved"
    ZB_H1 = 2, "zb-h1"  # zero bubble, 1F1B memory (Qi et al. 2023)
    DUALPIPE = 3, "dualpipe"  # bidirectional (DeepSeek-V3)
    ZB_V = 4, "zb-v"  # zero bubble, V-shaped over 2 chunks per rank, 1F1B memory (Qi et al. 2024)
