"""Consistency checks of one coder's layer, for a supervisor, and the report section on coding
consistency (agreement between human layers).

Per code (subcodes rolled into top codes by default):

- **spread**: in how many of the respondents the coder has seen the code occurs, and how its use
  runs over the order in which the coder coded the transcripts. The order is that of the coder's
  first coding in each transcript (the audit log's ``add_coding`` entries, else
  ``codings.created_at``). A code used in at least two transcripts but in none of the later half
  is flagged as *vanishes*; one used only in the later half as *appears late* (the earlier
  transcripts may need a second look).
- **missed**: segments holding one of the code's strongest terms that the coder did not code.
  A term is strong when the coder gave the code to most segments holding it (at least
  ``STRONG_SHARE`` of at least ``STRONG_MIN_SEGMENTS`` segments). Candidates are the codebook's
  terms for the code and those that fired in the auto-coder's evidence; without any, the words
  most overused in the coder's own segments for the code (log-likelihood keyness).
- **no terms**: the coder's codings whose segment holds none of the code's codebook terms.

Each list holds segment ids to review; none of this says a coding is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from qualcode.agreement import (
    LEVELS,
    AgreementReport,
    agreement,
    disagreements,
    human_layers,
    seen_transcripts,
    select_codes,
)
from qualcode.audit import undone_command_ids
from qualcode.errors import InputError
from qualcode.evaluate import (
    TextIndex,
    codebook_terms,
    evidence_terms,
    keyness,
    terms_for,
    text_lemmas,
)
from qualcode.report_sections import ReportSection
from qualcode.store import AUTO_CODER, Store, default_coder

STRONG_MIN_SEGMENTS = 3
STRONG_SHARE = 0.6
STRONG_TERMS = 5
MIN_TRANSCRIPTS_FOR_ORDER = 4
EXCERPT_CHARS = 200


@dataclass(frozen=True)
class CodeSpread:
    """How one code's use spreads over respondents and over the coding order."""

    code: str
    codings: int  # segments the coder gave the code
    respondents_with: int
    respondents_seen: int
    per_respondent: tuple[tuple[str, int], ...]
    by_order: tuple[int, ...]  # segments coded per transcript, in coding order
    flag: str | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON record."""
        return {
            "code": self.code,
            "codings": self.codings,
            "respondents_with": self.respondents_with,
            "respondents_seen": self.respondents_seen,
            "per_respondent": dict(self.per_respondent),
            "by_order": list(self.by_order),
            "flag": self.flag,
        }


@dataclass(frozen=True)
class ReviewItem:
    """A segment to look at again, and why."""

    kind: str  # "missed" or "no_terms"
    code: str
    segment_id: int
    transcript: str
    position: int
    terms: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON record."""
        return {
            "kind": self.kind,
            "code": self.code,
            "segment_id": self.segment_id,
            "transcript": self.transcript,
            "position": self.position,
            "terms": self.terms,
            "text": self.text,
        }


@dataclass
class ConsistencyReport:
    """The consistency checks of one coder layer."""

    coder: str
    order: list[str]
    spreads: list[CodeSpread]
    strong_terms: dict[str, list[tuple[str, float]]]
    missed: list[ReviewItem]
    no_terms: list[ReviewItem]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """One JSON document."""
        return {
            "coder": self.coder,
            "coding_order": self.order,
            "spread": [s.as_dict() for s in self.spreads],
            "strong_terms": {
                c: [{"term": t, "share": s} for t, s in v] for c, v in self.strong_terms.items()
            },
            "missed": [m.as_dict() for m in self.missed],
            "no_terms": [m.as_dict() for m in self.no_terms],
            "notes": self.notes,
        }


