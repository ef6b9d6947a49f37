"""hI54 review of `serve --prefill-moe-tp` / `--moe-tp` (hY54, hC51): a dense model given MoE TP; hand-mutant
killers for the prefill pool's `given`, serve-plan's missed line and `decode_kernels.mma_dtype`.

Before, `serve llama3-8b --moe-tp 2` (or `--prefill-gpus 2 --prefill-moe-tp 2`) answered "give --attention-dp > 1",
and the line it sends the user to is refused in turn ("--attention-dp 2 is wide EP ...; llama3-8b is dense"): a loop.
Now the refusal says the model has no experts to split. Checked failing on bc3ff52 (the old line).
"""

from __future__ import annotations

import pytest

from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.serving.capacity_answer import missed_lines
from infraplan.serving.decode_kernels import mma_dtype

DENSE = ["serve", "llama3-8b", "--system", "hgx-h200", "--gpus", "4", "--input-len", "500", "--output-len", "50",
         "--rate", "2", "--requests", "10"]


@pytest.mark.parametrize(("extra", "flag"), [
    (["--moe-tp", "2"], "--moe-tp"),
    (["--prefill-gpus", "2", "--prefill-moe-tp", "2"], "--prefill-moe-tp"),
])
def test_moe_tp_on_a_dense_model_says_it_has_no_experts(capsys: pytest.CaptureFixture[str], extra: list[str],
                                                        flag: str) -> None:
    capsys.readouterr()
    assert main([*DENSE, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "llama3-8b is dense (no experts)" in err and f"drop {flag}" in err, err
    assert "attention-dp > 1" not in err


def test_prefill_moe_tp_alone_asks_for_the_prefill_pool(capsys: pytest.CaptureFixture[str]) -> None:
    """--prefill-moe-tp without --prefill-gpus describes a prefill pool there is none of: refused, not ignored
    (`PrefillLayout.given`; a hand mutant dropping moe_tp there ran the aggregated deployment, exit 0)."""
    moe = ["serve", "deepseek-v3", "--system", "hgx-h200", "--gpus", "16", "--attention-dp", "8", "--dtype", "fp8",
           "--input-len", "2000", "--output-len", "100", "--rate", "2", "--requests", "20"]
    capsys.readouterr()
    assert main([*moe, "--prefill-moe-tp", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--prefill-moe-tp describe a prefill pool: give its --prefill-gpus" in err


def test_a_missed_moe_tp_prefill_option_names_its_moe_tp() -> None:
    """serve-plan's `rejected` line of a MoE-TP prefill option that missed names its MoE TP (else it reads as the
    wide-EP prefill pool of the same attention DP, another option); one at MoE TP 1 as before."""
    option = {"dtype": "mxfp8", "tp": 8, "pp": 1, "attention_dp": 1, "ep": 1, "moe_tp": 1, "max_batch": 64,
              "gpus": 40, "disaggregated": True, "prefill_replicas": 1, "prefill_tp": 1, "prefill_attention_dp": 8,
              "prefill_ep": 1, "prefill_moe_tp": 8}
    missed = {"ttft_s": {"p99": 4.0}, "tpot_s": {"p99": 0.01}}
    got = missed_lines([(option, (missed, 100, ""), False)], {}, "p99", (3.0, 0.012))
    assert got and "1 prefill replicas (TP1 DP-attention8 EP1 MoE-TP8) on 40" in got[0], got
    wide = {**option, "prefill_ep": 8, "prefill_moe_tp": 1}
    assert "(TP1 DP-attention8 EP8) on 40" in missed_lines([(wide, (missed, 100, ""), False)], {}, "p99",
                                                           (3.0, 0.012))[0]


def test_vllms_mxfp4_wave_fit_runs_at_the_bf16_peak() -> None:
    """`decode_kernels.mma_dtype`: vLLM's MXFP4 x BF16 GEMMs on a part with mxfp4 tensor cores
    (`trtllm_gen_moe.bf16_input_gemm`) run their MMA at bf16, TensorRT-LLM's MXFP4 x MXFP8 at the 8-bit rate (a hand
    mutant dropping the bf16-input branch survived hY54's tests)."""
    b200 = Cluster.resolve("b200").accelerator
    assert (mma_dtype(b200, "mxfp4", "vllm"), mma_dtype(b200, "mxfp4", "trtllm")) == ("bf16", "fp8")
