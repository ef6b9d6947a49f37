"""`serve` and `serve-plan` refuse a CPU preset as `train`, `campus`, `plan` and `fleet-mix` do (hU, session 35).

Before, `serve llama3-70b --system xeon-8480 --gpus 8 --tp 8` priced TP8 over eight sockets (410 GiB of KV cache
per "accelerator", a TPOT error band from GPU campaigns) while `plan` and `fleet-mix` answer "xeon-8480 (cpu) does
not run LLM serving" and `train` "xeon-8480 is a CPU; LLM training needs an accelerator".
"""

from __future__ import annotations

import json

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.serving.capacity import search_capacity
from infraplan.serving.serving_api import estimate_serving


def test_llm_serving_on_a_cpu_is_refused() -> None:
    with pytest.raises(InputError, match="xeon-8480 is a CPU; LLM serving needs an accelerator"):
        estimate_serving("llama3-70b", "xeon-8480", 8, tp=8, rate=0.05, input_len=1000, output_len=100, requests=20)
    with pytest.raises(InputError, match="epyc-9654 is a CPU; image generation needs an accelerator"):
        estimate_serving("sd-v1.5-512", "epyc-9654", 1, rate=1.0, workload="image-generation", requests=20)
    with pytest.raises(InputError, match="xeon-8480 is a CPU; LLM serving"):
        search_capacity("llama3-8b", "xeon-8480", 0.1, input_len=100, output_len=100, ttft_slo=10.0, tpot_slo=1.0)


def test_cli_says_it_in_one_line_and_an_accelerator_still_serves(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["serve", "llama3-8b", "--system", "xeon-8480", "--gpus", "1", "--offline", "--input-len", "10",
                     "--output-len", "10", "--requests", "5", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip().count("\n") == 0 and "is a CPU" in err
    assert cli_main(["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", "--offline", "--input-len", "10",
                     "--output-len", "10", "--requests", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["deployment"]["gpus"] == 1


def test_serve_plan_names_dtypes_the_accelerator_lacks() -> None:
    """`serve-plan --dtypes nvfp4` on H100 answered "no deployment within 16,384 accelerators meets the SLOs" (it had
    searched nothing); `--dtypes bf16,nvfp4` dropped nvfp4 silently. `serve --dtype nvfp4` says why in one line."""
    args = {"input_len": 500, "output_len": 100, "ttft_slo": 1.0, "tpot_slo": 0.1, "requests": 300}
    with pytest.raises(InputError, match="--dtypes nvfp4: h100-sxm runs none of them"):
        search_capacity("llama3-8b", "dgx-h100-superpod", 5.0, dtypes=("nvfp4",), **args)
    both = search_capacity("llama3-8b", "dgx-h100-superpod", 5.0, dtypes=("bf16", "nvfp4"), **args)
    assert both.feasible and both.rejected[0] == "nvfp4: h100-sxm has no nvfp4 support in its catalog file"
