"""Mutation wave 9 (hM9, session 38): `serving/engines.versioned_name_note` notes a typed release name only: a stack
file (.yaml or .yml) or a path names its own profile (the docstring: [] for a shipped stack's name, a file, or None).
"""

from __future__ import annotations

from infraplan.serving.engines import versioned_name_note


def test_a_yml_file_or_a_path_gets_no_note_though_its_name_reads_as_a_release() -> None:
    assert versioned_name_note("vllm-0.12")  # the release name itself is noted
    assert versioned_name_note("vllm-0.12.yml") == []
    assert versioned_name_note("vllm-0.12/mine") == []
