"""Compiling a codebook's terms: each term's words as lemma-candidate sets, and the indexes a word
type is looked up in (lemma → one-word terms, lemma → phrase words, compound stems, fuzzy forms)."""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualcode.codebook import Code, Codebook
from qualcode.errors import InputError
from qualcode.nlp import Pipeline, collapse_doubles, max_edits, pronoun_classes

MIN_COMPOUND_TERM = 4
STEM = 4  # letters of a term's start that a compound holding it must contain
# Noun → verb for -ing nouns ("forankring" → "forankre", "kobling" → "koble").
_ING = re.compile(r"(?:e)?ing$")
# Words of letters joined by single hyphens ("buy-in", "e-postliste"): spaCy's Norwegian
# tokenizer keeps each one whole (tested), as it does plain words.
_HYPHENATED = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")
#: Regular endings tried on fuzzy terms (kept only where the lexicon knows the form).
FUZZY_ENDINGS = ("en", "a", "er", "ene", "et", "e", "r", "es", "te", "t", "de", "ane", "ar", "ast")


@dataclass
class Use:
    """One use of a term by a code: as a keyword, an exclusion or one side of a ``near`` rule."""

    code: int  # index into the codebook's codes; -1: the codebook's global exclude list
    role: str  # keyword | exclude | near_a | near_b
    near: int = -1
    compounds: bool = True
    fuzzy: bool = True
    weight: float = 1.0
    support: bool = False


@dataclass
class Term:
    """A term of the codebook (casefolded), its words' lemma candidates and its uses."""

    text: str
    words: list[frozenset[str]]
    uses: list[Use] = field(default_factory=list)
    # ``uses`` split by role once compiled (see TermTable).
    excludes: tuple[Use, ...] = ()
    keywords: tuple[Use, ...] = ()
    near_a: tuple[Use, ...] = ()
    near_b: tuple[Use, ...] = ()

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@functools.cache
def code_key() -> str:
    """A hash of the auto-coder's own source: a changed matcher never reads an older cache."""
    digest = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()


def write_cache_file(path: Path, value: Any) -> None:
    """Write a codebook cache file (atomically), removing that kind's files of older codebooks.

    Best effort: a cache is only a speed-up, so a folder that cannot be written is no error.
    """
    try:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps(value))
        os.replace(tmp, path)
        kind = path.name.rsplit("-", 1)[0]
        # Only the latest codebook's cache is kept: a student edits one codebook.
        for old in path.parent.glob(f"{kind}-*.marshal"):
            if old != path:
                old.unlink(missing_ok=True)
    except (OSError, InputError):
        pass


def is_plain_term(term: str) -> bool:
    """True for a term of letters and single spaces only (``stole på hverandre``)."""
    return term.replace(" ", "").isalpha() and " ".join(term.split()) == term


def _splits_at_spaces(term: str) -> bool:
    """True if spaCy's tokenizer splits ``term`` at its spaces and nowhere else (tested)."""
    return is_plain_term(term) or (
        " ".join(term.split()) == term
        and all(w.isalpha() or _HYPHENATED.fullmatch(w) for w in term.split(" "))
    )


