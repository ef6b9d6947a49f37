"""Review of session 51's resumed-sweep estimate (hR, session 52). `points_to_run` keys the spec's points only where
the floor (points less the folder's rows) fits the limit while the whole does not; a spec refused on its floor is
not walked (a 10**9-point spec is refused at once). Dropping that early return passed every test before. A part
file damaged by hand is one line (`store.read_part`), on the resumed sweep that now reads it first and on `results`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.cli.main import main
from infraplan.sweep import runner
from infraplan.sweep.runner import points_to_run
from infraplan.sweep.spec import load_spec

FIXED = {"model": "llama3-8b", "system": "dgx-h100-superpod", "seq_len": 2048, "global_batch": 64}


def test_a_spec_refused_on_its_floor_is_not_walked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    two = tmp_path / "two.yaml"
    two.write_text(yaml.safe_dump({"function": "train", "fixed": FIXED, "axes": {"gpus": [8, 16]}}))
    out = str(tmp_path / "out")
    assert main(["sweep", str(two), "--out", out, "--json"]) == 0
    capsys.readouterr()
    eight = tmp_path / "eight.yaml"
    eight.write_text(yaml.safe_dump({"function": "train", "fixed": FIXED,
                                     "axes": {"gpus": [8, 16, 32, 64, 128, 256, 512, 1024]}}))

    def walked(*args: object) -> tuple[str, str, str]:
        raise AssertionError("the spec's points were keyed")

    monkeypatch.setattr(runner, "point_key", walked)
    assert points_to_run(load_spec(str(eight)), out, max_cpu_s=1e-9) == 6  # 6 x 0.15 ms > 1 ns: the floor


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_a_damaged_part_is_one_line_on_resume_and_query(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         damage: str) -> None:
    """A part the manifest lists, overwritten or deleted by hand: the resumed sweep (which reads its parts first for
    its estimate, hW51) and `results` printed pyarrow's traceback (exit 1); now one line, exit 2."""
    spec = tmp_path / "two.yaml"
    spec.write_text(yaml.safe_dump({"function": "train", "fixed": FIXED, "axes": {"gpus": [8, 16]}}))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    part = next((out / "parts").iterdir())
    if damage == "missing":
        part.unlink()
    else:
        part.write_text("garbage")
    for argv in (["sweep", str(spec), "--out", str(out), "--max-cpu-hours", "1"], ["results", str(out)]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and f"{part.name} listed in its folder's manifest.json is " in err, err
