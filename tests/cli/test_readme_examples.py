"""Every `infraplan` example in README.md runs as written (issue 17, item 5); slow: ~40 subprocesses."""

from __future__ import annotations

import pytest
import readme_examples


def test_the_readme_has_examples_for_every_section() -> None:
    lines = readme_examples.examples()
    assert len(lines) > 20
    assert any("--algorithm ring" in line for line in lines)  # alternatives in [a|b|c] are expanded


@pytest.mark.slow
def test_every_readme_example_runs_as_written() -> None:
    assert readme_examples.main() == 0
