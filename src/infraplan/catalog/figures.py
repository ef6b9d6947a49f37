"""The standing of an accelerator's figures, as every answer about it says it.

An accelerator file states how its figures stand (`Accelerator.figures`: datasheet, secondary, preliminary, with a
`figures_note` naming the source and what is assumed) and, where its source states one, the work it is for
(`Accelerator.intended_use`). `figures_notes` turns both into the lines train, search, serve, serve-plan, recsys,
facility, campus, fleet-mix and plan print: none for a datasheet part asked about the work it is for.
"""

from __future__ import annotations

from typing import Literal

from infraplan.catalog.schemas import Accelerator

Work = Literal["training", "inference"]
Models = Literal["generative-ai", "recommendation"]

_MODELS_TEXT: dict[str, str] = {"generative-ai": "generative-AI", "recommendation": "ranking and recommendation"}


def standing_note(accelerator: Accelerator) -> str | None:
    """`name: SECONDARY figures: ...` (its catalog `figures_note`) for a part whose figures are not its maker's
    datasheet (`figures`: secondary or preliminary); None for a datasheet part."""
    if accelerator.figures == "datasheet" or not accelerator.figures_note:
        return None
    return f"{accelerator.name}: {accelerator.figures_note}"


def use_note(accelerator: Accelerator, work: Work, models: Models) -> str | None:
    """One line where the asked work (`train`: generative-AI training; `serve`: generative-AI inference; `recsys`:
    recommendation inference) is not the one the part's source states it is for (`intended_use`); None where it is,
    or where the source states none."""
    use = accelerator.intended_use
    if use is None or (use.work == work and use.models == models):
        return None
    asked = work if use.models == models else f"{_MODELS_TEXT[models]} {work}"
    return (f"{accelerator.name} is described by its source for {_MODELS_TEXT[use.models]} {use.work}; {asked} on "
            "it is priced with the same kernel and memory models as on any accelerator, none of them measured on "
            "this part")


def figures_notes(accelerator: Accelerator, work: Work | None = None, models: Models = "generative-ai") -> list[str]:
    """The notes an answer about `accelerator` carries: its figures' standing (secondary or preliminary), then, where
    `work` is given, a use other than its source's. Empty for a datasheet part asked about the work it is for."""
    lines = [standing_note(accelerator), use_note(accelerator, work, models) if work is not None else None]
    return [line for line in lines if line]
