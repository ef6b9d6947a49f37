"""hJ58: a refused quantity is one line naming the field and the value as typed, with a hint that fits (hD58's walk:
campus "1e308GW" was "quantity 'inf' is not a finite number", naming neither; a TTFT SLO of 1e308 was offered
"did you mean 1e308ms?", 1e305 s). The shared readers (units.py) serve the CLI, the web and scenario files; the web's
pattern refusals give the field's words, not its regex ("String should match pattern '^[0-9]...'"). Each test failed
before (checked on the base tree): the lines below were the old ones."""

from __future__ import annotations

import pytest
from tests.cli.conftest import CliRun

from infraplan.errors import InputError
from infraplan.units import parse_bytes, parse_count, parse_duration_s, parse_power_w, repair_time_slip, slo_unit_slip


@pytest.mark.parametrize(("read", "text", "wanted"), [
    (parse_power_w, "1e308GW", "--x: '1e308GW' is not a finite number (above ~1.8e308 W)"),  # "quantity 'inf' ..."
    (parse_power_w, "1,5GW", "did you mean 1.5GW?"),  # "cannot read quantity '1,5GW'"
    (parse_power_w, "1,500kW", "did you mean 1.500kW or 1500kW?"),  # a thousands separator, or a decimal comma
    (parse_power_w, "1.5 gw", "did you mean 1.5GW? (units are case-sensitive)"),
    (parse_power_w, "nanGW", "'nanGW' is not a finite number"),  # "cannot read quantity 'nanGW'"
    (parse_bytes, "-1GiB", "--x: '-1GiB' is negative; expected a size such as 80GiB or 1.5GB"),
    (parse_bytes, "", "--x: empty quantity; expected a size"),
    (parse_bytes, "80 gib", "did you mean 80GiB?"),
    (parse_count, "15.6t", "did you mean 15.6T?"),
    (parse_duration_s, "20 mss", "--x: cannot read duration '20 mss'; expected e.g. 50ms, 2s, 12h or 60d; did you "
                                 "mean 20ms?"),
    (parse_duration_s, "1e308d", "'1e308d' is not a finite number (above ~1.8e308 s)"),
])
def test_a_reader_names_the_field_the_value_and_the_likely_fix(read, text: str, wanted: str) -> None:
    with pytest.raises(InputError) as refused:
        read(text, name="--x")
    assert wanted in str(refused.value) and "\n" not in str(refused.value), refused.value


def test_a_decimal_comma_is_offered_only_in_a_unit_the_reader_takes() -> None:
    with pytest.raises(InputError, match=r"did you mean 1\.5s\?"):
        parse_duration_s("1,5s")
    with pytest.raises(InputError) as refused:
        parse_duration_s("1,5GW")
    assert "did you mean" not in str(refused.value) and "expected e.g. 50ms" in str(refused.value)


def test_a_slip_offers_the_unit_only_where_its_reading_is_plausible() -> None:
    assert "did you mean 2000ms?" in str(slo_unit_slip("2000", 2000.0, "ttft"))  # 2 s: kept
    huge = str(slo_unit_slip("1e308", 1e308, "ttft"))
    assert "1e308ms?" not in huge and "1e+305 s" in huge and "e.g. 2s or 500ms" in huge
    assert "did you mean 3d or 3h?" in str(repair_time_slip("3", 3.0))  # kept
    tiny = str(repair_time_slip("0.001", 0.001))  # 0.001 d is 86 s, 0.001 h 3.6 s: neither a repair
    assert "did you mean" not in tiny and "e.g. 3d or 12h" in tiny


@pytest.mark.parametrize(("args", "wanted"), [
    (["campus", "--accelerator", "gb200", "--power", "1e308GW"], "--power: '1e308GW' is not a finite number"),
    (["campus", "--accelerator", "gb200", "--power", "1,5GW"], "--power: cannot read quantity '1,5GW': did you mean "
                                                               "1.5GW?"),
    (["facility", "--accelerator", "h100-sxm", "--count", "8", "--rack-power", ""], "--rack-power: empty quantity"),
    (["facility", "--accelerator", "h100-sxm", "--count", "8", "--rack-power", "-1kW"], "--rack-power: '-1kW' is "
                                                                                        "negative"),
    (["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "8", "--bytes", "1.5 gb"],
     "--bytes: expected a size in bytes (e.g. 80GiB, 1.5GB), got '1.5 gb'; did you mean 1.5GB?"),
    (["reliability", "--system", "dgx-h100-superpod", "--gpus", "1024", "--checkpoint-size", "nanTB"],
     "--checkpoint-size: 'nanTB' is not a finite number"),
    (["serve", "llama3-8b", "--gpus", "1", "--rate", "1", "--ttft-slo", "20 mss"], "'--ttft-slo': cannot read "
                                                                                   "duration '20 mss'; expected e.g. "
                                                                                   "50ms, 2s, 12h or 60d; did you mean "
                                                                                   "20ms?"),
    (["reliability", "--system", "dgx-h100-superpod", "--gpus", "1024", "--days", "-1d"], "'--days': '-1d' is "
                                                                                          "negative"),
    (["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096", "--global-batch",
      "64", "--tokens", "15.6t"], "--tokens: expected a count such as 2048, 16M, 1B or 15.6T, got '15.6t'; did you "
                                  "mean 15.6T?"),
])
def test_every_unit_option_refuses_in_one_line_naming_itself(cli: CliRun, args: list[str], wanted: str) -> None:
    code, out, err = cli([*args, "--json"])
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert wanted in err, err
