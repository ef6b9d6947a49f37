"""hS (session 75): the spare fields declared once; `reliability --plan` gives train --tokens's answer for the same
job; `search --tokens` ranks its first plans by the run's time.

1. `expected_gpus_out_of_service`, `goodput_of_gpus_held`, `no_spare_policy`, `full_size_fraction` and
   `goodput_with_repairs` were declared (with two wordings) in facility/results.py and planning/results.py: now one
   base, `facility.results.SpareFields`, both results subclass.
2. `reliability` under shrink said "each replica at full speed: no plan given" (91.14 %) where `train --tokens`
   says 89.28 % for hW73's llama3-70b TP4 PP2 fp8 job on all 576 GPUs of gb200-nvl72-superpod: `--plan` gives it
   the plan (train's flags, read by train's parser), and the two agree.
3. `search --tokens` took the best by step time before pricing the run: now the runs of the first
   `RUN_RANKED_PLANS` by step time (the best's tier) are priced and the one that finishes first is the best, its
   run = `train --tokens` of its command.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from infraplan.cli.main import main
from infraplan.facility.results import ReliabilityReport, SpareFields
from infraplan.planning.results import TrainingRunTotals
from infraplan.planning.search_run import RUN_RANKED_PLANS, ranked_note, run_ranked, searched_top

NVL72 = "gb200-nvl72-superpod"
PLAN = "--tp 4 --pp 2 --seq-len 8192 --global-batch 576 --dtype fp8"
TRAIN = ["train", "llama3-70b", "--system", NVL72, "--gpus", "576", *PLAN.split(), "--tokens", "2T", "--json"]
RELIABILITY = ["reliability", "--system", NVL72, "--gpus", "576", "--model", "llama3-70b", "--days", "10", "--json"]
SPARE = ("expected_gpus_out_of_service", "goodput_of_gpus_held", "no_spare_policy", "full_size_fraction",
         "goodput_with_repairs")


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict:
    capsys.readouterr()
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_the_spare_fields_are_one_base_of_both_results() -> None:
    assert tuple(SpareFields.model_fields) == SPARE
    for result in (ReliabilityReport, TrainingRunTotals):
        assert issubclass(result, SpareFields)
        for name in SPARE:  # one declaration: the same field object, its description and default
            assert result.model_fields[name] is SpareFields.model_fields[name] or (
                result.model_fields[name].description == SpareFields.model_fields[name].description)
            assert name not in result.__annotations__  # (not declared again in the subclass)
    assert "shrink_unit_gpus" in ReliabilityReport.model_fields and "shrink_unit_gpus" not in SpareFields.model_fields


@pytest.mark.parametrize("policy", ["shrink", "wait"])
def test_reliability_with_the_plan_gives_train_tokens_answer(policy: str, capsys: pytest.CaptureFixture[str]) -> None:
    run = _json(capsys, [*TRAIN, "--no-spare-policy", policy])
    report = _json(capsys, [*RELIABILITY, "--no-spare-policy", policy, "--plan", PLAN])
    for name in SPARE:
        assert report[name] == run[name], name  # bit for bit: one rule, one speed of the smaller plans
    assert report["goodput"] == run["goodput"] and report["shrink_unit_gpus"] == 8
    if policy == "shrink":
        assert f"{report['goodput_with_repairs']:.4f}" == "0.8928"
        assert any("each smaller plan's step priced at the same global batch" in n for n in report["notes"])
        plain = _json(capsys, [*RELIABILITY, "--shrink-unit", "8"])  # no plan: today's stated assumption kept
        assert f"{plain['goodput_with_repairs']:.4f}" == "0.9114"
        assert any("each replica at full speed: no plan given, --plan prices its smaller plans" in n
                   for n in plain["notes"])


@pytest.mark.parametrize(("plan", "words"), [
    ("--tp 4 --tokens 1T", "not --tokens"),
    ("--tp 4 --gpus 8", "not --gpus"),
    ("--tp 4 --bogus 3", "No such option: --bogus"),
    ("--tp 4", "Missing option '--seq-len'"),
    ("--tp 4 --tp 8 --seq-len 8192 --global-batch 576", "--tp is given twice"),
    ("'--tp 4", "No closing quotation"),
    ("--help", "not --help"),
    (f"{PLAN} --lora-rank 16", "--plan with --lora-rank"),
])
def test_a_bad_plan_is_one_line(plan: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["reliability", "--system", NVL72, "--gpus", "576", "--model", "llama3-70b", "--plan", plan]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.strip().splitlines()) == 1 and words in out.err


def test_a_shrink_unit_other_than_the_plans_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main([*RELIABILITY, "--plan", PLAN, "--shrink-unit", "72"]) == 2
    assert "the plan sheds 8 GPUs together" in capsys.readouterr().err
    assert _json(capsys, [*RELIABILITY, "--plan", PLAN, "--shrink-unit", "8"])["shrink_unit_gpus"] == 8


def _row(step: float, flagged: bool = False) -> SimpleNamespace:
    return SimpleNamespace(step_time_s=step, beyond_published_mfu=flagged, low_memory_headroom=False)


def _runs(times: dict[float, float]):
    priced: list[float] = []

    def price(row: SimpleNamespace) -> SimpleNamespace:
        priced.append(row.step_time_s)
        return SimpleNamespace(time_to_train_s=times[row.step_time_s], goodput_with_repairs=0.9,
                               no_spare_policy="shrink")
    return price, priced


def test_the_run_that_finishes_first_is_the_best_within_its_tier() -> None:
    rows = [_row(1.0), _row(1.004), _row(1.01), _row(1.02, flagged=True), _row(1.03), _row(1.05), _row(1.06)]
    price, priced = _runs({1.0: 12.85, 1.004: 12.5, 1.01: 13.0, 1.02: 1.0})
    order, runs = run_ranked(rows, price, RUN_RANKED_PLANS)
    assert priced == [1.0, 1.004, 1.01]  # the first five, cut where the tier changes (a flagged plan stays after)
    assert order == [1, 0, 2] and [r.time_to_train_s for r in runs] == [12.5, 12.85, 13.0]
    (line,) = ranked_note(rows, order, runs)
    assert line.startswith("--tokens: the best plan is the search's #2 (+0.40% a step)") and "the first 3" in line
    price, priced = _runs({1.0: 2.0, 1.004: 2.0 * (1 + 1e-12), 1.01: 1.0})  # a tie within 1e-9 keeps the order
    order, _ = run_ranked(rows, price, 2)
    assert priced == [1.0, 1.004] and order == [0, 1] and ranked_note(rows, order, []) == []
    tied = [_row(1.0), _row(1.003), _row(0.995)]  # the guard's tie band: a faster plan ranked after (simplest first)
    price, priced = _runs({1.0: 10.0, 1.003: 10.03, 0.995: 9.95})  # runs by their steps alone: the order stands
    assert run_ranked(tied, price, 5)[0] == [0, 1, 2]
    price, priced = _runs({1.0: 10.0, 1.003: 10.03, 0.995: 9.9})  # its repairs cost less: it moves up
    assert run_ranked(tied, price, 5)[0] == [2, 0, 1]
    assert searched_top(1, "2T") == RUN_RANKED_PLANS and searched_top(8, "2T") == 8 and searched_top(1, None) == 1


def test_search_tokens_top_row_is_train_tokens_of_it_and_top_does_not_move_it(
        capsys: pytest.CaptureFixture[str]) -> None:
    """hR2's 576-GPU job searched: the best row's run is `train --tokens` of its command; --top 1 keeps the best
    (the search keeps `searched_top`'s rows under --tokens, then lists --top)."""
    base = ["search", "llama3-70b", "--system", NVL72, "--gpus", "576", "--seq-len", "8192", "--global-batch", "576",
            "--dtype", "fp8", "--tokens", "2T", "--json"]
    wide = _json(capsys, base)
    one = _json(capsys, [*base, "--top", "1"])
    assert wide["run_ranked_count"] == one["run_ranked_count"] == RUN_RANKED_PLANS
    assert one["best"] == wide["best"] and len(one["top"]) == 1 and one["best_run"] == wide["best_run"]
    command = wide["best_run_command"].split()[1:]
    assert command[command.index("--tokens") + 1] == "2T"
    train = _json(capsys, [*command, "--json"])
    assert train["time_to_train_s"] == wide["best_run"]["time_to_train_s"]


README_SEARCHES = [  # README.md's two search lines, with a run's tokens, and hR2's job filling the NVL72 SuperPOD
    ("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048, "auto"),
    ("deepseek-v3", NVL72, 512, 4096, 4096, "fp8"),
    ("llama3-70b", NVL72, 576, 8192, 576, "fp8"),
]


@pytest.mark.parametrize("case", README_SEARCHES, ids=[c[0] for c in README_SEARCHES])
def test_widening_the_ranked_plans_does_not_change_the_winner(case) -> None:
    from infraplan.cluster.cost import CostOverrides
    from infraplan.planning.search_run import search_with_run
    from infraplan.training.search import search_plans

    model, system, gpus, seq, batch, dtype = case
    result = search_plans(model, system, gpus, seq, batch, dtype=dtype, top=20)
    best = {}
    for ranked in (1, RUN_RANKED_PLANS, 20):
        run = search_with_run(result, model, system, "1T", stack=None, sharp=False, memory_margin=None, location=None,
                              overrides=CostOverrides(), evaluated=None, flags="--tokens 1T", top=5, ranked=ranked)
        best[ranked] = (run.best.train_command, run.best_run.time_to_train_s)
        assert run.run_ranked_count <= ranked and len(run.top) == 5
    assert best[RUN_RANKED_PLANS] == best[20]
    if model == "llama3-70b":  # the search's #1, DP576 at one sequence a replica, halves its speed on a domain out:
        assert best[1][1] / 86400 == pytest.approx(5.983, abs=1e-3)  # its run on 1T is 5.98 days,
        assert best[RUN_RANKED_PLANS][1] / 86400 == pytest.approx(5.515, abs=1e-3)  # CP2 DP288's 5.51
        assert " --cp 2 " in best[RUN_RANKED_PLANS][0] and " --dp 576 " in best[1][0]
    else:
        assert best[1] == best[RUN_RANKED_PLANS]
