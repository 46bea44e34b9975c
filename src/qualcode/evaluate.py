"""The auto-coder against a human gold layer: scores per code and per codebook term, and
keyness-based suggestions of terms the codebook lacks.

Scores are computed on the same units as intercoder agreement (:func:`qualcode.agreement.
layer_matrix`): turns of the transcripts the gold coder has seen. Per code (subcodes rolled in at
``level='top'``): true/false positives and false negatives, precision, recall and F1; micro
averages pool the counts over codes, macro averages are the unweighted means of the codes where
the score is defined.

Term suggestions rank words by log-likelihood keyness (Dunning 1993; Rayson & Garside 2000): how
much more frequent a word is in the gold coder's segments for a code than in the rest of the
corpus. Words already covered by the code's rules are left out.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from qualcode.agreement import NotSeenByAll, Stat, layer_matrix, select_codes
from qualcode.errors import InputError, QualcodeError
from qualcode.store import AUTO_CODER, Store

#: LL above this is significant at p < 0.05 with one degree of freedom; smaller is noise.
LL_CRITICAL_05 = 3.84
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# Spoken-language fillers and transcription marks: frequent everywhere, never a codebook term.
_FILLERS = frozenset(
    [
        "altså",
        "liksom",
        "sånn",
        "sånt",
        "eh",
        "ehm",
        "hm",
        "mm",
        "ja",
        "nei",
        "jo",
        "ok",
        "okei",
        "på",
        "en",
        "måte",
        "ikke",
        "sant",
        "pause",
        "latter",
        "uklart",
        "bedriften",
        "navn",
        "konkurrent",
        "kunde",
        "bedriftsnavn",
    ]
)


# -- the two switches to the NLP and codebook modules ------------------------------------------


def _nlp() -> Any | None:
    """The Norwegian pipeline module, or None where it cannot be imported.

    The single switch between :mod:`qualcode.nlp` (spaCy tokens, Ordbank and simplemma lemma
    candidates) and the fallback below (a word regex and simplemma).
    """
    try:
        from qualcode import nlp
    except ImportError:  # pragma: no cover - nlp.py ships with qualcode
        return None
    return nlp


def text_words(text: str) -> list[str]:
    """The lower-case words of ``text`` (punctuation and transcription marks left out)."""
    nlp = _nlp()
    if nlp is not None:
        return [t.lower for t in nlp.tokenize(text) if t.is_word and not t.lower.isdigit()]
    return [w.casefold() for w in _WORD.findall(text)]


@cache
def word_lemmas(word: str) -> frozenset[str]:
    """Lemma candidates of one lower-case word, the word itself included."""
    nlp = _nlp()
    if nlp is not None:
        return frozenset(nlp.lemmas(word))
    return frozenset({word, _simplemma(word)})


@cache
def _lemma(word: str) -> str:
    """One representative lemma of a word, for counting.

    The word itself when the lexicon lists it as a lemma (``felles``, ``vi``); otherwise the
    shortest candidate, then the one sharing the longest beginning with the word, then the
    alphabetically first (``prisene`` → ``pris``, ``sitter`` → ``sitte``).
    """
    nlp = _nlp()
    if nlp is not None:
        lexicon = getattr(nlp.get_pipeline(), "lexicon", None)
        found = lexicon.get(word) if lexicon is not None else None
        if found and word in found:
            return word
    others = word_lemmas(word) - {word}
    if not others:
        return word
    return min(others, key=lambda w: (len(w), -_common_prefix(w, word), w))


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def text_lemmas(text: str) -> list[str]:
    """The words of ``text`` as representative lemmas (see :func:`_lemma`)."""
    return [_lemma(w) for w in text_words(text)]


def _simplemma(word: str) -> str:
    import simplemma

    try:
        return str(simplemma.lemmatize(word, lang="nb")).casefold()
    except Exception:  # simplemma refuses odd input; the word itself is the best lemma then
        return word


def codebook_terms(store: Store) -> dict[str, list[tuple[str, str]]]:
    """Each code path's terms as ``(rule, term)`` pairs, from the project's current codebook.

    The single place where this module reads the codebook (:func:`qualcode.codebook.
    current_codebook`): keywords (rule ``compound`` when the code matches compounds, so a term
    is also found inside longer words) and the terms of ``near`` rules. Patterns are regular
    expressions, not words, and are left out.
    """
    try:
        from qualcode.codebook import current_codebook
    except ImportError:  # pragma: no cover - codebook.py ships with qualcode
        return _codebook_terms_from_yaml(store)
    try:
        book = current_codebook(store)
    except QualcodeError:
        return {}
    if book is None:
        return {}
    out: dict[str, list[tuple[str, str]]] = {}
    for code in book.walk():
        rule = "compound" if code.compounds else "keyword"
        terms = [(rule, t) for t in code.keywords]
        for near in code.near:
            terms.extend(("near", t) for t in (*near.a, *near.b) if ("near", t) not in terms)
        out[code.path] = terms
    return out


def _codebook_terms_from_yaml(store: Store) -> dict[str, list[tuple[str, str]]]:
    """Fallback: the strings under ``keywords`` and ``near`` of the newest stored codebook."""
    row = store.conn.execute(
        "SELECT content FROM codebook_versions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(row[0])
    except yaml.YAMLError:
        return {}
    out: dict[str, list[tuple[str, str]]] = {}

    def walk(codes: Any, parent: str) -> None:
        if not isinstance(codes, list):
            return
        for code in codes:
            if not isinstance(code, dict) or "id" not in code:
                continue
            path = f"{parent}/{code['id']}" if parent else str(code["id"])
            terms: list[tuple[str, str]] = []
            for rule, key in (("keyword", "keywords"), ("near", "near")):
                for term in _strings(code.get(key)):
                    if (rule, term) not in terms:
                        terms.append((rule, term))
            out[path] = terms
            walk(code.get("codes"), path)

    walk(data.get("codes") if isinstance(data, dict) else None, "")
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [
            s
            for k, v in value.items()
            if k not in {"within", "distance", "max"}
            for s in _strings(v)
        ]
    return []


def evidence_terms(store: Store, coder: str = AUTO_CODER) -> dict[str, set[tuple[str, str]]]:
    """The ``(rule, term)`` pairs that fired for each code in a layer's evidence."""
    out: dict[str, set[tuple[str, str]]] = {}
    for path, evidence in store.conn.execute(
        "SELECT k.path, c.evidence FROM codings c JOIN codes k ON k.id = c.code_id"
        " JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
        (coder,),
    ):
        for match in _evidence(evidence):
            out.setdefault(path, set()).add(match)
    return out