class TermTable:
    """The compiled terms of a codebook and the indexes word types are matched against."""

    def __init__(self, codebook: Codebook, codes: list[Code], pipeline: Pipeline):
        self.codebook = codebook
        self.codes = codes
        self.pipeline = pipeline
        self.near_rules = [(ci, rule) for ci, code in enumerate(codes) for rule in code.near]
        self.terms: list[Term] = []
        self._ids: dict[str, int] = {}
        self._pending: list[tuple[int, list[str]]] = []
        derive = self._collect_uses()
        cached = self._read_cache()
        if cached is None:
            self._compile_words(derive)
            self._build_indexes()
            self.fuzzy_targets = self._build_fuzzy_targets()
            self._write_cache()
        else:
            words, self.fuzzy_targets = cached
            for term, term_words in zip(self.terms, words, strict=True):
                term.words = [frozenset(w) for w in term_words]
            self._split_uses()
            self._build_indexes()
        self.fuzzy_by_length: dict[int, list[str]] = {}
        for target in self.fuzzy_targets:
            self.fuzzy_by_length.setdefault(len(target), []).append(target)

    def __len__(self) -> int:
        return len(self.terms)

    def __getitem__(self, tid: int) -> Term:
        return self.terms[tid]

    # -- terms and their uses ----------------------------------------------------------------
    def _term(self, text: str) -> Term:
        key = " ".join(text.casefold().split())
        found = self._ids.get(key)
        if found is None:
            if _splits_at_spaces(key) and not self.pipeline.spacy_model:
                # A codebook has a thousand terms to compile: no tokenizer for the plain ones.
                words = key.split(" ")
            else:
                words = self.pipeline.term_words(key)
            if not words:
                raise InputError(f"the term '{text}' has no words", path=self.codebook.source_path)
            found = self._ids[key] = len(self.terms)
            self.terms.append(Term(key, [frozenset() for _ in words]))
            self._pending.append((found, words))
        return self.terms[found]

    def _collect_uses(self) -> dict[int, bool]:
        """Every term with its uses; returns which terms may derive a verb (``derive: true``)."""
        derive: dict[int, bool] = {}
        for text in self.codebook.exclude_terms:
            self._term(text).uses.append(Use(-1, "exclude"))
        for ci, code in enumerate(self.codes):
            for kind in ("keyword", "weak", "support"):
                for text in getattr(code, "keywords" if kind == "keyword" else kind):
                    term = self._term(text)
                    term.uses.append(
                        Use(
                            ci,
                            "keyword",
                            compounds=code.compounds,
                            fuzzy=code.fuzzy,
                            weight=code.term_weight(text, kind),
                            support=kind == "support",
                        )
                    )
                    tid = self._ids[term.text]
                    derive[tid] = derive.get(tid, False) or code.derive
            for text in code.exclude_terms:
                self._term(text).uses.append(Use(ci, "exclude"))
        for ni, (ci, rule) in enumerate(self.near_rules):
            code = self.codes[ci]
            for role, side in (("near_a", rule.a), ("near_b", rule.b)):
                for text in side:
                    self._term(text).uses.append(
                        Use(ci, role, ni, compounds=code.compounds, fuzzy=code.fuzzy)
                    )
        return derive

    def _compile_words(self, derive: dict[int, bool]) -> None:
        """Lemma candidates of every term's words (one batch of lexicon look-ups)."""
        pending = self._pending
        all_words = {w for _, words in pending for w in words}
        verbs = {
            tid: _ING.sub("e", words[0].partition("\t")[0])
            for tid, words in pending
            if len(words) == 1
        }
        pipeline = self.pipeline
        pipeline.prepare(all_words | set(verbs.values()))
        for tid, words in pending:
            term = self.terms[tid]
            term.words = [
                (len(words) > 1 and pronoun_classes(w)) or pipeline.lemmas(w) for w in words
            ]
            verb = verbs.get(tid)
            # Only a real verb of the lexicon: "kobling" → "koble" yes, "ting" → "te" no.
            if (
                verb
                and derive.get(tid)
                and _ING.search(term.text)
                and verb != term.text
                and len(verb) >= 4
                and verb in (pipeline.lexicon.get(verb) or ())
            ):
                term.words = [term.words[0] | {verb}]
        self._split_uses()

    def _split_uses(self) -> None:
        for term in self.terms:
            term.excludes = tuple(u for u in term.uses if u.role == "exclude")
            term.keywords = tuple(u for u in term.uses if u.role == "keyword")
            term.near_a = tuple(u for u in term.uses if u.role == "near_a")
            term.near_b = tuple(u for u in term.uses if u.role == "near_b")
        del self._pending

    # -- the compiled terms of a codebook, kept between commands ------------------------------
    def cache_path(self, kind: str) -> Path:
        """A cache file of this codebook's compiled matching (``kind``: terms, types).

        The name holds the codebook's content hash, the lexicon's and the analysis' keys and a
        hash of the auto-coder's source, so any change to what a term matches starts afresh.
        """
        from qualcode.nlp import analysis_key, cache_dir, lexicon_key

        key = hashlib.sha256(
            "|".join(
                (self.codebook.sha256, lexicon_key(), analysis_key(), code_key())
            ).encode()
        ).hexdigest()[:16]
        return cache_dir() / f"codebook-{kind}-{key}.marshal"

    def _read_cache(self) -> tuple[list[Any], dict[str, tuple[int, int]]] | None:
        """Each term's words (lemma candidates) and the fuzzy targets, compiled by an earlier
        command with this very codebook; None if there is no usable cache."""
        if self.pipeline.spacy_model:
            return None
        try:
            words, targets = marshal.loads(self.cache_path("terms").read_bytes())
        except (OSError, EOFError, ValueError, TypeError, InputError):
            return None
        sizes = [len(words) for _, words in self._pending]
        if not isinstance(targets, dict) or [len(w) for w in words] != sizes:
            return None
        return words, targets

    def _write_cache(self) -> None:
        if self.pipeline.spacy_model:
            return
        words = [tuple(tuple(sorted(w)) for w in term.words) for term in self.terms]
        write_cache_file(self.cache_path("terms"), (words, self.fuzzy_targets))

    # -- indexes -----------------------------------------------------------------------------
    def _build_indexes(self) -> None:
        #: lemma → one-word terms; lemma → (phrase, word index).
        self.single: dict[str, list[int]] = {}
        self.phrase: dict[str, list[tuple[int, int]]] = {}
        for tid, term in enumerate(self.terms):
            if term.is_phrase:
                for k, cands in enumerate(term.words):
                    for lemma in cands:
                        self.phrase.setdefault(lemma, []).append((tid, k))
            else:
                for lemma in term.words[0]:
                    self.single.setdefault(lemma, []).append(tid)
        self.single_lemmas = frozenset(self.single)
        self.phrase_lemmas = frozenset(self.phrase)
        self.index_lemmas = self.single_lemmas | self.phrase_lemmas
        self.compound_ok = {
            tid
            for tid, t in enumerate(self.terms)
            if not t.is_phrase
            and len(t.text) >= MIN_COMPOUND_TERM
            and any(u.compounds or u.role == "exclude" for u in t.uses)
        }
        self.stems = {
            lemma[:STEM]
            for tid in self.compound_ok
            for lemma in (self.terms[tid].text, *self.terms[tid].words[0])
            if len(lemma) >= STEM
        }

    def may_hold_term(self, word: str) -> bool:
        """Cheap pre-test for the compound split: does ``word`` contain the start of a term?

        Norwegian inflects at the end, so a compound holding a term holds its first letters.
        """
        grams = self.stems
        return any(word[i : i + STEM] in grams for i in range(1, len(word) - STEM + 1)) or (
            "-" in word or word[:STEM] in grams
        )

    def _build_fuzzy_targets(self) -> dict[str, tuple[int, int]]:
        """Collapsed form → (term id, allowed edits) for every inflected form of fuzzy terms."""
        forms: dict[int, set[str]] = {}
        for tid, term in enumerate(self.terms):
            if term.is_phrase or len(term.text) < 5:
                continue
            if not any(u.fuzzy and u.role != "exclude" for u in term.uses):
                continue
            forms[tid] = {term.text, *(lemma for lemma in term.words[0] if len(lemma) >= 5)}
        # Inflected forms by the regular endings, kept only if the lexicon knows them as forms
        # of the term's lemmas (so "konkurentene" is a slip of the form "konkurrentene").
        guesses = {tid: {f + e for f in fs for e in FUZZY_ENDINGS} for tid, fs in forms.items()}
        lexicon = self.pipeline.lexicon
        lexicon.prefetch(g for gs in guesses.values() for g in gs)
        targets: dict[str, tuple[int, int]] = {}
        for tid, fs in forms.items():
            lemmas = self.terms[tid].words[0]
            for guess in guesses[tid]:
                found = lexicon.get(guess)
                if found and found & lemmas:
                    fs.add(guess)
            for form in fs:
                targets.setdefault(collapse_doubles(form), (tid, max_edits(form)))
        return targets
