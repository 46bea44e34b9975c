"""The Norwegian pipeline: tokens, lemma candidates, compounds, fuzzy look-ups and negation.

One :class:`Pipeline` per process (:func:`get_pipeline`), built once. Tokens come from spaCy's
rule-based ``blank("nb")`` tokenizer; sentences from :func:`qualcode.text.sentence_spans`, so the
auto-coder, quote trimming and reports agree on what a sentence is.

**Lemma candidates.** A word does not get one lemma but a *set* of candidates: the word itself, its
lemmas in the Norsk Ordbank tables shipped in ``spacy-lookups-data`` (``nb_lemma_exc``: Norsk
Ordbank bokmål 2005, Språkbanken / Nasjonalbiblioteket, CC-BY 4.0) and its lemmas in simplemma's
bokmål (``nb``) and nynorsk (``nn``) dictionaries. A codebook term matches a word when their
candidate sets intersect, so ``stolte`` (from *stole* or *stolt*) matches the term ``stole``.
Results are cached per word type, so the hot loop of the auto-coder is dictionary look-ups.

**The lexicon cache.** Parsing the Ordbank JSON takes seconds and simplemma's dictionaries are
lzma-compressed, so the merged lexicon is written once to an SQLite file in the user's cache
folder (``$XDG_CACHE_HOME/qualcode`` or ``~/.cache/qualcode``, falling back to the temp folder)
keyed by the package versions and file sizes. Words are looked up in batches
(:meth:`Pipeline.prepare`), so opening the pipeline costs no lexicon load at all. Compound splits
fetch their pieces in a few rounds that follow the split search; once a process has split a few
thousand words (a big corpus), it reads every Ordbank form into memory instead
(:meth:`Lexicon.load_ordbank_forms`), which gives the same answers much faster.

**Compounds.** A word is split into lexicon words (at most three parts, each at least three
letters, linking ``-s-``/``-e-`` allowed, prefixes ``mis-`` and ``u-``, and at hyphens), preferring
the fewest and then the longest leading parts, so ``avdelingsleder`` is *avdeling + leder*, never
*av + deling + …*.

**Fuzzy matching** (:func:`fuzzy_candidates`): only for words that are not in the lexicon, so a
real word never matches a neighbour; doubled letters are collapsed first, so the common slip
``tilitt`` for ``tillit`` is zero edits.

**Negation** (:func:`find_negator`): a negator (``ikke``, ``ikkje``, ``itj``, ``aldri``, ``ingen``,
``uten`` …) at most a few words before a match, within the same clause.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import marshal
import os
import re
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from qualcode.errors import InputError
from qualcode.text import sentence_spans

#: Bumped whenever the cache file's layout or content rules change.
LEXICON_FORMAT = 2

NEGATORS = frozenset(
    (
        "ikke",
        "ikkje",
        "itj",
        "ikkj",
        "ente",
        "inte",
        "aldri",
        "aldrig",
        "ingen",
        "inga",
        "intet",
        "ingenting",
        "ingenteng",
        "inkje",
        "uten",
        "utan",
        "verken",
        "hverken",
        "korkje",
    )
)
#: Words after a negator that undo it: "ikke bare" (not only), "ikke minst", "ikke sant" (tag).
_NEGATION_CANCELLERS = frozenset(
    (
        "bare",
        "berre",
        "minst",
        "sant",
        "sannt",
        "helt",
    )
)
#: Words that open a new clause: negation does not reach across them.
CLAUSE_BREAKERS = frozenset(
    (
        "men",
        "mens",
        "fordi",
        "og",
        "eller",
        "så",
        "siden",
        "sidan",
        "når",
        "viss",
        "hvis",
        "dersom",
        "selv",
        "sjøl",
        "sjølv",
        "enn",
    )
)
NEGATION_WINDOW = 5

#: Spoken fillers a phrase may have inside it ("stole liksom på hverandre").
FILLERS = frozenset(
    (
        "altså",
        "liksom",
        "sånn",
        "jo",
        "da",
        "vel",
        "eh",
        "ehm",
        "øh",
        "hm",
        "mm",
        "nå",
        "no",
        "egentlig",
        "egentleg",
        "kanskje",
        "litt",
        "gjerne",
        "faktisk",
        "virkelig",
        "veldig",
        "helt",
        "eneste",
        "ganske",
    )
)

#: Personal pronouns by grammatical role. Inside a multi-word term a pronoun stands for any
#: pronoun of its role: "holde det de lover" also matches "holder det vi lover", and
#: "kjenner dem godt" matches "kjenner oss godt" — who trusts whom varies, the relation not.
SUBJECT_PRONOUNS = frozenset(
    ("jeg", "eg", "æ", "vi", "me", "du", "dere", "de", "dei", "han", "hun", "ho", "dokker", "døm")
)
OBJECT_PRONOUNS = frozenset(
    ("meg", "deg", "oss", "dere", "dem", "dei", "han", "henne", "ho", "dokker", "døm")
)
PREFIXES = ("mis", "u")
LINKERS = ("s", "e")
MIN_PART = 3
MAX_PARTS = 3
#: After this many compound splits the process loads every Ordbank form into memory (see
#: :meth:`Lexicon.load_ordbank_forms`): a big corpus pays a quarter second once, a small one never.
BULK_SPLITS = 2000
#: Word types kept in the type cache (some 60 bytes each on disk). A run that would pass it starts
#: the cache afresh with its own types: the corpus being worked on is the one worth keeping, and
#: the file stays quick to read.
TYPE_CACHE_MAX = 200_000
#: New word types in one batch from which the type cache is read (see Pipeline.prepare).
TYPE_CACHE_BATCH = 3000

_WORDLIKE = re.compile(r"\w", re.UNICODE)
_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its text as written, lower-cased form and character offsets."""

    text: str
    lower: str
    start: int
    end: int
    lemma: str | None = None  # only with a trained --spacy-model

    @property
    def key(self) -> str:
        """The word-type key: the lower-case form, plus the model's lemma when there is one."""
        return self.lower if self.lemma is None else f"{self.lower}\t{self.lemma}"

    @property
    def is_word(self) -> bool:
        """True for tokens with a letter or digit (not punctuation or marks)."""
        return bool(_WORDLIKE.search(self.text))


