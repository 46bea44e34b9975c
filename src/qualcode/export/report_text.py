"""The words of the Word and Excel reports, one small dictionary per language (``nb``, ``en``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qualcode.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

LANGUAGES = ("nb", "en")
QUOTE_STYLES = ("table", "block")

STRINGS: dict[str, dict[str, str]] = {
    "nb": {
        "title": "Kodingsrapport",
        "author": "Forfatter",
        "open_quote": "«",
        "close_quote": "»",
        "months": (
            "januar februar mars april mai juni juli august september oktober november desember"
        ),
        "date_format": "{day}. {month} {year}",
        "draft_title": "Maskinelt utkast – ikke kontrollert",
        "draft_body": (
            "Kodingene i denne rapporten er koderlaget «auto»: de er satt automatisk ut fra "
            "kodebokens ord og regler, og ingen har gått dem gjennom. På intervjuer fra klynger "
            "kodeboken ikke er tilpasset, stemte utkastet med en nøye menneskelig koder på "
            "turenes toppkoder med micro-F1 0,53 og 0,63, og presisjonen per kode var 0,52–0,69 "
            "(0,80–0,92 på materialet kodeboken ble laget fra). Ordregler finner det som blir "
            "sagt, en koder koder det som menes. Bruk utkastet til å finne turer å lese og til å "
            "kontrollere egen koding, aldri som selve kodingen, og ikke som grunnlag for tall i "
            "en oppgave."
        ),
        "project": "Prosjekt",
        "date": "Dato",
        "codebook_version": "Kodebokversjon",
        "coder": "Koderlag",
        "respondent_count": "Respondenter",
        "negated_excluded": "Negerte kodinger er utelatt.",
        "negated_included": "Negerte kodinger er tatt med (merket «negert» i sitatene).",
        "method": (
            "Tabellene teller kodede segmenter (taleturer) fra respondentene. Intervjuerens turer "
            "telles aldri. Underkoder summeres opp i overordnet kode, og et segment telles én gang "
            "per kode selv om det har flere underkoder."
        ),
        "left_out": "{n} koding(er) på intervjuerens turer er ikke tatt med.",
        "not_set": "ikke registrert",
        "codebook": "Kodebok",
        "codebook_intro": "Kodene med definisjoner, i kodebokens rekkefølge.",
        "no_description": "(ingen definisjon)",
        "inactive": "ikke lenger i kodeboken",
        "frequency": "Kodefrekvenser",
        "frequency_intro": (
            "Antall kodede segmenter per kode og respondent. «Totalt» er summen for koden, "
            "«Respondenter» er antall respondenter som nevner koden. Nederste rad teller hvert "
            "kodet segment én gang."
        ),
        "frequency_overview": "Antall kodede segmenter og respondenter per kode.",
        "frequency_by_respondent": (
            "Antall kodede segmenter per respondent og hovedkode. Hele tabellen kode × respondent "
            "finnes i rapport.xlsx."
        ),
        "table": "Tabell",
        "figure": "Figur",
        "freq_caption": "Kodede segmenter per kode og respondent (koderlag {coder})",
        "freq_overview_caption": "Kodede segmenter og respondenter per kode (koderlag {coder})",
        "freq_resp_caption": "Kodede segmenter per respondent og hovedkode (koderlag {coder})",
        "heatmap": "Varmekart",
        "heatmap_caption": "Kodede segmenter per kode og respondent (koderlag {coder})",
        "heatmap_xlabel": "Respondent",
        "heatmap_xlabel_many": "Respondenter (n = {n})",
        "heatmap_ylabel": "Kode",
        "cooc": "Samforekomst",
        "cooc_intro": (
            "Antall segmenter der to hovedkoder forekommer sammen; diagonalen viser kodens egne "
            "segmenter."
        ),
        "cooc_caption": "Samforekomst av koder i samme segment",
        "cooc_resp_caption": "Antall respondenter som nevner begge kodene",
        "quotes": "Sitater",
        "quotes_intro": (
            "Kodede utsagn per kode, forkortet til setningene som inneholder belegget; «…» markerer "
            "utelatt tekst. Segment-ID viser til turen i prosjektet."
        ),
        "quotes_shown": "Viser {shown} av {total} sitater; alle står i rapport.xlsx.",
        "no_quotes": "Ingen kodede utsagn.",
        "general": "generelt (uten underkode)",
        "quote_caption": "Sitater for {code}",
        "negated": "negert",
        "segment_ref": "segment {segment}",
        "appendix": "Vedlegg: Respondenter",
        "appendix_intro": (
            "Én rad per respondent: attributter, taleturer, ord, kodede turer og hovedkodene med "
            "antall kodede turer. Alle koder står i rapport.xlsx."
        ),
        "appendix_caption": "Respondenter med attributter",
        "appendix_counts_caption": "Respondentenes taleturer, ord og hovedkoder",
        "extra_sheet": "Tillegg",
        # column and row labels
        "code": "Kode",
        "name": "Navn",
        "definition": "Definisjon",
        "level": "Nivå",
        "respondent": "Respondent",
        "quote": "Sitat",
        "segment": "Segment",
        "transcript": "Transkripsjon",
        "position": "Tur nr.",
        "source": "Kilde",
        "text": "Tekst",
        "total": "Totalt",
        "respondents": "Respondenter",
        "total_row": "Kodede segmenter (unike)",
        "transcripts": "Transkripsjoner",
        "turns": "Taleturer",
        "words": "Ord",
        "coded": "Kodede turer",
        "codes": "Koder (antall turer)",
        "top_codes": "Hovedkoder (kodede turer)",
        "yes": "ja",
        "no": "nei",
        "by": "Etter {attribute}",
        "by_intro": (
            "Kodede segmenter per gruppe; «% resp.» er andelen av gruppens respondenter som nevner "
            "koden."
        ),
        "percent_sheet": "Frekvens %",
        "percent_intro": "Andel (%) av respondentens taleturer som har koden.",
        "overview": "Oversikt",
        "freq_sheet": "Frekvens",
        "cooc_sheet": "Samforekomst segment",
        "cooc_resp_sheet": "Samforekomst respondent",
        "quotes_sheet": "Sitater",
        "respondents_sheet": "Respondenter",
        "codebook_sheet": "Kodebok",
        "page": "Side",
        "negated_column": "Negert",
        "freq_percent_caption": "Andel (%) av taleturene per kode og respondent (koderlag {coder})",
        "freq_by_caption": "Kodede segmenter per kode etter {attribute} (koderlag {coder})",
        "freq_by_percent_caption": (
            "Andel (%) av taleturene per kode etter {attribute} (koderlag {coder})"
        ),
        "cooc_file_caption": "Samforekomst av koder i samme segment (koderlag {coder})",
        "cooc_resp_file_caption": "Respondenter som nevner begge kodene (koderlag {coder})",
        "quotes_caption": "Sitater (koderlag {coder})",
        "summary_caption": "Respondenter med attributter (koderlag {coder})",
        "in_progress": (
            "{coder} har ikke markert disse transkripsjonene som ferdig kodet, så de er utelatt "
            "fra alle tabeller: {transcripts}."
        ),
        "coverage": (
            "{coder} har kodet {coded} av {total} respondenter. Ikke kodet, og derfor utelatt fra "
            "alle tabeller og andeler (ikke regnet som «nevner ikke»): {uncoded}."
        ),
        "ranges": (
            "{attribute} har mange ulike verdier, så respondentene er delt i {n} grupper etter "
            "verdi, med omtrent like mange i hver: {ranges}."
        ),
        "by_ranges": "Etter {attribute} ({ranges})",
    },
    "en": {
        "title": "Coding report",
        "author": "Author",
        "open_quote": "“",
        "close_quote": "”",
        "months": (
            "January February March April May June July August September October November December"
        ),
        "date_format": "{day} {month} {year}",
        "draft_title": "Machine draft – not checked",
        "draft_body": (
            "The codings in this report are the layer “auto”: set automatically from the "
            "codebook's words and rules, and nobody has reviewed them. On interviews from "
            "clusters the codebook was not tuned on, the draft agreed with a careful human coder "
            "on the turns' top codes at micro-F1 0.53 and 0.63, with precision 0.52–0.69 per code "
            "(0.80–0.92 on the material the codebook was built from). Word rules find what is "
            "said; a coder codes what is meant. Use the draft to find turns to read and to check "
            "your own coding, never as the coding itself, and not as the basis of figures in a "
            "thesis."
        ),
        "project": "Project",
        "date": "Date",
        "codebook_version": "Codebook version",
        "coder": "Coder layer",
        "respondent_count": "Respondents",
        "negated_excluded": "Negated codings are left out.",
        "negated_included": "Negated codings are included (marked “negated” in the quotes).",
        "method": (
            "The tables count coded segments (speaker turns) of the respondents. The interviewer's "
            "turns are never counted. Subcodes roll up into their parent code, and a segment counts "
            "once per code even when it has several subcodes."
        ),
        "left_out": "{n} coding(s) on the interviewer's turns are not counted.",
        "not_set": "not recorded",
        "codebook": "Codebook",
        "codebook_intro": "The codes with their definitions, in codebook order.",
        "no_description": "(no definition)",
        "inactive": "no longer in the codebook",
        "frequency": "Code frequencies",
        "frequency_intro": (
            "Coded segments per code and respondent. “Total” is the code's sum, “Respondents” the "
            "number of respondents who mention the code. The last row counts each coded segment once."
        ),
        "frequency_overview": "Coded segments and respondents per code.",
        "frequency_by_respondent": (
            "Coded segments per respondent and top-level code. The full code × respondent table is "
            "in rapport.xlsx."
        ),
        "table": "Table",
        "figure": "Figure",
        "freq_caption": "Coded segments per code and respondent (coder layer {coder})",
        "freq_overview_caption": "Coded segments and respondents per code (coder layer {coder})",
        "freq_resp_caption": "Coded segments per respondent and top-level code (coder layer {coder})",
        "heatmap": "Heat map",
        "heatmap_caption": "Coded segments per code and respondent (coder layer {coder})",
        "heatmap_xlabel": "Respondent",
        "heatmap_xlabel_many": "Respondents (n = {n})",
        "heatmap_ylabel": "Code",
        "cooc": "Co-occurrence",
        "cooc_intro": (
            "Segments in which two top-level codes occur together; the diagonal shows each code's "
            "own segments."
        ),
        "cooc_caption": "Co-occurrence of codes in the same segment",
        "cooc_resp_caption": "Respondents who mention both codes",
        "quotes": "Quotes",
        "quotes_intro": (
            "Coded statements per code, shortened to the sentences that hold the evidence; “…” "
            "marks omitted text. The segment id points to the turn in the project."
        ),
        "quotes_shown": "Showing {shown} of {total} quotes; all are in rapport.xlsx.",
        "no_quotes": "No coded statements.",
        "general": "general (no subcode)",
        "quote_caption": "Quotes for {code}",
        "negated": "negated",
        "segment_ref": "segment {segment}",
        "appendix": "Appendix: Respondents",
        "appendix_intro": (
            "One row per respondent: attributes, turns, words, coded turns and the top codes with "
            "their coded turns. Every code is in rapport.xlsx."
        ),
        "appendix_caption": "Respondents with attributes",
        "appendix_counts_caption": "The respondents' turns, words and top codes",
        "extra_sheet": "Extra",
        "code": "Code",
        "name": "Name",
        "definition": "Definition",
        "level": "Level",
        "respondent": "Respondent",
        "quote": "Quote",
        "segment": "Segment",
        "transcript": "Transcript",
        "position": "Turn no.",
        "source": "Source",
        "text": "Text",
        "total": "Total",
        "respondents": "Respondents",
        "total_row": "Coded segments (distinct)",
        "transcripts": "Transcripts",
        "turns": "Turns",
        "words": "Words",
        "coded": "Coded turns",
        "codes": "Codes (turns)",
        "top_codes": "Top codes (coded turns)",
        "yes": "yes",
        "no": "no",
        "by": "By {attribute}",
        "by_intro": (
            "Coded segments per group; “% resp.” is the share of the group's respondents who "
            "mention the code."
        ),
        "percent_sheet": "Frequency %",
        "percent_intro": "Share (%) of the respondent's turns that have the code.",
        "overview": "Overview",
        "freq_sheet": "Frequency",
        "cooc_sheet": "Co-occurrence segment",
        "cooc_resp_sheet": "Co-occurrence respondent",
        "quotes_sheet": "Quotes",
        "respondents_sheet": "Respondents",
        "codebook_sheet": "Codebook",
        "page": "Page",
        "negated_column": "Negated",
        "freq_percent_caption": "Share (%) of turns per code and respondent (coder layer {coder})",
        "freq_by_caption": "Coded segments per code by {attribute} (coder layer {coder})",
        "freq_by_percent_caption": "Share (%) of turns per code by {attribute} (coder layer {coder})",
        "cooc_file_caption": "Co-occurrence of codes in the same segment (coder layer {coder})",
        "cooc_resp_file_caption": "Respondents who mention both codes (coder layer {coder})",
        "quotes_caption": "Quotes (coder layer {coder})",
        "summary_caption": "Respondents with attributes (coder layer {coder})",
        "in_progress": (
            "{coder} has not marked these transcripts as done, so they are left out of every "
            "table: {transcripts}."
        ),
        "coverage": (
            "{coder} has coded {coded} of {total} respondents. Not coded, and so left out of every "
            "table and share (not counted as “does not mention”): {uncoded}."
        ),
        "ranges": (
            "{attribute} has many different values, so the respondents are split by value into {n} "
            "groups of about equal size: {ranges}."
        ),
        "by_ranges": "By {attribute} ({ranges})",
    },
}


def check_lang(lang: str) -> None:
    """Raise an :class:`InputError` for a report language we have no words for."""
    if lang not in STRINGS:
        raise InputError(f"unknown report language '{lang}' (use {' or '.join(LANGUAGES)})")


def check_quote_style(style: str) -> None:
    """Raise an :class:`InputError` for an unknown quote style."""
    if style not in QUOTE_STYLES:
        raise InputError(f"unknown quote style '{style}' (use {' or '.join(QUOTE_STYLES)})")


def words(lang: str) -> dict[str, str]:
    """The report's words in ``lang``."""
    check_lang(lang)
    return STRINGS[lang]


