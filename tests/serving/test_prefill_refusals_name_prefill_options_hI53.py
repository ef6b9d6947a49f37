"""Every refusal reached through a `serve --prefill-*` flag names the --prefill-* option (hI, session 53).

`serve mixtral-8x7b ... --prefill-gpus 16 --prefill-ep 16` refused with "prefill pool: EP 16 needs ... (or
--attention-dp for EP across attention data-parallel ranks)": `--attention-dp` is the decode pool's option; the
prefill pool's is `--prefill-attention-dp` (hL53's note). `check_deployment(..., pool="prefill-")`
(`disaggregated.split_pools`) now names the prefill pool's options in each layout refusal, and `split_pools`' own
"not a multiple" line names the --prefill-tp / --prefill-pp / --prefill-attention-dp it multiplies. The decode
pool's lines are unchanged.
"""

from __future__ import annotations

import re

import pytest

from infraplan.catalog import load_model
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.disaggregated import PrefillLayout, split_pools
from infraplan.serving.llm_iteration import Deployment
from infraplan.validation.release_stacks import data_stack

MIXTRAL, LLAMA, V3 = load_model("mixtral-8x7b"), load_model("llama3-8b"), load_model("deepseek-v3")
H100, H200, B200 = (Cluster.resolve(s).accelerator for s in ("h100-sxm", "hgx-h200", "b200"))
SGLANG = {"engine": "sglang", "stack": "sglang-0.x"}
DECODE_OPTION = re.compile(r"--(?!prefill-)(tp|pp|ep|attention-dp|moe-tp|max-batch|gpus)\b")

CASES = [  # (model, part, decode pool, prefill GPUs, layout, the --prefill-* options the line must name)
    pytest.param(MIXTRAL, H100, Deployment(tp=2), 16, PrefillLayout(ep=16),
                 ["--prefill-ep", "--prefill-attention-dp"], id="ep-16-of-8-experts"),  # hL53's case
    pytest.param(LLAMA, H100, Deployment(tp=2), 2, PrefillLayout(ep=2),
                 ["--prefill-ep", "--prefill-attention-dp"], id="ep-on-dense"),
    pytest.param(MIXTRAL, H100, Deployment(tp=2), 8, PrefillLayout(attention_dp=2, ep=16),
                 ["--prefill-ep", "--prefill-attention-dp", "--prefill-tp"], id="wide-ep-mismatch"),
    pytest.param(LLAMA, H100, Deployment(tp=1), 2, PrefillLayout(attention_dp=2),
                 ["--prefill-attention-dp 2", "--prefill-tp 1 and --prefill-gpus N"], id="attention-dp-on-dense"),
    pytest.param(MIXTRAL, H100, Deployment(tp=1), 3, PrefillLayout(tp=3), ["--prefill-tp"], id="heads-by-tp"),
    pytest.param(MIXTRAL, H100, Deployment(tp=1), 33, PrefillLayout(pp=33), ["--prefill-pp"], id="pp-over-layers"),
    pytest.param(MIXTRAL, H100, Deployment(tp=1), 4, PrefillLayout(tp=3),
                 ["--prefill-tp 3 x --prefill-pp 1 x --prefill-attention-dp 1"], id="not-a-multiple"),
    pytest.param(MIXTRAL, H100, Deployment(tp=1, **SGLANG), 6, PrefillLayout(tp=2, attention_dp=3, ep=6),
                 ["--prefill-ep 6"], id="sglang-ep-not-dividing-experts"),
    pytest.param(MIXTRAL, B200, Deployment(tp=1, dtype="mxfp8", **SGLANG), 2, PrefillLayout(tp=2, ep=2),
                 ["--prefill-ep 2"], id="sglang-mxfp8-experts-at-ep"),
    pytest.param(V3, H200, Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="fp8", engine="sglang",
                                      stack=data_stack("sglang-0.x-mixed-chunk-recv30.yaml")),
                 8, PrefillLayout(tp=1, attention_dp=8), ["--prefill-attention-dp 8"], id="recv-interval-with-adp"),
    pytest.param(MIXTRAL, H100, Deployment(tp=2), 0, PrefillLayout(ep=2), ["--prefill-gpus"], id="no-prefill-gpus"),
]


@pytest.mark.parametrize(("shape", "part", "decode", "gpus", "layout", "options"), CASES)
def test_each_prefill_refusal_names_the_prefill_option(shape, part, decode, gpus, layout, options) -> None:
    with pytest.raises(InputError) as refused:
        split_pools(shape, part, decode, gpus, layout)
    line = str(refused.value)
    assert "\n" not in line
    for option in options:
        assert option in line, (option, line)
    assert not DECODE_OPTION.search(line), line  # no decode pool option named for a prefill pool's layout


def test_serve_prefill_ep_16_on_8_experts_names_prefill_attention_dp(capsys: pytest.CaptureFixture[str]) -> None:
    """hL53's command, end to end: one line, exit 2, naming --prefill-ep and --prefill-attention-dp."""
    assert main(["serve", "mixtral-8x7b", "--system", "h100-sxm", "--gpus", "24", "--prefill-gpus", "16",
                 "--prefill-ep", "16", "--workload", "chat", "--rate", "2", "--requests", "20"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--prefill-attention-dp for EP across" in err and "(--prefill-ep)" in err, err
    assert not DECODE_OPTION.search(err), err


def test_decode_pool_refusal_is_unchanged(capsys: pytest.CaptureFixture[str]) -> None:
    """The decode pool's `--ep 16` names the decode options, as before."""
    assert main(["serve", "mixtral-8x7b", "--system", "h100-sxm", "--gpus", "16", "--tp", "2", "--ep", "16",
                 "--workload", "chat", "--rate", "2", "--requests", "20"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("EP 16 needs an MoE model with experts and TP divisible by it (or --attention-dp for EP "
                        "across attention data-parallel ranks); mixtral-8x7b has 8 experts, TP 2"), err
