"""`MoeRouting.shared_expert_overlap` (hM, session 56): the window is both shared-expert GEMMs of the phase (up and
down, `ops.layer`'s shared_up / shared_down), as Megatron-Core's shared experts run fc1 and fc2 on the side stream
(0.16.1 moe/shared_experts.py:92-267); a mutant windowing shared_up alone passed every test (hR56's M23). And the
combinations the libraries refuse or change are not priced as if they ran: a `dispatcher: deepep` stack (Megatron-Core
`flex`) with it raises in Megatron-Core (transformer_config.py:1090-1095: "moe_shared_expert_overlap only works with
alltoall token dispatcher"), `overlap_ep_comm` with it is an assertion in Megatron-Bridge (0.6.0
training/comm_overlap.py:513-515): both refused where the stack loads, one line; a flex backend Megatron-Bridge
applies turns it off (0.6.0 training/flex_dispatcher_backend.py:80; 0.3.1 :69): priced off there."""

from __future__ import annotations

import pytest
import yaml
from tests.training.test_shared_expert_overlap import SHARED, _plan

from infraplan.catalog import load_model
from infraplan.catalog.loader import preset_files
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.hardware import KernelRates
from infraplan.ops.layer import layer_ops
from infraplan.ops.precision import recipe
from infraplan.training.expert_dispatch import with_flex_dispatcher
from infraplan.training.layer_kernels import gemm_fwd_bwd
from infraplan.training.layer_time import layer_layout, layer_times_but_ep
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes


def test_the_window_is_both_shared_gemms() -> None:
    """DeepSeek-V3 at EP 16 on two DGX H100: the window is shared_up + shared_down, each priced as a plain GEMM
    (fc2 is a third of the shared FLOPs: without it the window is about 2 / 3 of this)."""
    shape = load_model("deepseek-v3")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(16)
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    bf16 = recipe("bf16")
    precision = (bf16.gemm_flops_per_s(cluster.accelerator), bf16.operand_bytes)
    plan = _plan().one_row
    raw, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, SHARED)  # type: ignore[arg-type]
    gemms = [g for g in layer_ops(shape, layer_layout(plan, False, SHARED)).gemms
             if g.role in ("shared_up", "shared_down")]
    assert sorted(g.role for g in gemms) == ["shared_down", "shared_up"]
    each = [gemm_fwd_bwd(rates, precision, g.m, g.n, g.k, g.count, False, g.share, True,  # type: ignore[arg-type]
                         main_grad_wgrad_bytes(SHARED)) for g in gemms]
    assert float(raw["shared_fwd"]) == pytest.approx(sum(float(f) for f, _ in each), rel=1e-12)
    assert float(raw["shared_bwd"]) == pytest.approx(sum(float(b) for _, b in each), rel=1e-12)
    assert min(float(f) for f, _ in each) > 0.2 * float(raw["shared_fwd"])  # shared_down counts


def _stack_file(tmp_path: object, **moe: object) -> str:
    data = yaml.safe_load(preset_files("stacks")["megatron-core-0.8"].read_text())
    data.setdefault("moe", {}).update({"shared_expert_overlap": True, **moe})
    path = tmp_path / "shared-overlap.yaml"  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize(("moe", "why"), [({"dispatcher": "deepep"}, "the alltoall dispatcher"),
                                          ({"overlap_ep_comm": True}, "overlap_ep_comm")])
def test_combinations_the_libraries_refuse_are_refused_at_load(tmp_path: object, moe: dict[str, object],
                                                               why: str) -> None:
    with pytest.raises(InputError, match=f"shared_expert_overlap .*{why}") as info:
        load_stack(_stack_file(tmp_path, **moe))
    assert "\n" not in str(info.value)


def test_a_flex_backend_turns_it_off_where_it_runs() -> None:
    """HybridEP applied on GB200 (flex: the overlap off, as Megatron-Bridge sets it); not applied on an H100 here
    (alltoall: the overlap kept)."""
    stack = SHARED.model_copy(update={"moe": SHARED.moe.model_copy(update={
        "flex_backend": "hybridep", "hybridep_accelerators": ("gb200",)})})
    on_gb200 = with_flex_dispatcher(stack, "gb200").moe
    assert on_gb200.flex_backend == "hybridep" and on_gb200.shared_expert_overlap is False
    on_h100 = with_flex_dispatcher(stack, "h100-sxm").moe
    assert on_h100.flex_backend is None and on_h100.shared_expert_overlap is True