def coders_to_check(store: Store, coder: str | None) -> list[str]:
    """The layer named, else the project's default coder, else every human layer with codings."""
    known = [r[0] for r in store.conn.execute("SELECT name FROM coders ORDER BY id")]
    if coder:
        if coder not in known:
            listed = ", ".join(known) if known else "none yet"
            raise InputError(f"no coder layer '{coder}' in the project (layers: {listed})")
        return [coder]
    default = default_coder(store)
    if default and default in known:
        return [default]
    humans = human_layers(store)
    if not humans:
        raise InputError("the project has no human coder layer to check; name one with --coder")
    return humans


def coding_order(
    store: Store, coder: str, *, include_in_progress: bool = False
) -> list[tuple[int, str]]:
    """The transcripts the coder has seen (id, name), in the order of their first coding (or
    review decision) in each.

    Entries of undone commands do not count: a coding added by mistake and undone neither puts a
    transcript in the order nor moves it forward.
    """
    seen = seen_transcripts(store, coder, include_in_progress=include_in_progress)
    undone = undone_command_ids(store)
    keys: dict[int, tuple[Any, ...]] = {}
    for tid, entry_id, command_id in store.conn.execute(
        "SELECT s.transcript_id, a.id, a.command_id FROM audit_log a"
        " JOIN segments s ON s.id = a.segment_id"
        " WHERE a.coder = ? AND a.action IN ('add_coding', 'review') ORDER BY a.id",
        (coder,),
    ):
        if tid in seen and command_id not in undone:
            keys.setdefault(tid, (0, entry_id, "", 0))
    for tid, created, first_id in store.conn.execute(
        "SELECT s.transcript_id, MIN(c.created_at), MIN(c.id) FROM codings c"
        " JOIN segments s ON s.id = c.segment_id JOIN coders d ON d.id = c.coder_id"
        " WHERE d.name = ? GROUP BY s.transcript_id",
        (coder,),
    ):
        # Codings without an audit entry (none should exist) sort after those with one.
        if tid in seen:
            keys.setdefault(tid, (1, 0, created, first_id))
    for tid in seen:
        # Marked done without a coding or decision ("nothing to code"): no time to sort by.
        keys.setdefault(tid, (2, tid, "", 0))
    names = dict(store.conn.execute("SELECT id, name FROM transcripts"))
    return [(tid, names[tid]) for tid in sorted(keys, key=lambda t: keys[t])]


def _units(
    store: Store, coder: str, include_in_progress: bool = False
) -> list[tuple[int, int, str, str, int, str, frozenset[str]]]:
    """(segment id, transcript id, transcript, respondent, position, text, codes) of the units
    the coder has finished: respondent turns, and other turns they coded."""
    seen = seen_transcripts(store, coder, include_in_progress=include_in_progress)
    coded: dict[int, set[str]] = {}
    for seg_id, path in store.conn.execute(
        "SELECT c.segment_id, k.path FROM codings c JOIN coders d ON d.id = c.coder_id"
        " JOIN codes k ON k.id = c.code_id WHERE d.name = ?",
        (coder,),
    ):
        coded.setdefault(seg_id, set()).add(path)
    out = []
    for seg_id, tid, tname, label, position, role, text in store.conn.execute(
        "SELECT s.id, s.transcript_id, t.name, r.label, s.position, s.role, s.text FROM segments s"
        " JOIN transcripts t ON t.id = s.transcript_id JOIN respondents r ON r.id = s.respondent_id"
        " ORDER BY t.id, s.position"
    ):
        if tid in seen and (role == "respondent" or seg_id in coded):
            out.append(
                (seg_id, tid, tname, label, position, text, frozenset(coded.get(seg_id, ())))
            )
    return out


def _has(codes: frozenset[str], code: str) -> bool:
    return any(p == code or p.startswith(code + "/") for p in codes)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= EXCERPT_CHARS:
        return flat
    # Cut at a space, never inside a word (a cut name would also escape pseudonymisation).
    return flat[: EXCERPT_CHARS - 1].rsplit(" ", 1)[0] + " …"