def _evidence(raw: str) -> list[tuple[str, str]]:
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    found = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("term"):
            pair = (str(item.get("rule") or ""), str(item["term"]))
            if pair not in found:
                found.append(pair)
    return found


def terms_for(code: str, terms: dict[str, Iterable[tuple[str, str]]]) -> list[tuple[str, str]]:
    """The terms of ``code`` and its subcodes."""
    out: list[tuple[str, str]] = []
    for path, pairs in terms.items():
        if path == code or path.startswith(code + "/"):
            for pair in pairs:
                if pair not in out:
                    out.append(pair)
    return out


# -- term matching and keyness ------------------------------------------------------------------


@dataclass
class TextIndex:
    """A segment's words prepared for term look-ups."""

    text: str
    words: tuple[str, ...]
    lemmas: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, text: str) -> TextIndex:
        """Index ``text``."""
        words = tuple(text_words(text))
        return cls(text, words, frozenset().union(*(word_lemmas(w) for w in words)))

    def holds(self, rule: str, term: str) -> bool:
        """Whether the text holds the term: a phrase as its words in a row, a single word when
        its lemma candidates meet those of a word of the text, a compound term also inside a
        longer word."""
        words = [w.casefold() for w in _WORD.findall(term)]
        if not words:
            return False
        if len(words) > 1:
            flat = " " + " ".join(self.words) + " "
            return " " + " ".join(words) + " " in flat
        word = words[0]
        if word_lemmas(word) & self.lemmas:
            return True
        if rule == "compound" and len(word) >= 4:
            return any(word in w for w in self.words)
        return False


