"""`train --recompute auto` and `--recompute-layers K`: the chosen recompute is stated; bad values exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

CliRun = Callable[[list[str]], tuple[int, str, str]]  # the `cli` fixture (tests/cli/conftest.py)

BASE = ["train", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "64", "--tp", "8", "--pp", "4",
        "--vpp", "4", "--seq-len", "8192", "--global-batch", "128"]


def test_recompute_auto_states_the_choice_in_text_and_json(cli: CliRun) -> None:
    # 8 GPUs with TP8 PP1 hold the whole 70B model: no recompute does not fit, so auto must recompute something
    tight = ["train", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len",
             "8192", "--global-batch", "8", "--zero", "3", "--recompute", "auto"]
    code, out, _ = cli([*tight, "--json"])
    assert code == 0
    data = json.loads(out)
    chosen = data["config"]["recompute"]
    assert chosen != "none"
    assert any(note.startswith("--recompute auto:") for note in data["notes"])
    code, text, _ = cli(tight)
    assert code == 0
    assert f"recompute {chosen}" in " ".join(text.split()) and "note: --recompute auto:" in text


def test_recompute_layers_reaches_the_plan_and_the_title(cli: CliRun) -> None:
    full = [*BASE, "--recompute", "full", "--json"]
    code, out, _ = cli([*full, "--recompute-layers", "2"])
    block = json.loads(out)
    code_all, out_all, _ = cli(full)
    every = json.loads(out_all)
    assert code == code_all == 0
    assert block["config"]["recompute_layers"] == 2 and every["config"]["recompute_layers"] == 0
    assert block["step_time_s"] < every["step_time_s"]  # 2 of 5 layers per chunk recomputed, not 5
    code, text, _ = cli([*BASE, "--recompute", "full", "--recompute-layers", "2"])
    assert "recompute full (2 layers per model chunk)" in " ".join(text.split())


@pytest.mark.parametrize(("extra", "needle"), [
    (["--recompute", "selective", "--recompute-layers", "2"], "needs --recompute full"),
    (["--recompute", "auto", "--recompute-layers", "2"], "needs --recompute full"),
    (["--recompute", "full", "--recompute-layers", "6"], "exceeds the layers of one model chunk"),
    (["--recompute", "full", "--recompute-layers", "-1"], "--recompute-layers"),
    (["--recompute", "sometimes"], "--recompute"),
])
def test_bad_recompute_values_exit_2_with_one_line(cli: CliRun, extra: list[str],
                                                    needle: str) -> None:
    code, out, err = cli([*BASE, *extra])
    assert code == 2 and not out
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_train_tokens_takes_a_server_price_and_refuses_it_without_tokens(cli: CliRun) -> None:
    """`train --tokens` prices the run with `--server-price` (an accelerator the catalog has no price for, or a
    what-if); the price options without --tokens are one line, exit 2."""
    base = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
            "--global-batch", "16"]
    code_cheap, cheap, _ = cli([*base, "--tokens", "1e9", "--server-price", "10000", "--json"])
    code_dear, dear, _ = cli([*base, "--tokens", "1e9", "--server-price", "80000", "--json"])
    assert code_cheap == 0 and code_dear == 0
    assert json.loads(cheap)["usd_per_gpu_hour"] < json.loads(dear)["usd_per_gpu_hour"]
    code, _, err = cli([*base, "--server-price", "10000"])
    assert code == 2 and "need --tokens" in err and len(err.strip().splitlines()) == 1
