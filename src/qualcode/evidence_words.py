"""The auto-coder's evidence in plain words, for people who never wrote a codebook rule.

A match such as ``{"rule": "keyword", "term": "tillit", "words": "tilliten"}`` reads
«tillit — ordet "tilliten" (bøyd form av tillit)»; a ``near`` rule's pattern syntax
(``ledelse|leiing ~8~ klynge|klyngen``) is never shown, only its first words and the distance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

LANGUAGES = ("nb", "en")

_TEXTS = {
    "nb": {
        "word": 'ordet "{words}"',
        "phrase": 'uttrykket "{words}"',
        "inflected": "bøyd form av {term}",
        "variant": "variant av {term}",
        "compound": "sammensatt ord med {term}",
        "fuzzy": "skrivemåte nær {term}",
        "pattern": "et mønster i kodeboka",
        "near": "{a} og {b} innen {n} ord",
        "negated": 'nektet med "{negator}"',
        "negated_plain": "nektet",
        "support": "støtteord: teller bare sammen med andre treff",
    },
    "en": {
        "word": 'the word "{words}"',
        "phrase": 'the phrase "{words}"',
        "inflected": "inflected form of {term}",
        "variant": "a variant of {term}",
        "compound": "compound containing {term}",
        "fuzzy": "spelt close to {term}",
        "pattern": "a pattern in the codebook",
        "near": "{a} and {b} within {n} words",
        "negated": 'negated by "{negator}"',
        "negated_plain": "negated",
        "support": "support word: counts only with other matches",
    },
}

_NEAR = re.compile(r"^(?P<a>.+?)\s*~(?P<n>\d+)~\s*(?P<b>.+)$")


def describe_match(match: Mapping[str, Any], lang: str = "nb") -> str:
    """One evidence match (the shared evidence format) as a short sentence in ``lang``."""
    texts = _TEXTS[lang if lang in _TEXTS else "nb"]
    rule = str(match.get("rule", ""))
    term = str(match.get("term", "")).strip()
    words = " ".join(str(match.get("words", "")).split())
    notes: list[str] = []
    if rule == "near":
        found = _NEAR.match(term)
        if found:
            first_a = found.group("a").split("|")[0].strip()
            first_b = found.group("b").split("|")[0].strip()
            head = f"{first_a} … {first_b}"
            notes.append(texts["near"].format(a=first_a, b=first_b, n=found.group("n")))
        else:
            head = words
        body = f'"{words}"'
    elif rule == "pattern":
        head, body = words, f'"{words}"'
        notes.append(texts["pattern"])
    else:
        head = term or words
        kind = "phrase" if rule == "phrase" or " " in words else "word"
        body = texts[kind].format(words=words)
        same = words.casefold() == term.casefold()
        if rule == "compound":
            notes.append(texts["compound"].format(term=term))
        elif rule == "fuzzy":
            notes.append(texts["fuzzy"].format(term=term))
        elif not same and term:
            notes.append(texts["inflected" if kind == "word" else "variant"].format(term=term))
    if match.get("negated"):
        negator = match.get("negator")
        notes.append(
            texts["negated"].format(negator=negator) if negator else texts["negated_plain"]
        )
    if match.get("support"):
        notes.append(texts["support"])
    return f"{head} — {body}" + (f" ({'; '.join(notes)})" if notes else "")


def describe_evidence(evidence: list[Mapping[str, Any]], lang: str = "nb") -> list[str]:
    """Every match of a coding's evidence in plain words, in text order, duplicates dropped."""
    ordered = sorted(
        (m for m in evidence if isinstance(m, Mapping)),
        key=lambda m: (int(m.get("start", 0) or 0), int(m.get("end", 0) or 0)),
    )
    return list(dict.fromkeys(describe_match(m, lang) for m in ordered))