def log_likelihood(a: int, b: int, c: int, d: int) -> float:
    """Log-likelihood G² of a word with frequency ``a`` in a corpus of ``c`` words and ``b`` in
    one of ``d`` words (Rayson & Garside 2000, after Dunning 1993)."""
    if c <= 0 or d <= 0 or a + b == 0:
        return 0.0
    e1 = c * (a + b) / (c + d)
    e2 = d * (a + b) / (c + d)
    value = 0.0
    if a:
        value += a * math.log(a / e1)
    if b:
        value += b * math.log(b / e2)
    return 2.0 * value


@cache
def stopwords() -> frozenset[str]:
    """Norwegian (bokmål and nynorsk) function words and spoken fillers."""
    try:
        from spacy.lang.nb.stop_words import STOP_WORDS
    except ImportError:
        STOP_WORDS = set()
    extra = [
        "eg",
        "ikkje",
        "kva",
        "korleis",
        "kven",
        "meg",
        "deg",
        "seg",
        "sjøl",
        "dei",
        "ein",
        "eit",
        "noko",
        "nokon",
        "berre",
    ]
    return frozenset({w.casefold() for w in STOP_WORDS} | _FILLERS | set(extra))


def keyness(
    target: Sequence[Sequence[str]], reference: Sequence[Sequence[str]], *, min_freq: int = 3
) -> list[tuple[str, int, int, float]]:
    """Words overused in ``target`` segments against ``reference`` segments, by LL, strongest
    first: ``(word, freq in target, freq in reference, LL)``. A word must occur ``min_freq``
    times in at least two target segments."""
    stop = stopwords()
    ta = Counter(w for seg in target for w in seg)
    rb = Counter(w for seg in reference for w in seg)
    spread = Counter(w for seg in target for w in set(seg))
    c, d = sum(ta.values()), sum(rb.values())
    rows = []
    for word, a in ta.items():
        b = rb.get(word, 0)
        if a < min_freq or spread[word] < 2 or len(word) < 3 or word in stop:
            continue
        if d and a / c <= b / d:
            continue
        rows.append((word, a, b, log_likelihood(a, b, c, d)))
    rows.sort(key=lambda r: (-r[3], r[0]))
    return rows


def covered(word: str, terms: Iterable[tuple[str, str]]) -> bool:
    """Whether a word is already covered by one of the terms (same word or lemma, a word of a
    phrase, or a longer word containing a term of four letters or more)."""
    candidates = word_lemmas(word) | {word}
    for _rule, term in terms:
        parts = [w.casefold() for w in _WORD.findall(term)]
        for part in parts:
            if word_lemmas(part) & candidates:
                return True
            if len(parts) == 1 and len(part) >= 4 and part in word:
                return True
    return False


# -- evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeScore:
    """Precision, recall and F1 of one code (or the micro/macro average)."""

    code: str
    gold: int
    pred: int
    tp: int
    fp: int
    fn: int
    precision: Stat
    recall: Stat
    f1: Stat

    def as_dict(self) -> dict[str, Any]:
        """The JSON record."""
        return {
            "code": self.code,
            "gold": self.gold,
            "pred": self.pred,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision.value,
            "recall": self.recall.value,
            "f1": self.f1.value,
            "note": "; ".join(
                dict.fromkeys(s.reason for s in (self.precision, self.recall, self.f1) if s.reason)
            )
            or None,
        }


@dataclass(frozen=True)
class TermScore:
    """How often a codebook term made a coding of a code, and how often the gold coder agreed."""

    code: str
    rule: str
    term: str
    fired: int
    correct: int
    precision: float

    def as_dict(self) -> dict[str, Any]:
        """The JSON record."""
        return {
            "code": self.code,
            "rule": self.rule,
            "term": self.term,
            "fired": self.fired,
            "correct": self.correct,
            "false_positives": self.fired - self.correct,
            "precision": self.precision,
        }


