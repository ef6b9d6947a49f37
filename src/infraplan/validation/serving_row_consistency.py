"""Measured serving rows whose own numbers contradict other rows of the same set (the Hopper MoE / MLA set).

A closed-loop benchmark row states its clients c, ISL / OSL and the measured mean TTFT and TPOT. Three facts of any
serving engine tie rows of the same configuration (model, GPU, backend, attention TP, attention DP, ISL / OSL,
precision) together, whatever the engine's scheduler, batch cap or kernels:

* Little's law: a closed loop of c clients has n = c D / (TTFT + D) sequences decoding at once, D = (OSL - 1) TPOT;
* decode time per token does not fall as the batch grows: a step of more sequences reads at least the same weights
  and more KV cache, and more clients bring more prefills into the other requests' decode (more stalls);
* two runs of one stated experiment (configuration, MoE layout, engine version, clients) measure the same thing, to
  within run-to-run noise;
* the first token does not come sooner as clients are added: more clients bring more prompts to prefill ahead of a
  request and longer iterations to wait through (rule 4).

Rule 1, Little's law (`LITTLE_LAW`): a row with n >= 4x the clients of another row of the same configuration but a
LOWER TPOT cannot be reproduced by any batch cap or scheduler. It flags 5 GPT-OSS vLLM 0.11.2 / unversioned rows at
512 clients (TTFT 20-120 s, i.e. ~100 sequences decoding, at TPOT 3.6-5.6 ms, below the same layouts' 8-16-client
TPOT); the engine's own cap (vLLM V1 `max_num_seqs` 1024 on >= 70 GiB GPUs) does not bind at 512 clients. (Round 2
of `validation.serving_hopper_moe`: before the rule those rows had TPOT errors of +130 % to +900 %.)

Rule 2, TPOT against concurrency (`NON_MONOTONE`, toggle `MONOTONE_TPOT`; round 12 of
`validation/notes/serving_hopper_moe_tried.md`): a row whose TPOT is more than `MONOTONE_TPOT_RATIO` x the TPOT of a
row of the same configuration, MoE layout (MoE TP x EP) AND engine version measured with at least
`MONOTONE_CLIENT_RATIO` x its clients: doubling the clients cannot cut the time per output token by a third.
ASSUMPTION: the 1.5x margin, against measurement noise: of the 58 configurations of the set with differing TPOTs
measured at one concurrency (several source files or campaigns), 56 agree within 4.3 %; the other two differ by
1.66x (TensorRT-LLM 1.1.0rc2 DeepSeek-R1 1024/8192, 64 clients) and 4.0x (below). It flags 3 rows, 2 measurements:
GPT-OSS-120B vLLM 0.18 H100 TP4 1024/1024 at 32 clients (TPOT 15.92 ms, TTFT 166 ms, in two source files) against
9.70 ms at 64 clients and 5.83 ms at 16; Kimi-K2.5 vLLM 0.16 H200 TP8 1024/8192 at 16 clients in the 2026-03-25 file
(TPOT 63.98 ms, TTFT 884 ms) against 31.9 ms at 64 clients and the same configuration's other two 16-client
measurements (16.0 ms, 196 ms). Rows of other engine versions or MoE layouts are not compared (a release or layout
can be faster). Which of two contradicting rows is wrong is not known in general; each rule flags the row that
breaks it (rule 1 the higher-concurrency row, rule 2 the lower). Effect (every expressible row, one tree): 540 ->
537 rows, 16.01 % (TTFT 22.15, TPOT 9.88) -> 15.76 % (21.91, 9.61); `validate`'s sample 16.42 -> 16.10 %.

Rule 3, one configuration measured twice (`IRREPRODUCIBLE`, toggle `REPEAT_AGREEMENT`; round 15 of the notes file): two
rows of the same configuration, MoE layout, engine version AND clients are two runs of one stated experiment; where
their TTFT or TPOT differ by more than `REPEAT_RATIO`, the stated configuration does not determine the result (a
setting the rows do not state differed between the runs) and neither run can be reproduced from it: both stay
awaiting. Rows already flagged by rules 1 / 2 are not compared (rule 2's Kimi-K2.5 64 ms run does not take its two
agreeing repeats with it). ASSUMPTION: the 1.5x margin, as rule 2's (the 58 repeated configurations agree within
4.3 % but for the two below; 1.25x flags the same rows). It flags one pair, TensorRT-LLM 1.1.0rc2.post2 DeepSeek-R1
H200 TP8 EP8 1024/8192 at 64 clients: measured 2026-01-14 (TTFT 1,201 ms, TPOT 19.4 ms, as every other row of that
campaign: 3-10x the TTFT with 25-45 % less TPOT than the model) and 2026-01-28 (378 ms, 32.2 ms; the model 235 ms,
32.25 ms); and, among rows that cannot run anyway (no preset), MiniMax-M2.5 vLLM H200 TP8 1024/1024 at 16 clients
(TTFT 84 vs 131 ms). Effect (every expressible row, one tree): 473 -> 471 rows, 15.51 % (TTFT 21.36, TPOT 9.67) ->
15.38 % (21.20, 9.57); `validate`'s sample 15.82 -> 15.64 %. No other set runs `contradicting_rows`.

Rule 4, TTFT against concurrency (`EARLY_FIRST_TOKEN`, toggle `MONOTONE_TTFT`; session 50, helper hA84): a row whose
TTFT is more than `MONOTONE_TTFT_RATIO` x the TTFT of a row of the same configuration, MoE layout and engine version
measured with at least `MONOTONE_CLIENT_RATIO` x its clients, compared only with rows rules 1-3 keep (a row those
rules set aside is no evidence against another). Rule 2's mirror for the first token, flagging the lower-client row:
its first token came later than in a busier run of the same engine, so it waited on something the stated experiment
does not hold (a stall inside the measurement window: warm-up, JIT). ASSUMPTION: the 1.5x margin, as rule 2's; the
data's repeats (two runs of one stated experiment with different numbers in the MoE and Blackwell sets, 88 row pairs
outside the speculative SGLang series of `validation.serving_blackwell`) agree in TTFT within 1.17x but for 5
measurements (1.20 / 1.26 / 1.27 / 1.56 / 2.21x, all at 4-64 clients) and the two pairs rules 2 / 3 set aside. It
flags 3 measurements
that were scored, all in the Blackwell set: SGLang unversioned DeepSeek-R1 nvfp4 TP8 8192 / 1024 (db dump config 99)
at 4 / 8 / 16 clients, measured 2025-11-10 (workflow_run_id 124: TTFT 5.6 / 9.2 / 7.3 s; with their 2026-04-06.csv
copies 6 rows) against the same configuration's 2.1 / 2.4 / 2.9 s at 32 / 64 / 128 clients (2025-11-02,
workflow_run_id 103): the 2025-11-10 campaign's warm-up stall (module docstring of `validation.serving_blackwell`);
and 3 rows left out already (2 GB200 SGLang disaggregated deployments, 1 MoE-set 64-GPU TensorRT-LLM row). Without
the restriction to rows rules 1-3 keep it would flag 2 scored MoE rows too
(TensorRT-LLM 1.1.0rc2.post2 DeepSeek-R1 H200 TP8 1024 / 8192 at 16 / 32 clients, 2026-01-14) against rule 3's
2026-01-28 64-client row (378 ms). Effect (every row, toggle on / off, one tree): Blackwell 20.886 -> 20.718 % (709 ->
706 rows; TTFT 31.32 -> 31.06, TPOT 10.45 -> 10.38; a later tree 20.911 -> 20.741 %); MoE 14.919 % (446 rows)
unchanged; no other set runs `contradicting_rows`.

Repeated measurements (`repeated_measurements`, toggle `COUNT_REPEATS_ONCE`): the AIConfigurator sample carries some
measurements twice or three times, under two source files or campaign dumps, or under DeepSeek-R1 and DeepSeek-V3
(one architecture): rows with the same measured TTFT and TPOT to the last of their 10-16 digits. They are one
measurement, not independent evidence, so each is scored once (the first expressible row in file order); the
others are set aside with the id they repeat. MoE set: 136 such rows of 815, 74 of them among the expressible
rows; disaggregated set: 86 of 291 (round 13 of `validation/notes/serving_hopper_moe_tried.md`).
A last-digit match misses copies whose digits differ by the export, so repeats are matched at 2 decimals
(`REPEAT_DECIMALS`; None restores the last-digit match; round 24 of the notes): 25 scored MoE rows equal another
scored row at 2 decimals, 10 with the same first 15-16 digits (the
db dump vs 2026-03-25.csv, e.g. SGLang 0.5.9 DeepSeek-R1 1024/8192 at 16 clients, TPOT 15.855620048654977 vs
...975) and 15 `kimi-k2.5-gap-analysis.csv` rows, the 2026-04-06.csv Kimi-K2.5 rows rounded to 2 decimals (148.61
vs 148.60638657119125 ms). Matched at 2 decimals (the sample's coarsest): MoE 471 -> 446 rows, 14.88 -> 15.14 %
(TTFT 20.73 -> 21.07, TPOT 9.04 -> 9.21), above its 15 % gate; disaggregated and dense sets: no such pair. Adopted
(2026-12-03): the rule scores a measurement once, and two copies of one run are one measurement however exported.
"""

