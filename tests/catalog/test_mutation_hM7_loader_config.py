"""Mutation wave 7 (hM7, session 37): `catalog.versioned_cache` (its key, its size, the files an outer load
inherits from a cached inner one) and the model-config checks hQ3 / hQ4 added (catalog/model_config.py), each
asserted from the docstring or the source it names; every test fails on a one-line mutant that the earlier tests
let through (validation/notes/test_suite_cost_tried.md, "hM7 (session 37)")."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.catalog.versioned_cache import file_version, versioned_cache
from infraplan.cluster import Cluster
from infraplan.errors import InputError

LLAMA = {"model_type": "llama", "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
         "num_key_value_heads": 8, "intermediate_size": 4096, "vocab_size": 32000, "max_position_embeddings": 4096}


def _write(path: Path, text: str, when: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(when, when))


def _config(tmp_path: Path, name: str, config: dict[str, object]) -> str:
    path = tmp_path / name / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config))
    return str(path)


def _warnings(path: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(path)
    return [str(w.message) for w in caught if issubclass(w.category, ModelConfigWarning)]


def test_a_file_rewritten_within_one_mtime_tick_is_read_again_by_its_size(tmp_path: Path) -> None:
    """The version is (st_mtime_ns, st_size): a coarse clock gives the rewrite the same mtime, its size differs."""
    acc = tmp_path / "acc.yaml"
    _write(acc, "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 3.35TB/s\n", 10**18)
    assert load_accelerator(str(acc)).memory_bandwidth_bytes_per_s == 3.35e12
    _write(acc, "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 0.5TB/s\n", 10**18)  # same mtime, 1 byte less
    assert load_accelerator(str(acc)).memory_bandwidth_bytes_per_s == 0.5e12


def test_an_accelerator_file_cached_first_is_still_a_file_of_the_system_that_names_it(tmp_path: Path) -> None:
    """load_system's and the named resolve's answers depend on the accelerator file even where its load was a
    cache hit (the hit passes its files to the loads in progress: `_read_by_loads_all`)."""
    acc, system = tmp_path / "acc.yaml", tmp_path / "sys.yaml"
    _write(acc, "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 0.5TB/s\n", 10**18)
    _write(system, "extends: dgx-h100-superpod\naccelerator: acc.yaml\n", 10**18)
    assert load_accelerator(str(acc)).memory_bandwidth_bytes_per_s == 0.5e12  # cached before the system
    assert Cluster.resolve(str(system)).accelerator.memory_bandwidth_bytes_per_s == 0.5e12
    _write(acc, "extends: h100-sxm\nmemory_bandwidth_bytes_per_s: 3.35TB/s\n", 2 * 10**18)
    assert Cluster.resolve(str(system)).accelerator.memory_bandwidth_bytes_per_s == 3.35e12


def test_past_maxsize_the_oldest_answer_is_forgotten_and_cache_clear_forgets_all() -> None:
    calls: list[str] = []

    @versioned_cache(maxsize=2)
    def double(key: str) -> str:
        calls.append(key)
        return key * 2

    assert [double(k) for k in ("a", "b", "c", "b")] == ["aa", "bb", "cc", "bb"]
    assert calls == ["a", "b", "c"]  # b kept: 2 answers, a the oldest dropped for c
    double("a")
    assert calls == ["a", "b", "c", "a"]
    double.cache_clear()  # type: ignore[attr-defined]
    double("a")
    assert calls == ["a", "b", "c", "a", "a"]


def test_a_file_that_cannot_be_statted_has_no_version(tmp_path: Path) -> None:
    assert file_version(str(tmp_path / "missing.yaml")) is None
    _write(tmp_path / "there.yaml", "x: 1\n", 10**18)
    assert file_version(str(tmp_path / "there.yaml")) == (10**18, 5)


def test_a_context_exactly_at_the_largest_stated_one_is_taken(tmp_path: Path) -> None:
    """`_context_positions` refuses a product *above* 2^31 - 1; exactly at it is the context."""
    scaling = {"rope_type": "yarn", "factor": 1.0, "original_max_position_embeddings": 2**31 - 1}
    assert load_model(_config(tmp_path, "edge", {**LLAMA, "rope_scaling": scaling})).max_seq_len == 2**31 - 1


@pytest.mark.parametrize(("change", "message"), [
    ({"tie_word_embeddings": 1}, "tie_word_embeddings must be true or false, got 1"),
    ({"tie_word_embeddings": 0}, "tie_word_embeddings must be true or false, got 0"),
    ({"layer_types": ["full_attention"] * 5}, "layer_types must be a list of one attention type per layer (4), got 5"),
    ({"rope_scaling": {"rope_type": "yarn", "factor": 0}}, "rope_scaling factor must be a positive number, got 0"),
])
def test_a_value_transformers_would_not_take_is_refused(tmp_path: Path, change: dict[str, object],
                                                        message: str) -> None:
    with pytest.raises(InputError, match="must be") as err:
        load_model(_config(tmp_path, "bad", {**LLAMA, **change}))
    assert message in str(err.value)


def test_an_expert_count_on_a_dense_family_is_priced_dense_with_its_defaults_said(tmp_path: Path) -> None:
    """Llama is dense (`_DENSE_FAMILIES`): its FFN default is said (4 x hidden) though an MoE FFN width is given,
    and no experts-per-token default is said (no MoE)."""
    config = {k: v for k, v in LLAMA.items() if k != "intermediate_size"}
    said = " ".join(_warnings(_config(tmp_path, "moe", {**config, "num_local_experts": 8,
                                                         "moe_intermediate_size": 2048})))
    assert "no intermediate_size: the FFN priced at 4 x hidden_size = 4,096" in said
    assert "num_experts_per_tok" not in said.split("not read:")[0] and "no num_experts_per_tok" not in said


def test_one_expert_on_a_dense_family_says_nothing(tmp_path: Path) -> None:
    assert _warnings(_config(tmp_path, "one", {**LLAMA, "num_local_experts": 1})) == []