def collapse_doubles(word: str) -> str:
    """``word`` with runs of one repeated letter collapsed: ``tilitt`` and ``tillit`` → ``tilit``."""
    # groupby rather than re.sub(r"(.)\1+", …): re.sub parses its template on every call.
    return "".join([letter for letter, _ in groupby(word)])


# -- the lexicon cache -----------------------------------------------------------------------
def cache_dir() -> Path:
    """Where qualcode keeps its caches (created if needed; a temp folder if not writable)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    for folder in (Path(base) / "qualcode", Path(tempfile.gettempdir()) / "qualcode-cache"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
            return folder
        except OSError:
            continue
    raise InputError("no writable cache folder for the Norwegian lexicon", path=base)


def _ordbank_file() -> Path:
    import spacy_lookups_data

    return Path(spacy_lookups_data.__file__).parent / "data" / "nb_lemma_exc.json.gz"


@functools.cache
def lexicon_key() -> str:
    """The version of the lexicon: its format, the data packages' versions and the data's hash."""
    # The data file's content, not its modification time: every new virtual environment
    # installs the same file afresh, and must find the cache built by the previous one.
    from importlib import metadata

    digest = hashlib.sha256(_ordbank_file().read_bytes()).hexdigest()
    parts = [
        str(LEXICON_FORMAT),
        metadata.version("spacy-lookups-data"),
        metadata.version("simplemma"),
        digest,
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def lexicon_path() -> Path:
    """The lexicon cache file for the installed data versions (built on first use)."""
    return cache_dir() / f"lexicon-nb-{lexicon_key()}.sqlite"


def type_cache_path() -> Path:
    """Where the analyses of word types seen in earlier runs are kept (see Pipeline.prepare).

    The name holds the lexicon's key and a hash of this module, where the analysis is written:
    a changed analysis never reads the analyses of an older one.
    """
    return cache_dir() / f"types-nb-{lexicon_key()}-{analysis_key()}.marshal"


@functools.cache
def analysis_key() -> str:
    """The version of the word analysis: a hash of this module, where the analysis is written."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def _read_type_cache(path: Path) -> dict[str, bytes]:
    try:
        found = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    return found if isinstance(found, dict) else {}


#: Called as ``listener(done, total)`` while the lexicon is built, the first time on a machine
#: (the CLI shows a progress bar "Building the Norwegian lexicon (once)…").
lexicon_build_listeners: list[Callable[[int, int], None]] = []
#: Steps of :func:`build_lexicon`: reading Ordbank, its rows, simplemma nb, nn, merging, indexing.
_BUILD_STEPS = 6