from __future__ import annotations

from collections.abc import Callable

LITTLE_LAW_CLIENT_RATIO = 4.0  # rule 1: sequences decoding >= 4x the other row's clients
MONOTONE_TPOT = True  # rule 2 (module docstring; toggle to compare)
MONOTONE_TPOT_RATIO = 1.5  # rule 2: TPOT above 1.5x that of ... (ASSUMPTION, module docstring)
MONOTONE_CLIENT_RATIO = 2.0  # ... a row of the same configuration and version at >= 2x the clients
REPEAT_AGREEMENT = True  # rule 3 (module docstring; toggle to compare)
REPEAT_RATIO = 1.5  # rule 3: two runs of one configuration and clients differing by more than this (ASSUMPTION)
MONOTONE_TTFT = True  # rule 4 (module docstring; toggle to compare)
MONOTONE_TTFT_RATIO = 1.5  # rule 4: TTFT above 1.5x that of a row at >= 2x the clients (ASSUMPTION, module docstring)

LITTLE_LAW = ("measured numbers inconsistent: Little's law puts >= 4x more sequences in decode than a row of "
              "the same configuration at lower concurrency, yet its TPOT is lower")
NON_MONOTONE = ("measured numbers inconsistent: TPOT above 1.5x that of the same configuration, MoE layout and engine "
                "version at >= 2x the clients (decode time per token does not fall as the batch grows)")
