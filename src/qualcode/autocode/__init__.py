"""The auto-coder: a codebook compiled into matchers, run over turns, codings with evidence.

Matching (see ``docs/codebook.md`` for the user-facing description):

- Every term is lemmatised by :mod:`qualcode.nlp`; a word matches a one-word term when their
  lemma-candidate sets intersect (``keyword``), when one of its compound parts does (``compound``,
  if the code allows compounds and the term has 4+ letters), or, for words not in the lexicon, when
  it is a slip of one of the term's forms (``fuzzy``). ``-ing`` nouns also match their verb when
  the code has ``derive: true`` (``forankring`` → ``forankre`` → ``forankret``).
- Multi-word terms are phrases: consecutive words each matching by lemma (``stole på hverandre``
  matches ``stolte på hverandre``); up to two spoken fillers may sit inside (``liksom``, ``altså``).
- ``exclude_terms`` (the code's own and the codebook's global ones) win over every rule: a match
  that overlaps an excluded word or phrase is dropped.
- ``near``: a term of ``a`` within N words of a term of ``b`` in the same unit.
- ``patterns``: case-insensitive regular expressions over the unit's text.
- A code is assigned when the unit has at least ``min_hits`` matches for it. When a code and one
  of its descendants both fire in a turn, only the descendant is stored (reports roll up).

Everything about a word type is computed once and cached, so the hot loop is dictionary look-ups,
and turns keep their token offsets in the store (:mod:`qualcode.tokens`): no spaCy here.

The parts, each usable on its own: :mod:`.terms` compiles the terms, :mod:`.wordtypes` says what a
word type matches, :mod:`.hits` finds the words and phrases of a turn, :mod:`.resolve` turns hits
into evidence (exclusions, negation, ``near``, patterns), :mod:`.scoring` decides the codes, and
:mod:`.project` codes a whole project; :class:`CompiledCodebook` puts them together.
"""

from qualcode.autocode.compiled import UNITS, CompiledCodebook
from qualcode.autocode.hits import MAX_FILLERS_IN_PHRASE
from qualcode.autocode.matches import Match
from qualcode.autocode.project import (
    AutocodeSummary,
    CodeSummary,
    autocode_project,
    negation_counts,
    top_codes,
)
from qualcode.autocode.scoring import (
    ECHO_WORDS,
    EchoTest,
    evidence_score,
    in_echo_question,
)
from qualcode.autocode.terms import MIN_COMPOUND_TERM, STEM, is_plain_term

# The names the tests of the single-module auto-coder used.
_EchoTest = EchoTest
_in_echo_question = in_echo_question

__all__ = [
    "ECHO_WORDS",
    "MAX_FILLERS_IN_PHRASE",
    "MIN_COMPOUND_TERM",
    "STEM",
    "UNITS",
    "AutocodeSummary",
    "CodeSummary",
    "CompiledCodebook",
    "Match",
    "autocode_project",
    "evidence_score",
    "in_echo_question",
    "is_plain_term",
    "negation_counts",
    "top_codes",
]
