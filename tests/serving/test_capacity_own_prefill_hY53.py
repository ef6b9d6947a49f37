"""serve-plan searches a prefill pool of a layout of its own beside the decode pool's (`serving.capacity_layouts`,
hY53), and its answer is `serve` of its `serve_command` (the same question two ways, one answer).

Before (HEAD c56ab54) a disaggregated option was one layout split into two pools, so a TP8 prefill worker beside a
wide-EP decode worker (the README's DeepSeek-V3 `serve --prefill-tp 8` example) was never an answer: DeepSeek-V3 fp8
on H200 at 16 requests/s of 8,000 / 500 tokens, TTFT 1 s, TPOT 50 ms answered 96 H200 (TP2 PP4 colocated). Now:
80 H200, 9 TP8 prefill workers (each expert's FFN split over the TP group: MoE TP 8 in effect, EP 1) and one
attention-DP 8 x EP 8 decode worker.
"""

from __future__ import annotations

import shlex

import numpy as np
import pytest
from tests.cli.conftest import cli_json, serve_of_its_command

from infraplan.catalog import load_model
from infraplan.cli.commands.serve_plan import _own_prefill
from infraplan.cluster import Cluster
from infraplan.planning.fleet_mix_llm import deployment_line
from infraplan.serving.capacity_candidate import candidate_for
from infraplan.serving.capacity_layouts import own_prefill, prefill_layouts
from infraplan.serving.disaggregated import PrefillLayout
from infraplan.serving.handoff_floor import handoff_floor_s
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.results import ServingPlanResult
from infraplan.serving.serve_inputs import build_requests
from infraplan.serving.serving_sim import front_end_s

# (--kv-dtype fp8: the layout this pins was found with an fp8 cache, the preset's KV default before it carried its
# HF file's block-fp8 quantization_config, whose default is bf16: hL65)
PLAN = ("deepseek-v3 --system hgx-h200 --rate 16 --input-len 8000 --output-len 500 --ttft-slo 1 --tpot-slo 0.05 "
        "--dtypes fp8 --kv-dtype fp8")


def test_prefill_layouts_of_the_same_accelerators() -> None:
    """A wide-EP decode pool gets a TP prefill worker; an MoE-TP one TP and wide EP; a TP one wide EP; a dense
    model and a pipeline none. hY54: each also gets attention DP 8 x MoE TP 2 / 4 / 8 (the decode enumerator's
    degrees, `capacity_layouts.moe_tp_degrees`) but its own, last (updated from hY53's lists, which had none)."""
    shape = load_model("deepseek-v3")
    wide = Deployment(tp=1, ep=8, attention_dp=8, max_batch=64)
    tp8, ep8 = PrefillLayout(8, 1, 1, 1, 64), PrefillLayout(1, 1, 8, 8, 64)
    moe = {m: PrefillLayout(1, 1, 8 // m, 8, 64, m) for m in (2, 4, 8)}
    assert prefill_layouts(shape, wide) == [tp8, moe[2], moe[4], moe[8]]
    assert prefill_layouts(shape, Deployment(tp=1, ep=4, attention_dp=8, moe_tp=2, max_batch=64)) == [
        tp8, ep8, moe[4], moe[8]]
    assert prefill_layouts(shape, Deployment(tp=8, max_batch=64)) == [ep8, moe[2], moe[4], moe[8]]
    assert prefill_layouts(shape, Deployment(tp=8, pp=2, max_batch=64)) == []
    assert prefill_layouts(load_model("llama3-70b"), Deployment(tp=8, max_batch=64)) == []


def test_a_tp8_prefill_pool_beside_a_wide_ep_decode_pool_is_serve_of_its_command(
        capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, ["serve-plan", *shlex.split(PLAN)])
    assert plan["feasible"] and plan["meets_slo_full_run"] and plan["gpus"] == 80
    d = plan["deployment"]
    assert d["disaggregated"] and (d["tp"], d["attention_dp"], d["ep"]) == (1, 8, 8)
    pre, dec = d["prefill"], d["decode"]
    assert (pre["tp"], pre["attention_dp"], pre["ep"], pre["moe_tp"], pre["replicas"]) == (8, 1, 1, 1, 9)
    assert (dec["tp"], dec["attention_dp"], dec["ep"], dec["replicas"]) == (1, 8, 8, 1)
    assert "(9 prefill TP8 + 1 decode replicas, disaggregated)" in deployment_line(ServingPlanResult(**plan))
    assert [_own_prefill(o) for o in ServingPlanResult(**plan).alternatives or []][:2] == [" TP 8", " TP 8"]
    line = plan["serve_command"]
    assert "--prefill-gpus 72 --prefill-tp 8 --prefill-attention-dp 1 --prefill-ep 1" in line
    serve_of_its_command(capsys, plan)


def test_the_prefill_probes_hand_off_floor_is_priced_on_the_decode_pools_cost() -> None:
    """`Candidate.paired`: a TP8 prefill candidate beside a wide-EP-8 decode pool prices its probes' hand-off floor on
    the decode pool's iteration cost (the whole run's decode worker), and keys its verdicts on it."""
    cluster = Cluster.resolve("hgx-h200")
    shape, acc, fabric = load_model("deepseek-v3"), cluster.accelerator, cluster.fabric
    sample = build_requests(None, None, 8000, 500, 64, None, 0)
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64)
    decode = candidate_for(shape, acc, fabric, dep, sample)
    [(fields, pre), *moe_tp] = own_prefill(shape, acc, fabric, dep, decode, sample)  # hY54: MoE-TP ones after it
    assert [f["prefill_moe_tp"] for f, _ in moe_tp] == [2, 4, 8]
    assert fields == {"prefill_tp": 8, "prefill_attention_dp": 1, "prefill_ep": 1, "prefill_moe_tp": 1}
    assert pre.partner is decode
    alone = candidate_for(shape, acc, fabric, pre.dep, sample)
    assert alone.partner is None and alone.handoff_key != pre.handoff_key and alone.cost is pre.cost
    floor = handoff_floor_s(shape, fabric, pre.dep, decode.priced(sample, "decode"), sample.input_tokens,
                            sample.output_tokens)
    assert np.array_equal(pre._front_s(sample, "prefill"), front_end_s(pre.dep) + floor)
    assert not np.array_equal(alone._front_s(sample, "prefill"), pre._front_s(sample, "prefill"))
