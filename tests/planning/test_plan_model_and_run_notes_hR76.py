"""hR (session 76): `reliability --plan` prices the job as `train` prices the same flags, and `search --tokens`
says its lines of the runs' best without a second search.

1. `reliability --plan` without `--model` priced reliability's default model (llama3-405b) silently; its default
   `--optimizer adam` passed to the plan where `train` takes the stack's recipe's (Kimi K2's Muon): refused in one
   line without --model; --optimizer not given leaves the plan's optimizer to train's rule, and the checkpoint is that
   optimizer's, as `train --tokens` sizes it.
2. `search --tokens` ran the whole search again (`again`) where the runs chose another best: the search now hands
   back its answer in another order (`search_plans(in_order=...)`), the nested searches of the other precisions and
   EP kind cached, so a search with --tokens runs no more grids than the same search without.
3. An MoE case where the runs move the winner: deepseek-v3 fp8 on 512 GB200 NVL72 GPUs at 1,024 sequences (shrink):
   the search's #3 (micro-batch 1, +2.04 % a step) finishes first (2 micro-batches a replica, so a replica lost
   costs a third of the step, not half); its EP line is said of it.
4. An unknown flag inside --plan no longer suggests the flags --plan refuses (`--gpu`: "--gpus").
"""

from __future__ import annotations

import json
import re

import pytest

from infraplan.cli.main import main
from infraplan.facility import outage

NVL72 = "gb200-nvl72-superpod"
SPARE = ("goodput", "expected_gpus_out_of_service", "goodput_of_gpus_held", "no_spare_policy", "full_size_fraction",
         "goodput_with_repairs")
JOBS = [  # (model, GPUs, train's plan flags, reliability's --optimizer or None)
    ("kimi-k2", 512, "--tp 1 --pp 8 --ep 64 --seq-len 4096 --global-batch 4096", None),  # its recipe's Muon
    ("llama3-8b", 576, "--seq-len 8192 --global-batch 1152 --optimizer muon", None),  # (refused inside --plan)
    ("llama3-8b", 576, "--seq-len 8192 --global-batch 1152", "muon"),
    ("llama3-70b", 576, "--tp 4 --pp 2 --seq-len 8192 --global-batch 576 --dtype fp8", None),  # adam
]


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:
    capsys.readouterr()
    assert main(args) == 0, args
    return json.loads(capsys.readouterr().out)


