"""Attention DP with MoE TP (hL82) under review (hR, session 51): the gathered size with attention TP > 1, and MoE TP
below 1 refused in one line naming it.

hL82's tests run attention TP 1, where the all-gather's `act_full x group / TP` and `act_full x group` are equal: the
mutant dropping `/ TP` passed them. And `check_deployment`'s >= 1 line listed every count but MoE TP, which it
checks (fixed by hC's 0dace81, serve --moe-tp, while this review ran; the second test pins it)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.ops.layer import layer_ops
from infraplan.serving.deployment import check_deployment
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.llm_iteration import Deployment

OSS = load_model("gpt-oss-120b")  # hidden 2880, no shared expert


def test_attention_tp_two_gathers_the_groups_distinct_tokens_once() -> None:
    """Attention DP 2 x attention TP 2 = 4 GPUs, MoE TP 4 / EP 1, 8 tokens a rank: the two attention ranks' 16
    distinct tokens (each TP pair holds the same 8) are gathered over the 4 GPUs: 16 x 2880 x 2 B = 92,160 B in,
    as many reduce-scattered out; the attention's own TP all-reduce stays (2 GPUs, 8 tokens, 46,080 B)."""
    ops = layer_ops(OSS, inference_layout(2, 1, 2, np.array([8.0]), 4))
    live = [c for c in ops.collectives_fwd if bool(np.all(np.asarray(c.mask))) and float(np.max(c.group)) > 1]
    assert sorted((c.kind, c.role, float(np.asarray(c.bytes).ravel()[0]), float(c.group)) for c in live) == [
        ("all_gather", "ep", 2 * 8 * 2880 * 2.0, 4.0), ("all_reduce", "tp", 8 * 2880 * 2.0, 2.0),
        ("reduce_scatter", "ep", 2 * 8 * 2880 * 2.0, 4.0)]


@pytest.mark.parametrize("adp", [1, 4])
def test_moe_tp_below_one_is_named_in_the_refusal(adp: int) -> None:
    acc = Cluster.resolve("dgx-b200").accelerator
    with pytest.raises(InputError) as refused:
        check_deployment(OSS, acc, Deployment(tp=1, ep=adp, attention_dp=adp, moe_tp=0, dtype="mxfp4"))
    line = str(refused.value)
    assert "\n" not in line and "MoE TP 0" in line
    assert line.startswith("TP, PP, EP, attention DP, MoE TP, replicas, ")
