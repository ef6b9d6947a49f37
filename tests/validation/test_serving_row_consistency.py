"""Measured serving rows that contradict other rows of their set (`validation.serving_row_consistency`): the two
rules on made-up rows, and the rows they flag in the Hopper MoE / MLA set."""

from __future__ import annotations

import pytest
from made_up_rows import made_up_row, stated_clients

from infraplan.validation import serving_hopper_moe as moe
from infraplan.validation import serving_row_consistency as consistency


def _row(row_id: str, clients: str, tpot_ms: float, ttft_ms: float = 100.0, version: str = "0.18.0") -> dict[str, str]:
    return made_up_row(row_id, clients, tpot_ms=tpot_ms, ttft_ms=ttft_ms, backend_version=version)


_clients = stated_clients


def test_little_law_flags_many_decoding_sequences_faster_than_few_clients() -> None:
    # 512 clients, TTFT 0.1 s: ~510 sequences decoding (>= 4 x 8 clients) at 5 ms, under the 8-client row's 6 ms
    fast_crowd, few = _row("crowd", "512", 5.0), _row("few", "8", 6.0)
    assert consistency.contradicting_rows([fast_crowd, few], _clients) == {"crowd": consistency.LITTLE_LAW}
    # a long queue (TTFT 60 s: ~40 decoding, not 4x more than 16 clients) or a slower crowd is no contradiction
    queued = _row("queued", "512", 5.0, ttft_ms=60_000.0)
    assert consistency.contradicting_rows([queued, _row("mid", "16", 6.0)], _clients) == {}
    assert consistency.contradicting_rows([_row("crowd", "512", 7.0), few], _clients) == {}


def test_tpot_may_not_fall_by_a_third_as_clients_double(monkeypatch: pytest.MonkeyPatch) -> None:
    slow, doubled = _row("slow", "16", 20.0), _row("doubled", "32", 12.0)  # 20 > 1.5 x 12
    assert consistency.contradicting_rows([slow, doubled], _clients) == {"slow": consistency.NON_MONOTONE}
    assert consistency.contradicting_rows([slow, _row("doubled", "32", 14.0)], _clients) == {}  # 20 < 1.5 x 14
    assert consistency.contradicting_rows([slow, _row("more", "24", 12.0)], _clients) == {}  # under 2x the clients
    other_release = _row("doubled", "32", 12.0, version="0.19.0")  # a release may be faster: not compared
    assert consistency.contradicting_rows([slow, other_release], _clients) == {}
    monkeypatch.setattr(consistency, "MONOTONE_TPOT", False)
    assert consistency.contradicting_rows([slow, doubled], _clients) == {}


def test_rows_without_stated_clients_are_never_flagged() -> None:
    unknown, other = _row("unknown", "", 5.0), _row("other", "", 6.0)
    assert consistency.contradicting_rows([unknown, other, _row("few", "8", 30.0)], _clients) == {}


def test_rows_contradicting_the_set_by_littles_law_stay_awaiting() -> None:
    """Only the GPT-OSS vLLM 512-client rows whose ~100 decoding sequences beat the TPOT of 8-16 clients."""
    flagged = {i: why for i, why in moe.inconsistent_rows().items() if why == moe.INCONSISTENT}
    rows = {r["id"]: r for r in moe.load_rows()}
    assert len(flagged) == 5
    assert all(rows[i]["batch_size"] == "512" and "gpt-oss" in rows[i]["model_path"] for i in flagged)
    assert all(moe.why_not(rows[i]) == moe.INCONSISTENT for i in flagged)
    _, waiting = moe.sampled_rows(1)
    assert sum(r["id"] in flagged for r in waiting) == 5


