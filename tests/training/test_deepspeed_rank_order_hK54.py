"""DeepSpeed's pipeline engine numbers ranks TP innermost, then DP, with the pipeline stages outermost (hK, session 54):
its topologies are row-major with the pipe axis first (DeepSpeed 0.5.10 runtime/pipe/topology.py:17-21, :235-249;
module.py:165-179; 0.14.4 the same), so the deepspeed stack names `rank_order: tp-cp-dp-pp` and a plan given without
an order is priced so (before, it fell to `stack_limits.DEFAULT_RANK_ORDER`, tp-cp-pp-dp: DP outermost).

Checked before the change: on the base tree the first test reads tp-cp-pp-dp and the second's unset plan prices the
DP-outermost step (88.36 s, not 88.08 s)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training

# BLOOM-176B's plan (oos.py, validation/notes/out_of_sample_s52): TP4 PP12 DP8 on 384 A100 (48 nodes of 8)
PLAN = dict(tp=4, pp=12, dp=8, micro_batch=2, seq_len=2048, global_batch=2048, zero=1, attention="unfused",
            sequence_parallel=False, dtype="bf16", recompute="full", vpp=1)


def _run(order: str | None = None):  # type: ignore[no-untyped-def]
    extra = {} if order is None else {"order": order}
    return estimate_training("bloom-176b", "dgx-a100-superpod", 384, **PLAN, **extra, stack="deepspeed")


def test_the_deepspeed_stack_names_pipe_outermost() -> None:
    assert load_stack("deepspeed").rank_order == "tp-cp-dp-pp"
    assert _run().config.order == "tp-cp-dp-pp"


def test_an_unset_order_prices_deepspeeds_groups() -> None:
    """TP4: two TP groups a node. DeepSpeed's order puts DP ranks 0 and 1 on one node (the DP ring half inside
    NVLink) and each stage boundary across nodes (stride TP x DP = 32); DP outermost would do the reverse (stages 0
    and 1 on one node). So the unset plan's DP exposure is below, and its p2p above, the DP-outermost plan's."""
    unset, ds, dp_out = _run(), _run("tp-cp-dp-pp"), _run("tp-cp-pp-dp")
    assert unset.step_time_s == pytest.approx(ds.step_time_s, rel=1e-12)
    assert unset.step_time_s != pytest.approx(dp_out.step_time_s, rel=1e-6)
    assert unset.breakdown_s.dp_comm_exposed < dp_out.breakdown_s.dp_comm_exposed
    assert unset.breakdown_s.pp_comm > dp_out.breakdown_s.pp_comm
