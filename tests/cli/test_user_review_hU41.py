"""hU41 (session 41): a demanding user's review of train / search / serve / serve-plan / catalog / validate / compare
(validation/notes/product_review_tried.md, section "hU41 (session 41): user review").

Four answers were wrong or hid what a user needs:

* A copy of a shipped accelerator file (./h200.yaml) with a word changed in its `efficiency:` block's `source:` text
  was taken as `h200-what-if` ("figures differ (efficiency)"): `search` of Llama 3 70B on 64 of them dropped the
  published-MFU guard and answered 7.70 s against the preset's 10.74 s. A source text moves nothing.
* Likewise a copy of a shipped stack file (./nemo-26.04.yaml) with a word changed in one of its `<setting>_source`
  texts became `nemo-26.04-what-if`, banded by its class: Llama 3 70B's error band went from -23.4 % to -8.8 %.
* `search` under the published-MFU guard listed five plans at 10.7 s, all at the ceiling (MFU 37.1 %), and said
  nothing of the guard; the fastest plan it prices (8.61 s, 46.3 %) went unlisted. It now says how it ranked.
* `validate`'s tables of the other layers cut off their `error` and `gated` columns at 100 columns (facility: a
  42-character metric column taken as an uncuttable id), and the training table cut "no (known gap)" to "no (know":
  the metric now wraps, and so does gated.

Two messages named nothing to do:

* A Hugging Face checkpoint folder given as the model ("is a directory, not a file") now names its config.json.
* `--zero-shard` refused by the stack ("pick such a stack / --zero") now names the --zero and the stacks that would
  run it.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from rich.console import Console
from tests.cli.conftest import CliRun, cli_json

from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.stack_files import LABELS
from infraplan.catalog.stacks import Stack

CATALOG = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog"
LLAMA_70B_64 = "llama3-70b --gpus 64 --seq-len 8192 --global-batch 128"


def _with_source_edited(text: str, key: str, tmp_path: Path, name: str) -> Path:
    """`text` (a shipped YAML file) with "my words. " added at the start of the folded text under `key:`."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith(f"{key}:"))
    indent = len(lines[at + 1]) - len(lines[at + 1].lstrip())
    lines[at + 1] = " " * indent + "my words. " + lines[at + 1].lstrip()
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_accelerator_copy_with_its_efficiency_source_edited_is_the_preset(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (CATALOG / "accelerators" / "h200.yaml").read_text(encoding="utf-8")
    efficiency = text.index("\nefficiency:")
    edited = text[:efficiency] + _with_source_edited(text[efficiency:], "source", tmp_path, "x.yaml").read_text()
    path = tmp_path / "h200.yaml"
    path.write_text(edited, encoding="utf-8")
    assert "my words. " in load_accelerator(str(path)).efficiency.source  # the efficiency block's own source
    argv = f"search {LLAMA_70B_64} --top 1"
    preset = cli_json(capsys, f"{argv} --system h200")
    mine = cli_json(capsys, f"{argv} --system {path}")
    assert "what-if" not in capsys.readouterr().err
    assert mine["mfu_guard"] and mine["system"] == preset["system"] == "h200-generic-64"
    assert mine["best"]["step_time_s"] == preset["best"]["step_time_s"]


def test_a_stack_copy_with_a_setting_source_edited_is_the_shipped_stack(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (CATALOG / "stacks" / "nemo-26.04.yaml").read_text(encoding="utf-8")
    path = _with_source_edited(text, "rank_order_source", tmp_path, "nemo-26.04.yaml")
    argv = f"train {LLAMA_70B_64} --system dgx-h100-superpod --tp 8 --pp 4"
    shipped = cli_json(capsys, argv)
    mine = cli_json(capsys, f"{argv} --stack {path}")
    assert "what-if" not in capsys.readouterr().err
    assert mine["stack"] == "nemo-26.04"
    assert mine["error_band"] == shipped["error_band"] and mine["step_time_s"] == shipped["step_time_s"]


def test_every_stack_source_text_is_a_label() -> None:
    """A `Stack` field added later as `<setting>_source` must join the labels a copy may change."""
    assert {k for k in Stack.model_fields if k.endswith("source")} <= LABELS


@pytest.mark.parametrize("gpus", ["64", "64,128"])
def test_search_says_it_ranked_under_the_published_mfu_guard(cli: CliRun, gpus: str) -> None:
    argv = ["search", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", gpus, "--seq-len", "8192",
            "--global-batch", "128", "--top", "2"]
    code, out, _ = cli(argv)
    assert code == 0
    flat = " ".join(out.split())
    assert "ranked under the published-MFU guard" in flat and "--no-mfu-guard ranks by predicted time alone" in flat
    code, out, _ = cli([*argv, "--no-mfu-guard"])
    assert code == 0 and "ranked under the published-MFU guard" not in " ".join(out.split())


def test_validate_section_tables_keep_error_and_gated_at_100_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from infraplan.cli.commands import validate as command
    from infraplan.validation.results import SectionCase, ValidationSection

    metric = "all-in capex per GW of facility power ($B)"  # the facility section's widest (42 characters)
    section = ValidationSection(cases=[SectionCase(id="epoch-29b-per-gw-facility-h100", metric=metric,
                                                   published=29.0, predicted=40.18, error=0.386, gated=False,
                                                   stack=None)],
                                summary={"cases": 1})
    buffer = io.StringIO()
    monkeypatch.setattr(command, "console", Console(file=buffer, width=100))
    command.render_section("facility", section)
    rows = [line for line in buffer.getvalue().splitlines() if line.startswith(("│", "┃"))]
    assert rows and all(line.rstrip().endswith(("│", "┃")) for line in rows)  # nothing cut at the right
    table = buffer.getvalue()
    assert "error" in table and "gated" in table and "+38.6 %" in table and "epoch-29b-per-gw-facility-h100" in table


def test_a_checkpoint_folder_as_the_model_names_its_config_json(cli: CliRun, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text((CATALOG / "models" / "llama3-8b.json").read_text(encoding="utf-8"))
    code, out, err = cli(["train", str(tmp_path), "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
                          "--global-batch", "64"])
    assert code == 2 and not out
    line = err.strip()  # a long path is shortened in the message (catalog.output_files), as xdist's tmp paths are
    assert "\n" not in line and line.startswith("infraplan: error: model file ")
    said, _, where = line.partition(" is a directory, not a file: give its config.json, ")
    assert where and (str(tmp_path / "config.json") == where or "config.json (" in where)


@pytest.mark.parametrize(("zero", "stack", "said"), [
    ("3", "nemo-26.04", "use --zero 1, a stack that shards ZeRO-3 (torchtitan), or leave --zero-shard out"),
    ("2", "deepspeed", "(it names no zero_shard_stages); use a stack that shards ZeRO-2 (torchtitan), or leave"),
])
def test_a_refused_zero_shard_names_what_would_run_it(cli: CliRun, zero: str, stack: str, said: str) -> None:
    code, out, err = cli(["train", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "1024", "--tp", "8",
                          "--seq-len", "8192", "--global-batch", "1024", "--zero", zero, "--zero-shard", "8",
                          "--stack", stack])
    assert code == 2 and not out and len(err.strip().splitlines()) == 1
    assert said in err


def test_validate_training_table_keeps_gated_at_100_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    from infraplan.cli.commands import validate as command

    cases = [SimpleNamespace(id=i, metric=m, published=p, predicted=p * (1 + e), error=e, plan_source="assumed",
                             gated=g, stack="megatron-lm-2021")
             for i, m, p, e, g in [("megatron-sc21-1.7b", "hardware_tflops_per_gpu", 137.0, 0.16, True),
                                   ("mlperf-v3.0-coreweave-3584", "tokens_per_s_per_gpu", 515.0, 0.179, False)]]
    gate = SimpleNamespace(mean=0.1, max=0.2)
    summary = SimpleNamespace(gated_cases=1, mean_abs_error=0.16, max_abs_error=0.16, gate=gate, passes_gate=True,
                              all_cases=2, mean_abs_error_all=0.17, max_abs_error_all=0.179)
    report = SimpleNamespace(cases=cases, summary=summary, plan_ranking=None, sets=None, sections=None)
    buffer = io.StringIO()
    monkeypatch.setattr(command, "console", Console(file=buffer, width=100))
    command.render_validation(cast(Any, report))
    rows = [line for line in buffer.getvalue().splitlines() if line.startswith(("│", "┃"))]
    assert rows and all(line.rstrip().endswith(("│", "┃")) for line in rows)
    assert "(known" in buffer.getvalue() and "mlperf-v3.0-coreweave-3584" in buffer.getvalue()