@dataclass(frozen=True)
class Suggestion:
    """A word frequent in the gold coder's segments for a code and absent from its rules."""

    code: str
    term: str
    in_code: int
    elsewhere: int
    segments: int
    log_likelihood: float

    def as_dict(self) -> dict[str, Any]:
        """The JSON record."""
        return {
            "code": self.code,
            "term": self.term,
            "in_code": self.in_code,
            "elsewhere": self.elsewhere,
            "segments": self.segments,
            "log_likelihood": self.log_likelihood,
        }


@dataclass
class Evaluation:
    """The whole evaluation of one predicted layer against a gold layer."""

    gold: str
    pred: str
    level: str
    n_units: int
    codes: list[CodeScore]
    micro: CodeScore
    macro: CodeScore
    terms: list[TermScore]
    suggestions: list[Suggestion]
    not_seen_by_all: list[NotSeenByAll]

    def as_dict(self) -> dict[str, Any]:
        """One JSON document with every table."""
        return {
            "gold": self.gold,
            "pred": self.pred,
            "level": self.level,
            "n_units": self.n_units,
            "codes": [c.as_dict() for c in (*self.codes, self.micro, self.macro)],
            "terms": [t.as_dict() for t in self.terms],
            "suggestions": [s.as_dict() for s in self.suggestions],
        }


def _ratio(num: int, den: int, reason: str) -> Stat:
    return Stat(num / den) if den else Stat(None, reason)


def _score(code: str, tp: int, fp: int, fn: int) -> CodeScore:
    precision = _ratio(tp, tp + fp, "no predicted coding")
    recall = _ratio(tp, tp + fn, "no gold coding")
    if tp + fp + fn == 0:
        f1 = Stat(None, "neither layer used the code")
    else:
        f1 = Stat(2 * tp / (2 * tp + fp + fn))
    return CodeScore(code, tp + fn, tp + fp, tp, fp, fn, precision, recall, f1)


def _mean(stats: Sequence[Stat], what: str) -> Stat:
    values = [s.value for s in stats if s.value is not None]
    if not values:
        return Stat(None, f"no code has a defined {what}")
    return Stat(sum(values) / len(values))


def evaluate(
    store: Store,
    gold: str,
    pred: str = AUTO_CODER,
    codes: Sequence[str] | None = None,
    *,
    level: str = "top",
    suggestions: int = 10,
    include_in_progress: bool = False,
) -> Evaluation:
    """Score layer ``pred`` against layer ``gold`` per code, per term, with term suggestions.

    Only transcripts both layers have finished count (see :mod:`qualcode.progress`).
    """
    if gold == pred:
        raise InputError("--gold and --pred name the same layer")
    matrix = layer_matrix(
        store, [gold, pred], "segment", include_in_progress=include_in_progress
    )
    used = {p for column in matrix.values.values() for s in column if s for p in s}
    chosen = select_codes(store, level, codes, used)
    g_col, p_col = matrix.values[gold], matrix.values[pred]
    both = [i for i in range(len(matrix.units)) if g_col[i] is not None and p_col[i] is not None]
    if not both:
        raise InputError(f"layer '{gold}' has no coded transcript to evaluate against")

    def has(values: frozenset[str] | None, code: str) -> bool:
        return bool(values) and any(p == code or p.startswith(code + "/") for p in values)

    scores = []
    for code in chosen:
        tp = sum(has(g_col[i], code) and has(p_col[i], code) for i in both)
        fp = sum(not has(g_col[i], code) and has(p_col[i], code) for i in both)
        fn = sum(has(g_col[i], code) and not has(p_col[i], code) for i in both)
        scores.append(_score(code, tp, fp, fn))
    micro = _score(
        "(micro)", sum(s.tp for s in scores), sum(s.fp for s in scores), sum(s.fn for s in scores)
    )
    macro = CodeScore(
        "(macro)",
        micro.gold,
        micro.pred,
        micro.tp,
        micro.fp,
        micro.fn,
        _mean([s.precision for s in scores], "precision"),
        _mean([s.recall for s in scores], "recall"),
        _mean([s.f1 for s in scores], "F1"),
    )
    term_scores = _term_scores(store, matrix, pred, gold, chosen, both)
    suggestion_rows = _suggestions(store, matrix, gold, pred, chosen, both, suggestions)
    return Evaluation(
        gold,
        pred,
        level,
        len(both),
        scores,
        micro,
        macro,
        term_scores,
        suggestion_rows,
        matrix.not_seen_by_all,
    )