def long_date(iso: str, lang: str) -> str:
    """``2026-12-01`` as ``1. desember 2026`` (nb) or ``1 December 2026`` (en)."""
    w = words(lang)
    year, month, day = (int(part) for part in iso.split("-"))
    return w["date_format"].format(day=day, month=w["months"].split()[month - 1], year=year)


def quoted(text: str, lang: str) -> str:
    """``text`` in the language's quotation marks: «…» in bokmål, “…” in English."""
    w = words(lang)
    return f"{w['open_quote']}{text}{w['close_quote']}"


def citation(text: str, respondent: str, lang: str) -> str:
    """A quote as a thesis cites it: ``«…» – R7`` (en dash before the respondent)."""
    return f"{quoted(text, lang)} – {respondent}"


def report_title(report: Any, lang: str) -> str:
    """The report's title: the ``report_title`` setting, else "Kodingsrapport"/"Coding report";
    a machine draft says so in the title too."""
    w = words(lang)
    title = report.title or w["title"]
    return (
        f"{title} – {w['draft_title'].split(' – ')[0].lower()}"
        if report.is_machine_draft
        else title
    )


def localize_labels(frame: pd.DataFrame, lang: str, *, index_label: str = "code") -> pd.DataFrame:
    """The frame with the report's fixed column and row labels in ``lang``; data labels unchanged.

    The index becomes the first column, named by ``index_label``'s translation.
    """
    from qualcode.reports import RESPONDENTS, TOTAL

    w = words(lang)
    fixed: dict[Any, str] = {
        TOTAL: w["total"],
        RESPONDENTS: w["respondents"],
        "transcripts": w["transcripts"],
        "turns": w["turns"],
        "words": w["words"],
        "coded": w["coded"],
        "codes": w["codes"],
        "code": w["code"],
        "respondent": w["respondent"],
        "segment": w["segment"],
        "transcript": w["transcript"],
        "position": w["position"],
        "negated": w["negated_column"],
        "source": w["source"],
        "text": w["text"],
        "quote": w["quote"],
    }
    out = frame.copy()
    if TOTAL in out.index:
        out = out.rename(index={TOTAL: w["total_row"]})
    out.index.name = w.get(index_label, index_label)
    out = out.reset_index()
    out.columns = [fixed.get(c, c) if isinstance(c, str) else str(c) for c in out.columns]
    return out


