"""facility / campus `--accelerator` take a system preset for its part since hU67 (`cluster.cluster.part_ref`), but
an unknown name listed (and suggested) accelerator presets only (hR67's leftover): "mtia-400-rak" was offered
mtia-400, not the mtia-400-rack meant. The list is now `non_cpu_parts`: the non-CPU accelerators and the systems of
a non-CPU part. And a video device file refused at one rung said "1 rungs ... at most 1 outputs" (hR67)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.inference_loader import load_video_device
from infraplan.cli.main import main
from infraplan.cluster.cluster import Cluster, non_cpu_parts
from infraplan.errors import InputError

MSVP = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "video" / "devices" / "msvp.yaml"


def test_an_unknown_name_suggests_the_system_meant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["facility", "--accelerator", "mtia-400-rak", "--count", "72"]) == 2
    err = capsys.readouterr().err
    assert "did you mean mtia-400-rack" in err and len(err.splitlines()) == 1
    with pytest.raises(InputError, match="did you mean mtia-400-rack"):
        Cluster.for_accelerator("mtia-400-rak", purpose="a campus")


def test_the_known_list_has_the_systems_and_no_cpu() -> None:
    names = non_cpu_parts()
    assert {"mtia-400-rack", "gb200-nvl72", "dgx-h100-superpod", "h100-sxm"} <= set(names)
    with pytest.raises(InputError) as refused:
        Cluster.for_accelerator("zzqq", purpose="facility sizing")
    assert "dgx-h100-superpod" in str(refused.value) and "known: " in str(refused.value)


def test_one_rung_is_singular(tmp_path: Path) -> None:
    text = MSVP.read_text().replace("reference_outputs: 5", "reference_outputs: 2")
    path = tmp_path / "dev-144.yaml"
    path.write_text(text.replace("reference_input_height: 2160", "reference_input_height: 144"))
    with pytest.raises(InputError) as refused:
        load_video_device(str(path))
    line = str(refused.value)
    assert "the ladder's 1 rung at or below" in line and line.endswith("at most 1 output")
