"""planning's caches of answers that read users' files (`campus.reference_run_throughput`,
`scenario_sizing._training_point`) follow an edited file within one process, as the catalog loaders do
(`catalog.versioned_cache`; before: `lru_cache` keyed on the path, the first version's answer kept)."""

from __future__ import annotations

import os
from pathlib import Path

from infraplan.planning.campus import reference_run_throughput
from infraplan.planning.scenario_sizing import _training_point


def _rewrite(path: Path, text: str) -> None:
    path.write_text(text)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a new version whatever the clock


def test_the_campus_reference_run_follows_an_edited_accelerator_file(tmp_path: Path) -> None:
    chip = tmp_path / "h100-what-if.yaml"
    _rewrite(chip, "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 3.35TB/s\n")
    before = reference_run_throughput(str(chip))
    _rewrite(chip, "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 0.5TB/s\n")
    after = reference_run_throughput(str(chip))
    assert before is not None and after is not None
    assert after["tokens_per_s_per_gpu"] < 0.95 * before["tokens_per_s_per_gpu"]
    _rewrite(chip, "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 3.35TB/s\n")
    assert reference_run_throughput(str(chip)) == before  # the same file content, the same answer


def test_a_plans_training_point_follows_an_edited_model_file(tmp_path: Path) -> None:
    model = tmp_path / "config.json"
    shape = ('{{"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, '
             '"num_key_value_heads": 8, "num_hidden_layers": {layers}, "vocab_size": 128256, '
             '"max_position_embeddings": 8192}}')
    _rewrite(model, shape.format(layers=32))
    args = ("h100-sxm", None, 64, 4096, 512, "bf16", None, 1e12)
    short = _training_point(str(model), *args)
    _rewrite(model, shape.format(layers=64))
    deep = _training_point(str(model), *args)
    assert short is not None and deep is not None
    assert deep[0] > 1.5 * short[0]  # twice the layers: about twice the wall-clock seconds
