"""`planning.pool_capacity.labelled_notes` by hand (hM70 mutation wave: a (service, pool) pair named twice on one
note survived every test, whose answers use each pair once). Its rule (docstring): each note once, after every pair
it holds for, in the order first met. `plan` meets a pair once per phase it buys in (scenario_report: every option
bought), so the same pair and the same note come twice there."""

from __future__ import annotations

from infraplan.planning.pool_capacity import labelled_notes


def test_each_note_once_after_each_pair_once():
    pairs = [("ingest", "msvp", ["Z", "B"]), ("clips", "msvp", ["Z"]), ("ingest", "msvp", ["Z", "B"]),
             ("ingest", "cpu", ["A"])]  # notes met Z, B, A: that order, not the alphabet's
    assert labelled_notes(pairs) == ["ingest on msvp, clips on msvp: Z", "ingest on msvp: B", "ingest on cpu: A"]


def test_no_pairs_or_no_notes_say_nothing():
    assert labelled_notes([]) == []
    assert labelled_notes([("chat", "h100", [])]) == []
