"""hN42 (session 42): small product gaps left by session 41 (validation/notes/product_review_tried.md, hN42).

* `serve-plan` with no deployment gave the best TPOT reachable only inside its `why` text: now `best_tpot_s`.
* `facility` / `campus` on MTIA said "$/GPU-h": the device's word (`_output.device_word`), JSON names kept.
* An accelerator file could not state its own embodied carbon (a what-if kept its preset's silently): it states
  `embodied_kgco2e_per_accelerator` with `embodied_source`, bounded; `extends` inherits it.
* `serve --max-batch` / `--token-budget` / draft tokens kept the default-stack band of rows run at the stack's
  defaults: such an answer takes the band a stack with settings of its own takes (its engine's), and says why.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun, cli_json

from infraplan.catalog.error_bands import error_band
from infraplan.catalog.loader import is_what_if, load_accelerator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SERVE = ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "2", "--input-len", "200",
         "--output-len", "20", "--requests", "100"]


def _one_line_refusal(cli: CliRun, args: list[str]) -> str:
    code, out, err = cli(args)
    assert code == 2 and not out.strip() and err.count("\n") == 1, (code, out, err)
    return err


def test_serve_plan_gives_the_best_tpot_as_a_number_its_why_reads(capsys: pytest.CaptureFixture[str]) -> None:
    """Llama 3 70B decodes one request alone in ~7 ms on H100 at best: the number was only in the text."""
    plan = cli_json(capsys, ["serve-plan", "llama3-70b", "--system", "h100-sxm", "--rate", "5", "--workload", "chat",
                             "--tpot-slo", "1ms"])
    assert not plan["feasible"]
    best = plan["best_tpot_s"]
    assert isinstance(best, float) and 0.001 < best < 0.05
    assert f"the best TPOT found is {best * 1e3:.3g} ms" in plan["why"], plan["why"]


def test_facility_and_campus_on_mtia_price_an_accelerator_hour_not_a_gpu_hour(cli: CliRun) -> None:
    mtia = ["facility", "--accelerator", "mtia-400", "--count", "1024"]
    code, out, err = cli(mtia)
    assert code == 0, err
    text = re.sub(r"\s+", " ", out)
    assert "server capex, opex and $/accelerator-h not priced" in text and "GPU-h" not in text
    code, out, err = cli([*mtia, "--server-price", "20000"])
    assert code == 0, err
    text = re.sub(r"[│\s]+", " ", out)
    assert "cost per accelerator-hour" in text and re.search(r"\$[\d.]+/accelerator-h", text) and "GPU" not in text
    code, out, err = cli([*mtia, "--server-price", "20000", "--json"])
    assert code == 0 and json.loads(out)["usd_per_gpu_hour"] > 0  # the JSON name is kept (clients parse it)
    code, out, err = cli(["campus", "--power", "20MW", "--accelerator", "mtia-400"])
    assert code == 0, err
    assert "$/accelerator-h not priced" in re.sub(r"\s+", " ", out) and "GPU-h" not in out
    code, out, err = cli(["facility", "--system", "dgx-h100-superpod"])  # a GPU keeps its word
    assert code == 0 and "/GPU-h" in out, err


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def test_an_accelerator_file_states_its_own_embodied_carbon_and_a_what_if_inherits_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    own = _write(tmp_path, "h100-green.yaml", "extends: h100-sxm\nembodied_kgco2e_per_accelerator: 250\n"
                 "embodied_source: 'ASSUMPTION: a test figure'\n")
    faster = _write(tmp_path, "h100-fast.yaml", "extends: h100-green.yaml\ntdp_w: 900W\n")  # over the file: its 250
    preset_what_if = _write(tmp_path, "h100-hot.yaml", "extends: h100-sxm\ntdp_w: 900W\n")  # over the preset: 320

    def embodied_t(acc: str) -> float:
        return float(cli_json(capsys, ["facility", "--accelerator", acc, "--count", "1024"])["embodied_co2_t"])

    assert embodied_t(own) == pytest.approx(1024 * 250 / 1e3) == embodied_t(faster)
    assert embodied_t(preset_what_if) == pytest.approx(1024 * 320 / 1e3) == embodied_t("h100-sxm")
    # carbon moves no time: a copy of the preset stating it is still the preset (its tables, bands, MFU guard)
    assert not is_what_if(load_accelerator(own))
    plan = (EXAMPLES / "plan-minimal.yaml").read_text()
    preset = cli_json(capsys, ["plan", str(EXAMPLES / "plan-minimal.yaml")])
    mine = cli_json(capsys, ["plan", _write(tmp_path, "p.yaml", plan.replace("device: h100-sxm", f"device: {own}"))])
    assert mine["devices"] == preset["devices"]
    assert mine["embodied_co2_t_per_year"] == pytest.approx(preset["embodied_co2_t_per_year"] * 250 / 320)


@pytest.mark.parametrize(("lines", "named"), [
    ("embodied_kgco2e_per_accelerator: 1e300\nembodied_source: x\n",
     "1e+300 kgCO2e is above the 1,000 tCO2e bound on any device (MAX_DEVICE_EMBODIED_KGCO2E)"),
    ("embodied_kgco2e_per_accelerator: -5\nembodied_source: x\n", "greater than or equal to 0"),
    ("embodied_kgco2e_per_accelerator: 200\n", "embodied_kgco2e_per_accelerator needs embodied_source"),
])
def test_an_accelerator_files_embodied_carbon_is_bounded_and_sourced(cli: CliRun, tmp_path: Path, lines: str,
                                                                    named: str) -> None:
    path = _write(tmp_path, "bad.yaml", "extends: h100-sxm\n" + lines)
    assert named in _one_line_refusal(cli, ["facility", "--accelerator", path, "--count", "8"])


def _bands(cli: CliRun, args: list[str]) -> tuple[dict[str, object], dict[str, object]]:
    code, out, err = cli([*args, "--json"])
    assert code == 0, err
    data = json.loads(out)
    return data["error_band"], data["ttft_error_band"]


def test_serve_off_the_stacks_engine_defaults_takes_the_configured_stacks_band(cli: CliRun) -> None:
    default = _bands(cli, SERVE)
    assert _bands(cli, [*SERVE, "--max-batch", "256"]) == default  # serve's own default, said: the same answer
    configured = error_band("h100-sxm", "trtllm", "serving")  # a trtllm stack with settings of its own
    assert configured is not None
    for flags, said in ((["--max-batch", "64"], "--max-batch 64 (default 256)"),
                        (["--token-budget", "4096"], "--token-budget 4096 (default 8192)"),
                        (["--speculative-tokens", "1", "--acceptance", "0.8"], "--speculative-tokens 1")):
        band, ttft = _bands(cli, [*SERVE, *flags])
        assert (band["low"], band["high"]) == (configured.low, configured.high) != (default[0]["low"],
                                                                                   default[0]["high"])
        assert said in str(band["basis"]) and "not trtllm-0.x's defaults" in str(ttft["basis"]), flags
    # serve-plan's answer at a batch cap of its own: the band `serve` gives its `serve_command`
    code, out, err = cli(["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "2", "--input-len",
                          "200", "--output-len", "20", "--requests", "200", "--dtypes", "fp8", "--ttft-slo", "2s",
                          "--tpot-slo", "100ms", "--max-batch", "64", "--json"])
    assert code == 0, err
    plan = json.loads(out)
    assert plan["deployment"]["max_batch"] == 64
    rerun = _bands(cli, plan["serve_command"].split()[1:])
    assert (plan["error_band"], plan["ttft_error_band"]) == rerun and rerun != default
