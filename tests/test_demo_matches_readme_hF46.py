"""`make demo` and README's first Usage line were both called "Llama 3's 16K-GPU plan", the demo running it at VPP 8
on the default stack (nemo-26.04, whose even split refuses VPP 7's 112 chunks of 128 slots) and README at VPP 7 on
meta-llama3 (hF46): README's demo line says the demo's stack and VPP, and the two runs' stacks are as said."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.user_docs import doc_path

from infraplan.catalog.stacks import DEFAULT_TRAINING_STACK

ROOT = Path(__file__).parents[1]


def _options(words: list[str]) -> dict[str, str]:
    return {w: words[i + 1] for i, w in enumerate(words[:-1])
            if w.startswith("--") and not words[i + 1].startswith("-")}


def test_readmes_demo_line_names_the_stack_and_vpp_the_demo_runs() -> None:
    make = ROOT.joinpath("Makefile").read_text()
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", make, re.M)
    assert recipe is not None
    demo = _options(shlex.split(recipe.group(1).replace("\\\n", " ")))
    readme = ROOT.joinpath("README.md").read_text()
    usage = readme[readme.index("## Usage"):]
    line = re.search(r"^\.venv/bin/infraplan train llama3-405b .*?(?<!\\)\n", usage, re.M | re.S)
    assert line is not None
    first = _options(shlex.split(line.group(0).replace("\\\n", " ").replace("[--json]", "")))
    head = readme[:readme.index("## Usage")].splitlines()
    said = " ".join(text for text in head if text.lstrip().startswith(("make demo", "#")))
    stack = demo.get("--stack", DEFAULT_TRAINING_STACK)
    assert f"VPP{demo['--vpp']}" in said and "default stack" in said and stack in said  # what the demo runs
    assert f"VPP {first['--vpp']} on {first['--stack']}" in said  # and what Usage's first line runs instead
    assert (stack, demo["--vpp"]) != (first["--stack"], first["--vpp"])  # two plans: the line must tell them apart
    # README's short Usage list opens with the first line of the full list (docs/usage.md, hM64): the same plan
    full = re.search(r"^\.venv/bin/infraplan train llama3-405b .*?(?<!\\)\n", doc_path("usage").read_text(),
                     re.M | re.S)
    assert full is not None and full.group(0) == line.group(0)