IRREPRODUCIBLE = ("measured numbers inconsistent: another run of the same configuration, MoE layout, engine version "
                  "and clients differs by more than 1.5x in TTFT or TPOT (the stated configuration does not determine "
                  "the result)")
EARLY_FIRST_TOKEN = ("measured numbers inconsistent: TTFT above 1.5x that of the same configuration, MoE layout and "
                     "engine version at >= 2x the clients (the first token does not come sooner as clients are added)")

Row = dict[str, str]

COUNT_REPEATS_ONCE = True  # score a measurement carried by several rows once (module docstring; toggle to compare)
REPEAT_DECIMALS: int | None = 2  # repeats match at n decimals (docstring); None: to the last digit
REPEATED = "a repeat of row {first}: the same measured TTFT and TPOT to the last digit (one measurement, scored once)"


def rule_switches() -> tuple[object, ...]:
    """Every constant `contradicting_rows` reads (its four rules' toggles and ratios): the key of a set's cached
    verdicts, so a patched toggle or ratio is never served the rows of another (the MoE and Blackwell sets keyed on
    four of the eight: a patched rule-4 ratio returned the cached rows; hR, session 51)."""
    return (LITTLE_LAW_CLIENT_RATIO, MONOTONE_TPOT, MONOTONE_TPOT_RATIO, MONOTONE_CLIENT_RATIO, REPEAT_AGREEMENT,
            REPEAT_RATIO, MONOTONE_TTFT, MONOTONE_TTFT_RATIO)


def configuration(row: Row) -> tuple[str, ...]:
    """What two rows must share to be compared: model, GPU, backend, attention TP and DP, ISL / OSL, precision."""
    return tuple(row[k] for k in ("model_path", "system", "backend", "tp_size", "attention_dp_size", "isl", "osl",
                                  "precision"))


def layout(row: Row) -> tuple[str, ...]:
    """Rule 2 compares rows of one engine version and MoE layout (MoE TP x EP) too."""
    return row["backend_version"], row["moe_tp_size"], row["moe_ep_size"]


def _decoding(row: Row, clients: int) -> float:
    """Sequences decoding at once by Little's law: c D / (TTFT + D), D = (OSL - 1) x TPOT."""
    decode_ms = (int(row["osl"]) - 1) * float(row["silicon_tpot_ms"])
    return clients * decode_ms / (float(row["silicon_ttft_ms"]) + decode_ms)


