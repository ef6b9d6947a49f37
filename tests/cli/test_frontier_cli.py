"""Issue 13's frontier serving commands as a demanding user varies them (helper hG6, validation/notes/
product_review_tried.md): a KV-cache format the chosen engine does not offer, and wide EP asked of a dense model.
Each test failed before its fix."""

from __future__ import annotations

import pytest

OFFLINE = ["--offline", "--input-len", "1000", "--output-len", "1000", "--requests", "50"]


@pytest.mark.parametrize("stack", ["sglang-0.x", "vllm-0.x"])
def test_an_int8_kv_cache_on_an_engine_without_one_is_refused(cli, stack: str) -> None:
    """SGLang 0.5.8 (`--kv-cache-dtype` choices) and vLLM 0.12 (`CacheDType`) have no int8 KV cache: the answer
    was priced as if they had one (exit 0, "int8 KV", the same numbers as fp8 on DeepSeek-R1)."""
    code, out, err = cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--kv-dtype", "int8",
                          "--stack", stack, *OFFLINE])
    assert code == 2 and not out.strip() and err.count("\n") == 1
    engine = stack.split("-")[0]
    assert f"--kv-dtype int8: {engine} has no int8 KV cache (it offers bf16, fp8)" in err


def test_an_int8_kv_cache_stays_on_tensorrt_llm(cli) -> None:
    """TensorRT-LLM has one (AIConfigurator's KVCacheQuantMode.int8): still served."""
    code, out, err = cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--kv-dtype", "int8",
                          "--stack", "trtllm-0.x", *OFFLINE])
    assert code == 0, err
    assert "int8 KV" in out


def test_an_fp8_kv_cache_on_an_accelerator_without_fp8_names_the_kv_option(cli) -> None:
    """bf16 weights, --kv-dtype fp8 on A100: the refusal pointed at weight formats ("use bf16, or the weight-only
    int4 or mxfp4"), not at the option the user gave."""
    code, out, err = cli(["serve", "llama3-8b", "--system", "a100-80gb", "--gpus", "1", "--kv-dtype", "fp8",
                          *OFFLINE])
    assert code == 2 and not out.strip() and err.count("\n") == 1
    assert "--kv-dtype fp8: a100-80gb has no fp8 support in its catalog file; use --kv-dtype bf16" in err
    assert "weight-only" not in err


def test_wide_ep_on_a_dense_model_says_it_is_dense(cli) -> None:
    """`--attention-dp 8` on Llama 3 70B said "got EP 8 for llama3-70b (1 experts)", an EP the user never gave."""
    code, out, err = cli(["serve", "llama3-70b", "--system", "gb200-nvl72", "--gpus", "8", "--attention-dp", "8",
                          "--tp", "1", "--dtype", "fp8", *OFFLINE])
    assert code == 2 and not out.strip() and err.count("\n") == 1
    assert "--attention-dp 8 is wide EP: it spreads an MoE model's experts over the attention-DP ranks; " \
           "llama3-70b is dense (no experts)" in err
    assert "1 experts" not in err


def test_attention_dp_with_an_explicit_ep_1_is_refused_not_priced_as_wide_ep(cli) -> None:
    """`--attention-dp 8 --ep 1` is SGLang's attention DP over MoE layers sharded by TP (its default ep_size 1):
    infraplan does not model that layout, and priced it silently as EP 8. Leaving --ep out keeps wide EP."""
    args = ["serve", "deepseek-r1", "--system", "dgx-b200", "--gpus", "8", "--attention-dp", "8", "--dtype", "fp8",
            "--stack", "sglang-0.x", *OFFLINE]
    code, out, err = cli([*args, "--ep", "1"])
    assert code == 2 and not out.strip() and err.count("\n") == 1
    assert "--attention-dp 8 with --ep 1" in err and "leave --ep out or give --ep 8" in err
    code, out, err = cli([*args, "--json"])
    assert code == 0, err
    assert '"ep": 8' in out
    code, _, err = cli([*args, "--ep", "8"])
    assert code == 0, err
