"""Shipped sources cite publications, not the developers' reference folder (hS41, session 41).

The project's ../shared/reference notes (frontier.md, measurements.md, hardware.md, network.md, datacenter.md,
peers.md and their data/*.csv) are for the developers: a user reading `source:` in `infraplan catalog --json` or a
model's JSON cannot open them. Every catalog data file (its `source` text and its comments) names the original
paper, datasheet, blog or repository instead; elsewhere in the package no text points into that folder. Validation
modules may still name a reference CSV row id (H115) beside the publication it came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib import resources
from importlib.abc import Traversable

import pytest
from tests.cli.conftest import json_strings

from infraplan.cli import main

NOTES = r"\b(?:frontier|measurements|hardware|network|datacenter|peers)\.md\b"
# a path or a file of the developers' folder, anywhere in the package
FOLDER = re.compile(rf"shared[/ ]reference|reference/data/|{NOTES}", re.IGNORECASE)
# in catalog data, also its data tables and "the reference" as if a user could read it
CATALOG = re.compile(
    rf"{FOLDER.pattern}|frontier_measured\.csv|accelerator_specs\.csv"
    r"|\breference (?:notes|files|material|data|set)\b|\bin the reference\b",
    re.IGNORECASE)
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".csv")


def _files(root: Traversable, suffixes: tuple[str, ...]) -> Iterator[Traversable]:
    for entry in root.iterdir():
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _files(entry, suffixes)
        elif entry.name.endswith(suffixes):
            yield entry


PACKAGE = resources.files("infraplan")
CATALOG_FILES = sorted(str(p).split("infraplan/catalog/", 1)[1] for p in _files(PACKAGE / "catalog", DATA_SUFFIXES))
PACKAGE_FILES = sorted(str(p).split("/infraplan/", 1)[1] for p in _files(PACKAGE, (".py", *DATA_SUFFIXES)))


def _hits(pattern: re.Pattern[str], text: str) -> list[str]:
    return [f"line {n}: ...{text.splitlines()[n - 1][max(0, m.start(0) - 40):m.end(0) + 20]}..."
            for n, line in enumerate(text.splitlines(), 1) for m in [pattern.search(line)] if m]


def test_the_patterns_catch_the_old_citations_and_spare_ordinary_words() -> None:
    for cited in ("shared/reference/hardware.md B.2", "(measurements.md 3.1)", "frontier_measured.csv H160",
                  "not in the shared reference, U", "no published H800 server price is in the reference.",
                  "our reference notes carry none", "data/accelerator_specs.csv"):
        assert CATALOG.search(cited), cited
    for ordinary in ("NVIDIA DGX SuperPOD reference architecture", "the reference system's node",
                     "reference_fps: {high: 15}", "the five outputs of the reference job", "perf-overview.md",
                     "docs/performance-summary.md @74695a06d759"):
        assert not CATALOG.search(ordinary), ordinary


def test_every_catalog_data_file_is_scanned() -> None:
    assert len(CATALOG_FILES) > 100
    assert {"accelerators/h100-sxm.yaml", "models/megatron-1t.json", "nccl/simai_nic_ratio.csv",
            "published_mfu.yaml", "video/devices/msvp.yaml", "facility/hardware_costs.yaml"} <= set(CATALOG_FILES)


@pytest.mark.parametrize("name", CATALOG_FILES)
def test_catalog_data_cites_publications_not_the_reference_folder(name: str) -> None:
    text = (PACKAGE / "catalog").joinpath(*name.split("/")).read_text("utf-8-sig")
    assert not _hits(CATALOG, text), f"catalog/{name} cites the developers' reference notes: {_hits(CATALOG, text)}"


@pytest.mark.parametrize("name", PACKAGE_FILES)
def test_no_package_file_points_into_the_reference_folder(name: str) -> None:
    text = PACKAGE.joinpath(*name.split("/")).read_text("utf-8-sig")
    assert not _hits(FOLDER, text), f"{name} points into ../shared/reference: {_hits(FOLDER, text)}"


def test_the_catalog_listing_a_user_reads_names_no_reference_note(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    sources = [s for s in json_strings(listing) if len(s) > 40]
    assert any("arXiv:2104.04473" in s for s in sources)  # the Megatron presets' paper, where the note was cited
    assert [s[:120] for s in sources if CATALOG.search(s)] == []
    assert main(["catalog", "accelerators", "mtia-v1", "--json"]) == 0
    preset = capsys.readouterr().out
    assert "ISCA 2023" in preset and not CATALOG.search(preset)
