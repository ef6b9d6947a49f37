"""A wide-EP stack's all-to-all (`serving.ep_all_to_all`): two-batch overlap hides one micro-batch's expert dispatch /
combine behind the other's compute, and fp8 dispatch moves fp8 tokens out and bf16 back; no shipped profile sets
either, so every shipped stack prices as before.

Failed before the change: the module did not exist and the serving profile refused the `two_batch_overlap` and
`ep_fp8_dispatch` keys (examples/stacks/sglang-deepep-tbo.yaml did not load)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.loader import load_model
from infraplan.cluster import Cluster
from infraplan.ops.layer import layer_ops
from infraplan.ops.moe_routing import FP8_DISPATCH_PAIR_SHARE
from infraplan.serving import ep_all_to_all as a2a
from infraplan.serving import llm_iteration as li
from infraplan.serving.deployment import Deployment
from infraplan.serving.engine_facts import serving_stacks
from infraplan.serving.engines import serving_profile
from infraplan.serving.host_overhead import inference_layout

EXAMPLE = "examples/stacks/sglang-deepep-tbo.yaml"


def _dep(stack: str, dtype: str = "fp8") -> Deployment:
    return Deployment(tp=1, ep=72, attention_dp=72, dtype=dtype, kv_dtype="bf16", max_batch=256, engine="sglang",
                      stack=stack)


def test_no_shipped_serving_profile_overlaps_or_dispatches_fp8() -> None:
    assert serving_stacks()
    for name in serving_stacks():
        assert not a2a.overlaps(name) and a2a.dispatch_share(_dep(name)) == 1.0
    assert a2a.overlaps(EXAMPLE) and a2a.dispatch_share(_dep(EXAMPLE)) == FP8_DISPATCH_PAIR_SHARE
    assert a2a.dispatch_share(_dep(EXAMPLE, "bf16")) == 1.0  # bf16 weights: nothing is quantised for the dispatch
    assert pytest.approx((1 + 4 / 128 + 2) / 4) == FP8_DISPATCH_PAIR_SHARE


def test_layer_seconds_is_the_larger_of_two_halves_compute_and_all_to_all(monkeypatch: pytest.MonkeyPatch) -> None:
    compute, ep = np.array([0.0, 1.0, 2.0, 3.0, 4.0]), np.array([0.0, 3.0, 3.0, 5.0, 6.0])
    tp = np.full(5, 0.5)
    assert np.allclose(a2a.layer_seconds(compute, tp, ep, _dep("sglang-0.x")), compute + tp + ep)  # shipped: the sum
    monkeypatch.setattr(a2a, "EP_FP8_DISPATCH", False)  # the overlap alone
    got = a2a.layer_seconds(compute, tp, ep, _dep(EXAMPLE))
    # M = 1 cannot split; M = 2: max(1 + 1, 3 + 3); M = 3: max(2 + 1, 3 + 3); M = 4: max(2 + 2, 3 + 3)
    assert np.allclose(got, [0.5, 4.5, 6.5, 6.5, 6.5])
    # the routed experts' part (re-priced by `serving.lockstep_loop` on the ranks' mean tokens) shrinks with the layer
    routed = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    layer, flop, scaled = a2a.layer_terms(compute, tp, ep, _dep(EXAMPLE), compute, routed)
    assert np.allclose(scaled, routed * got / (compute + tp + ep)) and flop is compute
    assert a2a.layer_terms(compute, tp, ep, _dep("sglang-0.x"), compute, routed)[2] is routed
    monkeypatch.setattr(a2a, "EP_FP8_DISPATCH", True)  # priced where the EP seconds are (`collective_seconds`):
    assert np.array_equal(a2a.layer_seconds(compute, tp, ep, _dep(EXAMPLE)), got)  # the layer takes them as given


def test_fp8_dispatch_prices_the_nccl_all_to_all_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`collective_seconds` returns an NCCL-priced EP collective (two bf16 all-to-alls) at the stack's dispatch
    bytes; the layer (`layer_seconds`, `layer_terms`) multiplies nothing back (hC, session 68)."""
    shape, fabric = load_model("deepseek-v3"), Cluster.resolve("dgx-h100-superpod").fabric
    (c,) = (c for c in layer_ops(shape, inference_layout(1, 72, 72, np.arange(4.0), 1)).collectives_fwd
            if c.role == "ep")
    nccl = li.serving_collective_time(fabric, c)
    s = FP8_DISPATCH_PAIR_SHARE
    assert np.array_equal(a2a.collective_seconds(fabric, _dep("sglang-0.x"), c, li.serving_collective_time), nccl)
    assert np.allclose(a2a.collective_seconds(fabric, _dep(EXAMPLE), c, li.serving_collective_time), nccl * s)
    assert float(nccl[3]) > 0.0 and not np.allclose(nccl * s, nccl)
    assert np.array_equal(a2a.collective_seconds(fabric, _dep(EXAMPLE, "bf16"), c, li.serving_collective_time), nccl)
    monkeypatch.setattr(a2a, "EP_FP8_DISPATCH", False)
    assert np.array_equal(a2a.collective_seconds(fabric, _dep(EXAMPLE), c, li.serving_collective_time), nccl)


def _decode_step_s(stack: str, rows: int) -> float:
    cluster = Cluster.resolve("dgx-h100-superpod")
    cost = li.build_iteration_cost(load_model("deepseek-v3"), cluster.accelerator, cluster.fabric, _dep(stack))
    return float(li.decode_time(cost, rows, 2100))


def test_wide_ep_decode_over_nodes_hides_its_all_to_all(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DeepSeek-V3 at EP72 over 9 H100 nodes, 256 rows a rank at 2,100 cached tokens: the scale-out all-to-all is
    ~45 % of the 163.9 ms step; overlapped 126.3 ms, with fp8 dispatch too 100.5 ms (measured on this tree)."""
    only = tmp_path / "tbo.yaml"
    only.write_text("extends: sglang-0.x\ndisplay_name: tbo\nserving:\n  two_batch_overlap: true\n")
    both = tmp_path / "tbo-fp8.yaml"
    both.write_text("extends: sglang-0.x\ndisplay_name: tbo fp8\nserving:\n  two_batch_overlap: true\n"
                    "  ep_fp8_dispatch: true\n")
    base, overlapped, fp8 = (_decode_step_s(s, 256) for s in ("sglang-0.x", str(only), str(both)))
    assert serving_profile(str(only)).two_batch_overlap and not serving_profile(str(only)).ep_fp8_dispatch
    assert 0.70 < overlapped / base < 0.85 and 0.70 < fp8 / overlapped < 0.90
    monkeypatch.setattr(a2a, "TWO_BATCH_OVERLAP", False)  # the toggles: priced as the shipped profile
    monkeypatch.setattr(a2a, "EP_FP8_DISPATCH", False)
    assert _decode_step_s(str(both), 256) == pytest.approx(base, rel=1e-12)
