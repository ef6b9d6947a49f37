"""Mutation wave 14 (session 41): which residuals band a serving answer (`answer_bands.serving_band_stack`,
`band_settings`, hB41). The serving residuals are labelled by engine (trtllm, vllm, sglang), so a user's stack is
banded by its engine whatever family name its file gives; kinds without a default stack take the cases' settings."""

from __future__ import annotations

from pathlib import Path

from infraplan.catalog.answer_bands import serving_band_stack
from infraplan.catalog.error_bands import CASE_SETTINGS, DEFAULT_SETTINGS, band_settings

STACKS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "stacks"


def test_a_users_serving_stack_is_banded_by_its_engine_not_its_family_name(tmp_path: Path) -> None:
    text = (STACKS / "vllm-0.x.yaml").read_text(encoding="utf-8")
    assert "stack_class: vllm\n" in text and "  token_budget: 8192\n" in text
    mine = tmp_path / "mine.yaml"
    mine.write_text(text.replace("stack_class: vllm\n", "stack_class: my-vllm-fork\n")
                    .replace("  token_budget: 8192\n", "  token_budget: 4096\n"), encoding="utf-8")
    assert serving_band_stack(str(mine)) == "vllm"


def test_only_kinds_with_a_default_stack_take_the_default_settings() -> None:
    assert band_settings("serving", None) == band_settings("training", None) == DEFAULT_SETTINGS
    for kind in ("recsys", "network", "facility"):
        assert band_settings(kind, None) == CASE_SETTINGS, kind
