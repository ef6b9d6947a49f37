"""Mutation wave hM23 (session 45) on `catalog.answer_bands`: the edge is the longest validated length itself, and
the basis names that length, not the answer's (training's longest case: 8,192 tokens, the Llama 3 paper's Table 4
rows and the Megatron-Bridge summary, catalog/validated_lengths.yaml)."""

from __future__ import annotations

from infraplan.catalog.answer_bands import beyond_validated_length
from infraplan.catalog.error_bands import ErrorBand

BAND = ErrorBand(low=-0.1, high=0.2, cases=10, basis="b")


def test_one_token_beyond_the_longest_case_is_outside() -> None:
    flagged = beyond_validated_length(BAND, "training", 8193)
    assert flagged is not None and "outside the validated lengths" in flagged.basis
    assert beyond_validated_length(BAND, "training", 8192) == BAND


def test_the_basis_names_the_longest_case_and_the_answers_length_apart() -> None:
    flagged = beyond_validated_length(BAND, "training", 131072)
    assert flagged is not None
    assert "131,072 tokens is 16.0x the longest" in flagged.basis and "(8,192 tokens)" in flagged.basis