def build_lexicon(path: Path) -> None:
    """Write the merged Ordbank + simplemma lexicon to ``path`` (atomically).

    Streams (form, source, lemma) rows into a scratch table of the new file and lets SQLite
    group them by form, so the build holds no Python set per form (717,000 forms of three sets
    each took over 1 GB).
    """
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    def step(done: int) -> None:
        for listener in lexicon_build_listeners:
            listener(done, _BUILD_STEPS)

    step(0)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        # The scratch rows live in a temporary file of their own, so the lexicon file needs no
        # VACUUM afterwards; the sort keeps up to 64 MB in memory and spills beyond it.
        conn.execute("PRAGMA temp_store = FILE")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA threads = 2")
        conn.execute("CREATE TEMP TABLE raw (form TEXT, slot INTEGER, lemma TEXT)")
        with gzip.open(_ordbank_file(), "rt", encoding="utf-8") as handle:
            tables = json.load(handle)
        step(1)
        conn.executemany(
            "INSERT INTO raw VALUES (?, 0, ?)",
            (
                (form.lower(), lemma.lower())
                for table in tables.values()
                for form, lemmas in table.items()
                for lemma in lemmas
            ),
        )
        del tables
        step(2)
        factory = DefaultDictionaryFactory()
        for slot, lang in ((1, "nb"), (2, "nn")):
            conn.executemany(
                f"INSERT INTO raw VALUES (?, {slot}, ?)",
                ((form.lower(), lemma.lower()) for form, lemma in factory.get_dictionary(lang).items()),
            )
            step(2 + slot)
        conn.execute(
            "CREATE TABLE lex (form TEXT PRIMARY KEY, ob TEXT, nb TEXT, nn TEXT) WITHOUT ROWID"
        )
        # Each form's lemmas per source, distinct and sorted, joined by "|" ("" for none).
        conn.execute(
            "INSERT INTO lex SELECT form,"
            " coalesce(group_concat(CASE WHEN slot = 0 THEN lemma END, '|'), ''),"
            " coalesce(group_concat(CASE WHEN slot = 1 THEN lemma END, '|'), ''),"
            " coalesce(group_concat(CASE WHEN slot = 2 THEN lemma END, '|'), '')"
            " FROM (SELECT form, slot, lemma FROM raw GROUP BY form, slot, lemma ORDER BY form, slot, lemma)"
            " GROUP BY form"
        )
        step(5)
        conn.commit()
        step(6)
    except BaseException:
        # Interrupted (Ctrl-C) or failed: no half-built file is left in the user's cache.
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    conn.close()
    os.replace(tmp, path)


