"""hR (session 73): `serve-plan --output-len 1` needs no TPOT SLO.

hW73: `serve-plan llama3.1-8b --system dgx-h100-superpod --rate 2 --input-len 1000 --output-len 1 --ttft-slo 0.05`
was refused, "give --ttft-slo and --tpot-slo", though one output token has no decode step and the runs mask
one-token requests from TPOT (`serving.request_metrics`). Now the answer has no TPOT SLO (`slo.tpot_s` null), one
note says why, and its `serve_command` (no --tpot-slo) reruns to the same figures. A length above 1 still needs one.
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json, serve_of_its_command

from infraplan.cli import main

PLAN = ["serve-plan", "llama3.1-8b", "--system", "dgx-h100-superpod", "--rate", "2", "--input-len", "1000",
        "--output-len", "1", "--ttft-slo", "0.5", "--requests", "300"]


def test_one_output_token_needs_only_a_ttft_slo(capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, PLAN)
    assert plan["feasible"] and plan["gpus"] == 1
    assert plan["slo"] == {"ttft_s": 0.5, "tpot_s": None, "percentile": 99.0}
    assert "--tpot-slo" not in plan["serve_command"] and "--ttft-slo 0.5" in plan["serve_command"]
    assert any(n.startswith("--output-len 1: no request has a decode step, so no TPOT SLO is needed")
               for n in plan["notes"])
    served = serve_of_its_command(capsys, plan)  # the same question two ways: every figure of `serve`
    assert served["ttft_s"]["p99"] == plan["serve"]["ttft_s"]["p99"]
    capsys.readouterr()
    assert main(PLAN[:-2]) == 0  # the table prints TTFT alone
    assert "SLO p99: TTFT ≤ 500 ms" in capsys.readouterr().out


def test_a_tpot_slo_given_at_one_token_is_said_not_counted(capsys: pytest.CaptureFixture[str]) -> None:
    plan = cli_json(capsys, [*PLAN, "--tpot-slo", "1ms"])
    assert plan["slo"]["tpot_s"] == 0.001 and plan["feasible"]
    assert any("so a --tpot-slo is not counted" in n for n in plan["notes"])


@pytest.mark.parametrize("args, says", [
    (["--output-len", "2", "--ttft-slo", "0.5"], "give --tpot-slo (or a workload that defines them)"),  # (hW75)
    (["--output-len", "2"], "give --ttft-slo and --tpot-slo (or a workload that defines them)"),
    (["--output-len", "1"], "--output-len 1 needs only --ttft-slo"),
])
def test_refusals(args: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(["serve-plan", "llama3.1-8b", "--system", "dgx-h100-superpod", "--rate", "2", "--input-len", "1000",
                 *args])
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
