"""The report tables (library API) against independent SQL counts on the store."""

from __future__ import annotations

import pytest

from qualcode import reports
from qualcode.errors import InputError
from qualcode.reports import RESPONDENTS, SHARE_SUFFIX, TOTAL


def segment_id(store, label: str, position: int) -> int:
    return store.conn.execute(
        "SELECT s.id FROM segments s JOIN transcripts t ON t.id = s.transcript_id"
        " WHERE t.name = ? AND s.position = ?",
        (f"{label}.txt", position),
    ).fetchone()[0]


def test_freq_matches_sql(coded, sql_counts):
    frame = reports.freq(coded)
    expected = sql_counts(coded)
    labels = ["R1", "R2", "R3"]
    assert list(frame.columns) == [*labels, TOTAL, RESPONDENTS]
    assert list(frame.index) == [*coded.code_paths(), TOTAL]
    for path in coded.code_paths():
        for label in labels:
            assert frame.loc[path, label] == expected[(path, label)], (path, label)
        assert frame.loc[path, TOTAL] == sum(expected[(path, lb)] for lb in labels)
        assert frame.loc[path, RESPONDENTS] == sum(1 for lb in labels if expected[(path, lb)])
    # The total row counts each coded respondent turn once, however many codes it has.
    for label in labels:
        distinct = coded.conn.execute(
            "SELECT COUNT(DISTINCT c.segment_id) FROM codings c JOIN coders d ON d.id = c.coder_id"
            " JOIN segments s ON s.id = c.segment_id JOIN respondents r ON r.id = s.respondent_id"
            " WHERE d.name = 'auto' AND r.label = ? AND s.role = 'respondent'",
            (label,),
        ).fetchone()[0]
        assert frame.loc[TOTAL, label] == distinct


def test_rollup_counts_a_segment_once_per_parent(coded):
    # R1's turn 4 has three tillit subcodes, turn 6 one: tillit counts each turn once.
    frame = reports.freq(coded, respondents=["R1"], codes=["tillit"])
    turn4 = segment_id(coded, "R1", 4)
    subcodes = coded.conn.execute(
        "SELECT COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id"
        " WHERE c.segment_id = ? AND k.path LIKE 'tillit/%'",
        (turn4,),
    ).fetchone()[0]
    assert subcodes == 3
    assert frame.loc["tillit", "R1"] == 2
    assert frame.loc["tillit/erfaring", "R1"] == 1
    assert frame.loc["tillit/åpenhet", "R1"] == 2
    subcode_rows = ["tillit/relasjoner", "tillit/erfaring", "tillit/åpenhet", "tillit/mistillit"]
    assert frame.loc[subcode_rows, "R1"].sum() == 4
    assert list(frame.index) == [
        "tillit",
        "tillit/relasjoner",
        "tillit/erfaring",
        "tillit/åpenhet",
        "tillit/mistillit",
        TOTAL,
    ]


def test_interviewer_turns_never_count(coded):
    question = segment_id(coded, "R1", 1)
    assert (
        coded.conn.execute(
            "SELECT COUNT(*) FROM codings WHERE segment_id = ?", (question,)
        ).fetchone()[0]
        == 1
    )
    frame = reports.freq(coded, respondents=["R1"], codes=["forankring/ledelse"])
    assert frame.loc["forankring/ledelse", "R1"] == 1  # only turn 2, not the question
    assert frame.attrs["left_out"] == 1
    quoted = reports.quotes(coded, codes=["forankring/ledelse"])
    assert question not in set(quoted["segment"])


def test_exclude_negated(coded, sql_counts):
    frame = reports.freq(coded, exclude_negated=True)
    expected = sql_counts(coded, exclude_negated=True)
    for (path, label), n in expected.items():
        assert frame.loc[path, label] == n
    assert frame.loc["tillit/mistillit", "R2"] == 0
    assert reports.freq(coded).loc["tillit/mistillit", "R2"] == 1


def test_by_sector_counts_and_shares(coded, sql_counts):
    frame = reports.freq(coded, by="sector")
    expected = sql_counts(coded)
    groups = {}
    for label, value in coded.conn.execute(
        "SELECT r.label, a.value FROM respondent_attributes a JOIN respondents r"
        " ON r.id = a.respondent_id WHERE a.name = 'sector'"
    ):
        groups.setdefault(value, []).append(label)
    assert len(groups) == 2
    for value, members in groups.items():
        column = f"{value} (n={len(members)})"
        for path in coded.code_paths():
            assert frame.loc[path, column] == sum(expected[(path, m)] for m in members)
            mentioning = sum(1 for m in members if expected[(path, m)])
            assert frame.loc[path, column + SHARE_SUFFIX] == pytest.approx(
                round(100 * mentioning / len(members), 1)
            )
    # leverandør has R1 and R3; only R1 mentions samkonkurranse/deling: 50 %.
    assert frame.loc["samkonkurranse/deling", "leverandør (n=2)" + SHARE_SUFFIX] == 50.0


