"""The standing of an accelerator's figures (`Accelerator.figures`, `figures_note`, `intended_use`) and the notes
`catalog.figures.figures_notes` makes of them (helper hF, session 33). Each shipped file states its standing as its
own `source:` text does; the schema keeps the two in step; a user file without the field still loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from infraplan.catalog.figures import borrowed_tables_note, figures_notes, standing_note, use_note
from infraplan.catalog.loader import is_what_if, load_accelerator
from infraplan.catalog.schemas import Accelerator

ACCELERATORS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "accelerators"
FILES = sorted(ACCELERATORS.glob("*.yaml"))
# how a source words each intended use (the MTIA roadmap summaries, the ISCA'23 / ISCA'25 papers)
USE_WORDS = {("inference", "generative-ai"): ("for generative-AI inference",),
             ("training", "recommendation"): ("for ranking and recommendation training",),
             ("inference", "recommendation"): ("for recommendation inference", "for ranking and recommendation "
                                                                               "inference")}


def _raw(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_shipped_accelerator_states_its_figures_as_its_source_does(path: Path) -> None:
    raw = _raw(path)
    assert raw.get("figures") in ("datasheet", "secondary", "preliminary"), "set `figures:` explicitly"
    acc = load_accelerator(path.stem)
    text = f"{acc.source} {acc.figures_note} {acc.display_name}"
    if "PRELIMINARY" in text:
        assert acc.figures == "preliminary"
    elif "SECONDARY" in text:
        assert acc.figures == "secondary"
    else:
        assert acc.figures == "datasheet"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_intended_use_is_in_its_source_and_every_stated_use_is_set(path: Path) -> None:
    acc = load_accelerator(path.stem)
    stated = [key for key, words in USE_WORDS.items() if any(w in acc.source for w in words)]
    if acc.intended_use is None:
        assert stated == [], "the source states a use: set intended_use"
    else:
        assert stated == [(acc.intended_use.work, acc.intended_use.models)]


def test_the_parts_the_brief_names_carry_their_standing_and_use() -> None:
    assert load_accelerator("rubin").figures == "preliminary"
    for name in ("mtia-300", "mtia-400", "mtia-450", "mtia-v1", "mtia-v2"):
        assert load_accelerator(name).figures == "secondary"
    assert {n: (u.work, u.models) for n in ("mtia-300", "mtia-400", "mtia-450", "mtia-v1", "mtia-v2")
            if (u := load_accelerator(n).intended_use)} == {
        "mtia-300": ("training", "recommendation"), "mtia-400": ("inference", "generative-ai"),
        "mtia-450": ("inference", "generative-ai"), "mtia-v1": ("inference", "recommendation"),
        "mtia-v2": ("inference", "recommendation")}
    for name in ("h100-sxm", "b200", "gb200", "mi300x", "tpu-v5p"):
        assert load_accelerator(name).figures == "datasheet"
        assert load_accelerator(name).intended_use is None


def test_notes_for_a_secondary_part_asked_about_other_work() -> None:
    acc = load_accelerator("mtia-400")
    notes = figures_notes(acc, "training")
    assert notes[0].startswith("mtia-400: SECONDARY figures: press summaries")
    assert "peak FLOP/s" in notes[0] and "ASSUMPTIONS" in notes[0] and notes[0].endswith("as a what-if")
    assert notes[1].startswith("mtia-400 is described by its source for generative-AI inference; training on it is "
                               "priced with the same kernel and memory models")
    # its own use: the standing, and the collective tables it borrows (hC49: `borrowed_tables_note`)
    assert figures_notes(acc, "inference") == [notes[0], notes[2]] and "no measured collective table" in notes[2]
    assert "ranking and recommendation inference on it" in figures_notes(acc, "inference", "recommendation")[1]
    assert figures_notes(acc) == notes[:1]  # no work asked (facility, a fleet's pool)


def test_notes_for_a_preliminary_part_and_none_for_a_datasheet_part() -> None:
    rubin = figures_notes(load_accelerator("rubin"), "training")
    assert len(rubin) == 2 and rubin[0].startswith("rubin: PRELIMINARY figures: NVIDIA's announced specs of an "
                                                   "unreleased part")
    assert rubin[1] == borrowed_tables_note(load_accelerator("rubin"))  # no measured table of its own (hC49)
    for name in ("h100-sxm", "b200", "gb200", "a100-80gb", "epyc-9654"):
        acc = load_accelerator(name)
        borrowed = [line for line in [borrowed_tables_note(acc)] if line]  # A100: H100's curves (hC49)
        assert figures_notes(acc, "training") == borrowed and figures_notes(acc, "inference", "recommendation") == []
        assert standing_note(acc) is None and use_note(acc, "training", "generative-ai") is None


def test_mtia_300_is_a_recommendation_training_part() -> None:
    acc = load_accelerator("mtia-300")
    assert use_note(acc, "training", "recommendation") is None
    assert "generative-AI training on it" in (use_note(acc, "training", "generative-ai") or "")
    assert "; inference on it" in (use_note(acc, "inference", "recommendation") or "")


def _spec(**changes: object) -> dict:
    data = load_accelerator("h100-sxm").model_dump()
    data.update(changes)
    return data


def test_the_schema_keeps_standing_and_note_in_step() -> None:
    with pytest.raises(ValidationError, match="figures_note is for secondary or preliminary"):
        Accelerator.model_validate(_spec(figures_note="SECONDARY figures: a blog"))
    with pytest.raises(ValidationError, match="needs a figures_note starting 'SECONDARY figures: '"):
        Accelerator.model_validate(_spec(figures="secondary"))
    with pytest.raises(ValidationError, match="needs a figures_note starting 'PRELIMINARY figures: '"):
        Accelerator.model_validate(_spec(figures="preliminary", figures_note="SECONDARY figures: a blog"))
    with pytest.raises(ValidationError):
        Accelerator.model_validate(_spec(figures="measured"))
    with pytest.raises(ValidationError):
        Accelerator.model_validate(_spec(intended_use={"work": "serving", "models": "generative-ai"}))
    ok = Accelerator.model_validate(_spec(figures="preliminary", figures_note="PRELIMINARY figures: a keynote"))
    assert figures_notes(ok) == ["h100-sxm: PRELIMINARY figures: a keynote"]


def test_a_user_file_without_the_field_loads_and_a_what_if_inherits_it(tmp_path: Path) -> None:
    data = _spec()
    for key in ("figures", "figures_note", "intended_use", "extends"):
        data.pop(key)
    data["name"] = "my-gpu"
    plain = tmp_path / "my-gpu.yaml"
    plain.write_text(yaml.safe_dump(data), encoding="utf-8")
    acc = load_accelerator(str(plain))
    assert acc.figures == "datasheet" and acc.intended_use is None and figures_notes(acc, "training") == []
    shipped = Path(__file__).resolve().parents[2] / "examples" / "hardware" / "h100-hbm-plus50.yaml"
    assert figures_notes(load_accelerator(str(shipped)), "training") == []
    faster = tmp_path / "mtia-400-fast.yaml"
    faster.write_text("extends: mtia-400\nname: mtia-400-fast\nmemory_bandwidth_bytes_per_s: 12TB/s\n",
                      encoding="utf-8")
    what_if = load_accelerator(str(faster))
    assert what_if.figures == "secondary" and what_if.intended_use == load_accelerator("mtia-400").intended_use
    assert figures_notes(what_if, "training")[0].startswith("mtia-400-fast: SECONDARY figures")
    relabelled = tmp_path / "mtia-400-relabelled.yaml"
    relabelled.write_text("extends: mtia-400\nname: mtia-400-relabelled\nintended_use: null\n", encoding="utf-8")
    assert not is_what_if(load_accelerator(str(relabelled)))  # a label moves no time
