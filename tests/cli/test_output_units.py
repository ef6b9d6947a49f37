"""Human output helpers: every number carries its unit, prefixes roll over cleanly."""

from infraplan.cli.commands._output import fmt_bytes, fmt_percent, fmt_rate, fmt_seconds


def test_prefix_rolls_over_when_rounding_reaches_the_base():
    assert fmt_rate(999.7e6, "W") == "1 GW"
    assert fmt_rate(999.4e6, "W") == "999 MW"
    assert fmt_bytes(1023.9 * 2**30) == "1 TiB"
    assert fmt_bytes(1000.0 * 2**30) == "0.977 TiB"


def test_every_helper_prints_a_unit():
    assert fmt_seconds(0.0042) == "4.2 ms"
    assert fmt_seconds(86400 * 3) == "3 days"
    assert fmt_percent(0.413) == "41.3 %"
    assert fmt_rate(2.5e6, "tokens/s") == "2.5 Mtokens/s"
