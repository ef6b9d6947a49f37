"""hI63: a 5,000-digit number given to a count or a number option is refused in one short line.

Found: `facility --accelerator h100-sxm --count 999...9` (5,000 digits) was refused as "'999...9' is not a whole
number", the whole text echoed (a 5,072-byte line), though it is a whole number, above the 10 M limit: `int()`
refuses more than 4,300 digits and the parser fell through to its float reading; `--days`, `--daily-hours` and the
other number options echoed it whole too (`--power`, `--rack-power`, ... read by `units` already cut it to 40
characters). Now `cli.options.Bounded` shows `units.quoted_text` of a long value and reads a whole number past 30
digits as one above every bound.
"""

from __future__ import annotations

import pytest

from infraplan.cli import main

LONG = "9" * 5000

CASES = [
    (["facility", "--accelerator", "h100-sxm", "--count", LONG], "must be less than or equal to 10000000"),
    (["network", "h100-sxm", "--gpus", LONG], "must be less than or equal to 10000000"),
    (["recsys", "dlrm-low", "--accelerator", "mtia-v2", "--batch", LONG], "must be less than or equal to"),
    (["reliability", "--system", "h100-sxm", "--gpus", "1024", "--days", LONG], "must be a finite number"),
    (["video", "--device", "msvp", "--daily-hours", LONG], "must be a finite number"),
]


@pytest.mark.parametrize(("args", "words"), CASES, ids=[c[0][0] + " " + c[0][-2] for c in CASES])
def test_a_very_long_number_is_one_short_refusal(capsys: pytest.CaptureFixture[str], args: list[str],
                                                 words: str) -> None:
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err[:300]
    assert len(err) < 200 and words in err and "'9999999999" in err and "..." in err, err[:300]


def test_short_values_are_still_echoed_as_typed(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["facility", "--accelerator", "h100-sxm", "--count", "0"]) == 2
    assert "Invalid value for '--count': 0: must be greater than or equal to 1" in capsys.readouterr().err
    assert main(["facility", "--accelerator", "h100-sxm", "--count", "99999999999"]) == 2
    assert "'--count': 99999999999: must be less than or equal to 10000000" in capsys.readouterr().err
