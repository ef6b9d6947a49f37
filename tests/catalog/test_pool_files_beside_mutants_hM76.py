"""hM76 mutation wave on hN76's `catalog.loader.pool_files_beside`: each file a plan's (or a `campus --fleet`
file's) site names, and its policy's failure-rate file, is read beside the spec; preset names are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.loader import pool_files_beside

KEYS = ("system", "accelerator", "location", "cooling", "build_type")


def test_every_site_file_and_the_failure_rate_file_are_read_beside_the_spec(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "site" / "plan.yaml"
    spec.parent.mkdir()
    for key in KEYS:
        (spec.parent / f"my-{key}.yaml").write_text("x: 1\n")
    (spec.parent / "rates.yaml").write_text("x: 1\n")
    monkeypatch.chdir(tmp_path)  # not the spec's folder
    data = {"sites": [{"name": "a", **{key: f"my-{key}.yaml" for key in KEYS}},
                      {"name": "b", "accelerator": "h100-sxm", "location": "ohio", "build_type": "hyperscale"}],
            "policy": {"spare_probability": 0.99, "failure_rate": "rates.yaml"}}
    read = pool_files_beside(data, str(spec))
    assert read["sites"][0] == {"name": "a", **{key: str(spec.parent / f"my-{key}.yaml") for key in KEYS}}
    assert read["sites"][1] == {"name": "b", "accelerator": "h100-sxm", "location": "ohio",
                                "build_type": "hyperscale"}  # presets as written
    assert read["policy"] == {"spare_probability": 0.99, "failure_rate": str(spec.parent / "rates.yaml")}