def _term_scores(
    store: Store, matrix: Any, pred: str, gold: str, chosen: Sequence[str], both: Sequence[int]
) -> list[TermScore]:
    position = {matrix.units[i].key: i for i in both}
    g_col = matrix.values[gold]
    tally: dict[tuple[str, str, str], list[int]] = {}
    fired_in: dict[tuple[str, str, str], set[int]] = {}
    for seg_id, path, evidence in store.conn.execute(
        "SELECT c.segment_id, k.path, c.evidence FROM codings c JOIN codes k ON k.id = c.code_id"
        " JOIN coders d ON d.id = c.coder_id WHERE d.name = ?",
        (pred,),
    ):
        i = position.get(seg_id)
        if i is None:
            continue
        for code in chosen:
            if not (path == code or path.startswith(code + "/")):
                continue
            for rule, term in _evidence(evidence):
                key = (code, rule, term)
                # A term counts once per segment even if it made two subcodes' codings.
                if seg_id in fired_in.setdefault(key, set()):
                    continue
                fired_in[key].add(seg_id)
                counts = tally.setdefault(key, [0, 0])
                counts[0] += 1
                gold_codes = g_col[i] or frozenset()
                counts[1] += any(p == code or p.startswith(code + "/") for p in gold_codes)
    order = {c: n for n, c in enumerate(chosen)}
    rows = [
        TermScore(code, rule, term, fired, correct, correct / fired)
        for (code, rule, term), (fired, correct) in tally.items()
    ]
    rows.sort(key=lambda t: (order[t.code], -(t.fired - t.correct), -t.fired, t.term))
    return rows


def _suggestions(
    store: Store,
    matrix: Any,
    gold: str,
    pred: str,
    chosen: Sequence[str],
    both: Sequence[int],
    limit: int,
) -> list[Suggestion]:
    if limit <= 0:
        return []
    texts = _segment_texts(store, [matrix.units[i].key for i in both])
    lemmas = {key: text_lemmas(text) for key, text in texts.items()}
    rules = codebook_terms(store)
    fired = evidence_terms(store, pred)
    out: list[Suggestion] = []
    g_col = matrix.values[gold]
    for code in chosen:
        inside, outside = [], []
        for i in both:
            values = g_col[i] or frozenset()
            tokens = lemmas[matrix.units[i].key]
            if any(p == code or p.startswith(code + "/") for p in values):
                inside.append(tokens)
            else:
                outside.append(tokens)
        if len(inside) < 2:
            continue
        known = terms_for(code, rules) + terms_for(code, fired)
        taken = 0
        for word, a, b, ll in keyness(inside, outside):
            if ll < LL_CRITICAL_05:
                break
            if covered(word, known):
                continue
            segs = sum(word in seg for seg in inside)
            out.append(Suggestion(code, word, a, b, segs, ll))
            taken += 1
            if taken >= limit:
                break
    return out


def _segment_texts(store: Store, ids: Sequence[Any]) -> dict[Any, str]:
    out: dict[Any, str] = {}
    ids = list(ids)
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        out.update(
            store.conn.execute(f"SELECT id, text FROM segments WHERE id IN ({marks})", chunk)
        )
    return out
