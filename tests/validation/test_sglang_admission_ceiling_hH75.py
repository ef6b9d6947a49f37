"""SGLang 0.5.6.post2's OSL-100 rows admit more prompts an iteration than the shipped budget lets the adder admit
(session 75, hH; validation/notes/serving_hopper_tried.md, "Session 75 (hH)").

A closed-loop row states its clients c, ISL / OSL and mean TTFT / TPOT: its requests/s is c over the cycle (TTFT +
(OSL - 1) TPOT), the sequences decoding are requests/s x OSL x TPOT (Little's law) and, one token a sequence an
iteration, the prompts started an iteration are requests/s x TPOT. SGLang's PrefillAdder with --enable-mixed-chunk
(`serving.schedulers.SglangPrefillAdder`, read in the 0.5.6.post2 wheel) takes a further whole prompt only while
its input is below the budget left, the budget being max_prefill_tokens (the rendered ISL + 1,500,
`serving_hopper.campaign_limits`) less the decoding sequences. Five OSL-100 rows need more prompts an iteration
than that ceiling (C1 of the notes, hA60), while the model's own run of each stays within it: the admission, not
the iteration's cost, is what those rows' TTFT error (+77 to +304 %) rests on, and the flag they ran is unsourced.
"""

from __future__ import annotations

from collections import deque

from infraplan.serving.schedulers import SglangPrefillAdder
from infraplan.validation import serving_hopper

OVER_CEILING = {("2", "128", "2000"), ("4", "176", "2000"), ("4", "352", "1000"), ("8", "240", "2000"),
                ("8", "448", "1000")}  # (TP, clients, ISL) of the OSL-100 rows above the ceiling


def _rate(row: dict[str, str], ttft_s: float, tpot_s: float) -> tuple[float, float]:
    """(requests/s, sequences decoding) of a closed loop at the row's clients and lengths."""
    clients, osl = int(row["batch_size"]), int(row["osl"])
    rate = clients / (ttft_s + (osl - 1) * tpot_s)
    return rate, rate * osl * tpot_s


def _ceiling(budget: int, isl: int, decoding: float) -> int:
    """Whole ISL-token prompts the adder starts in one mixed iteration beside `decoding` sequences."""
    adder = SglangPrefillAdder()
    adder.widest = budget  # the first iteration's whole budget (nothing decodes yet)
    queue = deque([[j, isl, 0] for j in range(16)])
    adder.schedule_prefill(queue, budget - int(round(decoding)))
    return adder.prompts


def _osl100_rows() -> list[dict[str, str]]:
    return [row for row in serving_hopper.load_rows()
            if row["backend"] == "sglang" and row["backend_version"] == "0.5.6.post2" and row["osl"] == "100"]


def test_five_osl100_rows_start_more_prompts_an_iteration_than_the_rendered_budget_admits():
    over = set()
    for row in _osl100_rows():
        tpot = float(row["silicon_tpot_ms"]) / 1e3
        rate, decoding = _rate(row, float(row["silicon_ttft_ms"]) / 1e3, tpot)
        budget = serving_hopper.row_deployment(row).token_budget
        assert budget == min(int(row["isl"]) + 1500, 8192)  # the rendered flag, capped at the chunk
        if rate * tpot > _ceiling(budget, int(row["isl"]), decoding) + 0.05:
            over.add((row["tp_size"], row["batch_size"], row["isl"]))
    assert over == OVER_CEILING


def test_the_models_runs_of_those_rows_stay_within_the_ceiling():
    for row in _osl100_rows():
        if (row["tp_size"], row["batch_size"], row["isl"]) not in {("4", "176", "2000"), ("8", "448", "1000")}:
            continue
        predicted = serving_hopper.run_row(row)
        rate, decoding = _rate(row, predicted["ttft_s"], predicted["tpot_s"])
        ceiling = _ceiling(serving_hopper.row_deployment(row).token_budget, int(row["isl"]), decoding)
        assert rate * predicted["tpot_s"] <= ceiling + 0.05
        measured = _rate(row, float(row["silicon_ttft_ms"]) / 1e3, float(row["silicon_tpot_ms"]) / 1e3)[0]
        assert rate < 0.99 * measured  # the ceiling holds the model's rate below the row's