def frame_notes(frame: pd.DataFrame, lang: str) -> list[str]:
    """The notes a report table needs in ``lang``: respondents the layer has not coded, and the
    ranges a numeric attribute was grouped into."""
    w = words(lang)
    notes = []
    coverage = frame.attrs.get("coverage")
    if coverage:
        notes.append(
            w["coverage"].format(
                coder=frame.attrs.get("coder", ""),
                coded=coverage[0],
                total=coverage[1],
                uncoded=", ".join(frame.attrs.get("uncoded", [])),
            )
        )
    in_progress = frame.attrs.get("in_progress")
    if in_progress:
        notes.append(
            w["in_progress"].format(
                coder=frame.attrs.get("coder", ""), transcripts=", ".join(in_progress)
            )
        )
    ranges = frame.attrs.get("ranges")
    if ranges:
        notes.append(
            w["ranges"].format(
                attribute=frame.attrs.get("by", ""), n=len(ranges), ranges=", ".join(ranges)
            )
        )
    return notes


def quote_sheet_frame(quotes: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Quotes for a spreadsheet: code, respondent, segment, transcript, turn, negated, quote."""
    import pandas as pd

    w = words(lang)
    return pd.DataFrame(
        {
            w["code"]: quotes["code"],
            w["respondent"]: quotes["respondent"],
            w["segment"]: quotes["segment"].astype("int64"),
            w["transcript"]: quotes["transcript"],
            w["position"]: quotes["position"].astype("int64"),
            w["negated_column"]: [w["yes"] if n else "" for n in quotes["negated"]],
            w["quote"]: [
                citation(text, respondent, lang)
                for text, respondent in zip(quotes["text"], quotes["respondent"], strict=True)
            ],
        }
    )


def quote_reading_frame(quotes: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Quotes for reading (Word, Markdown): code, respondent, the quote, and the segment id with
    «negert» where the coding is negated, as in the full report."""
    import pandas as pd

    w = words(lang)
    return pd.DataFrame(
        {
            w["code"]: quotes["code"],
            w["respondent"]: quotes["respondent"],
            w["quote"]: [quoted(text, lang) for text in quotes["text"]],
            w["segment"]: [
                f"{segment} · {w['negated']}" if negated else str(segment)
                for segment, negated in zip(quotes["segment"], quotes["negated"], strict=True)
            ],
        }
    )