def contradicting_rows(rows: list[Row], clients: Callable[[Row], int | None]) -> dict[str, str]:
    """Rows (by id) that break one of rules 1-4 against other rows of `rows` (module docstring), with the reason;
    `clients(row)` is the row's stated concurrency (None: unknown)."""
    by_config: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        by_config.setdefault(configuration(row), []).append(row)
    flagged: dict[str, str] = {}
    for row in rows:
        tpot_ms, own = float(row["silicon_tpot_ms"]), clients(row) or 0
        if own <= 0:  # no stated clients: nothing decoding to compare by either rule
            continue
        decoding = _decoding(row, own)
        for other in by_config[configuration(row)]:
            if (LITTLE_LAW_CLIENT_RATIO * (clients(other) or decoding) <= decoding
                    and tpot_ms < float(other["silicon_tpot_ms"])):
                flagged[row["id"]] = LITTLE_LAW
                break
        if row["id"] in flagged or not MONOTONE_TPOT:
            continue
        if any(layout(other) == layout(row)
               and (clients(other) or 0) >= MONOTONE_CLIENT_RATIO * own
               and MONOTONE_TPOT_RATIO * float(other["silicon_tpot_ms"]) < tpot_ms
               for other in by_config[configuration(row)]):
            flagged[row["id"]] = NON_MONOTONE
    if REPEAT_AGREEMENT:  # rule 3, among the rows rules 1 and 2 keep
        earlier = set(flagged)
        for row in rows:
            if row["id"] not in earlier and clients(row) and any(
                    other is not row and other["id"] not in earlier and layout(other) == layout(row)
                    and clients(other) == clients(row) and _disagree(row, other)
                    for other in by_config[configuration(row)]):
                flagged[row["id"]] = IRREPRODUCIBLE
    if MONOTONE_TTFT:  # rule 4, against the rows rules 1-3 keep
        earlier = set(flagged)
        for row in rows:
            if row["id"] not in earlier and _first_token_too_late(row, by_config[configuration(row)], earlier, clients):
                flagged[row["id"]] = EARLY_FIRST_TOKEN
    return flagged


def _first_token_too_late(row: Row, same: list[Row], set_aside: set[str], clients: Callable[[Row], int | None]) -> bool:
    """Rule 4: the row's TTFT is above `MONOTONE_TTFT_RATIO` x that of a kept row of the same configuration, layout
    and version with >= `MONOTONE_CLIENT_RATIO` x its clients."""
    own = clients(row) or 0
    return own > 0 and any(
        other["id"] not in set_aside and layout(other) == layout(row)
        and (clients(other) or 0) >= MONOTONE_CLIENT_RATIO * own
        and MONOTONE_TTFT_RATIO * float(other["silicon_ttft_ms"]) < float(row["silicon_ttft_ms"]) for other in same)


def _disagree(row: Row, other: Row) -> bool:
    """Whether two runs' TTFT or TPOT differ by more than `REPEAT_RATIO` (rule 3)."""
    return any(max(a, b) > REPEAT_RATIO * min(a, b) for a, b in (
        (float(row["silicon_ttft_ms"]), float(other["silicon_ttft_ms"])),
        (float(row["silicon_tpot_ms"]), float(other["silicon_tpot_ms"]))))


def repeated_measurements(rows: list[Row], expressible: Callable[[Row], bool]) -> dict[str, str]:
    """Rows (by id) that repeat the measured TTFT and TPOT of an earlier expressible row of `rows`, with the reason
    naming that row (module docstring); empty when `COUNT_REPEATS_ONCE` is off."""
    if not COUNT_REPEATS_ONCE:
        return {}
    first: dict[tuple[str, str] | tuple[float, float], str] = {}
    repeats: dict[str, str] = {}
    for row in rows:
        if not expressible(row):
            continue
        measured = _measured(row)
        if measured in first:
            reason = REPEATED.format(first=first[measured])
            if REPEAT_DECIMALS is not None:
                reason = reason.replace("to the last digit", f"at {REPEAT_DECIMALS} decimals")
            repeats[row["id"]] = reason
        else:
            first[measured] = row["id"]
    return repeats


def _measured(row: Row) -> tuple[str, str] | tuple[float, float]:
    """The row's measured (TTFT, TPOT) as `repeated_measurements` compares them: the strings, or the values at
    `REPEAT_DECIMALS` decimals."""
    if REPEAT_DECIMALS is None:
        return row["silicon_ttft_ms"], row["silicon_tpot_ms"]
    return round(float(row["silicon_ttft_ms"]), REPEAT_DECIMALS), round(float(row["silicon_tpot_ms"]), REPEAT_DECIMALS)