def consistency(
    store: Store,
    coder: str | None = None,
    *,
    level: str = "top",
    codes: Sequence[str] | None = None,
    include_in_progress: bool = False,
) -> list[ConsistencyReport]:
    """Run the consistency checks for one coder (or each human layer, see
    :func:`coders_to_check`)."""
    if level not in LEVELS:
        raise InputError(f"unknown level '{level}'; use top or all")
    return [
        _check(store, name, level, codes, include_in_progress)
        for name in coders_to_check(store, coder)
    ]


def _check(
    store: Store,
    coder: str,
    level: str,
    codes: Sequence[str] | None,
    include_in_progress: bool = False,
) -> ConsistencyReport:
    units = _units(store, coder, include_in_progress)
    notes: list[str] = []
    used = {p for u in units for p in u[6]}
    chosen = select_codes(store, level, codes, used)
    order = coding_order(store, coder, include_in_progress=include_in_progress)
    rank = {tid: i for i, (tid, _) in enumerate(order)}
    respondents = list(dict.fromkeys(u[3] for u in units))
    if len(order) < MIN_TRANSCRIPTS_FOR_ORDER:
        notes.append(
            f"{coder} has coded {len(order)} transcript(s); the coding-order check needs "
            f"{MIN_TRANSCRIPTS_FOR_ORDER}"
        )
    book = codebook_terms(store)
    fired = evidence_terms(store, AUTO_CODER)
    index = {u[0]: TextIndex.of(u[5]) for u in units}
    spreads: list[CodeSpread] = []
    strong: dict[str, list[tuple[str, float]]] = {}
    missed: list[ReviewItem] = []
    no_terms: list[ReviewItem] = []
    for code in chosen:
        with_code = [u for u in units if _has(u[6], code)]
        per_resp = {label: 0 for label in respondents}
        for u in with_code:
            per_resp[u[3]] += 1
        by_order = [0] * len(order)
        for u in with_code:
            if u[1] in rank:
                by_order[rank[u[1]]] += 1
        spreads.append(
            CodeSpread(
                code,
                len(with_code),
                sum(1 for v in per_resp.values() if v),
                len(respondents),
                tuple(per_resp.items()),
                tuple(by_order),
                _order_flag(by_order),
            )
        )
        terms = terms_for(code, book) + [
            t for t in terms_for(code, fired) if t not in terms_for(code, book)
        ]
        candidates = list(terms)
        if not candidates and len(with_code) >= 2:
            inside = [text_lemmas(u[5]) for u in with_code]
            outside = [text_lemmas(u[5]) for u in units if not _has(u[6], code)]
            candidates = [("keyword", w) for w, *_ in keyness(inside, outside)[:10]]
        ranked = []
        for rule, term in candidates:
            holding = [u for u in units if index[u[0]].holds(rule, term)]
            if len(holding) < STRONG_MIN_SEGMENTS:
                continue
            share = sum(_has(u[6], code) for u in holding) / len(holding)
            if share >= STRONG_SHARE:
                ranked.append((share, len(holding), rule, term))
        ranked.sort(key=lambda r: (-r[0], -r[1], r[3]))
        # A term can stand in the parent's and a subcode's rules: keep its best entry only.
        top = list({r[3]: r for r in reversed(ranked)}.values())
        top.sort(key=lambda r: (-r[0], -r[1], r[3]))
        top = top[:STRONG_TERMS]
        strong[code] = [(term, share) for share, _, _, term in top]
        for u in units:
            if _has(u[6], code):
                continue
            hits = [term for _, _, rule, term in top if index[u[0]].holds(rule, term)]
            if hits:
                missed.append(
                    ReviewItem("missed", code, u[0], u[2], u[4], ", ".join(hits), _excerpt(u[5]))
                )
        if not terms:
            notes.append(f"{code}: no codebook terms, so codings without terms are not checked")
            continue
        for u in with_code:
            if not any(index[u[0]].holds(rule, term) for rule, term in terms):
                no_terms.append(ReviewItem("no_terms", code, u[0], u[2], u[4], "", _excerpt(u[5])))
    return ConsistencyReport(
        coder, [name for _, name in order], spreads, strong, missed, no_terms, notes
    )


