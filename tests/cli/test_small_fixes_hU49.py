"""hU49 (session 43): small user-facing fixes found by this session's reviews; each test fails before its fix.

1. `reliability`'s domain note printed "1.29e+03 GPUs out of service": counts print as counts (`units.significant_text`,
   the digits rule of the CLI's `fmt_num`, which now calls it).
2. `train`'s MoE note said "peers 1 ranks apart" (tests/training/test_moe.py, tests/cli/test_user_review_hU39.py).
3. `serve --tp auto` chose a TP and never said how: `deployment.tp_source` states the rule, the KV share of each TP
   tried and (text) the TP chosen, as `kv_dtype_source` does for the KV dtype.
4. The web's serve-plan `percentile` (tests/web/test_web_percentile_hU49.py).
5. A workload's `distribution: fixed` ignored `sigma`, `min`, `max` (and a Poisson arrival its `cv`): refused.
6. `serve --seed` with `--trace` changed nothing: refused, as `collective --seed` without `--sim flow` (hU47).
7. `--bytes 4096`: a bare number is bytes, the unit in the option's name (`units` docstring, README: sizes and powers
   whose names carry none, `--checkpoint-size`, `--power`, refuse one): kept, and said in its help.
8. `compare` listed capex but not `capex_new_usd`, the money a scenario spends beside its fleet's value (since hL47
   `capex_usd`, the value `fleet_value_usd`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun, cli_json

from infraplan.catalog import load_model
from infraplan.cli.commands._output import fmt_num, fmt_usd
from infraplan.cluster import Cluster
from infraplan.facility.outage import domain_note
from infraplan.serving.engines import load_engine
from infraplan.serving.kv_cache import kv_capacity
from infraplan.units import significant_text

MINIMAL = Path("examples/plan-minimal.yaml")


# 1. counts as counts
@pytest.mark.parametrize(("value", "text"), [(1287.4, "1,287"), (12.34, "12.3"), (0.0001234, "0.000123"),
                                             (123_456_789.0, "123,456,789"), (0.0, "0")])
def test_a_number_is_written_with_its_digits_never_in_e_notation(value: float, text: str) -> None:
    assert significant_text(value, 3) == text
    assert fmt_num(value, 3) == text  # the CLI's tables and the notes below the CLI write one number one way


def test_the_domain_note_writes_gpus_out_of_service_as_a_count() -> None:
    hold = {"domain_gpus": 72, "domain_trays": 18, "domains": 228, "gpus_held": 16_416,
            "expected_gpus_out_of_service": 1287.4}
    note = domain_note(hold, 0, 3 * 86_400.0, 16_384)
    assert "1,287 GPUs out of service" in note and not re.search(r"\de[+-]\d", note), note
    tiny = domain_note({**hold, "expected_gpus_out_of_service": 1.234e-5}, 2, 3 * 86_400.0, 16_384)
    assert "0.0000123 GPUs out of service" in tiny and not re.search(r"\de[+-]\d", tiny), tiny


def test_reliability_prints_the_same_count_in_its_table_and_its_note(cli: CliRun) -> None:
    # 16,416 GPUs: 228 racks of 18 trays, none free (at 16,384, NeMo's --segment 16 leaves 2 free a rack, which hZ2 77
    # counts as spares: 1.42 GPUs out, no longer the size this test is about; hR2 77)
    code, out, err = cli(["reliability", "--system", "gb200", "--gpus", "16416", "--days", "54"])
    assert code == 0, err
    flat = " ".join(out.split())
    note = re.search(r"([0-9][0-9,.]*) GPUs out of service on average", flat)
    row = re.search(r"GPUs out of service \(mean\) │ ([0-9][0-9,.]*) at", flat)
    assert note and row and note.group(1) == row.group(1), flat
    assert float(note.group(1).replace(",", "")) >= 1000  # the size that printed as 1.29e+03


# 3. --tp auto says its rule
SERVE_70B = ["serve", "llama3-70b", "--system", "h200", "--gpus", "8", "--input-len", "1000", "--output-len", "200",
             "--rate", "2", "--requests", "100"]


def test_tp_auto_states_its_rule_and_the_kv_share_of_each_tp_tried(capsys: pytest.CaptureFixture[str]) -> None:
    """Llama 3 70B in bf16 (141 GB of weights) on 141 GB H200s: TP 1 leaves almost nothing to the KV cache, TP 2
    (70.5 GB of weights per GPU) about half: TP 2 is the smallest leaving >= 25 %. The shares the note gives are
    `kv_capacity`'s for the same deployment."""
    d = cli_json(capsys, SERVE_70B)["deployment"]
    assert d["tp"] == 2 and d["replicas"] == 4
    why = d["tp_source"]
    assert why.startswith("--tp auto: the smallest TP of 1, 2, 4, 8") and ">= 25 %" in why, why
    shares = {int(t): float(p) for t, p in re.findall(r"TP (\d+) (?:leaves )?(\d+) %", why)}
    shape, acc = load_model("llama3-70b"), Cluster.resolve("h200").accelerator
    engine = load_engine("trtllm-0.x")
    for tp, shown in shares.items():
        cap = kv_capacity(shape, acc, tp, 1, "bf16", "bf16", 8192, 256, engine=engine)
        assert shown == pytest.approx(100 * cap.kv_cache_bytes / cap.usable_bytes, abs=0.5)
    assert list(shares) == [1, 2] and shares[1] < 25 <= shares[2]


