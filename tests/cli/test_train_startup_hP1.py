"""`infraplan train --json` as a process (benchmarks/single_estimate.py, goal 0.5 s): what it no longer imports, the
error-band file read without the YAML parser when it is in the writer's form, and the collector's thresholds."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from importlib import resources

import pytest

from infraplan.catalog import error_band_rows, error_bands
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cli import options

cli_main = sys.modules["infraplan.cli.main"]  # `infraplan.cli.main` the attribute is the function

TRAIN = ["train", "llama3-405b", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--tp", "8", "--pp", "16",
         "--vpp", "8", "--seq-len", "8192", "--global-batch", "2048", "--zero", "3", "--json"]
# made lazy for `train` (power chain, network bill of materials and prices' results, facility / recsys / video
# catalogs; numpy.ma by np.unique's default path), and the heavy libraries no `train` needs
NOT_FOR_TRAIN = ("infraplan.cluster.power", "infraplan.network.costs", "infraplan.network.results",
                 "infraplan.catalog.facility_loader", "infraplan.catalog.reliability_loader",
                 "infraplan.catalog.inference_loader",
                 "infraplan.catalog.recsys_schemas", "infraplan.catalog.video_schemas", "numpy.ma",
                 "infraplan.catalog.network_price_loader",  # hP5: network/sharp.py imports it for a SHARP check only
                 "scipy", "pandas", "pyarrow", "duckdb", "plotly", "fastapi", "rich", "networkx", "ray")


def test_train_json_does_not_import_what_it_does_not_use():
    code = ("import sys; from infraplan.cli.main import main; code = main(sys.argv[1:]); "
            "print('\\n'.join(sorted(sys.modules)), file=sys.stderr); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, *TRAIN], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "120"})
    assert json.loads(done.stdout)["step_time_s"] > 0  # the probe ran the estimate
    loaded = set(done.stderr.split())
    assert "infraplan.training.estimate" in loaded
    assert sorted(m for m in loaded if m in NOT_FOR_TRAIN or m.split(".")[0] in NOT_FOR_TRAIN) == []


def _shipped_texts() -> list[str]:
    """Every file of the stored residuals (catalog/band_residuals/, hE80: one file a section)."""
    folder = resources.files("infraplan.catalog") / error_band_rows.BAND_FOLDER
    return [entry.read_text() for entry in sorted(folder.iterdir(), key=lambda e: e.name)]


def test_the_shipped_error_bands_read_as_yaml_reads_them():
    texts = _shipped_texts()
    assert len(texts) >= 5 and sum(t.count("\n  - [") for t in texts) > 1000
    for text in texts:
        rows = error_bands.written_rows(text)
        parsed = safe_load_yaml(text)["residuals"]
        assert rows is not None and len(rows) == len(parsed) > 0
        for row, yaml_row in zip(rows, parsed, strict=True):
            assert list(row) == [*yaml_row[:4], float(yaml_row[4]), *yaml_row[5:]]
            assert [type(v) for v in row] == [str, str, str, str, float, str, str, str][:len(row)]  # 8th: settings


ROW = '  - [H001, hopper, megatron, training, -0.1239, "Llama 3 paper", throughput]\n'


def test_a_row_in_the_writers_form_is_read_without_yaml():
    assert error_bands.written_rows(f"# a comment\nresiduals:\n{ROW}") == [
        ("H001", "hopper", "megatron", "training", -0.1239, "Llama 3 paper", "throughput")]
    text = f"# a comment\nresiduals:\n{ROW.replace('H001', 'H1e3')}"
    assert error_bands.written_rows(text) == [tuple(safe_load_yaml(text)["residuals"][0])]  # 'H1e3', as YAML reads it


@pytest.mark.parametrize("row", [
    ROW.replace("H001", "yes"),  # YAML 1.1 reads a boolean
    ROW.replace("H001", "null"),
    ROW.replace("H001", "123"),  # an integer
    ROW.replace("H001", "1.5e+3"),  # a float
    ROW.replace("H001", "1e3"),  # a float as YAML 1.2 reads it (`catalog.yaml_text`, hL60; YAML 1.1: a string)
    ROW.replace("H001", "1_000"),
    ROW.replace("H001", "0x1F"),
    ROW.replace("H001", "2026-01-01"),  # a date
    ROW.replace("-0.1239", "nan"),
    ROW.replace("Llama 3 paper", 'Llama \\"3\\" paper'),  # an escape: the YAML parser unescapes it
    ROW.replace(", throughput]", ", throughput, extra]"),
    ROW.replace("  - [", "  -  ["),
])
def test_anything_else_goes_to_the_yaml_parser(row):
    assert error_bands.written_rows(f"# a comment\nresiduals:\n{ROW}{row}") is None


@pytest.mark.parametrize("text", [f"residuals:\n{ROW}", f"# c\nresiduals:\n{ROW}".rstrip("\n"),
                                  f"# c\nother: 1\nresiduals:\n{ROW}", "# c\nresiduals:\n",
                                  f'# c\nsource: "a"\nsource: "b"\nresiduals:\n{ROW}',  # a key twice (hE80)
                                  f'# c\nsource: "a\\\\b"\nresiduals:\n{ROW}', f"# c\nsource: a\nresiduals:\n{ROW}"])
def test_a_file_not_in_the_writers_layout_goes_to_the_yaml_parser(text):
    assert error_bands.written_rows(text) is None


def test_load_residuals_gives_the_yaml_parsers_residuals(monkeypatch):
    fast = error_bands.load_residuals()
    monkeypatch.setattr(error_band_rows, "_written_columns", lambda text, *_: None)  # every file to YAML (hE80)
    error_bands.load_residuals.cache_clear()
    try:
        assert error_bands.load_residuals() == fast
    finally:
        error_bands.load_residuals.cache_clear()


def test_the_collector_runs_less_often_during_a_command_and_the_callers_thresholds_come_back(monkeypatch):
    seen = []
    monkeypatch.setattr(cli_main, "app", lambda **_: seen.append(gc.get_threshold()) or 0)
    before = gc.get_threshold()
    assert cli_main.main(["--version"]) == 0
    assert seen == [cli_main.GC_THRESHOLDS] and gc.get_threshold() == before


# Whether a collection ran is read from `gc.callbacks` (called at each collection's start), not from the
# generation-0 count: that count is tracked allocations minus deallocations, and CPython 3.11 hands out empty lists
# from its free list (80) without counting them, so 1,000 new lists raised it by 920-970 depending on what the
# import had freed before (it failed on every run, loaded or not, from session 58's HEAD: hR58).
PAUSED = """
import gc, sys
from infraplan.cli.main import collector_paused
runs = []
gc.callbacks.append(lambda phase, info: runs.append(info["generation"]) if phase == "start" else None)
many = 10 * gc.get_threshold()[0]  # ten generation-0 thresholds of new containers
with collector_paused():
    assert not gc.isenabled()
    junk = [[] for _ in range(many)]
assert runs == [], runs  # no collection ran, inside the block or on leaving it: the objects were not scanned
oldest = {id(o) for o in gc.get_objects(generation=2)}
assert all(id(j) in oldest for j in junk)  # moved on: into the oldest generation
assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_count()[0] < gc.get_threshold()[0]
gc.disable()
with collector_paused():
    pass
assert not gc.isenabled()  # a caller's disabled collector stays disabled
gc.enable()
gc.freeze()
frozen = gc.get_freeze_count()
with collector_paused():
    more = [[] for _ in range(many)]
assert gc.get_freeze_count() == frozen  # a caller's frozen objects stay frozen
print("ok")
"""


def test_a_commands_import_is_not_scanned_and_leaves_the_collector_as_it_was():
    # a fresh interpreter: the test session's conftest has frozen its objects
    done = subprocess.run([sys.executable, "-c", PAUSED], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_an_option_builds_its_pydantic_check_on_first_use():
    bounded = options.count(1, 8)
    assert "adapter" not in vars(bounded)
    assert bounded("8") == 8
    assert "adapter" in vars(bounded)
