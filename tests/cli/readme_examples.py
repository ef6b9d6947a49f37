"""Run every `infraplan` example of README.md as written (issue 17, item 5) and report what fails.

Each ```bash block line that calls `.venv/bin/infraplan` (joined over trailing backslashes) is one example.
Optional parts `[--json]` are dropped, `a|b|c` alternatives inside brackets are skipped, and the placeholder
files the README names (`path/to/config.json`, `requests.csv`) are created in a temporary folder. Every example
runs with COLUMNS=100 and must exit 0 (validate: 0 or 1), print no traceback and no cut cell ("…").

    .venv/bin/python tests/cli/readme_examples.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MISTRAL = ('{"model_type": "mistral", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, '
           '"num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 32000, '
           '"max_position_embeddings": 32768}')


def examples(readme: Path = ROOT / "README.md") -> list[str]:
    """The README's infraplan command lines: each without its optional parts, then with each optional part
    (`[--algorithm ring|tree|...]` gives one line per alternative; `[--cooling air|liquid]` likewise)."""
    text = readme.read_text()
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split("  #")[0].strip()
            if not line.startswith(".venv/bin/infraplan"):
                continue
            bare = re.sub(r"\s*\[[^\]]*\]", "", line)
            lines.append(bare)
            for optional in re.findall(r"\[([^\]]*)\]", line):
                head, _, choices = optional.partition(" ")
                if head.startswith("--") and "|" in choices and " " not in choices:
                    lines += [f"{bare} {head} {choice}" for choice in choices.split("|")]
                elif head.startswith("--") and "|" not in optional and "--json" not in optional:
                    lines.append(f"{bare} {optional}")
    return lines


def run(line: str, folder: Path, timeout_s: float = 120.0) -> tuple[int | None, float, str]:
    line = line.replace("path/to/config.json", str(folder / "config.json"))
    line = line.replace("requests.csv", str(folder / "requests.csv"))
    for output in ("scaling.html", "campus.html", "fabric.graphml"):  # written in the temporary folder
        line = line.replace(output, str(folder / output))
    argv = line.split()
    argv[0] = str(ROOT / ".venv" / "bin" / "infraplan")
    env = {**os.environ, "COLUMNS": "100"}
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start, "timeout"
    seconds = time.perf_counter() - start
    problem = ""
    if "Traceback" in done.stderr:
        problem = "traceback: " + done.stderr.strip().splitlines()[-1]
    elif done.returncode not in ((0, 1) if argv[1] == "validate" else (0,)):
        problem = done.stderr.strip()[:200]
    elif "…" in done.stdout:
        problem = "a cell is cut at 100 columns"
    return done.returncode, seconds, problem


def main() -> int:
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(MISTRAL)
        (folder / "requests.csv").write_text("arrival_s,input_tokens,output_tokens\n" +
                                             "".join(f"{i * 0.1:.1f},{500 + i},{100 + i}\n" for i in range(200)))
        for line in examples():
            code, seconds, problem = run(line, folder)
            failures += bool(problem)
            print(f"{'FAIL' if problem else 'ok  '} {seconds:6.1f} s  exit {code}  {line[20:110]}"
                  + (f"\n      {problem}" if problem else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