def test_tp_auto_says_so_when_no_tp_leaves_room(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["serve", "llama3-405b", "--system", "h100-sxm", "--gpus", "8", "--input-len", "1000", "--output-len",
            "200", "--rate", "2", "--requests", "20"]
    r = cli_json(capsys, args)
    assert r["deployment"]["tp"] == 8 and "none does, the largest taken" in r["deployment"]["tp_source"]


def test_a_given_tp_is_the_users_and_the_text_shows_the_rule(cli: CliRun, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_json(capsys, [*SERVE_70B, "--tp", "4"])["deployment"]["tp_source"] == "--tp"
    code, out, err = cli(SERVE_70B)
    flat = " ".join(out.replace("│", " ").split())
    assert code == 0 and "TP 2: --tp auto: the smallest TP" in flat, err
    code, out, _ = cli([*SERVE_70B, "--tp", "4"])
    assert code == 0 and "--tp auto" not in out


# 5. a fixed length reads only its median
def _workload(tmp_path: Path, inputs: str, arrival: str = "{process: poisson}") -> str:
    path = tmp_path / "w.yaml"
    path.write_text(f"display_name: w\nsource: test\nkind: llm\ninput_tokens: {inputs}\n"
                    f"output_tokens: {{distribution: fixed, median: 100}}\narrival: {arrival}\n")
    return str(path)


@pytest.mark.parametrize(("inputs", "arrival", "named"), [
    ("{distribution: fixed, median: 1000, sigma: 0.8}", "{process: poisson}", "sigma 0.8 is read by lognormal"),
    ("{distribution: fixed, median: 5000, max: 4096}", "{process: poisson}", "max 4096 is read by lognormal"),
    ("{distribution: fixed, median: 1000, min: 8, max: 2048}", "{process: poisson}", "min 8, max 2048 are read"),
    ("{distribution: fixed, median: 1000}", "{process: poisson, cv: 3}", "cv 3 is read by gamma"),
])
def test_a_field_the_distribution_does_not_read_is_refused(cli: CliRun, tmp_path: Path, inputs: str, arrival: str,
                                                           named: str) -> None:
    code, out, err = cli(["serve", "llama3-8b", "--system", "h200", "--gpus", "1", "--rate", "1", "--workload",
                          _workload(tmp_path, inputs, arrival), "--requests", "20"])
    assert code == 2 and not out and err.count("\n") == 1 and named in err, err


def test_the_fields_a_distribution_reads_still_run(cli: CliRun, tmp_path: Path) -> None:
    spread = "{distribution: lognormal, median: 1000, sigma: 0.8, min: 8, max: 4096}"
    for inputs, arrival in ((spread, "{process: gamma, cv: 3}"), ("{distribution: fixed, median: 1000}",
                                                                    "{process: poisson, cv: 1}")):
        code, _, err = cli(["serve", "llama3-8b", "--system", "h200", "--gpus", "1", "--rate", "1", "--workload",
                            _workload(tmp_path, inputs, arrival), "--requests", "20"])
        assert code == 0, err


# 6. --seed with --trace
def test_serve_refuses_a_seed_with_a_trace(cli: CliRun, tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens\n0,100,20\n0.5,200,10\n1.0,50,30\n")
    base = ["serve", "llama3-8b", "--system", "h200", "--gpus", "1", "--trace", str(trace), "--json"]
    runs = [cli(base), cli([*base[:-1], "--seed", "7", "--json"])]
    assert runs[0][0] == 0 and json.loads(runs[0][1])["seed"] == 0
    code, out, err = runs[1]
    assert code == 2 and not out and err.count("\n") == 1 and "--seed" in err and "--trace" in err, err


def test_a_seed_still_draws_arrivals_without_a_trace(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["serve", "llama3-8b", "--system", "h200", "--gpus", "1", "--input-len", "100", "--output-len", "20",
            "--rate", "5", "--requests", "50"]
    one, two = cli_json(capsys, [*base, "--seed", "1"]), cli_json(capsys, [*base, "--seed", "2"])
    assert one["seed"] == 1 and two["seed"] == 2 and one["duration_s"] != two["duration_s"]


# 7. --bytes: a bare number is bytes
def test_bytes_reads_a_bare_number_in_the_unit_it_names(capsys: pytest.CaptureFixture[str], cli: CliRun) -> None:
    base = ["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "16", "--bytes"]
    bare, unit = cli_json(capsys, [*base, "1048576"]), cli_json(capsys, [*base, "1MiB"])
    assert bare["time_s"] == unit["time_s"]
    code, _, err = cli(["reliability", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--checkpoint-size",
                        "1048576"])
    assert code == 2 and "has no unit" in err  # a size whose name states no unit still needs one


# 8. compare lists the money spent
def test_compare_lists_the_money_spent_beside_the_fleets_capex(capsys: pytest.CaptureFixture[str], cli: CliRun,
                                                               tmp_path: Path) -> None:
    """The same plan with its 8 H100s already installed: the fleet's capex is the same, the money spent is none,
    so its delta is minus the first plan's whole capex."""
    installed = tmp_path / "installed.yaml"
    installed.write_text(MINIMAL.read_text().replace("name: plan-minimal", "name: installed").replace(
        "{name: h100, device: h100-sxm, site: ohio}", "{name: h100, device: h100-sxm, site: ohio, installed: 8}"))
    c = cli_json(capsys, ["compare", str(MINIMAL), str(installed)])
    assert {"capex_usd", "fleet_value_usd"} <= set(c["metrics"])  # hL47: capex_usd is the money spent
    first, second = c["scenarios"]
    assert first["capex_usd"] == first["fleet_value_usd"] > 0 and second["fleet_value_usd"] == first["fleet_value_usd"]
    assert c["deltas"][1]["fleet_value_usd"] == 0.0 and c["deltas"][1]["capex_usd"] == -first["capex_usd"]
    code, out, err = cli(["compare", str(MINIMAL), str(installed)])
    row = next(line for line in out.splitlines() if "capex bought over the phases" in line)
    assert code == 0 and "$0" in row and f"-{fmt_usd(first['capex_usd'])}" in row, row
