"""hV41 (session 41): the user review's open findings (hU41's section in validation/notes/product_review_tried.md).

* An accelerator or system file took any figure: `memory_bytes: 1e30` was priced ("76.4 GiB of 867,361,737,988
  EiB"). Memory, bandwidths, peaks and power now have physical upper bounds (`infraplan.limits.MAX_DEVICE_*`),
  named in the one-line error.
* `search --plot` with no GPU count that fits wrote an empty 4.8 MB chart and exited 0: refused, nothing written.
* `serve-plan --tpot-slo 1ms` suggested `--max-gpus`; it now says the SLO is below the best TPOT found.
* `train` of search's best EP plan lacked search's note on where the EP all-to-all runs: one function says it.
* `--stack` given an accelerator (or system) file said "kind: Input should be 'training' or 'serving'".
* MTIA tables said "per GPU".
* The IT-power band of a plan named its system (meta-genai-roce-24k) as an accelerator family and said "any stack".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun

from infraplan.catalog.answer_bands import parts_band
from infraplan.catalog.error_bands import FACILITY_STACK
from infraplan.catalog.loader import list_presets, load_accelerator, load_system
from infraplan.limits import MAX_DEVICE_BYTES_PER_S, MAX_DEVICE_FLOPS_PER_S, MAX_DEVICE_MEMORY_BYTES, MAX_DEVICE_POWER_W

CATALOG = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog"
TRAIN_8 = ["--gpus", "8", "--tp", "8", "--pp", "1", "--seq-len", "4096", "--global-batch", "64"]


def _one_line_refusal(cli: CliRun, args: list[str]) -> str:
    code, out, err = cli(args)
    assert code == 2 and not out.strip() and err.count("\n") == 1, (code, out, err)  # (a transient progress bar)
    return err


@pytest.mark.parametrize(("figure", "named"), [
    ("memory_bytes: 1e30", "memory_bytes: 1e+30 B is above the 1 PiB bound on any device (MAX_DEVICE_MEMORY_BYTES)"),
    ("memory_bandwidth_bytes_per_s: 1e30", "memory_bandwidth_bytes_per_s: 1e+30 B/s is above the 100 PB/s bound"),
    ("scale_out_bandwidth_bytes_per_s: 1e21", "MAX_DEVICE_BYTES_PER_S"),
    ("tdp_w: 1e9W", "tdp_w: 1e+09 W is above the 1 MW bound on any device (MAX_DEVICE_POWER_W)"),
    ("peak_flops_per_s: {bf16: 1e30}", "peak_flops_per_s.bf16: 1e+30 FLOP/s is above the 10 EFLOP/s bound"),
])
def test_an_accelerator_file_beyond_any_device_is_refused_naming_the_bound(
        cli: CliRun, tmp_path: Path, figure: str, named: str) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(f"extends: h100-sxm\n{figure}\n", encoding="utf-8")
    err = _one_line_refusal(cli, ["train", "llama3-8b", "--system", str(path), *TRAIN_8])
    assert named in err, err


def test_a_system_file_with_a_nic_beyond_any_device_is_refused(cli: CliRun, tmp_path: Path) -> None:
    text = (CATALOG / "systems" / "dgx-h100-superpod.yaml").read_text(encoding="utf-8")
    key = "nic_bandwidth_bytes_per_s:"
    at = text.index(key)
    end = text.index("\n", at)
    path = tmp_path / "fast.yaml"
    path.write_text(text[:at] + f"{key} 1e30" + text[end:], encoding="utf-8")
    err = _one_line_refusal(cli, ["train", "llama3-8b", "--system", str(path), *TRAIN_8])
    assert "node.nic_bandwidth_bytes_per_s: 1e+30 B/s is above" in err and "MAX_DEVICE_BYTES_PER_S" in err, err


def test_the_bounds_are_generous_to_every_shipped_part() -> None:
    """Every shipped part loads, each bound at least 100x its largest figure (the bounds catch typos, not parts)."""
    parts = [load_accelerator(n) for n in list_presets("accelerators")]
    assert max(a.memory_bytes for a in parts) * 100 < MAX_DEVICE_MEMORY_BYTES
    assert max(max(a.peak_flops_per_s.values()) for a in parts) * 100 < MAX_DEVICE_FLOPS_PER_S
    assert max(a.tdp_w for a in parts) * 100 < MAX_DEVICE_POWER_W
    rates = [r for a in parts for r in (a.memory_bandwidth_bytes_per_s, a.sram_bandwidth_bytes_per_s,
                                        a.scale_up_bandwidth_bytes_per_s, a.scale_out_bandwidth_bytes_per_s)]
    rates += [load_system(n).node.nic_bandwidth_bytes_per_s for n in list_presets("systems")]
    assert max(rates) * 100 < MAX_DEVICE_BYTES_PER_S


def test_search_plot_with_no_fitting_count_writes_nothing(cli: CliRun, tmp_path: Path) -> None:
    chart = tmp_path / "p.html"
    err = _one_line_refusal(cli, ["search", "llama3-405b", "--system", "dgx-h100-superpod", "--gpus", "8,16",
                                  "--seq-len", "4096", "--global-batch", "64", "--plot", str(chart)])
    assert "no GPU count of 8, 16 has a plan that fits" in err and "nothing written" in err, err
    assert list(tmp_path.iterdir()) == []


def test_serve_plan_says_a_tpot_slo_is_below_the_best_tpot_found(cli: CliRun) -> None:
    """Llama 3 70B decodes one request alone in ~7 ms on 8 H100 at best: a 1 ms TPOT SLO is met by no size, and more
    accelerators (--max-gpus) were suggested."""
    code, out, err = cli(["serve-plan", "llama3-70b", "--system", "h100-sxm", "--rate", "5", "--workload", "chat",
                          "--tpot-slo", "1ms", "--json"])
    assert code == 0, err
    plan = json.loads(out)
    assert not plan["feasible"]
    why = plan["why"]
    assert why.startswith("the TPOT SLO 1 ms is below what llama3-70b decodes on h100-sxm at any size"), why
    assert "--max-gpus" not in why
    best_ms = float(why.split("the best TPOT found is ")[1].split(" ms")[0])
    assert 1.0 < best_ms < 50.0


def test_train_of_the_best_ep_plan_says_where_its_all_to_all_runs_as_search_does(cli: CliRun) -> None:
    """Qwen3 30B-A3B on 16 H100: the best plan's EP 8 group lies inside one 8-GPU node; `train` of it said nothing
    of it while `search` did."""
    code, out, err = cli(["search", "qwen3-30b-a3b", "--system", "dgx-h100-superpod", "--gpus", "16", "--seq-len",
                          "4096", "--global-batch", "64", "--top", "1", "--json"])
    assert code == 0, err
    found = json.loads(out)
    assert found["best"]["config"]["ep"] == 8
    code, out, err = cli([*found["best"]["train_command"].split()[1:], "--json"])
    assert code == 0, err
    trained = json.loads(out)
    inside = [n for n in found["notes"] if "lies inside one 8-GPU scale-up domain" in n]
    assert len(inside) == 1 and inside[0] in trained["notes"], trained["notes"]


@pytest.mark.parametrize(("source", "kind"), [("accelerators/h100-sxm.yaml", "an accelerator"),
                                              ("systems/dgx-h100-superpod.yaml", "a system")])
def test_stack_given_a_hardware_file_says_what_it_is(cli: CliRun, tmp_path: Path, source: str, kind: str) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text((CATALOG / source).read_text(encoding="utf-8"), encoding="utf-8")
    err = _one_line_refusal(cli, ["train", "llama3-8b", "--system", "dgx-h100-superpod", *TRAIN_8, "--stack",
                                  str(path)])
    assert f"this is {kind} file, not a stack file" in err and "Input should be" not in err, err


def test_mtia_tables_say_per_accelerator(cli: CliRun) -> None:
    code, out, err = cli(["train", "llama3-8b", "--system", "mtia-400-rack", *TRAIN_8])
    assert code == 0, err
    assert "per GPU" not in out and "memory per accelerator" in out, out
    code, out, err = cli(["search", "llama3-8b", "--system", "mtia-400-rack", "--gpus", "16", "--seq-len", "4096",
                          "--global-batch", "64", "--top", "1"])
    assert code == 0, err
    # the MFU ceiling's line quotes its source's own figure ("tok/s/GPU" of the GPU run it is from, hG52): not a label
    assert "MFU ceiling" in out and "/GPU" not in out.split("MFU ceiling")[0] and "(16 accelerators)" in out, out
    code, out, err = cli(["train", "llama3-8b", "--system", "dgx-h100-superpod", *TRAIN_8])
    assert code == 0 and "memory per GPU" in out  # a GPU is still a GPU


def test_a_plans_it_power_band_names_its_systems_family_and_no_stack() -> None:
    """A plan's pool on meta-genai-roce-24k (a system) was banded as if the system were an accelerator family, and
    the facility basis said "any stack"; the band itself is the same (3 IT-power campaigns: their full range)."""
    band, basis = parts_band(["meta-genai-roce-24k"], FACILITY_STACK, "facility", "it_power", "IT power")
    same, _ = parts_band(["h100-sxm"], FACILITY_STACK, "facility", "it_power", "IT power")
    assert band is not None and same is not None and (band.low, band.high) == (same.low, same.high)
    assert "meta-genai-roce-24k" not in basis and "of hopper facility IT power cases" in basis, basis
    assert "stack" not in basis, basis
