"""`MoeRouting.shared_expert_overlap` where the shared experts outlast the all-to-all (hR, session 56): only the
all-to-all is hidden, min(all-to-all, shared GEMMs) per phase, so the exposed EP time is 0, never negative (a mutant
subtracting the shared experts' whole GEMM time passed hA56's tests, all of them on DeepSeek-V3 over two nodes where
the all-to-all is the longer). Llama 4 Scout (one shared expert of 8,192 beside top-1 routing) at EP 8 in one DGX
H100 (NVLink all-to-all): shared forward 1.5 ms against 0.31 ms of all-to-all.
hD62 (`training.shared_expert_side`): the side stream runs its chain from the router on, so the shared GEMMs hide the
dispatch half only; they share the SMs with the routed experts and end before them, and the combine half runs after
the routed experts with nothing beside it: exposed, half the all-to-all (session 56 hid it whole), never below 0."""

from __future__ import annotations

import pytest
from tests.training.test_shared_expert_overlap import BASE, SHARED, _plan

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.ops.precision import recipe
from infraplan.training.layer_time import layer_times_but_ep
from infraplan.training.step_time import layer_times


def test_a_short_all_to_all_is_hidden_whole_not_below_zero() -> None:
    shape = load_model("llama4-scout")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(8)
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    bf16 = recipe("bf16")
    precision = (bf16.gemm_flops_per_s(cluster.accelerator), bf16.operand_bytes)
    plan = _plan(dp=8, ep=8).one_row
    off = layer_times(shape, rates, cluster.fabric, plan, precision, 0.0, BASE)  # type: ignore[arg-type]
    raw, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, SHARED)  # type: ignore[arg-type]
    on = layer_times(shape, rates, cluster.fabric, plan, precision, 0.0, SHARED)  # type: ignore[arg-type]
    for phase in ("fwd", "bwd"):
        assert 0.0 < float(off[f"ep_{phase}"]) < float(raw[f"shared_{phase}"])
        assert float(on[f"ep_{phase}"]) == pytest.approx(float(off[f"ep_{phase}"]) / 2.0, rel=1e-9)
        assert float(on[f"ep_{phase}"]) >= 0.0
        assert float(on[f"compute_{phase}"]) == float(off[f"compute_{phase}"])