def _order_flag(by_order: Sequence[int]) -> str | None:
    """'vanishes after transcript k' / 'appears from transcript k', or None."""
    n = len(by_order)
    if n < MIN_TRANSCRIPTS_FOR_ORDER:
        return None
    used = [i for i, count in enumerate(by_order) if count]
    if len(used) < 2:
        return None
    half = n / 2
    if used[-1] < half:
        return f"vanishes: not used after transcript {used[-1] + 1} of {n}"
    if used[0] >= half:
        return f"appears late: first used in transcript {used[0] + 1} of {n}"
    return None


# -- the report section ----------------------------------------------------------------------------

#: Bootstrap resamples and seed of the intervals in the report's consistency section.
SECTION_BOOTSTRAP = 2000
SECTION_SEED = 1

_HEADINGS = {
    "nb": {
        "title": "Kodingskonsistens",
        "intro": (
            "Samsvar mellom kodelagene {coders}, målt per toppkode på taleturer som begge har "
            "kodet ({n} enheter). Krippendorffs α og Cohens κ er korrigert for tilfeldig samsvar; "
            "prosent samsvar er ikke det. Se docs/agreement.md for formler og kilder."
        ),
        "table": "Samsvar per kode",
        "dis": "Største uenigheter ({a} og {b})",
        "dis_intro": "Turene der {a} og {b} skiller seg mest, flest ulike toppkoder først.",
        "columns": [
            "Kode",
            "Enheter",
            "Begge",
            "Bare {a}",
            "Bare {b}",
            "Ingen",
            "Prosent",
            "Cohens κ",
            "κ 95 % KI",
            "Krippendorffs α",
            "Brennan–Prediger κ",
        ],
        "dis_columns": [
            "Segment",
            "Respondent",
            "Tur",
            "Tekst",
            "{a}",
            "{b}",
            "Notater {a}",
            "Notater {b}",
        ],
        "block_heading": "{respondent}, tur {turn} (segment {segment})",
        "block_columns": ["Koderlag", "Koder", "Notater"],
        "none": "–",
        "pooled": "(samlet)",
        "pooled_units": "{n} turer × {k} koder",
        "not_used": "Ikke brukt av noen koder der begge har kodet, og derfor utelatt fra «(samlet)»: {codes}.",
        "method": (
            "KI: 95 % konfidensintervall for κ, persentil-bootstrap med {n} trekk av {what}, "
            "frø {seed}{widened}. «–» betyr at intervallet ikke sier noe: koden står på færre "
            "enn 5 turer, eller alle trekk gir samme verdi."
        ),
        "widened": " (korrigert for få transkripsjoner)",
        "what": {"transcripts": "hele transkripsjoner", "turns": "taleturer"},
        "missing": " Transkripsjoner som ikke alle har kodet, er utelatt for dem som ikke har sett dem: {t}.",
    },
    "en": {
        "title": "Coding consistency",
        "intro": (
            "Agreement between the coder layers {coders}, per top code on turns both coded "
            "({n} units). Krippendorff's α and Cohen's κ correct for chance agreement; percent "
            "agreement does not. See docs/agreement.md for formulas and sources."
        ),
        "table": "Agreement per code",
        "dis": "Largest disagreements ({a} and {b})",
        "dis_intro": "The turns where {a} and {b} differ most, most differing top codes first.",
        "columns": [
            "Code",
            "Units",
            "Both",
            "Only {a}",
            "Only {b}",
            "Neither",
            "Percent",
            "Cohen's κ",
            "κ 95% CI",
            "Krippendorff's α",
            "Brennan–Prediger κ",
        ],
        "dis_columns": [
            "Segment",
            "Respondent",
            "Turn",
            "Text",
            "{a}",
            "{b}",
            "Memos {a}",
            "Memos {b}",
        ],
        "block_heading": "{respondent}, turn {turn} (segment {segment})",
        "block_columns": ["Coder", "Codes", "Memos"],
        "none": "–",
        "pooled": "(pooled)",
        "pooled_units": "{n} turns × {k} codes",
        "not_used": "Not used by any coder where both coded, so left out of “(pooled)”: {codes}.",
        "method": (
            "CI: 95% confidence interval of κ, percentile bootstrap with {n} resamples of {what}, "
            "seed {seed}{widened}. “–” means no meaningful interval: the code is on fewer than 5 "
            "turns, or every resample gives the same value."
        ),
        "widened": " (corrected for few transcripts)",
        "what": {"transcripts": "whole transcripts", "turns": "turns"},
        "missing": " Transcripts not every coder has coded are missing data for those who have "
        "not: {t}.",
    },
}


