"""A recsys model's DCN keys on a dot or concat interaction are refused, not read by nothing.

hH66's walk: dlrm-low (a dot interaction) with `interaction: {kind: dot, layers: 5, rank: 64}` or
`interaction_dtype: int8` answered exactly as dlrm-low (5,756,248 QPS on MTIA v2): no cross layer exists to shape
or to run in that dtype (`recsys.estimate.evaluate_batches` prices the dot product in `dtype`). And
`interaction_dtype: fp32` was refused with "mtia-v2 has no peak for fp32", naming a key that changed nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog.inference_loader import load_recsys_model
from infraplan.cli import main

PRESETS = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "recsys"


def _variant(tmp_path: Path, base: str, **update: Any) -> str:
    data = yaml.safe_load((PRESETS / f"{base}.yaml").read_text())
    data.update(update, name="variant")
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize(("update", "words"), [
    ({"interaction": {"kind": "dot", "layers": 5, "rank": 64}}, "layers: 5, rank: 64 shape DCN cross layers; a dot"),
    ({"interaction": {"kind": "dot", "rank": 64}}, "rank: 64 shape DCN cross layers; a dot interaction has none"),
    ({"interaction": {"kind": "concat", "layers": 2}}, "layers: 2 shape DCN cross layers; a concat interaction"),
    ({"interaction_dtype": "int8"}, "interaction_dtype int8 is the dtype of DCN cross-layer GEMMs; a dot"),
    ({"interaction_dtype": "fp32"}, "interaction_dtype fp32 is the dtype of DCN cross-layer GEMMs; a dot"),
])
def test_a_key_no_interaction_reads_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            update: dict[str, Any], words: str) -> None:
    code = main(["recsys", _variant(tmp_path, "dlrm-low", **update), "--accelerator", "mtia-v2"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert words in err and "no peak" not in err


def test_the_dcn_keys_still_shape_a_dcn_model(tmp_path: Path) -> None:
    """On a DCN model the keys are read: more cross layers are more FLOPs, fp16 cross layers more dense bytes."""
    base = load_recsys_model("dlrm-high")
    deeper = load_recsys_model(_variant(tmp_path, "dlrm-high", interaction={"kind": "dcn", "layers": 3, "rank": 512}))
    assert deeper.flops_per_sample() > base.flops_per_sample()
    mixed = load_recsys_model(_variant(tmp_path, "dlrm-high", dtype="int8", interaction_dtype="fp16"))
    plain = load_recsys_model(_variant(tmp_path, "dlrm-high", dtype="int8"))
    assert mixed.dense_bytes() > plain.dense_bytes()
