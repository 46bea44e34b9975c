"""The YAML codebook: loading with line numbers, validation, and installing a version into a project.

The format is documented in ``docs/codebook.md`` (with ``codebooks/klynge.yaml`` as the worked
example). Every problem is reported with the file and line it is on: the YAML is *composed* into
nodes first, and every node carries its position.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualcode.errors import InputError
from qualcode.limits import MAX_CODE_DEPTH, MAX_CODES, MAX_INPUT_FILE_BYTES, MAX_YAML_DEPTH, MB
from qualcode.patterns import pattern_problem
from qualcode.store import Store, now_iso

TOP_KEYS = ("name", "version", "language", "description", "exclude_terms", "scoring", "codes")
SCORING_KEYS = ("echo", "repeat", "short_turn")
TERM_KEYS = ("term", "weight")
CODE_KEYS = (
    "id",
    "name",
    "description",
    "include",
    "exclude",
    "examples",
    "color",
    "keywords",
    "weak",
    "support",
    "weight",
    "threshold",
    "compounds",
    "derive",
    "fuzzy",
    "exclude_terms",
    "patterns",
    "near",
    "min_hits",
    "codable",
    "guid",
    "codes",
)
NEAR_KEYS = ("a", "b", "within", "weight")
#: Default weight of a ``weak`` term: two distinct weak hits (or one strong) reach threshold 1.
WEAK_WEIGHT = 0.5
#: Default weight of a ``support`` term, which never makes a code fire on its own.
SUPPORT_WEIGHT = 0.5
MAX_WEIGHT = 10.0
RULE_KEYS = ("keywords", "patterns", "near")
DEFAULT_NEAR_WITHIN = 8
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_ID = re.compile(r"^[^/\s][^/]*$")
_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\}?$")
_WORD = re.compile(r"\w")
#: Letters a code id keeps as they are: decomposing them would lose the Norwegian vowels.
_KEPT_LETTERS = frozenset("æøå")
#: The longest id made from a name (names may have 80 characters; ids are typed in shells).
MAX_ID_FROM_NAME = 60


def code_id_from_name(name: str, taken: Iterable[str] = ()) -> str:
    """A shell-friendly code id from a display name: lower case, letters, digits and ``-``.

    Norwegian letters stay (``Åpenhet og deling`` → ``åpenhet-og-deling``); other accents are
    dropped (``én`` → ``en``); every run of anything else (spaces, brackets, ``/``, ``_``)
    becomes one ``-``. ``taken`` are the siblings' ids; a number keeps the id unique among them.
    """
    letters = []
    for char in unicodedata.normalize("NFC", name).casefold():
        if char in _KEPT_LETTERS:
            letters.append(char)
            continue
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            letters.append(part if part.isalnum() and part != "_" else "-")
    base = re.sub(r"-+", "-", "".join(letters)).strip("-")[:MAX_ID_FROM_NAME].strip("-") or "kode"
    used = set(taken)
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


@dataclass(frozen=True)
class Issue:
    """One validation finding: an ``error`` stops loading, a ``warning`` does not."""

    severity: str
    message: str
    path: str
    line: int | None

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"

    @property
    def where(self) -> str:
        """``path:line`` (or the path alone)."""
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Near:
    """A proximity rule: a term of ``a`` within ``within`` words of a term of ``b``."""

    a: tuple[str, ...]
    b: tuple[str, ...]
    within: int
    line: int | None = None
    weight: float | None = None  # None: the code's weight

    @property
    def label(self) -> str:
        """How the rule is named in evidence: ``a1|a2 ~N~ b1|b2``."""
        return f"{'|'.join(self.a)} ~{self.within}~ {'|'.join(self.b)}"


@dataclass(frozen=True)
class Scoring:
    """Codebook-wide evidence rules (see docs/codebook.md, "Evidence strength")."""

    #: Weight factor for a hit inside a short question the respondent repeats back ("Tillit?").
    echo: float = 1.0
    #: What a repeat of the same term adds, as a share of its weight (0: repeats add nothing).
    repeat: float = 0.0
    #: Turns with fewer words than this count only terms of full weight (0: off).
    short_turn: int = 0


@dataclass
class Code:
    """One code of the tree, with its matching rules (rules are never inherited)."""

    id: str
    path: str
    name: str
    description: str = ""
    include: str = ""
    exclude: str = ""
    examples: list[str] = field(default_factory=list)
    color: str | None = None
    keywords: list[str] = field(default_factory=list)
    weak: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    #: Weight of this code's ``keywords``, patterns and near rules (default 1: one hit is enough).
    weight: float = 1.0
    #: Evidence score a unit needs for this code; a parent also pools its subtree's evidence.
    threshold: float = 1.0
    #: Explicit weights given per term (``- {term: samling, weight: 0.4}``), by casefolded term.
    term_weights: dict[str, float] = field(default_factory=dict)
    compounds: bool = True
    derive: bool = True
    fuzzy: bool = True
    exclude_terms: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    near: list[Near] = field(default_factory=list)
    min_hits: int = 1
    #: False for a category that only groups its subcodes (REFI-QDA ``isCodable="false"``):
    #: nothing codes a turn with it, neither a person nor the auto-coder.
    codable: bool = True
    #: The code's GUID in REFI-QDA files (kept so another tool recognises the code).
    guid: str | None = None
    children: list[Code] = field(default_factory=list)
    line: int | None = None
    term_lines: dict[str, int] = field(default_factory=dict)

    @property
    def parent_path(self) -> str | None:
        """The parent's path, or None for a top code."""
        parent, _, _ = self.path.rpartition("/")
        return parent or None

    @property
    def top(self) -> str:
        """The path of the top code this code belongs to."""
        return self.path.split("/", 1)[0]

    @property
    def has_rules(self) -> bool:
        """True if the auto-coder can ever assign this code."""
        return bool(self.keywords or self.weak or self.support or self.patterns or self.near)

    @property
    def all_terms(self) -> list[str]:
        """Keywords, weak and support terms, in that order."""
        return [*self.keywords, *self.weak, *self.support]

    def term_weight(self, term: str, kind: str = "keyword") -> float:
        """The weight of one of this code's terms (``kind``: keyword, weak or support)."""
        found = self.term_weights.get(term.casefold())
        if found is not None:
            return found
        return {"weak": WEAK_WEIGHT, "support": SUPPORT_WEIGHT}.get(kind, self.weight)

    def walk(self) -> Iterator[Code]:
        """This code and its descendants, depth first in file order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Codebook:
    """A parsed codebook: the code tree plus the exact text it came from."""

    name: str
    codes: list[Code]
    version: str | None = None
    language: str = "nb"
    description: str = ""
    exclude_terms: list[str] = field(default_factory=list)
    scoring: Scoring = field(default_factory=Scoring)
    source_path: str | None = None
    content: str = ""
    warnings: list[Issue] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        """Hash of the YAML text (a new project version is stored only when it changes)."""
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()

    def walk(self) -> Iterator[Code]:
        """Every code, depth first in file order (parents before children)."""
        for code in self.codes:
            yield from code.walk()

    def paths(self) -> list[str]:
        """Every code path in file order."""
        return [c.path for c in self.walk()]

    def find(self, path: str) -> Code:
        """The code at ``path`` (KeyError if there is none)."""
        for code in self.walk():
            if code.path == path:
                return code
        raise KeyError(path)

    def by_path(self) -> dict[str, Code]:
        """Every code by its path (for many look-ups: :meth:`find` walks the tree each time)."""
        return {code.path: code for code in self.walk()}

    def terms_by_code(self) -> dict[str, list[str]]:
        """Every code's keywords and near-terms (for keyness and consistency checks)."""
        result: dict[str, list[str]] = {}
        for code in self.walk():
            terms = list(code.all_terms)
            for rule in code.near:
                terms.extend(t for t in (*rule.a, *rule.b) if t not in terms)
            result[code.path] = terms
        return result