def interval_method(report: AgreementReport, lang: str) -> str:
    """How the report's intervals were made, in ``lang``, for a reader (not a script)."""
    words = _HEADINGS.get(lang, _HEADINGS["en"])
    return words["method"].format(
        n=report.bootstrap,
        what=words["what"].get(report.resampled, report.resampled),
        seed=report.seed,
        widened=words["widened"] if report.resampled == "transcripts" else "",
    )


def consistency_section(
    store: Store, lang: str = "nb", *, max_disagreements: int = 10
) -> ReportSection | None:
    """The report section on coding consistency, or None with fewer than two human layers.

    With two layers: their agreement per top code and pooled (with bootstrap intervals of κ),
    and the turns where they differ most at the same level (most codes differing first), each as
    a block: the turn at full width, then each coder's codes and memos. With more layers the
    table has α over all of them and the disagreements are those of the first two.
    """
    humans = human_layers(store)
    if len(humans) < 2:
        return None
    import pandas as pd

    from qualcode.pseudonyms import project_pseudonyms, transcript_aliases
    from qualcode.report_sections import BlockList, ReportBlock

    # Names are replaced in the whole turn before it is shortened, so no cut can split one.
    names = project_pseudonyms(store)
    # The section goes into the report files: transcripts by respondent, not by file name.
    aliases = transcript_aliases(store)
    words = _HEADINGS.get(lang, _HEADINGS["en"])
    a, b = humans[0], humans[1]
    two = len(humans) == 2
    report = agreement(
        store,
        humans,
        unit="segment",
        level="top",
        bootstrap=SECTION_BOOTSTRAP if two else 0,
        seed=SECTION_SEED,
    )
    columns = [c.format(a=a, b=b) for c in words["columns"]]
    rows = []
    # Notes go under the table, one per code: a column of them would crowd out the figures.
    notes = []
    for row in [*report.rows, *([report.pooled] if report.pooled else [])]:
        record = row.as_dict(with_ci=two)
        units, note = record["n_units"], _localized_note(record["note"] or "", lang)
        if row is report.pooled:
            # The pooled row stacks one decision per turn and code: count those, and say so.
            k = len(report.pooled_codes)
            units = record["n_units"] * k
            note = "; ".join(
                filter(None, [words["pooled_units"].format(n=record["n_units"], k=k), note])
            )
        if note:
            notes.append(f"{words['pooled'] if row is report.pooled else row.code}: {note}.")
        interval = words["none"]
        if record.get("cohen_kappa_ci_low") is not None:
            interval = _interval(record["cohen_kappa_ci_low"], record["cohen_kappa_ci_high"], lang)
        rows.append(
            [
                words["pooled"] if row is report.pooled else row.code,
                units,
                record["both"],
                record["only_a"],
                record["only_b"],
                record["neither"],
                _round(record["percent"], 1),
                _round(record["cohen_kappa"]),
                interval if record["cohen_kappa"] is not None else words["none"],
                _round(record["krippendorff_alpha"]),
                _round(record["brennan_prediger"]),
            ]
        )
    table = pd.DataFrame(rows, columns=columns)
    if not two:
        table = table.drop(columns=[columns[3], columns[4], columns[8]])
    if report.unused_codes:
        notes.append(words["not_used"].format(codes=", ".join(report.unused_codes)))
    if report.bootstrap:
        notes.append(interval_method(report, lang))
    found = disagreements(store, a, b, level=report.level)
    found.sort(key=lambda d: -d.size)  # stable: transcript order within the same size
    shown = found[:max_disagreements]
    dis_columns = [c.format(a=a, b=b) for c in words["dis_columns"]]
    dis = pd.DataFrame(
        [
            [
                d.segment_id,
                d.respondent,
                d.position,
                _excerpt(names.apply(d.text)),
                ", ".join(d.codes_a),
                ", ".join(d.codes_b),
                "; ".join(d.memos_a),
                "; ".join(d.memos_b),
            ]
            for d in shown
        ],
        columns=dis_columns,
    )
    blocks = [
        ReportBlock(
            heading=words["block_heading"].format(
                respondent=d.respondent, turn=d.position, segment=d.segment_id
            ),
            text=_excerpt(names.apply(d.text)),
            table=pd.DataFrame(
                [
                    [a, ", ".join(d.codes_a) or words["none"], "; ".join(d.memos_a)],
                    [b, ", ".join(d.codes_b) or words["none"], "; ".join(d.memos_b)],
                ],
                columns=words["block_columns"],
            ),
        )
        for d in shown
    ]
    n = max((r.n_units for r in report.rows), default=0)
    intro = words["intro"].format(coders=", ".join(humans), n=n)
    if report.not_seen_by_all:
        intro += words["missing"].format(
            t=", ".join(aliases.get(x.transcript, x.transcript) for x in report.not_seen_by_all)
        )
    return ReportSection(
        title=words["title"],
        intro=intro,
        tables=[(words["table"], table)],
        notes=notes,
        block_lists=[BlockList(words["dis"].format(a=a, b=b), blocks, dis)],
    )