def _ordbank_forms(path: Path, conn: sqlite3.Connection) -> frozenset[str]:
    """The forms Norsk Ordbank lists, from the ``marshal`` file beside ``path`` (written once)."""
    file = path.with_name(f"{path.stem}.ordbank.marshal")
    try:
        forms = marshal.loads(file.read_bytes())
        if isinstance(forms, frozenset):
            return forms
    except (OSError, EOFError, ValueError, TypeError):
        pass
    forms = frozenset(form for (form,) in conn.execute("SELECT form FROM lex WHERE ob != ''"))
    tmp = file.with_name(f"{file.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(marshal.dumps(forms))
        os.replace(tmp, file)
    except OSError:  # a read-only cache still works, it is only slower next time
        tmp.unlink(missing_ok=True)
    return forms


class Lexicon:
    """Read-only view of the lexicon cache: form → lemma candidates, with a per-process memo."""

    def __init__(self, path: Path | None = None):
        self.path = path or lexicon_path()
        if not self.path.is_file():
            build_lexicon(self.path)
        # check_same_thread=False: the memo is guarded by a lock, look-ups are read-only.
        self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        # form → (lemma candidates, listed in Norsk Ordbank), or None for an unknown form.
        self._memo: dict[str, tuple[frozenset[str], bool] | None] = {}
        self._lock = threading.Lock()
        self._ordbank: frozenset[str] | None = None  # see load_ordbank_forms

    @property
    def has_ordbank_forms(self) -> bool:
        """True once :meth:`load_ordbank_forms` has run (compound tests are set look-ups)."""
        return self._ordbank is not None

    def load_ordbank_forms(self) -> None:
        """Hold every Norsk Ordbank form in memory, for big batches of compound splits.

        A split asks about dozens of substrings per word; for tens of thousands of new words a set
        look-up beats batched SQL queries by far. The set (about 600,000 forms, some 70 MB) is
        kept in a ``marshal`` file beside the cache (a quarter of a second to read) and rebuilt
        from the cache when missing or unreadable. Answers are the same as the SQL look-ups'.
        """
        if self._ordbank is not None:
            return
        with self._lock:
            if self._ordbank is None:
                self._ordbank = _ordbank_forms(self.path, self._conn)

    def prefetch(self, forms: Iterable[str]) -> None:
        """Look up many forms in one query (much faster than one by one)."""
        missing = [f for f in set(forms) if f not in self._memo]
        if not missing:
            return
        with self._lock:
            found: dict[str, tuple[frozenset[str], bool]] = {}
            for i in range(0, len(missing), 50_000):
                chunk = json.dumps(missing[i : i + 50_000], ensure_ascii=False)
                for form, ob, nb, nn in self._conn.execute(
                    "SELECT form, ob, nb, nn FROM lex WHERE form IN (SELECT value FROM json_each(?))",
                    (chunk,),
                ):
                    lemmas = frozenset(x for x in f"{ob}|{nb}|{nn}".split("|") if x)
                    found[form] = (lemmas, bool(ob))
            for form in missing:
                self._memo[form] = found.get(form)

    def forget_memo(self) -> None:
        """Forget the forms looked up so far (they are fetched again when asked)."""
        with self._lock:
            self._memo = {}

    def _entry(self, form: str) -> tuple[frozenset[str], bool] | None:
        try:
            return self._memo[form]
        except KeyError:
            self.prefetch([form])
            return self._memo[form]

    def get(self, form: str) -> frozenset[str] | None:
        """The lemmas of ``form`` (lower case) if it is a known word form, else None."""
        found = self._entry(form)
        return None if found is None else found[0]

    def in_ordbank(self, form: str) -> bool:
        """True if Norsk Ordbank lists ``form``: the stricter check used for compound parts.

        simplemma's dictionaries also hold rare and odd short forms (``ili``, ``kring``) that
        would split ordinary words into nonsense.
        """
        if self._ordbank is not None:
            return form in self._ordbank
        # The hot test of the compound split: one dict look-up when the form is fetched already.
        found = self._memo.get(form, _UNSET)
        if found is _UNSET:
            found = self._entry(form)
        return found is not None and found[1]  # type: ignore[index]

    def __contains__(self, form: str) -> bool:
        return self._entry(form) is not None


def _term_cache_path() -> Path:
    from importlib import metadata

    return cache_dir() / f"terms-nb-spacy-{metadata.version('spacy')}.json"


@functools.cache
def _term_cache() -> dict[str, list[str]]:
    try:
        found = json.loads(_term_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError, InputError):
        return {}
    return found if isinstance(found, dict) else {}


def _save_term_cache(cache: dict[str, list[str]]) -> None:
    try:
        path = _term_cache_path()
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except (OSError, InputError):  # only a speed-up
        pass


# -- the pipeline ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WordInfo:
    """Everything the matcher needs to know about one word type (lower case)."""

    word: str
    lemmas: frozenset[str]
    known: bool
    parts: tuple[str, ...]  # compound parts as written (empty: not a compound)
    part_lemmas: tuple[frozenset[str], ...]

    def without_split(self) -> WordInfo:
        """This analysis as :meth:`Pipeline.prepare` makes it without the compound split.

        No parts, and an unknown word's only lemma is itself (and a trained model's lemma): the
        lemma of an unknown compound (the leading parts plus the head's lemma) comes from its
        split. A known word's lemmas never depend on it.
        """
        if not self.parts:
            return self
        # With a trained model the word is "word<TAB>lemma", and the model's lemma stays.
        lemmas = self.lemmas if self.known else frozenset(x for x in self.word.split("\t") if x)
        return WordInfo(self.word, lemmas, self.known, (), ())


class Pipeline:
    """The tokenizer and the per-type analyses. Build it with :func:`get_pipeline`."""

    def __init__(self, spacy_model: str | None = None, lexicon: Lexicon | None = None):
        self.spacy_model = spacy_model
        self._nlp: Any = None
        if spacy_model:
            self._load_spacy()  # a missing model is an error now, before anything is written
        self._lexicon = lexicon
        self._info: dict[str, WordInfo] = {}
        self._unsplit: set[str] = set()  # analysed without the compound split (see prepare)
        self._splits_done = 0  # words split so far: many → Ordbank forms in memory
        # Analyses from earlier runs, read on first need, and this run's new ones to add to them
        # (word → marshalled WordInfo fields + whether it was split). Not with a trained model, whose
        # lemmas are not the lexicon's.
        self._stored: dict[str, bytes] | None = None
        self._unsaved: dict[str, bytes] = {}

    def _load_spacy(self) -> Any:
        import spacy

        if self.spacy_model:
            try:
                self._nlp = spacy.load(self.spacy_model)
            except (OSError, ImportError, ValueError):
                raise InputError(
                    f"spaCy model '{self.spacy_model}' is not installed (qualcode never downloads "
                    "models; install it yourself or leave out --spacy-model)"
                ) from None
        else:
            self._nlp = spacy.blank("nb")
        return self._nlp

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline, loaded on first use: turns keep their tokens in the store, so
        coding and look-ups mostly never import spaCy (its import alone takes most of a second)."""
        return self._nlp if self._nlp is not None else self._load_spacy()

    @property
    def tokenizer(self) -> Any:
        """spaCy's tokenizer (see :attr:`nlp`)."""
        return self.nlp.tokenizer

    @property
    def lexicon(self) -> Lexicon:
        """The lexicon cache, opened (and built, the first time on this machine) on first use."""
        if self._lexicon is None:
            self._lexicon = Lexicon()
        return self._lexicon

    # -- tokens and sentences ----------------------------------------------------------------
    def tokenize(self, text: str) -> list[Token]:
        """The tokens of ``text`` with character offsets (and the model's lemmas, if any)."""
        if self.spacy_model:
            return [
                Token(t.text, t.lower_, t.idx, t.idx + len(t.text), t.lemma_.lower() or t.lower_)
                for t in self.nlp(text)
            ]
        return [Token(t.text, t.lower_, t.idx, t.idx + len(t.text)) for t in self.tokenizer(text)]

    def term_words(self, term: str) -> list[str]:
        """The word keys of a codebook term as the tokenizer splits it (punctuation dropped).

        Remembered in a small file in the cache folder (per spaCy version), so compiling a
        codebook whose terms hold punctuation (``adm. dir.``) needs spaCy once per machine, not
        once per command.
        """
        if self.spacy_model:
            return [w.key for w in self.tokenize(term) if w.is_word or w.text == "&"]
        cache = _term_cache()
        found = cache.get(term)
        if found is None:
            found = cache[term] = [w.key for w in self.tokenize(term) if w.is_word or w.text == "&"]
            _save_term_cache(cache)
        return list(found)

    def sentences(self, text: str) -> list[tuple[int, int]]:
        """Sentence spans, the same as :func:`qualcode.text.sentence_spans`."""
        return sentence_spans(text)

    def model_lemmas(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, lemma)`` per token from the trained ``--spacy-model`` (empty without one)."""
        if not self.spacy_model:
            return []
        return [(t.idx, t.idx + len(t.text), t.lemma_.lower()) for t in self.nlp(text)]

    # -- word types --------------------------------------------------------------------------
    def prepare(self, words: Iterable[str], split: Callable[[str], bool] | None = None) -> None:
        """Analyse many word types at once (batched lexicon look-ups); later calls are memo hits.

        ``split`` limits the (costly) compound analysis to the words it accepts; the others get
        it later, on demand, if :meth:`info` is asked for them without a filter.
        """
        new = {w.lower() for w in words}
        new = {
            w
            for w in new
            if w not in self._info
            or (w in self._unsplit and (split is None or split(w.partition("\t")[0])))
        }
        # The type cache costs a quarter second to read: worth it for a corpus, not for the
        # few thousand words of a codebook or a search.
        if not self.spacy_model and (self._stored is not None or len(new) >= TYPE_CACHE_BATCH):
            new = self._reuse_stored(new, split)
        if not new:
            return
        splitting = {key for key in new if split is None or split(key.partition("\t")[0])}
        for word, info in self._analyse_batch(new, splitting).items():
            self._info[word] = info
            if word in splitting:
                self._unsplit.discard(word)
            else:
                self._unsplit.add(word)
            if not self.spacy_model and len(self._unsaved) < TYPE_CACHE_MAX:
                # Marshalled tuples, not the analysis' frozensets: a fifth of the memory, for
                # what may be a couple of hundred thousand words until the end of the run.
                self._unsaved[word] = marshal.dumps(
                    (
                        tuple(info.lemmas),
                        info.known,
                        info.parts,
                        tuple(tuple(p) for p in info.part_lemmas),
                        word in splitting,
                    )
                )

    def analyse_words(self, words: Iterable[str]) -> dict[str, WordInfo]:
        """The full analyses (compound split included) of many lower-case word types.

        For keeping in the project's store (:mod:`qualcode.word_analyses`): nothing is memoised
        here, so a corpus of any size is analysed in flat memory, batch by batch.
        """
        new = set(words)
        try:
            return self._analyse_batch(new, new)
        finally:
            self.lexicon.forget_memo()

    def _analyse_batch(self, new: set[str], splitting: set[str]) -> dict[str, WordInfo]:
        """The analyses of ``new`` word types, compound splits only for those in ``splitting``.

        The lexicon is asked in a few batched rounds (see :func:`_prefetch_splits`).
        """
        lexicon = self.lexicon
        self._splits_done += len(splitting)
        if self._splits_done >= BULK_SPLITS:
            lexicon.load_ordbank_forms()
        pieces: dict[str, tuple[tuple[str, str], ...]] = {}
        if lexicon.has_ordbank_forms:
            # Splits test membership in memory; then one query for the words and their parts.
            lexicon.prefetch(key.partition("\t")[0] for key in new)
            pieces = {key: _best_split(key.partition("\t")[0], lexicon) for key in splitting}
            lexicon.prefetch(base for found in pieces.values() for _, base in found)
        else:
            keys = {key.partition("\t")[0] for key in new}
            for key in splitting:
                keys.update(_split_keys(key.partition("\t")[0]))
            lexicon.prefetch(keys)
            if splitting:
                _prefetch_splits([key.partition("\t")[0] for key in splitting], lexicon)
        return {
            word: self._analyse(word, word in splitting, pieces.get(word)) for word in new
        }

    def forget(self, words: Iterable[str]) -> None:
        """Drop the in-memory analyses of ``words`` and the lexicon's memo of looked-up forms.

        For a big corpus coded batch by batch: its caller keeps what it needs of each word, and
        memory stays flat however many word types the corpus has (the analyses still reach the
        type cache file).
        """
        for word in words:
            self._info.pop(word, None)
            self._unsplit.discard(word)
        self.lexicon.forget_memo()

    def _reuse_stored(self, words: set[str], split: Callable[[str], bool] | None) -> set[str]:
        """Take the analyses of ``words`` from the type cache; return the words still to do.

        An analysis made without the compound split is reused only where none is wanted now.
        """
        if self._stored is None:
            self._stored = _read_type_cache(type_cache_path())
        stored = self._stored
        left: set[str] = set()
        for word in words:
            entry = stored.get(word)
            if entry is None:
                left.add(word)
                continue
            try:
                # Each entry is kept marshalled: a fifth of the memory of the tuples, for the
                # couple of hundred thousand words of a big corpus; decoded when reused.
                lemmas, known, parts, part_lemmas, was_split = marshal.loads(entry)
            except (EOFError, ValueError, TypeError):
                left.add(word)
                continue
            if not was_split and (split is None or split(word)):
                left.add(word)
                continue
            self._info[word] = WordInfo(
                word, frozenset(lemmas), known, parts, tuple(frozenset(p) for p in part_lemmas)
            )
            if was_split:
                self._unsplit.discard(word)
            else:
                self._unsplit.add(word)
        return left

    def save_type_cache(self) -> None:
        """Add this run's new word analyses to the type cache, so the next run skips them.

        Best effort: the cache is only a speed-up, so a cache folder that cannot be written is
        no error. Another process's additions since this one read the file are kept.
        """
        if not self._unsaved:
            return
        try:
            path = type_cache_path()
        except InputError:  # no writable cache folder at all
            return
        stored = _read_type_cache(path)
        if len(stored) + len(self._unsaved) > TYPE_CACHE_MAX:
            stored = {}
        for word, entry in self._unsaved.items():
            if len(stored) >= TYPE_CACHE_MAX:
                break
            stored.setdefault(word, entry)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(marshal.dumps(stored))
            os.replace(tmp, path)
            # Caches of an older analysis are never read again.
            for old in path.parent.glob("types-nb-*.marshal"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError:
            tmp.unlink(missing_ok=True)
            return
        self._stored = stored
        self._unsaved = {}

    def info(self, word: str, *, parts: bool = True) -> WordInfo:
        """The cached analysis of one word type (``parts=False``: the split may be missing)."""
        word = word.lower()
        found = self._info.get(word)
        if found is None or (parts and word in self._unsplit):
            self.prepare([word])
            found = self._info[word]
        return found

    def lemmas(self, word: str) -> frozenset[str]:
        """Lemma candidates of ``word``: itself, Ordbank's and simplemma's (nb, nn) lemmas."""
        return self.info(word).lemmas

    def in_lexicon(self, word: str) -> bool:
        """True if ``word`` is a known Norwegian word form (bokmål or nynorsk)."""
        return self.info(word).known

    def compound_parts(self, word: str) -> tuple[str, ...]:
        """The best split of ``word`` into lexicon words (empty if it is no compound)."""
        return self.info(word).parts

    def _analyse(
        self, key: str, split: bool = True, pieces: tuple[tuple[str, str], ...] | None = None
    ) -> WordInfo:
        # With a trained model the type is "word<TAB>lemma" and the model's lemma replaces the
        # lexicon's candidates; the lexicon still decides what is a known word and compounds.
        word, _, model_lemma = key.partition("\t")
        found = self.lexicon.get(word)
        lemmas = {word}
        if model_lemma:
            lemmas.add(model_lemma)
        elif found:
            lemmas.update(found)
        if pieces is None:
            pieces = _best_split(word, self.lexicon) if split else ()
        parts = tuple(written for written, _ in pieces)
        part_lemmas = tuple(self._part_lemmas(base) for _, base in pieces)
        if parts and found is None:
            # An unknown compound: its lemma is the leading parts plus the head's lemma
            # (klyngeledelsen → klyngeledelse), so a term written as the whole compound matches.
            head_start = len(word) - len(parts[-1])
            lead = word[:head_start]
            lemmas.update(lead + lemma for lemma in part_lemmas[-1] if "-" not in lemma)
        return WordInfo(key, frozenset(lemmas), found is not None, parts, part_lemmas)

    def _part_lemmas(self, part: str) -> frozenset[str]:
        found = self.lexicon.get(part)
        return frozenset({part} | set(found or ()))


def _split_keys(word: str) -> set[str]:
    """The substrings a split of ``word`` looks up first: its possible first parts.

    The rest of the split is fetched in later rounds (:func:`_prefetch_splits`), only behind a
    first part that is a word. Hyphenated words are rare: all their pieces' substrings at once.
    """
    keys: set[str] = set()
    if "-" in word:
        for piece in word.split("-"):
            if piece:
                keys.add(piece)
                n = len(piece)
                keys.update(piece[i:j] for i in range(n) for j in range(i + MIN_PART, n + 1))
        return keys
    keys.update(word[:i] for i in range(MIN_PART, len(word) - MIN_PART + 1))
    keys.update(word[len(p) :] for p in PREFIXES if word.startswith(p))
    return keys


def _rests(word: str, lexicon: Lexicon) -> set[str]:
    """What :func:`_splits` looks up after each first part of ``word`` that is a word."""
    rests: set[str] = set()
    n = len(word)
    for i in range(MIN_PART, n - MIN_PART + 1):
        if not lexicon.in_ordbank(word[:i]):
            continue
        for linker in ("", *LINKERS):
            if linker and not word.startswith(linker, i):
                continue
            rest = word[i + len(linker) :]
            if len(rest) >= MIN_PART:
                rests.add(rest)
    return rests


def _prefetch_splits(words: list[str], lexicon: Lexicon) -> None:
    """Fetch, in a few batched rounds, every form :func:`_best_split` will ask about.

    The first round (:func:`_split_keys`) must be fetched already. Each later round follows only
    the branches the split search takes, instead of fetching every substring of every word. A
    form missed here would still be looked up on its own, so this changes speed, never results.
    """
    plain = [w for w in words if "-" not in w]
    rests: set[str] = set()
    for word in plain:
        rests.update(_rests(word, lexicon))
    lexicon.prefetch(rests)
    # Rests that are no word are split again (a three-part split): their first parts, then
    # what follows those.
    inner = [r for r in rests if not lexicon.in_ordbank(r)]
    lexicon.prefetch(r[:k] for r in inner for k in range(MIN_PART, len(r) - MIN_PART + 1))
    tails: set[str] = set()
    for rest in inner:
        tails.update(_rests(rest, lexicon))
    lexicon.prefetch(tails)


def _best_split(word: str, lexicon: Lexicon) -> tuple[tuple[str, str], ...]:
    """The preferred split of ``word`` as ``(written, base)`` parts, or ``()``.

    ``written`` includes a linking letter (``tillits``); ``base`` is the lexicon word (``tillit``).
    """
    if "-" in word:
        pieces = [p for p in word.split("-") if p]
        if len(pieces) < 2:
            return ()
        parts: list[tuple[str, str]] = []
        for piece in pieces:
            sub = _best_split(piece, lexicon)
            parts.extend(sub if sub else ((piece, piece),))
        return tuple(parts)
    for prefix in PREFIXES:
        rest = word[len(prefix) :]
        if word.startswith(prefix) and len(rest) >= MIN_PART and lexicon.in_ordbank(rest):
            return ((prefix, prefix), (rest, rest))
    splits = _splits(word, lexicon, MAX_PARTS)
    if not splits:
        return ()
    # Fewest parts first, then the longest leading part ("avdeling+s+leder", not "av+…").
    return min(splits, key=lambda s: (len(s), [-len(p[0]) for p in s]))


def _splits(word: str, lexicon: Lexicon, max_parts: int) -> list[tuple[tuple[str, str], ...]]:
    results: list[tuple[tuple[str, str], ...]] = []
    n = len(word)
    for i in range(n - MIN_PART, MIN_PART - 1, -1):
        left = word[:i]
        if not lexicon.in_ordbank(left):
            continue
        for linker in ("", *LINKERS):
            if linker and not word.startswith(linker, i):
                continue
            rest = word[i + len(linker) :]
            if len(rest) < MIN_PART:
                continue
            if lexicon.in_ordbank(rest):
                results.append(((left + linker, left), (rest, rest)))
            elif max_parts > 2:
                for tail in _splits(rest, lexicon, max_parts - 1):
                    results.append(((left + linker, left), *tail))
    return results


# -- fuzzy matching --------------------------------------------------------------------------
def max_edits(term: str) -> int:
    """Edits allowed for a fuzzy match of ``term``: 0 below 5 letters, 1 below 10, else 2."""
    n = len(term)
    return 0 if n < 5 else 1 if n < 10 else 2


def fuzzy_candidates(word: str, targets: Sequence[str]) -> list[tuple[str, int]]:
    """``(target, edits)`` for each target within its allowed edits of ``word``.

    Edits are optimal-string-alignment distance (a swapped pair of letters is one edit) between
    the forms with doubled letters collapsed, so a misplaced double letter costs nothing.
    ``targets`` should be collapsed already (see :func:`collapse_doubles`).
    """
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extract

    probe = collapse_doubles(word)
    limit = max_edits(word)
    if limit == 0:
        return []
    hits = extract(probe, targets, scorer=OSA.distance, score_cutoff=2, limit=None)
    return [(target, int(dist)) for target, dist, _ in hits if dist <= max_edits(target)]


# -- pronouns in phrases ---------------------------------------------------------------------
_PRONOUN_CLASSES = {
    word: frozenset(
        cls
        for cls, members in (("<subj>", SUBJECT_PRONOUNS), ("<obj>", OBJECT_PRONOUNS))
        if word in members
    )
    for word in SUBJECT_PRONOUNS | OBJECT_PRONOUNS
}


def pronoun_classes(word: str) -> frozenset[str]:
    """The pronoun classes of ``word`` (``<subj>``, ``<obj>``), empty for other words."""
    return _PRONOUN_CLASSES.get(word, frozenset())


# -- negation --------------------------------------------------------------------------------
def find_negator(words: Sequence[str], index: int, window: int = NEGATION_WINDOW) -> str | None:
    """The negator shortly before ``words[index]`` in the same clause, or None.

    ``words`` are lower-case tokens (punctuation included); a punctuation mark or a clause-opening
    conjunction stops the search.
    """
    for k in range(index - 1, max(-1, index - window - 1), -1):
        word = words[k]
        if word in NEGATORS:
            after = words[k + 1] if k + 1 < len(words) else ""
            if after in _NEGATION_CANCELLERS:
                continue
            return word
        if word in CLAUSE_BREAKERS or (not _WORDLIKE.search(word) and word not in ("-", "…")):
            return None
    return None


def negator_inside(words: Sequence[str], first: int, last: int) -> str | None:
    """A negator among ``words[first + 1 : last]``: inside a matched span ("stoler ikke på")."""
    for k in range(first + 1, last):
        word = words[k]
        if (
            word in NEGATORS
            and (words[k + 1] if k + 1 < len(words) else "") not in _NEGATION_CANCELLERS
        ):
            return word
    return None


# -- the process-wide pipeline ---------------------------------------------------------------
_PIPELINES: dict[str | None, Pipeline] = {}
_PIPELINE_LOCK = threading.Lock()


def get_pipeline(spacy_model: str | None = None) -> Pipeline:
    """The process's pipeline (built on first call; one per ``spacy_model``)."""
    with _PIPELINE_LOCK:
        found = _PIPELINES.get(spacy_model)
        if found is None:
            found = _PIPELINES[spacy_model] = Pipeline(spacy_model)
        return found


def lemmas(word: str) -> frozenset[str]:
    """Lemma candidates of one word (for keyness and term look-ups by other modules)."""
    return get_pipeline().lemmas(word)


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` with character offsets, from the process's pipeline."""
    return get_pipeline().tokenize(text)


def describe() -> dict[str, Any]:
    """Where the lexicon data come from (for reports and ``--version`` style output)."""
    return {
        "tokenizer": "spaCy blank('nb')",
        "lexicon": "Norsk Ordbank bokmål 2005 (Språkbanken, CC-BY 4.0) via spacy-lookups-data; "
        "simplemma nb/nn dictionaries",
        "cache": str(lexicon_path()),
    }
