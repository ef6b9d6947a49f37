"""`serve-plan --json` and /api/serve-plan carry the `infraplan serve` line its text prints (`serve_command`, as
`search`'s rows carry `train_command`); before, only the human output had it (hQ3's review, session 37)."""

from __future__ import annotations

import json
import shlex

PLAN = ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "1", "--requests", "50",
        "--max-gpus", "2", "--input-len", "100", "--output-len", "50", "--ttft-slo", "2", "--tpot-slo", "0.2"]


def test_serve_plan_json_names_the_serve_line_that_gives_its_chosen_row(cli, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    code, out, err = cli([*PLAN, "--json"])
    assert code == 0, err
    plan = json.loads(out)
    argv = shlex.split(plan["serve_command"])
    assert argv[:3] == ["infraplan", "serve", "llama3-8b"] and "--requests" in argv
    code, text, _ = cli(PLAN)
    assert f"the full run again: {plan['serve_command']}" in text  # the same line in both outputs
    code, out, err = cli([*argv[1:], "--json"])
    assert code == 0, err
    served = json.loads(out)
    assert served["deployment"]["tp"] == plan["deployment"]["tp"]
    assert served["deployment"]["gpus"] * served["deployment"]["replicas"] == plan["gpus"]
    for key in ("ttft_s", "tpot_s", "e2e_s"):
        assert served[key] == plan["serve"][key]
    assert served["output_tokens_per_s"] == plan["serve"]["output_tokens_per_s"]


def test_an_infeasible_plan_has_no_serve_line(cli) -> None:
    code, out, _ = cli([*PLAN[:-4], "--ttft-slo", "0.0001", "--tpot-slo", "0.0001", "--json"])
    plan = json.loads(out)
    assert code == 0 and plan["feasible"] is False and plan.get("serve_command") is None
