"""Mutation wave 6 (hM6): the error-band file's fast reader (`catalog.error_bands.written_rows`) reads only rows the
YAML parser would read the same: a double-quoted campaign with a backslash escape is YAML's to unescape."""

from __future__ import annotations

import pytest

from infraplan.catalog import error_bands
from infraplan.catalog.yaml_text import safe_load_yaml

ROW = '  - [H001, hopper, megatron, training, -0.1239, "{campaign}", throughput]\n'


@pytest.mark.parametrize(("written", "read"), [("Llama \\x33 paper", "Llama 3 paper"),
                                               ("Llama\\t3", "Llama\t3"), ("C:\\\\runs", "C:\\runs")])
def test_a_campaign_with_an_escape_goes_to_the_yaml_parser(written: str, read: str) -> None:
    text = f"# a comment\nresiduals:\n{ROW.format(campaign=written)}"
    assert safe_load_yaml(text)["residuals"][0][5] == read  # YAML unescapes it
    assert error_bands.written_rows(text) is None  # so the fast reader leaves it to YAML


@pytest.mark.parametrize(("written", "read"), [("010", 8), ("1", 1)])
def test_a_residual_without_a_decimal_point_goes_to_the_yaml_parser(written: str, read: int) -> None:
    """The writer's residuals have a decimal point; a bare integer is YAML's (1.1: `010` is octal 8, not 10.0)."""
    text = f"# a comment\nresiduals:\n{ROW.format(campaign='c').replace('-0.1239', written)}"
    assert safe_load_yaml(text)["residuals"][0][4] == read
    assert error_bands.written_rows(text) is None
