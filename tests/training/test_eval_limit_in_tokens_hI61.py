"""`--eval-every` / `--eval-samples` are counted in sequences (or steps) and capped in tokens: a refusal says the
tokens the count came to (hI61: "at most 1e+15 tokens, got '1e12'" for 1e12 sequences of 4,096 read as a
contradiction)."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.training.evaluation import read_sequences


def test_a_count_of_sequences_over_the_cap_names_its_tokens() -> None:
    with pytest.raises(InputError, match=r"got '1e12' \(4\.1e\+15 tokens: sequences of 4,096\)"):
        read_sequences("1e12", "--eval-samples", 4096, 8)


def test_steps_over_the_cap_name_their_tokens() -> None:
    with pytest.raises(InputError, match=r"got '1e12 steps' \(3\.28e\+16 tokens: sequences of 4,096\)"):
        read_sequences("1e12 steps", "--eval-every", 4096, 8)


def test_tokens_over_the_cap_are_already_tokens() -> None:
    with pytest.raises(InputError) as err:
        read_sequences("2e15 tokens", "--eval-every", 4096, 8)
    assert str(err.value).endswith("got '2e15 tokens'")


def test_a_count_under_the_cap_is_read() -> None:
    assert read_sequences("1e11", "--eval-samples", 4096, 8) == 100_000_000_000