# -- parsing ----------------------------------------------------------------------------------
class _Parser:
    """Turns composed YAML nodes into a :class:`Codebook`, collecting every issue on the way."""

    def __init__(self, source: str):
        self.code_count = 0
        import yaml

        self.yaml = yaml
        self.source = source
        self.issues: list[Issue] = []

    # Issues ---------------------------------------------------------------------------------
    def error(self, message: str, node: Any) -> None:
        self.issues.append(Issue("error", message, self.source, _line(node)))

    def warning(self, message: str, node: Any) -> None:
        self.issues.append(Issue("warning", message, self.source, _line(node)))

    # Values ---------------------------------------------------------------------------------
    def scalar(self, node: Any) -> Any:
        from yaml.constructor import SafeConstructor

        return SafeConstructor().construct_object(node, deep=True)

    def text(self, node: Any, key: str) -> str:
        """A prose field: a string, or a list of strings joined into lines."""
        if isinstance(node, self.yaml.ScalarNode):
            # The raw text, not the constructed value: YAML 1.1 would turn the nynorsk word
            # "no" (now) into False and "1.10" into 1.1.
            return "" if _is_null(node) else str(node.value).strip()
        if isinstance(node, self.yaml.SequenceNode):
            return "\n".join(self.text(item, key) for item in node.value)
        self.error(f"'{key}' must be text or a list of texts", node)
        return ""

    def string_list(self, node: Any, key: str) -> list[tuple[str, int | None]]:
        """A list of non-empty strings, each with its line."""
        if isinstance(node, self.yaml.ScalarNode) and _is_null(node):
            return []
        if not isinstance(node, self.yaml.SequenceNode):
            self.error(f"'{key}' must be a list (one '- item' per line)", node)
            return []
        items = []
        for item in node.value:
            if not isinstance(item, self.yaml.ScalarNode):
                self.error(f"each item of '{key}' must be a single text", item)
                continue
            text = "" if _is_null(item) else " ".join(str(item.value).split())
            if not text:
                self.error(f"empty item in '{key}'", item)
                continue
            items.append((text, _line(item)))
        return items

    def term_list(self, node: Any, key: str) -> list[tuple[str, int | None, float | None]]:
        """Terms: plain texts, or ``{term: …, weight: N}`` mappings; ``(text, line, weight)``."""
        if isinstance(node, self.yaml.ScalarNode) and _is_null(node):
            return []
        if not isinstance(node, self.yaml.SequenceNode):
            self.error(f"'{key}' must be a list (one '- item' per line)", node)
            return []
        items: list[tuple[str, int | None, float | None]] = []
        for item in node.value:
            if isinstance(item, self.yaml.MappingNode):
                keys = self.mapping(item, TERM_KEYS, f"a term of '{key}'")
                if "term" not in keys:
                    self.error(f"this item of '{key}' has no 'term'", item)
                    continue
                found = self.string_list(self.yaml.SequenceNode("tag:yaml.org,2002:seq", [keys["term"][1]]), key)
                weight = self.number(keys["weight"][1], "weight") if "weight" in keys else None
                items.extend((text, line, weight) for text, line in found)
                continue
            for text, line in self.string_list(self.yaml.SequenceNode("tag:yaml.org,2002:seq", [item]), key):
                items.append((text, line, None))
        wordless = [(text, line) for text, line, _ in items if not _WORD.search(text)]
        for text, line in wordless:
            # A term is matched against words; '.*' or '?!' holds none, so it matches nothing.
            self.issues.append(Issue(
                "error",
                f"the term '{text}' in '{key}' holds no letter or digit, so it can never match a "
                "word (terms are words, not regular expressions: use 'patterns' for those)",
                self.source, line,
            ))
        return [item for item in items if _WORD.search(item[0])]

    def number(self, node: Any, key: str, *, low: float = 0.0, high: float = MAX_WEIGHT) -> float | None:
        """A number with ``low < value <= high``; None (and an error) otherwise."""
        value = self.scalar(node) if isinstance(node, self.yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            self.error(f"'{key}' must be a number above {low:g} and at most {high:g}", node)
            return None
        return float(value)

    def scoring(self, node: Any) -> Scoring:
        if not isinstance(node, self.yaml.MappingNode):
            self.error("'scoring' must be a mapping (echo, repeat, short_turn)", node)
            return Scoring()
        keys = self.mapping(node, SCORING_KEYS, "'scoring'")
        values: dict[str, Any] = {}
        for key in ("echo", "repeat"):
            if key in keys:
                value = self.scalar(keys[key][1]) if isinstance(keys[key][1], self.yaml.ScalarNode) else None
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                    self.error(f"'{key}' must be a number from 0 to 1", keys[key][1])
                else:
                    values[key] = float(value)
        if "short_turn" in keys:
            value = self.scalar(keys["short_turn"][1]) if isinstance(keys["short_turn"][1], self.yaml.ScalarNode) else None
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self.error("'short_turn' must be a whole number of words (0: off)", keys["short_turn"][1])
            else:
                values["short_turn"] = value
        return Scoring(**values)

    def boolean(self, node: Any, key: str, default: bool) -> bool:
        value = self.scalar(node) if isinstance(node, self.yaml.ScalarNode) else None
        if not isinstance(value, bool):
            self.error(f"'{key}' must be true or false", node)
            return default
        return value

    def mapping(self, node: Any, allowed: tuple[str, ...], what: str) -> dict[str, tuple[Any, Any]]:
        """``key → (key node, value node)``; unknown and repeated keys are errors."""
        result: dict[str, tuple[Any, Any]] = {}
        for key_node, value_node in node.value:
            key = str(self.scalar(key_node)) if isinstance(key_node, self.yaml.ScalarNode) else "?"
            if key in result:
                self.error(f"'{key}' is given twice in this {what}", key_node)
                continue
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = (
                    f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
                )
                self.error(f"unknown key '{key}' in {what}{hint}", key_node)
                continue
            result[key] = (key_node, value_node)
        return result

    # The document ---------------------------------------------------------------------------
    def document(self, root: Any, text: str) -> Codebook:
        if not isinstance(root, self.yaml.MappingNode):
            self.error("a codebook is a mapping with 'name' and 'codes'", root)
            return Codebook(name="", codes=[], content=text)
        keys = self.mapping(root, TOP_KEYS, "the codebook")
        name = self.text(keys["name"][1], "name") if "name" in keys else ""
        if not name:
            name = Path(self.source).stem
        book = Codebook(name=name, codes=[], content=text, source_path=self.source)
        if "version" in keys:
            book.version = self.text(keys["version"][1], "version") or None
        if "language" in keys:
            book.language = self.text(keys["language"][1], "language") or "nb"
        if "description" in keys:
            book.description = self.text(keys["description"][1], "description")
        if "exclude_terms" in keys:
            book.exclude_terms = [
                t for t, _ in self.string_list(keys["exclude_terms"][1], "exclude_terms")
            ]
        if "scoring" in keys:
            book.scoring = self.scoring(keys["scoring"][1])
        if "codes" not in keys:
            self.error("the codebook has no 'codes'", root)
            return book
        book.codes = self.code_list(keys["codes"][1], parent=None)
        if not book.codes and not any(i.severity == "error" for i in self.issues):
            self.error("the codebook has no codes", keys["codes"][1])
        self.cross_checks(book)
        return book

    def code_list(self, node: Any, parent: str | None) -> list[Code]:
        if isinstance(node, self.yaml.ScalarNode) and _is_null(node):
            return []
        if not isinstance(node, self.yaml.SequenceNode):
            self.error("'codes' must be a list of codes (each starting with '- id: …')", node)
            return []
        codes: list[Code] = []
        seen: dict[str, int | None] = {}
        for item in node.value:
            code = self.code(item, parent)
            if code is None:
                continue
            if code.id in seen:
                where = f"{parent}/" if parent else ""
                self.error(
                    f"duplicate code id '{where}{code.id}' (first on line {seen[code.id]})", item
                )
                continue
            seen[code.id] = code.line
            codes.append(code)
        return codes

    def code(self, node: Any, parent: str | None) -> Code | None:
        if isinstance(node, self.yaml.ScalarNode) and (_is_null(node) or not node.value.strip()):
            self.error("empty code (a '-' with nothing after it)", node)
            return None
        if not isinstance(node, self.yaml.MappingNode):
            self.error("a code must be a mapping with at least 'id'", node)
            return None
        if not node.value:
            self.error("empty code: give it at least an 'id'", node)
            return None
        keys = self.mapping(node, CODE_KEYS, "a code")
        if "id" not in keys:
            self.error("this code has no 'id'", node)
            return None
        code_id = self.text(keys["id"][1], "id")
        if not code_id or not _ID.match(code_id):
            self.error(
                f"code id '{code_id}' must be non-empty and must not contain '/'", keys["id"][1]
            )
            return None
        path = f"{parent}/{code_id}" if parent else code_id
        depth = path.count("/") + 1
        if depth > MAX_CODE_DEPTH:
            self.error(
                f"codes nested {depth} deep; a codebook may nest codes {MAX_CODE_DEPTH} deep",
                node,
            )
            return None
        self.code_count += 1
        if self.code_count > MAX_CODES:
            if self.code_count == MAX_CODES + 1:
                self.error(f"more than {MAX_CODES} codes; qualcode takes at most {MAX_CODES}", node)
            return None
        code = Code(id=code_id, path=path, name=code_id, line=_line(node))
        for key, (_, value) in keys.items():
            if key == "name":
                code.name = self.text(value, key) or code_id
            elif key in ("description", "include", "exclude"):
                setattr(code, key, self.text(value, key))
            elif key == "examples":
                code.examples = [t for t, _ in self.string_list(value, key)]
            elif key == "color":
                color = self.text(value, key)
                if color and not _COLOR.match(color):
                    self.error(f"color '{color}' is not of the form #rrggbb", value)
                else:
                    code.color = color or None
            elif key in ("keywords", "weak", "support"):
                terms = self.term_list(value, key)
                setattr(code, key, [t for t, _, _ in terms])
                for text, line, weight in terms:
                    code.term_lines.setdefault(text.casefold(), line or code.line or 0)
                    if weight is not None:
                        code.term_weights[text.casefold()] = weight
            elif key == "exclude_terms":
                code.exclude_terms = [t for t, _ in self.string_list(value, key)]
            elif key in ("weight", "threshold"):
                number = self.number(value, key)
                if number is not None:
                    setattr(code, key, number)
            elif key == "patterns":
                for pattern, line in self.string_list(value, key):
                    problem = pattern_problem(pattern)
                    if problem:
                        self.issues.append(
                            Issue("error", f"bad regular expression '{pattern}': {problem}", self.source, line)
                        )
                        continue
                    code.patterns.append(pattern)
            elif key in ("compounds", "derive", "fuzzy"):
                setattr(code, key, self.boolean(value, key, True))
            elif key == "min_hits":
                hits = self.scalar(value) if isinstance(value, self.yaml.ScalarNode) else None
                if not isinstance(hits, int) or isinstance(hits, bool) or hits < 1:
                    self.error("'min_hits' must be a whole number of at least 1", value)
                else:
                    code.min_hits = hits
            elif key == "near":
                code.near = self.near_list(value)
            elif key == "codable":
                code.codable = self.boolean(value, key, True)
            elif key == "guid":
                guid = self.text(value, key)
                if guid and not _GUID.match(guid):
                    self.error(f"guid '{guid}' is not a GUID (8-4-4-4-12 hex digits)", value)
                else:
                    code.guid = guid.strip("{}").upper() or None
            elif key == "codes":
                code.children = self.code_list(value, path)
        if not code.codable:
            if code.has_rules:
                self.warning(
                    f"code '{path}' has codable: false, so its keywords, patterns and near rules "
                    "only count as evidence for its parent; it is never assigned itself",
                    node,
                )
            if not code.children:
                self.warning(
                    f"code '{path}' has codable: false and no subcodes: nothing can ever use it",
                    node,
                )
        elif not code.has_rules and not code.children:
            self.warning(
                f"code '{path}' has no keywords, patterns or near rules: only manual coding can use it",
                node,
            )
        self.same_term_twice(code, node)
        return code

    def same_term_twice(self, code: Code, node: Any) -> None:
        """Warn of a term listed under two of keywords, weak and support: a turn's evidence
        counts each term once at its highest weight, so the weaker listing does nothing."""
        kinds: dict[str, str] = {}
        for kind in ("keywords", "weak", "support"):
            for term in getattr(code, kind):
                key = " ".join(term.split()).casefold()
                first = kinds.setdefault(key, kind)
                if first != kind:
                    self.warning(
                        f"code '{code.path}': '{term}' is listed in both {first} and {kind}; it "
                        "counts once, at the higher weight, so remove one of them",
                        node,
                    )

    def near_list(self, node: Any) -> list[Near]:
        if not isinstance(node, self.yaml.SequenceNode):
            self.error("'near' must be a list of {a: …, b: …, within: N}", node)
            return []
        rules = []
        for item in node.value:
            if not isinstance(item, self.yaml.MappingNode):
                self.error("each 'near' rule is a mapping {a: …, b: …, within: N}", item)
                continue
            keys = self.mapping(item, NEAR_KEYS, "a near rule")
            sides: dict[str, tuple[str, ...]] = {}
            for side in ("a", "b"):
                if side not in keys:
                    self.error(f"this near rule has no '{side}'", item)
                    continue
                value = keys[side][1]
                if isinstance(value, self.yaml.ScalarNode):
                    term = self.text(value, side)
                    sides[side] = (term,) if term else ()
                else:
                    sides[side] = tuple(t for t, _ in self.string_list(value, side))
                if not sides[side]:
                    self.error(f"'{side}' of this near rule is empty", value)
            weight = self.number(keys["weight"][1], "weight") if "weight" in keys else None
            within = DEFAULT_NEAR_WITHIN
            if "within" in keys:
                raw = self.scalar(keys["within"][1])
                if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
                    self.error(
                        "'within' must be a whole number of words (at least 1)", keys["within"][1]
                    )
                else:
                    within = raw
            if sides.get("a") and sides.get("b"):
                rules.append(Near(sides["a"], sides["b"], within, _line(item), weight))
        return rules

    def cross_checks(self, book: Codebook) -> None:
        owner: dict[str, str] = {}
        guids: dict[str, str] = {}
        for code in book.walk():
            self.reach_check(code)
            if code.guid:
                first = guids.setdefault(code.guid, code.path)
                if first != code.path:
                    self.issues.append(
                        Issue(
                            "error",
                            f"guid {code.guid} is given to both '{first}' and '{code.path}'",
                            self.source,
                            code.line,
                        )
                    )
            for term in code.all_terms:
                key = term.casefold()
                first = owner.setdefault(key, code.path)
                if first != code.path:
                    self.issues.append(
                        Issue(
                            "warning",
                            f"the term '{term}' is listed under both '{first}' and '{code.path}'",
                            self.source,
                            code.term_lines.get(key, code.line),
                        )
                    )


    def reach_check(self, code: Code) -> None:
        """Warn about a code whose own rules can never reach its threshold (and no children pool)."""
        if code.children or not code.has_rules:
            return
        weights = [code.term_weight(t, "keyword") for t in code.keywords]
        weights += [code.term_weight(t, "weak") for t in code.weak]
        weights += [code.weight for _ in code.patterns]
        weights += [code.weight if r.weight is None else r.weight for r in code.near]
        if not weights:
            self.issues.append(Issue(
                "warning", f"code '{code.path}' has only support terms: they never code on their own",
                self.source, code.line,
            ))
            return
        support = [code.term_weight(t, "support") for t in code.support]
        if sum(weights) + sum(support) < code.threshold:
            self.issues.append(Issue(
                "warning",
                f"code '{code.path}': all its terms together weigh less than its threshold "
                f"{code.threshold:g}, so it can never be assigned",
                self.source, code.line,
            ))


def _is_null(node: Any) -> bool:
    return str(getattr(node, "tag", "")).endswith(":null")


def _line(node: Any) -> int | None:
    mark = getattr(node, "start_mark", None)
    return None if mark is None else mark.line + 1


def parse_codebook(text: str, source: str = "<codebook>") -> tuple[Codebook | None, list[Issue]]:
    """Parse codebook YAML; returns the codebook (None if unreadable) and every issue found."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        refused = _refuse_yaml_structure(text, loader, source)
        if refused is not None:
            return None, [refused]
        # The C loader (when PyYAML has it) composes the same nodes, marks included, ~5x faster.
        root = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = None if mark is None else mark.line + 1
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            # PyYAML's "found character that cannot start any token" hides the usual cause.
            problem = f"a tab character (column {mark.column + 1}); YAML indents with spaces only"
        return None, [Issue("error", f"not valid YAML: {problem}", source, line)]
    if root is None:
        return None, [Issue("error", "the codebook is empty", source, None)]
    parser = _Parser(source)
    book = parser.document(root, text)
    return book, parser.issues


def _char_at(text: str, line: int, column: int) -> str:
    """The character at a YAML mark's (0-based) line and column, or "" past the text."""
    lines = text.split("\n")
    return lines[line][column] if line < len(lines) and column < len(lines[line]) else ""


def _refuse_yaml_structure(text: str, loader: Any, source: str) -> Issue | None:
    """An error for YAML a codebook never needs and an attacker does: anchors, aliases (an alias
    bomb of 400 bytes expands to billions of nodes), merge keys and deep nesting.

    Read from the event stream, which is linear in the text, before any node is composed.
    """
    import yaml

    depth = 0
    for event in yaml.parse(text, Loader=loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return Issue(
                "error",
                "YAML anchors and aliases ('&name', '*name', '<<') are not allowed in a codebook; "
                "write each code out",
                source,
                line,
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return Issue(
                    "error",
                    f"nested more than {MAX_YAML_DEPTH} levels deep; a codebook may nest codes "
                    f"{MAX_CODE_DEPTH} deep",
                    source,
                    line,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.ScalarEvent) and event.value == "<<" and event.implicit[0]:
            return Issue(
                "error", "YAML merge keys ('<<') are not allowed in a codebook", source, line
            )
    return None


def read_text(path: Path) -> str:
    """The codebook file's text (UTF-8, with or without BOM)."""
    try:
        size = path.stat().st_size if path.is_file() else 0
        if size > MAX_INPUT_FILE_BYTES:
            raise InputError(
                f"the file is {size / MB:.1f} MB; a codebook may be {MAX_INPUT_FILE_BYTES // MB} MB",
                path=path,
            )
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such codebook file", path=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a codebook file", path=path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=path) from None


def validate_codebook(path: Path) -> list[Issue]:
    """Every error and warning of the codebook file at ``path`` (empty: all is well), in the
    order of their lines, as an editor shows the file."""
    _, issues = parse_codebook(read_text(path), str(path))
    return sorted(issues, key=lambda issue: issue.line or 0)


def loads_codebook(text: str, source: str = "<codebook>") -> Codebook:
    """Parse codebook YAML text; the first error is raised as :class:`InputError`."""
    book, issues = parse_codebook(text, source)
    errors = [i for i in issues if i.severity == "error"]
    if errors or book is None:
        first = errors[0]
        more = (
            f" (and {len(errors) - 1} more; run 'qualcode codebook validate')"
            if len(errors) > 1
            else ""
        )
        raise InputError(first.message + more, path=first.path, line=first.line)
    book.warnings = [i for i in issues if i.severity == "warning"]
    return book


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook file; raises :class:`InputError` naming the file and line."""
    path = Path(path)
    return loads_codebook(read_text(path), str(path))


# -- the project's codebook -------------------------------------------------------------------
@dataclass
class InstallChanges:
    """What installing a codebook changed in a project."""

    version_id: int | None
    new_version: bool
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    #: Codes no longer in the codebook that still hold codings: path → number of codings.
    kept_with_codings: dict[str, int] = field(default_factory=dict)
    #: Likely renames among them: old path → new path (same name, or same id under a new parent).
    renamed: dict[str, str] = field(default_factory=dict)
    #: Each wanted code's sort order (its place in the file).
    order: dict[str, int] = field(default_factory=dict, repr=False)

    #: Codes whose GUID the codebook gives at a new path: old path → new path. They move there
    #: with their codings and memos (a code renamed or moved in NVivo, MAXQDA, ... follows).
    moved: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """True if the project's codes or codebook version changed."""
        return bool(
            self.new_version or self.added or self.updated or self.deactivated or self.moved
        )


class _Unchanged(Exception):
    """Raised inside the write transaction to roll it back when nothing changed."""


def install_codebook(
    store: Store,
    codebook: Codebook,
    command: str,
    *,
    guid_paths: dict[str, str] | None = None,
) -> InstallChanges:
    """Make ``codebook`` the project's current one, in one transaction.

    A new ``codebook_versions`` row is stored when the text changed; codes are matched by path
    (created or updated, parents first, sort order = file order); codes that are no longer in the
    codebook are marked inactive and keep every coding. Nothing is written when nothing changed.
    A code whose ``guid:`` names a stored code at another path moves there (renamed or moved in
    another tool); ``guid_paths`` (GUID -> path, e.g. the GUIDs the project's REFI-QDA exports
    carry) says which code each GUID is, else the GUIDs stored with the codes are used.
    The project's codes are read inside the write transaction, so two loads at once queue up
    instead of each installing against what the other replaces.
    """
    changes: InstallChanges | None = None
    try:
        with store.write(command) as tx:
            changes = _plan_install(store, codebook, guid_paths)
            if not changes.changed:
                raise _Unchanged
            _apply_install(store, tx, codebook, changes)
    except _Unchanged:
        pass
    assert changes is not None
    return changes


def _plan_install(
    store: Store, codebook: Codebook, guid_paths: dict[str, str] | None = None
) -> InstallChanges:
    conn = store.conn
    last = conn.execute(
        "SELECT id, sha256 FROM codebook_versions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    new_version = last is None or last[1] != codebook.sha256
    existing = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT path, name, description, color, sort_order, active, codable FROM codes"
        )
    }
    wanted = codebook.by_path()
    order = {path: i for i, path in enumerate(wanted)}
    changes = InstallChanges(version_id=None if last is None else last[0], new_version=new_version)
    changes.moved = _moves_by_guid(store, wanted, guid_paths)
    for old, new in changes.moved.items():  # the code keeps its row, codings and memos
        existing[new] = existing.pop(old)
    for path, code in wanted.items():
        row = existing.get(path)
        if row is None:
            changes.added.append(path)
        elif row != (code.name, code.description, code.color, order[path], 1, int(code.codable)):
            changes.updated.append(path)
    changes.deactivated = [p for p, row in existing.items() if row[4] == 1 and p not in wanted]
    gone = [p for p in existing if p not in wanted]
    counts = _coding_counts(store) if gone else {}
    by_name: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for path in changes.added:
        by_name.setdefault(wanted[path].name, path)
        by_id.setdefault(wanted[path].id, path)
    for path in gone:
        if counts.get(path):
            changes.kept_with_codings[path] = counts[path]
            target = _likely_rename(path, existing[path][0], by_name, by_id, order)
            if target:
                changes.renamed[path] = target
    changes.order = order
    return changes


def _apply_install(store: Store, tx: Any, codebook: Codebook, changes: InstallChanges) -> None:
    for old, new in changes.moved.items():
        tx.conn.execute("UPDATE codes SET path = ? WHERE path = ?", (new, old))
    version_id = changes.version_id
    if changes.new_version:
        cur = tx.conn.execute(
            "INSERT INTO codebook_versions (name, source_path, sha256, content, loaded_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (codebook.name, codebook.source_path, codebook.sha256, codebook.content, now_iso()),
        )
        version_id = int(cur.lastrowid or 0)
    for path, code in codebook.by_path().items():  # file order: parents before children
        store.upsert_code(
            tx,
            path,
            name=code.name,
            description=code.description,
            color=code.color,
            sort_order=changes.order[path],
            codebook_version_id=version_id,
            guid=code.guid,
            codable=code.codable,
        )
    if changes.deactivated:
        tx.conn.executemany(
            "UPDATE codes SET active = 0 WHERE path = ?", [(p,) for p in changes.deactivated]
        )
    tx.audit(
        "install_codebook",
        detail={
            "codebook": codebook.name,
            "version_id": version_id,
            "new_version": changes.new_version,
            "added": changes.added,
            "updated": changes.updated,
            "deactivated": changes.deactivated,
            "kept_with_codings": changes.kept_with_codings,
            "renamed": changes.renamed,
            "moved_by_guid": changes.moved,
        },
    )
    changes.version_id = version_id


def _moves_by_guid(
    store: Store, wanted: dict[str, Code], guid_paths: dict[str, str] | None
) -> dict[str, str]:
    """Old path → new path for every stored code whose GUID the codebook gives at a new path.

    Descendants without a GUID of their own move along with their parent. A move whose target
    path is already taken by another code is left alone (both stay, as before GUIDs).
    """
    by_guid = {
        guid.strip("{}").upper(): path
        for path, guid in store.conn.execute("SELECT path, guid FROM codes WHERE guid IS NOT NULL")
    }
    by_guid.update({guid.strip("{}").upper(): path for guid, path in (guid_paths or {}).items()})
    taken = {r[0] for r in store.conn.execute("SELECT path FROM codes")}
    moves: dict[str, str] = {}
    for path, code in wanted.items():  # parents first, so a child sees its parent's move
        if not code.guid or path in taken:
            continue
        old = by_guid.get(code.guid.upper())
        if old is None or old == path or old in wanted or old in moves:
            continue
        moves[old] = path
        taken.discard(old)
        taken.add(path)
        prefix = old + "/"
        for other in sorted(taken):
            if other.startswith(prefix) and other not in moves:
                target = path + other[len(old) :]
                if target in taken or (target in wanted and wanted[target].guid):
                    continue
                moves[other] = target
                taken.discard(other)
                taken.add(target)
    return moves


def _coding_counts(store: Store) -> dict[str, int]:
    return {
        path: n
        for path, n in store.conn.execute(
            "SELECT k.path, COUNT(*) FROM codings c JOIN codes k ON k.id = c.code_id GROUP BY k.path"
        )
    }


def _likely_rename(
    old_path: str,
    old_name: str,
    by_name: dict[str, str],
    by_id: dict[str, str],
    order: dict[str, int],
) -> str | None:
    """The first added code (in file order) with the old code's name or id, or None.

    ``by_name``/``by_id`` map an added code's name and id to its path (the first in file order),
    so a codebook of thousands of renamed codes stays linear.
    """
    leaf = old_path.rpartition("/")[2]
    candidates = [p for p in (by_name.get(old_name), by_id.get(leaf)) if p is not None]
    return min(candidates, key=order.__getitem__) if candidates else None


def edited_since_loaded(book: Codebook) -> bool:
    """True if the YAML file ``book`` was loaded from now holds another codebook.

    For the project's current codebook: a student who edits the file and runs ``code`` again
    would otherwise get the loaded version without a word. Only a ``.yaml``/``.yml`` source is
    compared (a codebook imported from a REFI-QDA file is stored as YAML made from it); a file
    that is gone or unreadable counts as unchanged.
    """
    if not book.source_path or Path(book.source_path).suffix.lower() not in (".yaml", ".yml"):
        return False
    try:
        text = read_text(Path(book.source_path))
    except (InputError, OSError):
        return False
    return hashlib.sha256(text.encode("utf-8")).hexdigest() != book.sha256


def current_codebook(store: Store) -> Codebook | None:
    """The project's current codebook (the last version installed), or None."""
    row = store.conn.execute(
        "SELECT content, source_path FROM codebook_versions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    book = loads_codebook(row[0], source=row[1] or "<project codebook>")
    book.source_path = row[1]
    return book