#: The agreement module's reasons, in bokmål for the Norwegian report.
_NOTES_NB = [
    (r"no coder used this code", "ingen koder brukte koden"),
    (
        r"the code was not used in any unit two coders both saw",
        "koden ble ikke brukt på noen tur begge har kodet",
    ),
    (r"no unit was coded by (two or more|both) coders", "ingen tur er kodet av begge"),
    (r"no variation: .*", "ingen variasjon: samme verdi på alle turer"),
    (
        r"no interval: the code is present in (\d+) unit\(s\), fewer than (\d+)",
        r"intet intervall: koden står på \1 tur(er), færre enn \2",
    ),
    (
        r"no interval: every resample gives the same value",
        "intet intervall: alle trekk gir samme verdi",
    ),
    (
        r"no interval: (\d+) of (\d+) resamples undefined",
        r"intet intervall: \1 av \2 trekk udefinert",
    ),
    (r"(\d+) of (\d+) resamples undefined \(left out\)", r"\1 av \2 trekk udefinert (utelatt)"),
]


def _localized_note(note: str, lang: str) -> str:
    """A row's note in the report's language."""
    import re

    if lang != "nb" or not note:
        return note
    parts = []
    for part in note.split("; "):
        for pattern, replacement in _NOTES_NB:
            if re.fullmatch(pattern, part):
                part = re.sub(pattern, replacement, part)
                break
        parts.append(part)
    return "; ".join(parts)


def _interval(low: float, high: float, lang: str) -> str:
    """``[0.61, 0.80]``, with decimal commas and a semicolon in bokmål: ``[0,61; 0,80]``."""
    # A no-break space: the interval is read as one unit and never broken over two lines.
    if lang == "nb":
        return f"[{low:.2f};\u00a0{high:.2f}]".replace(".", ",")
    return f"[{low:.2f},\u00a0{high:.2f}]"


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)