def _refused(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    capsys.readouterr()
    assert main(args) == 2, args
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(("model", "gpus", "plan", "optimizer"), [j for j in JOBS if "--optimizer" not in j[2]],
                         ids=["kimi-k2-recipe-muon", "llama3-8b-muon", "llama3-70b-adam"])
def test_reliability_plan_is_train_tokens_of_the_same_flags(model: str, gpus: int, plan: str, optimizer: str | None,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    given = ["--optimizer", optimizer] if optimizer else []
    run = _json(capsys, ["train", model, "--system", NVL72, "--gpus", str(gpus), *plan.split(), *given,
                         "--tokens", "1T", "--json"])
    report = _json(capsys, ["reliability", "--system", NVL72, "--gpus", str(gpus), "--model", model, *given,
                            "--plan", plan, "--json"])
    for name in SPARE:
        assert report[name] == run[name], name  # bit for bit: the same plan, optimizer and checkpoint
    assert report["model"] == model and report["optimizer"] == run["optimizer"] == (optimizer or (
        "muon" if model == "kimi-k2" else "adam"))


def test_kimi_k2_plan_takes_its_recipe_muon_and_muons_checkpoint(capsys: pytest.CaptureFixture[str]) -> None:
    """The base priced Adam's 14 B a parameter (14.37 TB) where train's run checkpoints Muon's (10.27 TB)."""
    model, gpus, plan, _ = JOBS[0]
    job = ["reliability", "--system", NVL72, "--gpus", str(gpus), "--model", model, "--json"]
    report = _json(capsys, [*job, "--plan", plan])
    adam = _json(capsys, [*job, "--optimizer", "adam", "--plan", plan])  # given: the plan steps with it, as train's
    assert report["checkpoint_bytes"] < 0.75 * adam["checkpoint_bytes"]
    assert report["goodput"] > adam["goodput"]  # a smaller checkpoint written faster


def test_plan_without_model_is_refused_and_an_optimizer_inside_is_reliabilitys(
        capsys: pytest.CaptureFixture[str]) -> None:
    job = ["reliability", "--system", NVL72, "--gpus", "576", "--json", "--plan"]
    err = _refused(capsys, [*job, "--tp 4 --pp 2 --seq-len 8192 --global-batch 576"])
    assert "give --model" in err and "llama3-405b" in err
    model, _, plan, _ = JOBS[1]
    assert "not --optimizer" in _refused(capsys, [*job, plan, "--model", model])


@pytest.mark.parametrize(("typed", "said"), [
    ("--gpu 3", "(possible options: --pp, --tp; --gpus: not taken inside --plan)"),
    ("--sytem x", "(infraplan train --help lists the plan's; --system: not taken inside --plan)"),
    ("--tokn 1T", "(possible options: --stack; --json, --tokens: not taken inside --plan)"),
    ("--t 2", "(possible options: --etp, --stack, --tp)"),
])
def test_unknown_flag_in_plan_suggests_only_plan_flags(typed: str, said: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The base: "No such option: --gpu (Possible options: --gpus, --pp, --tp)", --gpus refused inside --plan."""
    err = _refused(capsys, ["reliability", "--system", NVL72, "--gpus", "576", "--model", "llama3-70b", "--plan",
                            f"--tp 4 --seq-len 8192 --global-batch 576 {typed}"])
    assert err.endswith(f"No such option: {typed.split()[0]} {said}"), err


DEEPSEEK = ["search", "deepseek-v3", "--system", NVL72, "--gpus", "512", "--seq-len", "4096", "--global-batch",
            "1024", "--dtype", "fp8"]


def test_moe_search_tokens_moves_the_winner_and_says_its_ep_line_of_it(capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outage, "FREE_TRAYS", False)  # (hZ2 77: counted as spares, --segment 16's 2 free trays a
    # rack keep the 512-GPU runs at full size nearly always, and the runs no longer move this winner)
    plain = _json(capsys, [*DEEPSEEK, "--json"])
    ran = _json(capsys, [*DEEPSEEK, "--tokens", "1T", "--json"])
    first, best = plain["best"], ran["best"]
    assert any(n.startswith("--tokens: the best plan is the search's #3 (+2.04% a step)") for n in ran["notes"])
    assert best == plain["top"][2] and best["config"]["micro_batch"] == 1 and first["config"]["micro_batch"] == 2
    assert best["config"]["ep"] == first["config"]["ep"] == 64
    for answer, row in ((plain, first), (ran, best)):  # "why EP 64": the other kind's best against this best
        other = float(re.search(r"takes (\S+) s a step, (\S+)%", answer["ep_choice"]).group(1))
        gap = re.search(r"takes \S+ s a step, (\S+)%", answer["ep_choice"]).group(1)
        assert gap == f"{abs(other - row['step_time_s']) / row['step_time_s'] * 100:.1f}"
    assert plain["ep_choice"] != ran["ep_choice"]


@pytest.mark.parametrize("args", [
    DEEPSEEK,
    ["search", "llama3-8b", "--system", NVL72, "--gpus", "576", "--seq-len", "8192", "--global-batch", "1152"],
], ids=["deepseek-v3-moe", "llama3-8b-dense"])
def test_search_tokens_runs_no_second_search(args: list[str], capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """hL75's `again` ran every grid twice where the runs moved the winner (the search and its nested searches of
    the other precisions / EP kind); the answer in the runs' order is now said from the first search."""
    import infraplan.training.search as search

    grids: list[int] = []
    real = search._search_grid

    def counted(*a, **k):  # type: ignore[no-untyped-def]
        grids.append(1)
        return real(*a, **k)

    monkeypatch.setattr(search, "_search_grid", counted)
    monkeypatch.setattr(outage, "FREE_TRAYS", False)  # (the runs moving the winner, as above)
    _json(capsys, [*args, "--json"])
    alone = len(grids)
    ran = _json(capsys, [*args, "--tokens", "1T", "--json"])
    assert any("the best plan is the search's #" in n for n in ran["notes"])  # the runs moved the winner
    assert len(grids) - alone == alone  # the same grids as the search alone (the base: twice as many)
