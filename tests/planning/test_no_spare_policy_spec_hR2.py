"""hR2 (session 74): a plan / scenario training service and `search --tokens` take the no-spare policy as
`train --no-spare-policy` does (facility/spare_policy.py), one answer with train's; a service of another kind, an
unknown policy, or a search's policy without --tokens is refused in one line."""

from __future__ import annotations

import json
import shlex

import pytest
from pydantic import ValidationError

from infraplan.cli.main import main
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

NVL72 = "gb200-nvl72-superpod"


def spec(**service: object) -> dict[str, object]:
    return {"name": "nvl72", "phases": [{"name": "2026", "year": 2026}],
            "services": [{"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 576,
                          "seq_len": 4096, "global_batch": 576, **service}],
            "pools": [{"name": "nvl", "device": "gb200", "system": NVL72, "site": "s"}],
            "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]}


def test_a_training_service_takes_the_policy_and_its_row_prices_it() -> None:
    """576 of the SuperPOD's 576 GPUs: no spare domain. Waiting (53 % of the time all 8 in service) is slower than
    shrinking, which is the default a spec without the key gets."""
    rows = {p: plan_scenario(ScenarioSpec.model_validate(spec(no_spare_policy=p))).services[0]
            for p in ("shrink", "wait")}
    default = plan_scenario(ScenarioSpec.model_validate(spec())).services[0]
    assert ScenarioSpec.model_validate(spec()).services[0].no_spare_policy == "shrink"
    assert default.time_to_train_s == rows["shrink"].time_to_train_s
    assert rows["wait"].time_to_train_s > 1.3 * rows["shrink"].time_to_train_s
    assert rows["wait"].goodput == rows["shrink"].goodput  # Daly's goodput: the policy is in the wall clock only


def test_the_policy_is_refused_where_it_is_unknown_or_not_read() -> None:
    with pytest.raises(ValidationError, match="no_spare_policy"):
        ScenarioSpec.model_validate(spec(no_spare_policy="grow"))
    llm = spec()
    llm["services"] = [{"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 10,
                        "no_spare_policy": "wait"}]
    with pytest.raises(ValidationError, match="no_spare_policy is read by training services only"):
        ScenarioSpec.model_validate(llm)


SEARCH = ["search", "llama3-70b", "--system", NVL72, "--gpus", "576", "--seq-len", "8192", "--global-batch", "576",
          "--dtype", "fp8", "--tokens", "2T"]


def test_search_tokens_takes_the_policy_and_its_train_line_repeats_it(capsys: pytest.CaptureFixture[str]) -> None:
    runs = {}
    for policy in ("shrink", "wait"):
        capsys.readouterr()
        assert main([*SEARCH, "--no-spare-policy", policy, "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        runs[policy] = result["best_run"]
        assert runs[policy]["no_spare_policy"] == policy
        assert f"--no-spare-policy {policy}" in result["best_run_command"]
        assert main([*shlex.split(result["best_run_command"])[1:], "--json"]) == 0  # `infraplan train ...` again
        again = json.loads(capsys.readouterr().out)
        assert again["time_to_train_s"] == runs[policy]["time_to_train_s"]  # one answer, bit for bit
    assert runs["wait"]["time_to_train_s"] > 1.3 * runs["shrink"]["time_to_train_s"]


def test_search_refuses_the_policy_without_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*SEARCH[:-2], "--no-spare-policy", "wait"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--no-spare-policy prices a whole run's wall clock: it needs --tokens" in err


def test_one_spare_domain_is_said_in_the_singular() -> None:
    """hI74 found "1 72-GPU domains beyond the job's 7": 504 of the SuperPOD's 576 GPUs hold 7 of its 8 domains."""
    from infraplan.facility.reliability import reliability_report

    (line,) = [n for n in reliability_report(NVL72, 504, days=10, model="llama3-70b").notes
               if n.startswith("the goodput (")]
    assert "has 1 72-GPU domain beyond the job's 7" in line and "domains beyond" not in line


def test_a_deep_interleaved_pipeline_restarts_on_the_fastest_smaller_plan() -> None:
    """llama3-405b TP8 PP16 VPP4 DP128 on dgx-h100-superpod, global batch 2,048: 127 replicas give the busiest 17
    micro-batches, which the interleave refuses (a multiple of PP16); train's own choice at 17 (1F1B) beats 32
    interleaved (2,048 / (127 x 32) of a step's sequences), and the shrunk job takes it."""
    from infraplan.planning.shrunk_plan import shrunk_speed
    from infraplan.training.estimate import estimate_training

    system = "dgx-h100-superpod"
    est = estimate_training("llama3-405b", system, 16384, tp=8, pp=16, seq_len=8192, global_batch=2048)
    assert (est.config.dp, est.config.vpp) == (128, 4)
    speed = shrunk_speed(est, system)
    one_f_one_b = estimate_training("llama3-405b", system, 127 * 128, tp=8, pp=16, dp=127, seq_len=8192,
                                    global_batch=127 * 17, vpp=1)
    interleaved = estimate_training("llama3-405b", system, 127 * 128, tp=8, pp=16, dp=127, seq_len=8192,
                                    global_batch=127 * 32, vpp=4)
    shares = [e.tokens_per_s * 2048 / (127 * m) / est.tokens_per_s for e, m in ((one_f_one_b, 17), (interleaved, 32))]
    assert shares[0] > shares[1]
    assert speed(127 * 128) == pytest.approx(shares[0], rel=1e-9) and not speed.refused
