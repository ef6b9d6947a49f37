"""The same question asked two ways, fuzzed (hF, session 53; hypothesis, derandomized, bounded): `serve-plan`'s
chosen deployment is `serve` of its `serve_command` for drawn questions (dense, MoE and GPT-OSS models; H100, H200,
B200 and GB200 NVL72 systems; the three serving stacks or the part's default; chat or fixed lengths; a rate), as
tests/consistency/test_serve_plan_is_serve_hC70.py asks it of two fixed questions: the deployment, the GPU count,
TTFT / TPOT and every other figure of the run, and both error bands, equal. A band's basis may differ by one
clause only: serve-plan, not given a stack, says which default it took; `serve` was given it by the line.
"""

from __future__ import annotations

import json
import os
import re
import shlex

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from tests.cli.conftest import cli_json

from infraplan.cli.main import main

EXAMPLES = int(os.environ.get("HF53_EXAMPLES", "5"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MODELS = ("llama3-8b", "qwen3-32b", "llama3-70b", "mixtral-8x7b", "gpt-oss-20b", "qwen3-30b-a3b",
          # HF53_HEAVY=1: the wide-EP / own-prefill MoE models too (5-20 s a search, so not in the suite's draws)
          *(("deepseek-v3", "gpt-oss-120b") if os.environ.get("HF53_HEAVY") else ()))
SYSTEMS = ("dgx-h100-superpod", "hgx-h200", "dgx-b200", "gb200-nvl72")
DEFAULT_STACK_CLAUSE = re.compile(r"; [\w.-]+ is the default serving stack on this part's vendor, not [\w.-]+")


@FUZZ
@given(st.sampled_from(MODELS), st.sampled_from(SYSTEMS), st.sampled_from([None, "trtllm-0.x", "vllm-0.x",
                                                                           "sglang-0.x"]),
       st.sampled_from(["--workload chat", "--input-len 2000 --output-len 200 --ttft-slo 1 --tpot-slo 0.05",
                        "--input-len 500 --output-len 1000 --ttft-slo 2 --tpot-slo 0.03"]),
       st.sampled_from([1, 4, 16]), st.sampled_from(["", "--dtypes fp8", "--dtypes bf16,fp8", "--dtypes nvfp4,fp8"]))
def test_a_drawn_serve_plans_answer_is_serve_of_its_command(capsys, model, system, stack, lengths, rate,
                                                            dtypes) -> None:
    line = f"serve-plan {model} --system {system} --rate {rate} {lengths} --requests 200 {dtypes}"
    capsys.readouterr()
    code = main([*shlex.split(line), *(["--stack", stack] if stack else []), "--json"])
    out, err = capsys.readouterr()
    assert code in (0, 2), (line, err)
    assume(code == 0)  # a refused question (e.g. a precision the stack does not serve) has no deployment to rerun
    plan = json.loads(out)
    if not plan["feasible"]:
        event("no deployment")
        return
    served = cli_json(capsys, shlex.split(plan["serve_command"])[1:])
    for key in [k for k in served["deployment"] if k.endswith("_source")]:  # what the line gave, serve says so
        if served["deployment"][key] != plan["deployment"].get(key):
            assert served["deployment"].pop(key).startswith("--"), (line, key)
            plan["deployment"].pop(key, None)
    assert served["deployment"] == plan["deployment"], line
    assert {k: (v, served[k]) for k, v in plan["serve"].items() if served[k] != v} == {}, line
    assert [served[k] for k in ("stack", "model", "system", "accelerator")] == \
        [plan[k] for k in ("stack", "model", "system", "accelerator")], line
    for band in ("error_band", "ttft_error_band"):
        planned, alone = dict(plan[band]), dict(served[band])
        basis = planned.pop("basis")
        assert alone.pop("basis") == DEFAULT_STACK_CLAUSE.sub("", basis) and planned == alone, (line, band)
