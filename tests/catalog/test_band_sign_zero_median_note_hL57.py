"""The widened band's note counts the campaigns with a median of 0 (hL57, hH57's leftover 3).

`band_ends.campaign_signs` counts a campaign whose median residual is exactly 0 for neither side; the note then
said "its 4 campaigns' signs (3 above 0, 1 below)" of a band built from 6 campaigns, 2 of them with a median of 0:
a reader counting the band's campaigns found 6. It now says "the signs of 4 of its 6 campaigns (3 above 0, 1
below) show no bias, the other 2 with a median of 0 (counted for neither side)". Fails before (the old wording)."""

from __future__ import annotations

from infraplan.catalog.band_ends import sign_test_p, spanning_zero, widened_note


def test_the_note_says_how_many_campaigns_the_band_has_and_how_many_have_a_zero_median() -> None:
    # 6 campaigns: a, b, c above 0; d below; e and f with a median of exactly 0 (e: one case at 0; f: -1 % / +1 %)
    values = [0.02, 0.03, 0.01, -0.005, 0.0, -0.01, 0.01]
    campaigns = ["a", "b", "c", "d", "e", "f", "f"]
    band, note = spanning_zero((0.005, 0.03), values, campaigns)
    assert band == (0.0, 0.03)
    assert ("the signs of 4 of its 6 campaigns (3 above 0, 1 below) show no bias, the other 2 with a median of 0 "
            "(counted for neither side)") in note
    assert "its 4 campaigns" not in note
    assert f"p = {sign_test_p(3, 1):.2g}" in note


def test_without_a_zero_median_the_note_reads_as_before() -> None:
    values, campaigns = [0.02, 0.03, 0.01], ["a", "b", "c"]
    _, note = spanning_zero((0.01, 0.03), values, campaigns)
    assert "its 3 campaigns' signs (3 above 0, 0 below) show no bias" in note
    assert widened_note(3, 0, 0.25) == widened_note(3, 0, 0.25, 3)
