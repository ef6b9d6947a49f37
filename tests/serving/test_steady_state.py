"""`output_tokens_per_s_while_arriving`: the steady-state rate beside the whole-run `output_tokens_per_s`."""

from __future__ import annotations

import json

import numpy as np

from infraplan.cli import main
from infraplan.serving.steady_state import tokens_in_window, tokens_per_s_while_arriving

SERVE = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--dtype", "fp8"]


def test_window_counts_evenly_spaced_tokens():
    # one request: first token at 1 s, 10 more tokens every 0.1 s (1.1 .. 2.0 s)
    first, finish, out = np.array([1.0]), np.array([2.0]), np.array([11])
    assert tokens_in_window(first, finish, out, 0.0, 5.0) == 11
    assert tokens_in_window(first, finish, out, 1.05, 1.55) == 5  # 1.1, 1.2, 1.3, 1.4, 1.5
    assert tokens_in_window(first, finish, out, 0.0, 0.99) == 0
    assert tokens_in_window(first, finish, out, 0.0, 1.0) == 1  # the first token only
    single = tokens_in_window(np.array([3.0]), np.array([3.0]), np.array([1]), 0.0, 4.0)
    assert single == 1  # a one-token request: no decode tokens


def test_empty_window_is_none():
    assert tokens_per_s_while_arriving(np.zeros(4), np.ones(4), np.full(4, 2.0), np.full(4, 5)) is None
    assert tokens_per_s_while_arriving(np.zeros(1), np.ones(1), np.full(1, 2.0), np.full(1, 5)) is None


def test_light_load_steady_rate_is_the_offered_rate_whole_run_is_lower(capsys, tmp_path):
    # a lightly loaded open loop at exactly 4 req/s x 512 output tokens: 2,048 tokens/s offered
    trace = tmp_path / "even.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens\n" + "".join(f"{i * 0.25},256,512\n" for i in range(400)))
    assert main([*SERVE, "--trace", str(trace), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    offered, window_s = 4 * 512, 399 * 0.25
    steady, whole = data["output_tokens_per_s_while_arriving"], data["output_tokens_per_s"]
    assert abs(steady / offered - 1) < 0.02, (steady, offered)
    assert whole < steady * 0.995  # the drain tail lowers the whole-run figure
    # the window starts with an empty engine: about half an end-to-end latency of tokens short (steady_state)
    assert abs((1 - steady / offered) - data["e2e_s"]["mean"] / (2 * window_s)) < 0.005
    # the whole-run figure is all tokens over first arrival to last finish, as before
    assert abs(whole - data["requests"] * 512 / data["duration_s"]) < 1e-9 * whole


def test_offline_has_no_steady_figure_and_table_explains_it(capsys):
    assert main([*SERVE, "--offline", "--input-len", "128", "--output-len", "64", "--requests", "50",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["output_tokens_per_s_while_arriving"] is None
    assert main([*SERVE, "--rate", "4", "--input-len", "128", "--output-len", "64", "--requests", "100"]) == 0
    text = capsys.readouterr().out
    assert "output throughput while arriving" in text and "drain tail" in text


def test_window_counts_match_the_tokens_listed_one_by_one_with_or_without_the_callers_tpot():
    # random requests around both window edges, one-token and zero-duration ones, a window opening after some
    # first tokens (the count's general formula) and the caller's TPOT (NaN where one token) changing nothing
    rng = np.random.default_rng(7)
    n = 400
    first = rng.uniform(0.0, 10.0, n)
    out = rng.choice([0, 1, 2, 5, 40], n)
    finish = first + np.where(rng.uniform(size=n) < 0.1, 0.0, rng.uniform(0.0, 3.0, n))
    decode = np.maximum(out - 1, 0)
    tpot = np.where(out > 1, (finish - first) / np.maximum(out - 1, 1), np.nan)
    for start, end in ((0.0, 12.0), (2.5, 7.5), (6.0, 6.5)):
        listed = 0
        for f, s, k, o in zip(first, tpot, decode, out, strict=True):
            times = [f] * int(o >= 1) + [f + s * i for i in range(1, k + 1)]
            listed += sum(start <= t <= end for t in times)
        assert tokens_in_window(first, finish, out, start, end) == listed
        assert tokens_in_window(first, finish, out, start, end, tpot) == listed
