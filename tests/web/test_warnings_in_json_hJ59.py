"""hJ (session 59): the warnings a command raised are in its `--json` answer, as in the web's answer.

Before, the CLI printed them on stderr only (cli/main.py `_show_warning`): `infraplan train mine.json ... --json | jq`
never saw "not understood (ignored): my_custom_key", and the same question asked of the web answered with the line
in its `notes` (hG56), of the CLI without it. The web, for its part, re-derived three kinds (an uploaded config's, a
scenario's old price key, a bare --vary electricity range) and missed the rest (a preset config's stored format,
`serve gpt-oss-20b --dtype bf16`). Now both record what the run raised (`raised_warnings.raised_warnings`) and put it
in the answer by one rule (`results.with_warnings`: `warnings` where the result has it, else `notes`); the CLI still
prints each line once on stderr, and its tables do not repeat them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.web.conftest import files_beside, web_and_cli, web_answer

from infraplan.cli.main import main
from infraplan.web.requests import ServeRequest
from infraplan.web.runners import run

CONFIG = {"hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 16, "intermediate_size": 4096,
          "vocab_size": 32000, "my_custom_key": 5, "num_local_experts": 4}
FLEET = {"name": "priced", "objective": "tco",
         "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "2M", "latency_slo": "10ms"}],
         "pools": [{"name": "h100", "device": "h100-sxm", "capex_usd": 30_000},
                   {"name": "mtia", "device": "mtia-v2", "capex_usd": 9_000}]}
PLAN = {"name": "priced", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "2M", "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "a", "capex_usd": 30_000}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"}], "policy": {"objective": "tco"}}
STORED = "quantization_config (mxfp4) stores mxfp4 weights"


@pytest.fixture()
def beside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from files_beside(tmp_path, monkeypatch, {"mine.json": json.dumps(CONFIG)})


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, list[str]]:
    """(the CLI's --json answer, its stderr lines without the prefix)."""
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    out, err = capsys.readouterr()
    return json.loads(out), [line.removeprefix("infraplan: warning: ") for line in err.splitlines()]


UPLOADED = {"text": json.dumps(CONFIG), "filename": "mine.json"}
CASES = [  # (command, body, the field the lines go in)
    ("train", {"model": UPLOADED, "system": "dgx-h100-superpod", "gpus": 8, "seq_len": 512, "global_batch": 8},
     "notes"),
    ("serve", {"model": UPLOADED, "system": "dgx-h100-superpod", "gpus": 1, "offline": True, "input_len": 64,
               "output_len": 16, "requests": 20}, "warnings"),
    ("serve", {"model": "gpt-oss-20b", "system": "h100-sxm", "gpus": 1, "dtype": "bf16", "offline": True,
               "input_len": 64, "output_len": 16, "requests": 20}, "warnings"),
]


@pytest.mark.parametrize(("command", "body", "field"), CASES, ids=["train-config", "serve-config", "serve-stored"])
def test_the_json_carries_the_lines_and_equals_the_web(client: TestClient, beside: Path,
                                                       capsys: pytest.CaptureFixture[str], command: str,
                                                       body: dict[str, Any], field: str) -> None:
    web, cli = web_and_cli(client, command, body, capsys)
    lines = [line for line in cli[field] if line.startswith("model config")]
    expected = 1 if body["model"] == "gpt-oss-20b" else 3  # not understood, no model_type, no num_experts_per_tok
    assert len(lines) == expected and cli[field][:expected] == lines  # first, as the web puts them
    assert web == cli


def test_a_second_web_request_still_carries_the_line() -> None:
    """The default filter shows a text once per process and code line: a server's second request said nothing
    (`web.runners.run` called twice; through the TestClient a library's own `catch_warnings` resets the registry
    between requests and hides it). Without `raised_warnings`' "always" filter this reads 1 line, then 0."""
    request = ServeRequest.model_validate(CASES[2][1])
    for _ in range(2):
        assert sum(STORED in line for line in run(request).warnings) == 1  # type: ignore[attr-defined]


def test_stderr_says_each_line_once_and_the_table_does_not_repeat_it(beside: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "mine.json", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "512",
            "--global-batch", "8"]
    answer, printed = _cli(args, capsys)
    assert printed == [line for line in answer["notes"] if line.startswith("model config 'mine'")]
    (beside.parent / "cli" / "mine2.json").write_text(json.dumps(CONFIG))  # a file not read yet in this process
    assert main(["train", "mine2.json", *args[2:]]) == 0
    out, err = capsys.readouterr()
    assert "my_custom_key" not in out and err.count("not understood (ignored): my_custom_key") == 1


def test_a_bare_electricity_price_is_in_facilitys_answer(client: TestClient,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    answer, printed = _cli(["facility", "--system", "dgx-h100-superpod", "--electricity-price", "70"], capsys)
    assert len(printed) == 1 and "has no unit: read as 70 USD/MWh" in printed[0]
    assert answer["warnings"] == printed
    # the web's field is a number in USD/MWh (its unit, no old spelling): its CLI line writes 70/MWh, no line
    web, cli = web_and_cli(client, "facility", {"system": "dgx-h100-superpod", "electricity_price": 70}, capsys)
    assert web == cli and web["warnings"] == []
    assert {k: v for k, v in answer.items() if k != "warnings"} == {k: v for k, v in web.items() if k != "warnings"}


def test_an_old_price_key_is_in_plans_and_fleet_mixs_answer(client: TestClient, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    for command, spec, body in (("plan", PLAN, {"scenario": {"spec": PLAN}}),
                                ("fleet-mix", FLEET, {"fleet": {"spec": FLEET}})):
        path = tmp_path / f"{command}.yaml"
        path.write_text(yaml.safe_dump(spec))
        answer, printed = _cli([command, str(path)], capsys)
        assert len(printed) == 1 and "capex_usd" in printed[0]
        assert answer["warnings"][:1] == printed
        assert web_answer(client, command, body)["warnings"] == answer["warnings"]


def test_a_command_without_a_warning_answers_as_before(client: TestClient,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 8, "seq_len": 4096,
            "global_batch": 16}
    web, cli = web_and_cli(client, "train", body, capsys)
    assert web == cli and not any(line.startswith("model config") for line in cli["notes"])
    answer, printed = _cli(["recsys", "dlrm-low", "--accelerator", "mtia-v2"], capsys)
    assert printed == [] and answer["warnings"] == []


def test_compare_puts_each_files_line_in_its_scenario_as_the_web(client: TestClient, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    renamed = {**PLAN, "pools": [{("price_usd_per_device" if k == "capex_usd" else k): v for k, v in p.items()}
                                 for p in PLAN["pools"]]}
    paths = []
    for name, spec in (("new", renamed), ("old", PLAN)):
        paths.append(tmp_path / f"{name}.yaml")
        paths[-1].write_text(yaml.safe_dump(spec))
    answer, printed = _cli(["compare", *map(str, paths)], capsys)
    assert len(printed) == 1 and "capex_usd" in printed[0]
    assert answer["scenarios"][1]["warnings"][:1] == printed and answer["risks"][1][:1] == printed
    assert not any("capex_usd" in line for line in [*answer["scenarios"][0]["warnings"], *answer["risks"][0]])
    web = web_answer(client, "compare", {"scenarios": [{"spec": renamed}, {"spec": PLAN}]})
    assert [s["warnings"] for s in web["scenarios"]] == [s["warnings"] for s in answer["scenarios"]]
    assert web["risks"] == answer["risks"]