def test_percent_is_share_of_respondent_turns(coded, sql_counts):
    frame = reports.freq(coded, percent=True)
    expected = sql_counts(coded)
    for label in ("R1", "R2", "R3"):
        turns = coded.conn.execute(
            "SELECT COUNT(*) FROM segments s JOIN respondents r ON r.id = s.respondent_id"
            " WHERE r.label = ? AND s.role = 'respondent'",
            (label,),
        ).fetchone()[0]
        for path in coded.code_paths():
            assert frame.loc[path, label] == pytest.approx(
                round(100 * expected[(path, label)] / turns, 1)
            )


def test_cooc_matches_sql(coded):
    segment = reports.cooc(coded)
    tops = ["forankring", "tillit", "samkonkurranse", "fasilitering"]
    assert list(segment.index) == tops

    def segments_with(code: str) -> set[int]:
        return {
            r[0]
            for r in coded.conn.execute(
                "SELECT c.segment_id FROM codings c JOIN codes k ON k.id = c.code_id"
                " JOIN coders d ON d.id = c.coder_id JOIN segments s ON s.id = c.segment_id"
                " WHERE d.name = 'auto' AND s.role = 'respondent'"
                " AND (k.path = ? OR substr(k.path, 1, length(?) + 1) = ? || '/')",
                (code, code, code),
            )
        }

    for a in tops:
        for b in tops:
            assert segment.loc[a, b] == len(segments_with(a) & segments_with(b)), (a, b)
    people = reports.cooc(coded, within="respondent")
    assert people.loc["tillit", "samkonkurranse"] == 2  # R1 and R3
    assert reports.cooc(coded, level=2, codes=["tillit"]).shape == (4, 4)


def test_other_coder_and_default_coder(coded):
    kari = reports.freq(coded, coder="kari")
    assert kari.loc["fasilitering", "R2"] == 1
    assert kari.loc[TOTAL, TOTAL] == 2
    with coded.write("test: default coder") as tx:
        coded.set_setting(tx, "default_coder", "kari")
    assert reports.freq(coded).attrs["coder"] == "kari"


def test_summary(coded):
    frame = reports.summary(coded)
    assert list(frame.index) == ["R1", "R2", "R3"]
    assert frame.loc["R2", "sector"] == "prosessindustri"
    assert frame.loc["R1", "turns"] == 3
    assert frame.loc["R1", "coded"] == 3
    assert frame.loc["R1", "codes"].startswith("tillit/åpenhet (2), forankring/ledelse (1)")


def test_summary_keeps_the_respondent_tables_column_order(coded):
    """Attributes in the order they were stored (the respondent table's columns, then later
    ones), as `qualcode respondents` lists them, not alphabetically."""
    with coded.write("test: add an attribute") as tx:
        coded.set_attribute(tx, "R1", "alder", "40-49")
    frame = reports.summary(coded)
    assert list(frame.columns[: frame.columns.get_loc("transcripts")]) == ["sector", "size", "alder"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"coder": "nobody"}, "no coder layer 'nobody'"),
        ({"codes": ["tilit"]}, "did you mean tillit"),
        ({"respondents": ["R9"]}, "no respondent 'R9'"),
        ({"by": "colour"}, "no respondent attribute 'colour'"),
    ],
)
def test_bad_filters_are_input_errors(coded, kwargs, message):
    with pytest.raises(InputError, match=message):
        reports.freq(coded, **kwargs)


def test_a_code_asked_for_before_any_codebook_is_loaded_says_to_load_one(ingested):
    with pytest.raises(InputError, match="no codes yet: load a codebook"):
        reports.freq(ingested, codes=["tillit"])


def test_quotes_trim_to_evidence_and_limit(coded):
    frame = reports.quotes(coded, codes=["tillit/relasjoner"])
    assert list(frame["respondent"]) == ["R1"]
    text = frame.iloc[0]["text"]
    assert "stoler på hverandre" in text
    assert "Vi deler erfaringer" not in text and text.endswith("…")
    assert frame.iloc[0]["quote"] == f"“{text}” – R1"
    whole = reports.quotes(coded, codes=["tillit/relasjoner"], full=True).iloc[0]["text"]
    assert whole.startswith("Vi stoler") and whole.endswith("samlingene.")
    every = reports.quotes(coded, codes=["tillit"])
    capped = reports.quotes(coded, codes=["tillit"], max_per_respondent=1)
    assert every.groupby(["code", "respondent"]).size().max() == 2
    assert capped.groupby(["code", "respondent"]).size().max() == 1
    assert len(every) == len(capped) + 1


def test_manual_quote_without_evidence_uses_first_sentences(coded):
    frame = reports.quotes(coded, coder="kari", codes=["fasilitering"])
    text = frame.iloc[0]["text"]
    assert text.startswith("Kommunen og fylket støtter klyngen.")
