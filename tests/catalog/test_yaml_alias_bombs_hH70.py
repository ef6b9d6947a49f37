"""A "billion laughs" YAML file is refused before it is expanded (hH70): ten anchors of nine aliases each are 9**10
values in ~300 bytes; PyYAML shares the aliased objects, but a schema validating them walks every one (`plan` and
`sweep` ran past 60 s on one). `safe_load_yaml` counts the composed document's nodes with every alias expanded
and refuses more than `limits.MAX_YAML_EXPANDED_NODES`, and an alias inside its own anchor; files with small
aliases load as before."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from infraplan import limits
from infraplan.catalog.yaml_text import AliasExpansionError, safe_load_yaml
from infraplan.cli import main

EXAMPLE_PLAN = Path(__file__).parents[2] / "examples" / "plan-minimal.yaml"


def laughs(levels: int = 10, width: int = 9, indent: str = "") -> str:
    """Anchors l0 .. l{levels-1}: l0 a list of `width` strings, each next one `width` aliases of the one before."""
    lines = [f"{indent}l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"{indent}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_is_refused_fast() -> None:
    start = time.perf_counter()
    with pytest.raises(AliasExpansionError, match="expand to over 1,000,000 values"):
        safe_load_yaml(laughs())
    assert time.perf_counter() - start < 1.0  # the count is over the ~100 distinct nodes, not the 9**10 values


def test_the_bound_is_the_expanded_node_count(monkeypatch: pytest.MonkeyPatch) -> None:
    # hand count: the root list, and three times (the list + its 3 scalars): 1 + 3 * 4 = 13 nodes
    text = "[&a [1, 2, 3], *a, *a]"
    monkeypatch.setattr(limits, "MAX_YAML_EXPANDED_NODES", 13)
    assert safe_load_yaml(text) == [[1, 2, 3]] * 3
    monkeypatch.setattr(limits, "MAX_YAML_EXPANDED_NODES", 12)
    with pytest.raises(AliasExpansionError):
        safe_load_yaml(text)


def test_small_aliases_and_merge_keys_load_as_yaml_does() -> None:
    text = "base: &b {power_w: 700, memory: 80GiB}\nh100: {<<: *b, name: h100}\nlist: [*b, *b]\n"
    assert safe_load_yaml(text) == yaml.safe_load(text)
    assert safe_load_yaml("name: R&D * 2\n") == {"name": "R&D * 2"}  # '&' and '*' inside a scalar


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    with pytest.raises(AliasExpansionError, match="inside its own anchor"):
        safe_load_yaml("a: &r [1, *r]\n")


@pytest.mark.timeout(60)
def test_plan_and_sweep_refuse_a_bomb_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.yaml"
    kept = [line for line in EXAMPLE_PLAN.read_text().splitlines() if not line.startswith(("#", "phases:"))]
    plan.write_text("x-anchors:\n" + laughs(indent="  ") + "phases: *l9\n" + "\n".join(kept) + "\n")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("function: collective\nfixed: {op: all-reduce, system: dgx-h100-superpod}\nanchors:\n"
                     + laughs(indent="  ").replace("lol", "8") + "axes:\n  gpus: *l9\n  bytes: [1MiB]\n")
    out_dir = tmp_path / "out"
    for args in (["plan", str(plan)], ["sweep", str(sweep), "--workers", "1", "--out", str(out_dir)]):
        start = time.perf_counter()
        assert main(args) == 2  # was: minutes of validation over 9**10 values
        out, err = capsys.readouterr()
        assert time.perf_counter() - start < 20
        assert len(err.strip().splitlines()) == 1 and "1,000,000 values" in err, repr(err)
    assert not out_dir.exists()
