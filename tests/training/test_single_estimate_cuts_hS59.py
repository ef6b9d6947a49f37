"""The never-seen single estimate's exact cuts (hS, session 59; benchmarks/single_estimate.py's 0.3 ms goal): the
framework refusals not built where neither applies, the one-plan wgrad re-gather priced without building its
record, a dense layer's MoE host terms set without the stack's MoE reads; each the bits of the path it replaces.
Checked failing before the change: the first two tests fail on the base tree (`refuse_framework` builds the
refusals on every plan, `regather_exposed_s` builds a `Collective` per gathered input size), the third's
monkeypatched reads raised there."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack, resolve_stack
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import Collective, Layout, layer_ops
from infraplan.training import plan_rules, sp_regather
from infraplan.training.estimate import estimate_training
from infraplan.training.host_time import add_dropless_moe_terms
from infraplan.training.layer_kernels import collective_times
from infraplan.training.plan import PlanArrays

FABRIC = Fabric(8, 3.6e11, 4.5e10, ("rack", "spine", "core"), (64, 2048, 32768), (1.0, 2.0, 3.0), (1e-6, 2e-6, 4e-6))


def _plan(**fields: int) -> PlanArrays:
    base = dict(tp=8, pp=1, dp=1, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=8, seq_len=4096,
                recompute=0, zero=1, dtype=0, attention=0, order=0, sequence_parallel=1)
    return PlanArrays.one_plan(**{**base, **fields})  # type: ignore[arg-type]


def test_refusals_not_built_where_neither_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dense model without adapters: neither check applies, so the refusals (two numpy reductions and their reason
    strings) are not built; an MLA model's fp8 attention at CP > 1 is still refused, in one line."""
    def refused(*_: object, **__: object) -> list[tuple[np.ndarray, str]]:
        raise AssertionError("framework_refusals built for a plan no check applies to")

    monkeypatch.setattr(plan_rules, "framework_refusals", refused)
    plan_rules.refuse_framework(load_model("llama3-70b"), _plan(), resolve_stack(None, "training"))
    monkeypatch.undo()
    base = load_stack("nemo-24.12")  # (with fp8 attention, as tests/training/test_refusal_remedy_per_command_hF57.py)
    fp8_dpa = base.model_copy(update={"fp8": base.fp8.model_copy(update={"dot_product_attention": True})})
    with pytest.raises(InputError, match="; use CP 1, --dtype bf16 or a stack without fp8 attention$"):
        estimate_training("deepseek-v3", "dgx-h100-superpod", 64, tp=1, cp=2, dp=32, ep=64, seq_len=4096,
                          global_batch=64, recompute="full", dtype="fp8", stack=fp8_dpa)


@pytest.mark.parametrize("model", ["llama3-70b", "deepseek-v3", "mixtral-8x7b"])
@pytest.mark.parametrize("ratio", [1.0, 0.5625])
def test_one_plan_regather_is_the_records_path(model: str, ratio: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """One plan's re-gathers: `collective_times` of each gathered input's record, bit for bit, without building it
    (hidden, partly hidden and exposed dgrad times)."""
    for tokens in (4096.0, 1000.0):
        lay = Layout(tokens=tokens, seq_len=tokens, tp=8, ep=8, sequence_parallel=True)  # type: ignore[arg-type]
        ops = layer_ops(load_model(model), lay)
        gather = float(collective_times(FABRIC, (Collective("all_gather", "tp", tokens * 8192.0 * 2.0 * ratio, 8.0,
                                                            1),), "tp", True))
        for scale in (0.0, 0.3, 4.0):
            times = [(0.0, scale * gather * (i + 1)) for i in range(len(ops.gemms))]
            expected = 0.0
            for g, (_, bwd) in zip(ops.gemms, times, strict=True):
                if g.role in sp_regather.GATHERED_INPUT_ROLES + sp_regather.MLA_GATHERED_INPUT_ROLES:
                    record = Collective("all_gather", "tp", g.m * g.k * 2.0 * ratio, 8.0, 1, 1.0, True)
                    expected = expected + max(g.count * g.share * collective_times(FABRIC, (record,), "tp", True)
                                              - 0.5 * bwd, 0.0)
            with monkeypatch.context() as patched:
                patched.setattr(sp_regather, "Collective", None)  # (one plan: no record built)
                got = sp_regather.regather_exposed_s(FABRIC, ops, times, lay, ratio, True)
            assert type(got) is float and got == expected


def test_dense_layer_moe_host_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dense layer of one plan: its host terms as floats and the four MoE terms 0.0, in their order, without
    reading the stack's MoE routing."""
    ops = layer_ops(load_model("llama3-70b"), Layout(tokens=4096.0, seq_len=4096.0, tp=8,  # type: ignore[arg-type]
                                                    sequence_parallel=True))

    class NoMoeReads:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"stack.{name} read for a dense layer")

    out: dict[str, object] = {"host_fwd": 1.5e-3, "host_bwd": 3.0e-3}
    add_dropless_moe_terms(out, ops, 0.0, False, 2.6e-5, True, NoMoeReads(), 0, False)  # type: ignore[arg-type]
    assert list(out) == ["host_fwd", "host_bwd", "moe_host_fwd", "moe_gpu_fwd", "moe_host_sync", "moe_sync_waits"]
    assert out == {"host_fwd": 1.5e-3, "host_bwd": 3.0e-3, "moe_host_fwd": 0.0, "moe_gpu_fwd": 0.0,
                   "moe_host_sync": 0.0, "moe_sync_waits": 0.0}
    assert all(type(v) is float for v in out.values())


@pytest.mark.parametrize("stack", ["nemo-26.04", "nemo-24.12"])
def test_an_moe_layer_of_one_plan_keeps_its_moe_host_terms(stack: str) -> None:
    """hN59's mutant (the dense fast path taken for an MoE layer too): Mixtral's layer of one plan on a graphed
    dropless stack (nemo-26.04: its eager MoE block's issue) and an eager Megatron one (nemo-24.12: the sync) gets
    the MoE terms the array path gives, and they are not all zero."""
    ops = layer_ops(load_model("mixtral-8x7b"), Layout(tokens=4096.0, seq_len=4096.0, tp=8, ep=8,  # type: ignore[arg-type]
                                                       sequence_parallel=True))
    terms = ("moe_host_fwd", "moe_gpu_fwd", "moe_host_sync")
    one: dict[str, object] = {"host_fwd": 1.5e-3, "host_bwd": 3.0e-3}
    add_dropless_moe_terms(one, ops, 2.0e-4, False, 2.6e-5, True, load_stack(stack), 0, False)
    arrays: dict[str, object] = {"host_fwd": np.array([1.5e-3]), "host_bwd": np.array([3.0e-3])}
    add_dropless_moe_terms(arrays, ops, np.array([2.0e-4]), np.array([False]), 2.6e-5, False, load_stack(stack), 0,
                           False)
    assert any(float(one[k]) > 0.0 for k in terms)  # type: ignore[arg-type]
    for key in (*terms, "host_fwd", "host_bwd"):
        assert float(one[key]) == pytest.approx(float(np.asarray(arrays[key]).reshape(-1)[0]), rel=1e-12)  # type: ignore[arg-type]