def test_rows_whose_tpot_falls_as_clients_double_stay_awaiting(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Rule 2 (`serving_row_consistency`): GPT-OSS vLLM 0.18 H100 TP4 1024/1024 at 32 clients (TPOT 15.9 ms, two
    source files) against 9.7 ms at 64; Kimi-K2.5 1024/8192 at 16 clients in one file (64.0 ms) against 31.9 ms at
    64 and 16.0 ms in its two repeats. Other engine versions or MoE layouts are not compared."""
    rows = moe.load_rows()
    flagged = {i for i, why in moe.inconsistent_rows().items() if why == consistency.NON_MONOTONE}
    picked = {(r["model_path"], r["system"], r["tp_size"], r["isl"], r["osl"], r["concurrency"], r["backend_version"])
              for r in rows if r["id"] in flagged}
    assert len(flagged) == 3 and picked == {
        ("openai/gpt-oss-120b", "h100_sxm", "4", "1024", "1024", "32", "0.18.0"),
        ("moonshotai/Kimi-K2.5", "h200_sxm", "8", "1024", "8192", "16", "0.16.0")}
    kimi_repeats = [r for r in rows if r["model_path"] == "moonshotai/Kimi-K2.5" and r["osl"] == "8192"
                    and r["concurrency"] == "16"]
    assert len(kimi_repeats) == 3 and sum(r["id"] in flagged for r in kimi_repeats) == 1  # the 64 ms one only
    monkeypatch.setattr(consistency, "MONOTONE_TPOT", False)
    monkeypatch.setattr(consistency, "REPEAT_AGREEMENT", False)
    monkeypatch.setattr(consistency, "MONOTONE_TTFT", False)  # rule 4 (hA84) would take the Kimi 64 ms run's TTFT
    assert not flagged & set(consistency.contradicting_rows(rows, moe.concurrency))


def test_two_runs_of_one_configuration_that_disagree_both_stay_awaiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rule 3: same configuration, layout, version and clients, TTFT or TPOT > 1.5x apart -> both runs flagged; runs
    within 1.5x, or of other clients or releases, are not; rows flagged by rules 1 / 2 are not compared."""
    a, b = _row("a", "64", 19.4, ttft_ms=1200.0), _row("b", "64", 32.2, ttft_ms=378.0)
    assert consistency.contradicting_rows([a, b], _clients) == {"a": consistency.IRREPRODUCIBLE,
                                                                  "b": consistency.IRREPRODUCIBLE}
    assert consistency.contradicting_rows([a, _row("b", "64", 20.0, ttft_ms=1100.0)], _clients) == {}
    assert consistency.contradicting_rows([a, _row("b", "64", 32.2, ttft_ms=378.0, version="1.2")], _clients) == {}
    slow, twin, doubled = _row("slow", "16", 64.0), _row("twin", "16", 16.0), _row("doubled", "64", 31.9)
    assert consistency.contradicting_rows([slow, twin, doubled], _clients) == {"slow": consistency.NON_MONOTONE}
    monkeypatch.setattr(consistency, "REPEAT_AGREEMENT", False)
    assert consistency.contradicting_rows([a, b], _clients) == {}


def test_the_moe_set_sets_aside_the_one_pair_of_disagreeing_runs() -> None:
    """TensorRT-LLM 1.1.0rc2 DeepSeek-R1 TP8 1024/8192 at 64 clients, measured 2026-01-14 and 2026-01-28."""
    rows = {r["id"]: r for r in moe.load_rows()}
    pair = [i for i, why in moe.inconsistent_rows().items()
            if why == consistency.IRREPRODUCIBLE and rows[i]["model_path"] in moe.MODELS]
    assert len(pair) == 2 and {rows[i]["concurrency"] for i in pair} == {"64"}
    assert {rows[i]["backend_version"] for i in pair} == {"1.1.0rc2.post2"}


def test_a_measurement_carried_by_several_rows_is_scored_once() -> None:
    first, copy, other = _row("v3", "8", 6.0), {**_row("r1", "8", 6.0), "model_path": "m2"}, _row("b", "8", 6.5)
    repeats = consistency.repeated_measurements([first, copy, other], lambda r: True)
    assert list(repeats) == ["r1"] and "v3" in repeats["r1"]
    # the first EXPRESSIBLE row is the one scored: a repeat of a row that cannot run is scored in its place
    assert consistency.repeated_measurements([first, copy, other], lambda r: r["id"] != "v3") == {}


def test_the_moe_set_scores_each_measurement_once() -> None:
    run = [r for r in moe.load_rows() if moe.why_not(r) is None]
    measured = [(r["silicon_ttft_ms"], r["silicon_tpot_ms"]) for r in run]
    assert len(set(measured)) == len(measured)
    repeats = [r for r in moe.load_rows() if "a repeat of row" in (moe.why_not(r) or "")]
    assert len(repeats) >= 50  # the sample's DeepSeek-R1 = V3 and two-file copies (module docstring)
