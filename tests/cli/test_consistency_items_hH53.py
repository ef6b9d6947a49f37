"""Small consistency items left by session 53's helpers (hH53).

* `facility` / `campus` `--cooling` and `--build-type` read a YAML file as `--location` does
  (`catalog.facility_loader._entry`), but their help listed the presets only (hX53): the help now says "or YAML
  file" (the web, which reads no file for them, drops the words: `web.request_fields.FILE_WORDS`).
* Stack / accelerator fields of sessions 50-53 without an upper bound where a value breaks the answer (hR53's rule
  for `adamw_bytes_per_param`: 10 x the largest sourced figure): `grad_accumulation_bytes: 1e300` gave `train` a
  null step time at exit 0; `p2p_transfers_per_micro_batch: 1e300` a 8.8e297 s step (llama3-8b, PP 8, deepspeed).
* `--server-price 40k`: one refusal, the CLI's words, in the CLI (exit 2) and the web (422) (hF53).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from infraplan.catalog.kernel_fits import PlainGemmWaveFit
from infraplan.catalog.stacks import load_stack
from infraplan.cli.main import load_command
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility


@pytest.mark.parametrize("command", ["facility", "campus"])
@pytest.mark.parametrize("flag", ["--cooling", "--build-type", "--location", "--accelerator"])
def test_every_facility_option_that_reads_a_file_says_so(command: str, flag: str) -> None:
    param = next(p for p in load_command(command).params if flag in p.opts)
    assert "YAML" in (param.help or ""), (command, flag, param.help)


def test_the_files_the_help_names_are_read(tmp_path: Path) -> None:
    """The help's claim holds: a build type and a cooling file of the user's are what `facility` prices."""
    build = tmp_path / "mybuild.yaml"
    build.write_text("usd_per_w: 23.4\nlife_years: 14\nbuild_months: 24\nsource: mine\n", encoding="utf-8")
    cool = tmp_path / "mycool.yaml"
    cool.write_text("description: mine\nmax_rack_power_w: 30kW\npue: {cool: 1.5, temperate: 1.5, hot: 1.5}\n"
                    "wue_l_per_kwh: {cool: 0.3, temperate: 0.3, hot: 0.3}\nfloor_area_m2_per_rack: 2.5\n"
                    "default_build_type: hyperscale\nsource: mine\n", encoding="utf-8")
    mine = size_facility(accelerator="h100-sxm", count=8, build_type=str(build), cooling=str(cool))
    assert mine.assumptions.facility_usd_per_w == 23.4 and mine.pue == 1.5


def _stack(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("text", ["extends: deepspeed\ngrad_accumulation_bytes: 1e300\n",
                                  "extends: deepspeed\ngrad_accumulation_bytes: 61\n",
                                  "extends: deepspeed\np2p_transfers_per_micro_batch: 1e300\n"])
def test_unbounded_stack_fields_are_bounded(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError, match="less than or equal to"):
        load_stack(_stack(tmp_path, text))


def test_the_bounds_keep_the_sourced_figures(tmp_path: Path) -> None:
    """18 B (DeepSpeed's fp32 accumulation, the stack's source) and 4 blocking transfers (its TrainSchedule) load."""
    eighteen = load_stack(_stack(tmp_path, "extends: deepspeed\ngrad_accumulation_bytes: 18\n"))
    assert eighteen.grad_accumulation_bytes == 18
    assert load_stack(_stack(tmp_path, "extends: deepspeed\n")).p2p_transfers_per_micro_batch == 4


def test_the_wave_fixed_time_is_bounded() -> None:
    """10 x b300's fitted 2.28 us a wave; its fits load."""
    assert PlainGemmWaveFit(fraction=0.494, wave_fixed_s=2.28e-6).wave_fixed_s == 2.28e-6
    with pytest.raises(ValidationError, match="less than or equal to"):
        PlainGemmWaveFit(fraction=0.5, wave_fixed_s=1e300)
