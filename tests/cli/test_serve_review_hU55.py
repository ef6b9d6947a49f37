"""A serving engineer's review of `serve` / `serve-plan` (hU55, session 44): each test fails before its fix."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import CliRun, cli_json

from infraplan.cli.commands._output import fmt_seconds

PLAN = ["serve-plan", "llama3-70b", "--system", "dgx-h100-superpod", "--rate", "20", "--workload", "chat"]


def test_serve_plan_refuses_one_length_beside_a_workload(cli: CliRun) -> None:
    """`serve-plan --workload chat --input-len 1000` dropped the length in silence and printed a `serve` line with
    both, which `serve` refuses ("give exactly one of ..."): now one line, exit 2, as `serve` says it."""
    for extra in (["--input-len", "1000"], ["--output-len", "200"]):
        code, out, err = cli([*PLAN, *extra])
        assert code == 2 and out == ""
        assert err.strip().splitlines() == [
            "infraplan: error: --input-len and --output-len go together (--workload chat draws both lengths)"]
    code, _, err = cli([*PLAN[:-2], "--input-len", "1000"])  # no workload: the same rule
    assert code == 2 and "--input-len and --output-len go together" in err and "--workload" not in err


def test_serve_tp_zero_names_tp(cli: CliRun) -> None:
    """`--tp 0` was "--gpus 8 is not divisible by TP x PP x attention DP = 0"."""
    code, _, err = cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "0",
                        "--rate", "1", "--workload", "chat"])
    assert code == 2 and err.strip() == "infraplan: error: --tp must be >= 1 or 'auto', got 0"


def test_an_unreachable_ttft_slo_says_its_floor(capsys) -> None:  # type: ignore[no-untyped-def]
    """Llama 3 70B chat at 20 requests/s on H100 under a 250 ms TTFT p99 was told only "no deployment within 16,384
    accelerators meets the SLOs". Chat's p99 prompt is its 6,000-token clip (lognormal median 1,020, sigma 1: the
    p99 is 10,400 before the clip), and no deployment prefills it faster than the fastest layout does alone."""
    plan = cli_json(capsys, [*PLAN, "--ttft-slo", "250ms"])
    assert plan["feasible"] is False
    floor = plan["best_ttft_s"]
    # independent of the search's probes: `serve` of that prompt alone on the fastest layout (TP8 fp8)
    alone = cli_json(capsys, "serve llama3-70b --system dgx-h100-superpod --gpus 8 --tp 8 --dtype fp8 "
                             "--input-len 6000 --output-len 2 --rate 0.01 --requests 1")
    assert floor == alone["ttft_s"]["p50"]
    # a hand bound below it: the stack's front end + 2 x 70.6e9 parameters x 6,000 tokens at 8 x H100's fp8 dense
    # peak (1,979 TFLOP/s): 80 + 53.5 ms
    assert floor > alone["deployment"]["front_end_s"] + 2 * 70.6e9 * 6000 / (8 * 1979e12)
    assert plan["why"].startswith(f"the TTFT SLO 0.25 s at p99 is below what llama3-70b reaches on h100-sxm at any "
                                  f"size: the best TTFT p99 found is {floor:.3g} s (the sample's p99 prompt, 6,000 "
                                  "tokens")
    # a looser SLO is met, and its answer (one of the layouts tried) is no faster than the floor
    met = cli_json(capsys, [*PLAN, "--ttft-slo", "2s"])
    assert met["feasible"] and met["serve"]["ttft_s"]["p99"] >= floor and met.get("best_ttft_s") is None


def test_the_ttft_floor_is_read_at_the_slo_percentile(capsys) -> None:  # type: ignore[no-untyped-def]
    """At p50 the floor is the median prompt's (about 1,020 tokens), far below the p99 prompt's."""
    p99 = cli_json(capsys, [*PLAN, "--ttft-slo", "100ms"])
    p50 = cli_json(capsys, [*PLAN, "--ttft-slo", "100ms", "--percentile", "50"])
    assert not p99["feasible"] and not p50["feasible"]
    assert 0.08 < p50["best_ttft_s"] < p99["best_ttft_s"]
    assert "TTFT p50" in p50["why"] and json.dumps(p50).count("6,000 tokens") == 0


def test_a_request_beyond_the_context_says_how_to_serve_a_longer_one(cli: CliRun, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The measured Llama 3.1 70B rows of 1,024 + 8,192 tokens on the `llama3-70b` preset (Llama 3's 8,192-token
    context) were refused without saying how to serve Llama 3.1's 131,072: its config.json path serves them."""
    shape = ["--system", "hgx-h200", "--gpus", "8", "--tp", "8", "--dtype", "fp8", "--concurrency", "4",
             "--input-len", "1024", "--output-len", "8192", "--requests", "8"]
    code, out, err = cli(["serve", "llama3-70b", *shape])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("infraplan: error: a request of 9216 tokens exceeds llama3-70b's context of 8192 (")
    assert "max_position_embeddings" in err and "HF config.json path" in err
    config = json.loads((Path(__file__).parents[2] / "src/infraplan/catalog/models/llama3-70b.json").read_text())
    folder = tmp_path / "llama3.1-70b"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({**config, "max_position_embeddings": 131072}))
    served = cli_json(capsys, ["serve", str(folder / "config.json"), *shape])
    assert served["fits"] and served["mean_output_tokens"] == 8192


def test_a_disaggregated_answer_prints_its_kv_transfer(cli: CliRun, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The prefill-to-decode KV hand-off was in `--json` only; the table's KV-cache row, the decode pool's, did not
    say whose. A colocated answer has neither."""
    monkeypatch.setenv("COLUMNS", "200")
    args = ["serve", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "16", "--tp", "4", "--prefill-gpus",
            "8", "--prefill-tp", "8", "--dtype", "fp8", "--rate", "10", "--workload", "chat", "--requests", "200"]
    data = cli_json(capsys, args)
    code, out, _ = cli(args)
    assert code == 0
    transfer = data["kv_transfer_s"]
    row = next(line for line in out.splitlines() if "KV transfer to the decode pool (in TTFT)" in line)
    assert f"p50 {fmt_seconds(transfer['p50'])} · p90 {fmt_seconds(transfer['p90'])}" in row
    kv = data["deployment"]["decode"]["kv_cache_tokens_per_replica"]
    assert data["deployment"]["prefill"]["kv_cache_tokens_per_replica"] != kv  # TP8 prefill, TP4 decode
    assert any("KV cache per replica (decode pool)" in line and f"{kv:,} tokens" in line for line in out.splitlines())
    code, out, _ = cli(["serve", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "4",
                        "--dtype", "fp8", "--rate", "10", "--workload", "chat", "--requests", "200"])
    assert code == 0 and "KV transfer" not in out and "(decode pool)" not in out
