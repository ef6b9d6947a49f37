"""hG71: the shipped SGLang profile (sglang-0.x) is SGLang's default scheduler, prefill-first without mixed chunks.

SGLang's default loop runs a new prefill batch ahead of the running decode batch whenever one can be formed
(sglang 0.5.6.post2 managers/scheduler.py:1702-1705 "Run prefill first if possible"; 0.5.23 :3992-3994), a prompt
being chunked forms one every iteration (0.5.6.post2 :1782-1784 `add_chunked_req`), and `--enable-mixed-chunk` is off
(0.5.6.post2 server_args.py:523; 0.5.23 arg_groups/fields/schedule.py:208-211). Clients arriving together therefore
prefill, then decode, in waves. The only measured campaign run at SGLang's defaults, AIConfigurator's SGLang 0.5.1.post1
Qwen3-32B rows on H100 (`validation.serving_hopper`: no generator rule configured them), shows those waves: at ISL
4096 the prefill-first model is within ~14 % of their TTFT, the same engine with mixed chunks (`scheduler:
sglang-adder`, every other field the release's) falls ~60 % short. A preset turned to mixed chunks fails the first test.
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.serving.engines import load_engine
from infraplan.validation import serving_hopper
from infraplan.validation.release_stacks import data_stack

SERVE = ["serve", "llama3.1-8b", "--system", "hgx-h200", "--gpus", "1", "--tp", "1", "--concurrency", "16",
         "--input-len", "4000", "--output-len", "200", "--requests", "160"]


def _default_flag_rows() -> list[dict[str, str]]:
    """The measured SGLang 0.5.1.post1 rows at ISL 4096 (SGLang's defaults; 24 rows, 16-128 clients, TP2-8)."""
    rows = [r for r in serving_hopper.load_rows()
            if r["backend"] == "sglang" and r["backend_version"] == "0.5.1.post1" and r["isl"] == "4096"]
    assert len(rows) == 24 and not any(serving_hopper.generated_flags(r) for r in rows)
    return rows


def _ttft_errors(rows: list[dict[str, str]], stack: str | None) -> list[float]:
    out = []
    for row in rows:
        dep = serving_hopper.row_deployment(row)
        if stack is not None:
            engine = load_engine(stack)
            dep = replace(dep, stack=engine.ref, engine=engine.engine)
        out.append(serving_hopper.run_row(row, dep)["ttft_s"] / (float(row["silicon_ttft_ms"]) / 1e3) - 1)
    return out


def test_shipped_sglang_profile_is_the_default_scheduler() -> None:
    shipped, release = load_engine("sglang-0.x"), load_engine(data_stack("sglang-0.5.1.yaml"))
    assert (shipped.scheduler, shipped.token_budget) == ("prefill-first", 8192)  # H100 / H200 chunk (docstring)
    assert release.scheduler == "prefill-first"


def test_measured_default_sglang_rows_show_prefill_first_waves(tmp_path: Path) -> None:
    rows = _default_flag_rows()
    release = Path(data_stack("sglang-0.5.1.yaml")).read_text(encoding="utf-8")
    assert "\n  scheduler: prefill-first\n" in release
    mixed = tmp_path / "sglang-0.5.1-mixed.yaml"  # the release's profile with --enable-mixed-chunk
    mixed.write_text(release.replace("\n  scheduler: prefill-first\n", "\n  scheduler: sglang-adder\n"),
                     encoding="utf-8")
    waves = _ttft_errors(rows, None)
    mixing = _ttft_errors(rows, str(mixed))
    assert statistics.mean(map(abs, waves)) < 0.20  # 13.8 % (median +9 %)
    assert statistics.median(mixing) < -0.5  # -69 %: mixed chunks lose the waves the rows measured
    assert statistics.mean(map(abs, mixing)) > 2 * statistics.mean(map(abs, waves))


def test_serve_says_what_the_default_scheduler_does(capsys: pytest.CaptureFixture[str]) -> None:
    line = cli_json(capsys, [*SERVE, "--stack", "sglang-0.x"])["assumptions"]["scheduler"]
    assert "(prefill-first policy of the stack:" in line and "in waves" in line
    assert "sglang-0.x-mixed-chunk.yaml" in line and "KV allocated as sequences grow (on demand)" in line
    assert "no preemption" not in line  # SGLang retracts running requests when its pool runs out
    vllm = cli_json(capsys, [*SERVE, "--stack", "vllm-0.x"])["assumptions"]["scheduler"]
    assert "in waves" not in vllm and "preempted and recomputed" in vllm
    trtllm = cli_json(capsys, [*SERVE, "--stack", "trtllm-0.x"])["assumptions"]["scheduler"]
    assert "KV reserved for prompt + output at admission (no preemption)" in trtllm and "in waves" not in trtllm
