"""Consistency fixes left by session 71's walks (hC71): each refusal one line, exit 2; each case failed on the base.

1. A stack file with `cuda_graphs: false` and a `cuda_graphs_when` rule was accepted, the rule moot: refused naming
   both fields; a file that `extends` a stack with a rule and sets `cuda_graphs: false` drops the inherited rule.
2. `results --sql "INSTALL httpfs"` was refused naming "LOAD" (DuckDB's statement type): the statement written.
3. `train --tokens "1T tokens"` was refused while `--eval-every "2T tokens"` was read: one reader (`units.parse_tokens`)
   for the CLI, the web, sweeps and scenarios.
4. `plan` refused a fabric that does not build in the generic builder's words ("a node's 8 NICs do not fit the 1
   down ports of a radix-3 leaf"): now `network`'s line, from the topology builder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog.stacks import load_stack
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.planning.scenario_spec import ServiceSpec
from infraplan.units import parse_count, parse_tokens

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "1", "--seq-len", "2048",
         "--global-batch", "64"]


def _one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    capsys.readouterr()
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert not out.strip() and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def test_graphs_off_with_a_graph_rule_is_refused_naming_both(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    both = tmp_path / "both.yaml"
    both.write_text("extends: torchtitan\nname: tt-both\ncuda_graphs: false\ncuda_graphs_when: {max_pp: 1}\n")
    said = _one_line(capsys, [*TRAIN, "--stack", str(both)])
    assert "cuda_graphs_when" in said and "cuda_graphs is false" in said
    plain = tmp_path / "plain.yaml"  # the contradiction in a file of its own (no extends)
    plain.write_text("extends: deepspeed\nname: ds-rule\ncuda_graphs_when: {max_ep: 1}\n")
    with pytest.raises(InputError, match="cuda_graphs_when"):
        load_stack(str(plain))


def test_graphs_off_over_a_stack_with_a_rule_drops_the_rule(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert load_stack("torchtitan").cuda_graphs_when is not None
    off = tmp_path / "eager.yaml"
    off.write_text("extends: torchtitan\nname: tt-eager\ncuda_graphs: false\n")
    stack = load_stack(str(off))
    assert not stack.cuda_graphs and stack.cuda_graphs_when is None
    eager = cli_json(capsys, [*TRAIN, "--stack", str(off)])
    graphed = cli_json(capsys, [*TRAIN, "--stack", "torchtitan"])
    assert graphed["cuda_graphs"] is True and eager["cuda_graphs"] is False  # PP 1, EP 1: torchtitan graphs it


def test_results_sql_names_the_statement_written(cli, tmp_path: Path) -> None:
    from infraplan.sweep.runner import run_sweep

    out = tmp_path / "sweep"
    run_sweep({"function": "train", "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 2048,
                                              "global_batch": 64, "gpus": 8, "tp": 8}}, out, workers=1,
              progress=False)
    for sql, named in (("INSTALL httpfs", "INSTALL"), ("/* x */ force install httpfs", "FORCE INSTALL"),
                       ("load httpfs", "LOAD"), ("SELECT 1; DROP VIEW results", "DROP, SELECT"),
                       ("-- note\nCOPY results TO 'x.csv'", "COPY")):
        code, got, err = cli(["results", str(out), "--sql", sql])
        assert code == 2 and not got.strip() and err.count("\n") == 1, (sql, err)
        assert err.rstrip().endswith(f": {named}"), (sql, err)
    code, got, err = cli(["results", str(out), "--sql", "SELECT count(*) AS n FROM results", "--json"])
    assert code == 0 and json.loads(got)["rows"] == [[1]], err


@pytest.mark.parametrize("text", ["1T tokens", "1T token", "1T Tokens", "1T tok"])
def test_tokens_reads_the_words_eval_every_reads(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_tokens(text) == parse_count("1T") == 1e12
    worded = cli_json(capsys, [*TRAIN, "--tokens", text])
    bare = cli_json(capsys, [*TRAIN, "--tokens", "1T"])
    assert worded["time_to_train_s"] == bare["time_to_train_s"] > 0
    evaluated = cli_json(capsys, [*TRAIN, "--tokens", text, "--eval-every", "100B tokens", "--eval-samples", "64"])
    assert evaluated["time_to_train_s"] > bare["time_to_train_s"]
    assert ServiceSpec(name="t", kind="training", model="llama3-8b", gpus=8, tokens=text).tokens == 1e12


def test_tokens_still_refuses_other_words(capsys: pytest.CaptureFixture[str]) -> None:
    for text in ("1T bytes", "1T tokens please", "tokens"):
        assert "--tokens" in _one_line(capsys, [*TRAIN, "--tokens", text])
        with pytest.raises(InputError):
            parse_tokens(text)


def _unbuilt_b200(tmp_path: Path) -> Path:
    """tests/network/test_train_fabric_refusal_hF71.py's copy: leaf switch_radix 3, unrailed (still does not build
    after hF2-71's rail planes)."""
    text = (ROOT / "src" / "infraplan" / "catalog" / "systems" / "dgx-b200.yaml").read_text()
    leaf = "{name: leaf, group_size: 256, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64"
    assert leaf in text and "rail_optimized: true" in text
    text = text.replace("rail_optimized: true", "rail_optimized: false")
    path = tmp_path / "b200-r3.yaml"
    path.write_text(text.replace(leaf, leaf.replace("switch_radix: 64", "switch_radix: 3")))
    return path


def test_plan_refuses_an_unbuilt_fabric_with_networks_line(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    system = _unbuilt_b200(tmp_path)
    scenario = tmp_path / "r3.yaml"
    scenario.write_text(
        "name: r3\nphases: [{name: '2025', year: 2025}]\nservices:\n"
        "  - {name: pretrain, kind: training, model: llama3-8b, gpus: 16, tokens: 100B, seq_len: 4096,"
        " global_batch: 64}\n"
        f"pools:\n  - {{name: b200, device: b200, system: {system}, site: ohio}}\n"
        "sites:\n  - {name: ohio, power: 10MW, location: ohio}\n")
    said = _one_line(capsys, ["network", str(system)])
    assert "switch_radix >= 8 " in said
    assert _one_line(capsys, ["plan", str(scenario)]) == said
