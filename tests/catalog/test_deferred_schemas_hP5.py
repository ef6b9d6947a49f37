"""Catalog specs and command results build their pydantic validators on first use (`defer_build`, hP5: `train`
start-up), and a deferred model validates exactly as before: unknown fields, bad values, frozen instances."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FIRST_USE = """
import json
import math
import pydantic
from infraplan.catalog.serving_profile import MoeReleaseExtra
from infraplan.training.results import ScalingPoint

assert not MoeReleaseExtra.__pydantic_complete__ and not ScalingPoint.__pydantic_complete__  # built on first use
for bad, kind in [({"fixed_s": 1e-6, "token_expert_s": 2e-9, "typo_s": 1.0}, "extra_forbidden"),
                  ({"fixed_s": -1.0, "token_expert_s": 2e-9}, "greater_than_equal"),
                  ({"fixed_s": math.inf, "token_expert_s": 2e-9}, "finite_number"),
                  ({"fixed_s": 1e-6, "token_expert_s": 2e-9, "min_experts": 0}, "greater_than_equal"),
                  ({"token_expert_s": 2e-9}, "missing")]:
    try:
        MoeReleaseExtra.model_validate(bad)
    except pydantic.ValidationError as exc:
        assert [e["type"] for e in exc.errors()] == [kind], exc.errors()
    else:
        raise AssertionError(bad)
extra = MoeReleaseExtra(fixed_s=1e-6, token_expert_s=2e-9)
assert MoeReleaseExtra.__pydantic_complete__ and extra.min_experts == 1
try:
    extra.fixed_s = 0.0
except pydantic.ValidationError as exc:
    assert exc.errors()[0]["type"] == "frozen_instance"
else:
    raise AssertionError("a spec stays frozen")
try:
    ScalingPoint(gpus=8, best=None, reason="no plan fits", evaluated_count=3, feasible_count=0, seconds=1.0)
except pydantic.ValidationError as exc:
    assert exc.errors()[0]["type"] == "extra_forbidden"
else:
    raise AssertionError("a result refuses unknown fields")
point = ScalingPoint(gpus=8, best=None, reason="no plan fits", evaluated_count=3, feasible_count=0)
assert json.loads(point.to_json())["gpus"] == 8
print("ok")
"""


def test_a_deferred_model_builds_on_first_use_and_validates_as_before():
    done = subprocess.run([sys.executable, "-c", FIRST_USE], capture_output=True, text=True)  # a fresh interpreter
    assert done.stdout.strip() == "ok", done.stderr


TRAIN = ["train", "llama3-405b", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--tp", "8", "--pp", "16",
         "--vpp", "8", "--seq-len", "8192", "--global-batch", "2048", "--zero", "3", "--json"]  # (VPP 7: refused)
PROBE = """
import sys
import pydantic
from infraplan.cli.main import main
code = main(sys.argv[1:])
def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)
built = sorted(c.__qualname__ for c in set(subclasses(pydantic.BaseModel))
               if c.__module__.startswith("infraplan.") and c.__pydantic_complete__)
print(" ".join(built), file=sys.stderr)
sys.exit(code)
"""


def test_train_builds_only_the_models_it_validates():
    done = subprocess.run([sys.executable, "-c", PROBE, *TRAIN], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "120"})
    assert json.loads(done.stdout)["step_time_s"] > 0
    built = set(done.stderr.split())
    assert {"Stack", "System", "Accelerator", "TrainingEstimate"} <= built  # validated by the run
    # never validated by `train`: the search and scaling results, the bases, the serving engines' own fits
    assert built.isdisjoint({"PlanSearchResult", "ScalingPoint", "ScalingResult", "PlanMetrics", "Result",
                             "SparseResult", "Spec", "ServingProfile", "BlockFp8GemmFit", "MoeReleaseExtra"})


def test_the_residuals_validated_as_one_tuple_are_the_rows_one_by_one():
    from importlib import resources

    from infraplan.catalog import error_bands

    folder = resources.files("infraplan.catalog") / error_bands.BAND_FOLDER  # one file a section (hE80)
    rows = [row for entry in folder.iterdir() for row in error_bands.written_rows(entry.read_text()) or [None]]
    assert rows and None not in rows
    one_by_one = sorted((error_bands.Residual(id=r[0], family=r[1], stack=r[2], kind=r[3], residual=r[4],
                                              campaign=r[5], metric=r[6], settings=r[7] if len(r) > 7 else "case")
                         for r in rows), key=lambda r: (r.kind, r.metric, r.settings, r.family, r.stack, r.id))
    loaded = error_bands.load_residuals()
    assert type(loaded) is tuple and loaded == tuple(one_by_one)  # in the writer's order
    assert all(type(r) is error_bands.Residual for r in loaded)


def test_a_residual_file_with_no_rows_loads_as_no_residuals(tmp_path, monkeypatch):
    """`residuals:` with nothing under it (a hand-emptied file) read as YAML's None and crashed with a traceback."""
    from infraplan.catalog import error_bands

    (tmp_path / error_bands.BAND_FOLDER).mkdir()
    (tmp_path / error_bands.BAND_FOLDER / "training.yaml").write_text("# emptied by hand\nresiduals:\n")
    monkeypatch.setattr(error_bands.resources, "files", lambda package: tmp_path)
    error_bands.load_residuals.cache_clear()
    try:
        assert error_bands.load_residuals() == ()
    finally:
        monkeypatch.undo()
        error_bands.load_residuals.cache_clear()  # the shipped file again for the tests after this one
