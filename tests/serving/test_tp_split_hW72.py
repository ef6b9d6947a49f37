"""`serve` / `serve-plan` keep the TP splits vLLM and SGLang build (hW, session 72).

`serve` checked only that TP divides the query heads: a config.json of 24 heads and 6 KV heads at TP 4 was priced
on vLLM (199 tokens/s at --rate 1), though vLLM's and SGLang's QKV projection asserts that the KV heads divide TP or
TP them (`train` refuses the same TP for Megatron-Core), and `intermediate_size` 11009 at TP 8 too (their FFN split
asserts it divides). Now one line, exit 2, on those engines; `serve-plan` and `--tp auto` try only the TPs they
build; TensorRT-LLM (not read) prices as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.config_copies import config_copy, one_line_error

import infraplan
from infraplan.serving.tp_split import tp_split_refusal

SERVE = ["--system", "dgx-h100-superpod", "--rate", "1", "--workload", "chat", "--requests", "50"]


def test_kv_heads_that_neither_divide_tp_nor_are_divided_are_refused(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    model = config_copy(tmp_path, "llama3-8b", "kv6", num_attention_heads=24, num_key_value_heads=6, head_dim=128)
    for stack, source in (("vllm-0.x", "vLLM 0.12.0 model_executor/layers/linear.py"),
                          ("sglang-0.x", "SGLang 0.5.9 srt/layers/linear.py")):
        err = one_line_error(capsys, "serve", model, *SERVE, "--gpus", "4", "--tp", "4", "--stack", stack)
        assert ("--tp 4: kv6's 6 KV heads neither divide TP 4 nor are divided by it (TPs meeting both head rules: 1, "
                "2, 3, 6, 12, 24)") in err and source in err
    # TP 2 and 6 build; TensorRT-LLM's layers were not read: priced as before
    assert infraplan.simulate_serving(model, "dgx-h100-superpod", gpus=2, tp=2, rate=1.0, workload="chat",
                                      requests=50, stack="vllm-0.x").output_tokens_per_s > 0
    assert infraplan.simulate_serving(model, "dgx-h100-superpod", gpus=4, tp=4, rate=1.0, workload="chat",
                                      requests=50, stack="trtllm-0.x").output_tokens_per_s > 0


def test_an_ffn_width_not_dividing_tp_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = config_copy(tmp_path, "llama3-8b", "ffn11009", intermediate_size=11009)
    err = one_line_error(capsys, "serve", model, *SERVE, "--gpus", "8", "--tp", "8", "--stack", "sglang-0.x")
    assert ("--tp 8: ffn11009's FFN width (intermediate_size) 11,009 is not divisible by TP 8 (TPs dividing it: 1)"
            in err)
    # the prefill pool's own TP is named as its option
    err = one_line_error(capsys, "serve", model, *SERVE, "--gpus", "8", "--tp", "1", "--prefill-gpus", "2",
                         "--prefill-tp", "2", "--stack", "vllm-0.x")
    assert err.startswith("infraplan: error: prefill pool: --prefill-tp 2: ffn11009's FFN width"), err


def test_tp_auto_tries_only_the_tps_the_engine_builds(tmp_path: Path) -> None:
    """48 heads, 6 KV heads, 70B in bf16 on 8 H100: TP 2 leaves under 25 % to the KV cache; TP 4 was chosen, which
    vLLM does not build (4 neither divides 6 nor is divided by it); now TP 2, the largest power of two it builds."""
    model = config_copy(tmp_path, "llama3-70b", "kv6-70b", num_attention_heads=48, num_key_value_heads=6, head_dim=128)
    result = infraplan.simulate_serving(model, "dgx-h100-superpod", gpus=8, tp="auto", rate=1.0, workload="chat",
                                        requests=50, stack="vllm-0.x")
    assert result.deployment.tp == 2, result.deployment.tp
    note = result.deployment.tp_source
    assert "; not TP 4, 8, which vLLM does not build for kv6-70b's KV heads or FFN width)" in note, note


def test_the_rule_per_engine_and_layout(tmp_path: Path) -> None:
    shape = infraplan.load_model(config_copy(tmp_path, "llama3-8b", "ffn11009", intermediate_size=11009))
    assert tp_split_refusal(shape, 2, "vllm") is not None
    assert tp_split_refusal(shape, 1, "vllm") is None
    assert tp_split_refusal(shape, 2, "trtllm") is None and tp_split_refusal(shape, 2, None) is None
    moe = infraplan.load_model("deepseek-v3")
    assert all(tp_split_refusal(moe, t, e) is None for t in (1, 2, 4, 8, 16, 32, 64) for e in ("vllm", "sglang"))


def test_serve_plan_tries_only_the_tps_the_engine_builds(tmp_path: Path) -> None:
    """A 70B-class model of 48 heads and 6 KV heads in fp8: vLLM builds TP 1, 2 (and 3, 6: not tried), not 4 or 8."""
    model = config_copy(tmp_path, "llama3-70b", "kv6-70b", num_attention_heads=48, num_key_value_heads=6, head_dim=128)
    answer = infraplan.plan_serving(model, "dgx-h100-superpod", 40.0, workload="chat", dtypes=("fp8",),
                                    stack="vllm-0.x")
    tps = {answer.deployment.tp, *(a.tp for a in answer.alternatives or [])}
    assert answer.feasible and tps <= {1, 2}, sorted(tps)
