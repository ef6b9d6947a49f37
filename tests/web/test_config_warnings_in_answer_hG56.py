"""hG (session 56): the web's answer carries the lines the CLI prints on stderr reading an uploaded HF config.json
(`catalog.loader.model_config_warnings`: a key not understood, no model_type, a default filled in for a missing key).
They reached only the server's log: a web user pricing their own model was not told that `my_custom_key` was ignored
or that a MoE without `num_experts_per_tok` was priced through 1 expert. train / search / serve-plan / reliability
put them in `notes`, serve in `warnings` (its field for what a reader must not miss), word for word the CLI's line
without its "infraplan: warning: " prefix; a preset (no such line) answers as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_answer

from infraplan.cli import main

CONFIG = {"hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 16, "intermediate_size": 4096,
          "vocab_size": 32000, "my_custom_key": 5, "num_local_experts": 4}
SYSTEM = {"system": "dgx-h100-superpod"}
BODIES: dict[str, dict[str, Any]] = {
    "train": {**SYSTEM, "gpus": 8, "tp": 1, "seq_len": 512, "global_batch": 8},
    "search": {**SYSTEM, "gpus": [8], "seq_len": 512, "global_batch": 8, "top": 1},
    "serve": {**SYSTEM, "gpus": 1, "offline": True, "input_len": 64, "output_len": 16, "requests": 20},
    "serve-plan": {**SYSTEM, "rate": 1, "input_len": 64, "output_len": 16, "ttft_slo": 1, "tpot_slo": 0.05,
                   "requests": 40, "max_gpus": 1},
    "reliability": {"system": "meta-genai-roce-24k", "gpus": 16384, "days": 1},
}
FIELD = {"serve": "warnings"}  # the others: notes


def _cli_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(CONFIG))
    capsys.readouterr()
    args = ["train", str(path), "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "512",
            "--global-batch", "8", "--json"]
    assert main(args) == 0
    return [line.removeprefix("infraplan: warning: ") for line in capsys.readouterr().err.splitlines()]


@pytest.mark.parametrize("command", list(BODIES))
def test_an_uploaded_configs_lines_reach_the_answer(command: str, client: TestClient, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    printed = _cli_lines(tmp_path, capsys)
    assert any("not understood (ignored): my_custom_key" in line for line in printed)
    assert any("no num_experts_per_tok" in line for line in printed)
    upload = {"text": json.dumps(CONFIG), "filename": "mine.json"}
    answer = web_answer(client, command, {**BODIES[command], "model": upload})
    lines = answer[FIELD.get(command, "notes")]
    assert [line for line in lines if line.startswith("model config 'mine'")] == printed


def test_a_preset_answers_without_config_lines(client: TestClient) -> None:
    answer = web_answer(client, "train", {**BODIES["train"], "model": "llama3-8b"})
    assert not any(line.startswith("model config") for line in answer["notes"])
