"""Writing REFI-QDA files: a project (``.qdpx``) and a codebook (``.qdc``).

A ``.qdpx`` is a zip holding ``project.qde`` (XML in the namespace ``urn:QDA-XML:project:1.0``) and
a ``sources/`` folder with one UTF-8 plain-text file per transcript. Each coder's coding of a turn
(or of a passage inside it) becomes a ``PlainTextSelection`` of its own, with that coder as
``creatingUser``, because QualCoder and other readers take the coder from the selection. Its
``startPosition``/``endPosition`` count Unicode code points of the file's text, end exclusive (the
standard), unless the export is made for a tool that counts otherwise (:data:`TARGETS`): NVivo for
Windows counts UTF-16 code units, and MAXQDA gets Windows line ends. A coding's memo is the
selection's ``Description`` (as QualCoder, MAXQDA and ATLAS.ti write it). A pseudonymised export
replaces names (speaker labels become respondent labels) and moves every offset to match. Element
order follows the ``xsd:sequence`` of every type in the standard's ``Project.xsd`` and
``Codebook.xsd``; dates are UTC with ``Z``.
"""

from __future__ import annotations

import bisect
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from qualcode import __version__
from qualcode.errors import InputError, ProjectError
from qualcode.outputs import check_output_file, make_output_parent
from qualcode.pseudonyms import replace_spans, transcript_aliases
from qualcode.refiqda.guids import GuidMaker, is_guid, save_namespace, stored_namespace
from qualcode.store import DEFAULT_INTERVIEWER_LABELS, Store, now_iso

if TYPE_CHECKING:
    from qualcode.pseudonyms import Pseudonyms

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
ORIGIN = f"qualcode {__version__}"
PROJECT_FILE = "project.qde"
SOURCES_DIR = "sources"
INTERNAL = "internal://"
#: The name of the Set that lists codes no longer in the current codebook (``active = 0``); the
#: importer recognises it and marks those codes inactive again.
INACTIVE_SET_NAME = "qualcode: inactive codes"
#: The line in the project description after which the code ids follow (``GUID = path``).
CODE_IDS_HEADING = "qualcode code ids (code GUID = path), used when this file is imported again:"


@dataclass(frozen=True)
class Target:
    """How a tool wants positions and line ends in a ``.qdpx``."""

    name: str
    #: "code points" (the standard) or "utf-16" (UTF-16 code units, as NVivo for Windows counts).
    offsets: str = "code points"
    #: The line end written in the source files ("\n" or "\r\n").
    newline: str = "\n"
    #: How many positions a "\r\n" line end counts (Windows rich-text editors count one).
    crlf_positions: int = 2

    @property
    def origin_note(self) -> str:
        """Added to the ``origin`` attribute, so a reader (qualcode too) knows how to count."""
        if self.name == "standard":
            return ""
        counted = "UTF-16 code units" if self.offsets == "utf-16" else "code points"
        ends = ""
        if self.newline == "\r\n":
            ends = ", CRLF counting one" if self.crlf_positions == 1 else ", CRLF counting two"
        return f" (for {self.name}: positions in {counted}{ends})"


#: Export targets for ``export qdpx --for``. Without one, the standard's code points and LF.
TARGETS: dict[str, Target] = {
    "standard": Target("standard"),
    "nvivo": Target("nvivo", offsets="utf-16"),
    "atlas": Target("atlas"),
    # MAXQDA wants Windows line ends; as in QualCoder's export for MAXQDA, positions count each
    # line end once (as MAXQDA's rich-text editor does).
    "maxqda": Target("maxqda", newline="\r\n", crlf_positions=1),
    "qualcoder": Target("qualcoder"),
}

_RGB = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
# Characters XML 1.0 cannot carry at all, even escaped.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
_BOOLEAN = re.compile(r"^(?:true|false)$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$")
_DECIMAL = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SELECTION_NAME_LENGTH = 60
# What may follow a speaker label before the turn's text: a timestamp, Markdown bold, the colon.
_LABEL_TAIL = re.compile(r"[ \t*_]*(?:\([\d:.,]+\))?[ \t*_]*:[\s*_]*")
#: Interviewer labels the importer recognises; a pseudonymised export writes only these.
_IMPORT_INTERVIEWER_LABELS = frozenset(label.casefold() for label in DEFAULT_INTERVIEWER_LABELS)
_NEUTRAL_INTERVIEWER = "Intervjuer"


@dataclass
class ExportResult:
    """What an export wrote."""

    path: Path
    users: list[str] = field(default_factory=list)
    codes: int = 0
    inactive_codes: int = 0
    sources: int = 0
    cases: int = 0
    variables: int = 0
    selections: int = 0
    codings: int = 0
    notes: int = 0
    coding_memos: int = 0  # coding memos written as their selection's Description
    pseudonyms: int = 0  # names in the pseudonym list applied (0: none applied)
    warnings: list[str] = field(default_factory=list)
    target: str = "standard"


@dataclass
class _Code:
    id: int
    path: str
    parent_id: int | None
    name: str
    description: str
    color: str | None
    active: bool
    codable: bool = True
    guid: str | None = None
    children: list[_Code] = field(default_factory=list)


def utc_moment(value: str | None) -> datetime | None:
    """An ISO date-time (``Z``, an offset, or no zone, taken as UTC) in UTC; None if it is not one."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def utc_z(value: str | None) -> str | None:
    """An ISO date-time as UTC with ``Z`` (``2024-03-01T10:00:00Z``); None if it is not one.

    QualCoder parses only the ``Z`` form, and the schema wants a time zone-free or zoned
    ``xsd:dateTime``: a value without a zone is taken to be UTC, as the store writes UTC.
    """
    moment = utc_moment(value)
    return None if moment is None else moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class FileOffsets:
    """Positions in the stored text (code points, LF) as a target tool counts them in the file.

    The file's text has ``target.newline`` for every LF (counting ``target.crlf_positions``
    when that is CR LF); with UTF-16 offsets, every character outside the Basic Multilingual
    Plane counts two.
    """

    def __init__(self, text: str, target: Target):
        self.extra: list[int] = []  # stored positions that count one more unit than one
        if target.newline == "\r\n" and target.crlf_positions == 2:
            self.extra.extend(i for i, ch in enumerate(text) if ch == "\n")
        if target.offsets == "utf-16":
            self.extra.extend(i for i, ch in enumerate(text) if ord(ch) > 0xFFFF)
            self.extra.sort()
        self.file_text = text.replace("\n", target.newline) if target.newline != "\n" else text

    def __call__(self, position: int) -> int:
        return position + bisect.bisect_left(self.extra, position)


def _clean(text: str | None) -> str:
    """Text an XML 1.0 document can hold (control characters other than tab/newline removed)."""
    return _XML_INVALID.sub("", text or "")


def _el(parent: ET.Element, name: str, ns: str, attrs: dict[str, Any] | None = None) -> ET.Element:
    # Attribute order is kept as given; None values are left out (all such attributes are optional).
    # Tags stay unqualified: the root's xmlns attribute puts them all in the namespace ``ns``
    # (ElementTree's default_namespace option refuses unqualified attribute names).
    clean = {k: _clean(str(v)) for k, v in (attrs or {}).items() if v is not None}
    return ET.SubElement(parent, name, clean)


def _text_el(parent: ET.Element, name: str, ns: str, text: str) -> ET.Element:
    element = _el(parent, name, ns)
    element.text = _clean(text)
    return element


def _root(name: str, ns: str, attrs: dict[str, str]) -> ET.Element:
    return ET.Element(name, {"xmlns": ns, **{k: _clean(v) for k, v in attrs.items()}})


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def _color(value: str | None) -> str | None:
    return value if value and _RGB.match(value) else None


def _load_codes(store: Store) -> list[_Code]:
    """Every code as a tree (roots returned), children in codebook order."""
    rows = store.conn.execute(
        "SELECT id, path, parent_id, name, description, color, active, codable, guid FROM codes"
        " ORDER BY sort_order, path"
    ).fetchall()
    codes = {
        r[0]: _Code(r[0], r[1], r[2], r[3], r[4] or "", r[5], bool(r[6]), bool(r[7]), r[8])
        for r in rows
    }
    roots = []
    for code in codes.values():
        parent = codes.get(code.parent_id) if code.parent_id is not None else None
        (parent.children if parent else roots).append(code)
    return roots


def _walk(codes: Iterable[_Code]) -> Iterable[_Code]:
    for code in codes:
        yield code
        yield from _walk(code.children)


def _prune(codes: list[_Code], keep: Callable[[_Code], bool]) -> list[_Code]:
    """The tree with only codes that ``keep`` accepts or that have such a descendant."""
    result = []
    for code in codes:
        children = _prune(code.children, keep)
        if keep(code) or children:
            result.append(
                _Code(
                    code.id,
                    code.path,
                    code.parent_id,
                    code.name,
                    code.description,
                    code.color,
                    code.active,
                    code.codable,
                    code.guid,
                    children,
                )
            )
    return result


def _write_zip_atomically(path: Path, members: list[tuple[str, bytes]]) -> None:
    """Write the zip next to ``path`` and move it into place, so a failure leaves no half file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                archive.writestr(name, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _namespace(store: Store) -> tuple[uuid.UUID, bool]:
    """The project's GUID namespace and whether it is new. A new one is saved only once the
    export has been built, so an export that fails on bad input leaves the store unchanged."""
    namespace = stored_namespace(store)
    return (namespace, False) if namespace is not None else (uuid.uuid4(), True)


def _label_span(prefix: str, speaker: str) -> tuple[int, int] | None:
    """Where ``speaker`` stands as the label in ``prefix``, the line up to the turn's text.

    Only a label counts: nothing but a timestamp or markup before the name, and nothing but a
    timestamp, markup and the colon after it (``[00:03:12] **Kari** (00:03:12): ``).
    """
    pattern = r"\s+".join(re.escape(word) for word in speaker.split())
    match = re.search(pattern, prefix)
    if match is None or re.search(r"[^\W\d_]", prefix[: match.start()]):
        return None
    if not _LABEL_TAIL.fullmatch(prefix[match.end() :]):
        return None
    return match.span()


def _merge_edits(
    labels: list[tuple[int, int, str]], names: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """Label rewrites and name replacements as one sorted list without overlaps.

    A name inside a rewritten label goes with it; a label that a name reaches beyond is left
    to the name replacement, so no part of a name survives.
    """
    kept_labels = [
        (a, b, new)
        for a, b, new in labels
        if not any(na < b and a < nb and not (a <= na and nb <= b) for na, nb, _ in names)
    ]
    kept_names = [
        (na, nb, new)
        for na, nb, new in names
        if not any(a <= na and nb <= b for a, b, _ in kept_labels)
    ]
    return sorted(kept_labels + kept_names)


def _check_target(path: Path, suffix: str) -> None:
    if path.suffix.lower() != suffix:
        raise InputError(f"the file name must end in {suffix}", path=path)
    check_output_file(path)


# -- codebook (.qdc) ---------------------------------------------------------------------------


def code_guids(store: Store, guids: GuidMaker) -> dict[str, str]:
    """Code path -> the GUID its exports carry: the one it came with (from a REFI-QDA file or the
    codebook's ``guid:``), else one derived from the path. A GUID two codes claim goes to the
    first in codebook order; the second gets a derived one, so a file never repeats a GUID."""
    result: dict[str, str] = {}
    used: set[str] = set()
    rows = store.conn.execute("SELECT path, guid FROM codes ORDER BY sort_order, path").fetchall()
    for path, stored in rows:
        guid = (stored or "").strip("{}").upper()
        if not is_guid(guid) or guid in used:
            guid = guids.code(path)
        used.add(guid)
        result[path] = guid
    return result


def _codebook_code(parent: ET.Element, code: _Code, guid_of: dict[str, str], ns: str) -> None:
    element = _el(
        parent,
        "Code",
        ns,
        {
            "guid": guid_of[code.path],
            "name": code.name,
            "isCodable": "true" if code.codable else "false",
            "color": _color(code.color),
        },
    )
    if code.description:
        _text_el(element, "Description", ns, code.description)
    for child in code.children:
        _codebook_code(element, child, guid_of, ns)


def codebook_xml(store: Store, guids: GuidMaker) -> tuple[bytes, int]:
    """The ``.qdc`` document for the project's current (active) codes, and how many it holds."""
    tree = _prune(_load_codes(store), lambda c: c.active)
    if not tree:
        raise ProjectError(
            "the project has no codes to export; install a codebook first", path=store.folder
        )
    root = _root("CodeBook", CODEBOOK_NS, {"origin": ORIGIN})
    codes = _el(root, "Codes", CODEBOOK_NS)
    guid_of = code_guids(store, guids)
    for code in tree:
        _codebook_code(codes, code, guid_of, CODEBOOK_NS)
    return _serialise(root), sum(1 for _ in _walk(tree))


def export_qdc(store: Store, path: Path, *, command: str = "export qdc") -> ExportResult:
    """Write the project's current codebook as a REFI-QDA codebook file."""
    path = Path(path)
    _check_target(path, ".qdc")
    namespace, is_new = _namespace(store)
    data, count = codebook_xml(store, GuidMaker(namespace))
    make_output_parent(path)
    if is_new:
        save_namespace(store, namespace, command)
    _write_atomically(path, data)
    return ExportResult(path=path, codes=count)


# -- project (.qdpx) ---------------------------------------------------------------------------


def _fits(value: str, kind: str) -> bool:
    """True if ``value`` is a valid value of the REFI variable type ``kind``."""
    if kind == "Boolean":
        return value.strip().lower() in ("true", "false", "1", "0")
    if kind == "Integer":
        return bool(_INTEGER.match(value))
    if kind == "Float":
        return bool(_INTEGER.match(value) or _DECIMAL.match(value))
    if kind == "Date":
        return bool(_DATE.match(value))
    if kind == "DateTime":
        return bool(_DATETIME.match(value))
    return True


def _variable_type(values: list[str], declared: str | None = None) -> str:
    """The variable type to write: the declared one (from an import) if every value fits it,
    else the narrowest type that every value fits."""
    if declared and all(_fits(v, declared) for v in values):
        return declared
    if values and all(_BOOLEAN.match(v) for v in values):
        return "Boolean"
    for kind in ("Integer", "Float", "Date"):
        if values and all(_fits(v, kind) for v in values):
            return kind
    return "Text"


def _typed_value(value: str, kind: str) -> str:
    if kind == "Boolean":
        return "true" if value.strip().lower() in ("true", "1") else "false"
    if kind == "DateTime":
        return utc_z(value) or value
    return value


_VALUE_ELEMENT = {
    "Boolean": "BooleanValue",
    "Integer": "IntegerValue",
    "Float": "FloatValue",
    "Date": "DateValue",
    "DateTime": "DateTimeValue",
    "Text": "TextValue",
}


@dataclass
class _Note:
    guid: str
    name: str
    text: str
    coder: str | None
    created: str | None


@dataclass
class _Coding:
    path: str
    created: str
    memo: str | None


@dataclass
class _Pick:
    """One ``PlainTextSelection`` to write: one coder's codings of one range of a transcript."""

    seg: tuple  # (segment id, transcript id, start, end, text, position), in the exported text
    start: int  # the range in the exported (possibly pseudonymised) stored text
    end: int
    coder: str | None
    codings: list[_Coding] = field(default_factory=list)
    turn_memos: list[tuple[str, str]] = field(default_factory=list)  # (text, created)
    description: str | None = None


class _ProjectWriter:
    """Builds ``project.qde`` and the source files from the store."""

    def __init__(
        self,
        store: Store,
        guids: GuidMaker,
        coders: Sequence[str] | None,
        pseudonyms: Pseudonyms | None = None,
        target: Target = TARGETS["standard"],
    ):
        self.store = store
        self.guids = guids
        self.pseudonyms = pseudonyms if pseudonyms else None
        self.target = target
        self.source_names: dict[str, str] = {}  # transcript name -> name shown in the file
        self.coders = list(coders) if coders is not None else None
        self.result = ExportResult(path=Path(), target=target.name)
        self.notes: list[_Note] = []
        self._note_keys: set[str] = set()
        self.users: dict[str, str] = {}  # coder name -> guid
        self.used_guids: set[str] = set()
        self.stored_user_guids = {
            name: guid for name, guid in store.conn.execute("SELECT name, guid FROM coders")
        }
        self.offset_maps: dict[int, Callable[[int], int]] = {}  # pseudonymised text offsets

    # helpers
    def _claim(self, stored: str | None, derived: str) -> str:
        """The stored GUID (from an import) unless another object of the file has it already."""
        guid = (stored or "").strip().strip("{}").upper()
        if not is_guid(guid) or guid in self.used_guids:
            guid = derived
        self.used_guids.add(guid)
        return guid

    def _apply(self, text: str) -> str:
        return self.pseudonyms.apply(text) if self.pseudonyms is not None else text

    def _new_note(
        self, name: str, text: str, coder: str | None, created: str | None, *identity: object
    ) -> str:
        text = self._apply(text)
        guid = self.guids.note(*identity)
        n = 1
        while guid in self._note_keys:  # same writer, same second, same place: keep both
            n += 1
            guid = self.guids.note(*identity, n)
        self._note_keys.add(guid)
        self.notes.append(_Note(guid, name, text, coder, created))
        return guid

    def _user(self, coder: str | None) -> str | None:
        if coder is None:
            return None
        if coder not in self.users:
            self.users[coder] = self._claim(
                self.stored_user_guids.get(coder), self.guids.user(coder)
            )
        return self.users[coder]

    def _pseudonymise(
        self, transcripts: list[tuple], segments: dict[int, tuple]
    ) -> tuple[list[tuple], dict[int, tuple]]:
        """Names replaced in every source, with each segment's span moved to match.

        File names often carry a firm's name ("R2_fjordal.vtt"), so sources are named after
        their respondent instead.
        """
        assert self.pseudonyms is not None
        label_edits = self._speaker_label_edits({tid: text for tid, _, text, _, _ in transcripts})
        maps = {}
        renamed = []
        self.source_names = transcript_aliases(self.store)
        for tid, name, text, imported_at, label in transcripts:
            new_text, new_offset = replace_spans(
                text, _merge_edits(label_edits.get(tid, []), self.pseudonyms.replacements(text))
            )
            maps[tid] = (new_text, new_offset)
            self.offset_maps[tid] = new_offset
            renamed.append((tid, name, new_text, imported_at, label))
        moved = {}
        for seg_id, (sid, tid, start, end, _text, position) in segments.items():
            new_text, new_offset = maps[tid]
            a, b = new_offset(start), new_offset(end)
            moved[seg_id] = (sid, tid, a, b, new_text[a:b], position)
        return renamed, moved

    def _speaker_label_edits(self, texts: dict[int, str]) -> dict[int, list[tuple[int, int, str]]]:
        """Per transcript, the speaker labels to rewrite so turns stay turns once names are gone.

        A label such as ``Silje Kvernes:`` would become ``[navn]:``, which no tool (qualcode's
        importer included) reads as a speaker: the turn would merge into the one before it.
        So a respondent's turns are labelled with the respondent's label (``R3:``), the label
        the project already shows, and an interviewer label that is a name, or that importing
        would not know, becomes ``Intervjuer``.
        """
        assert self.pseudonyms is not None
        edits: dict[int, dict[int, tuple[int, int, str]]] = {}
        for tid, start, speaker, role, respondent in self.store.conn.execute(
            "SELECT s.transcript_id, s.char_start, s.speaker, s.role, r.label FROM segments s"
            " JOIN respondents r ON r.id = s.respondent_id"
            " WHERE s.role IN ('respondent', 'interviewer') ORDER BY s.transcript_id, s.char_start"
        ):
            text = texts.get(tid)
            if text is None or not speaker:
                continue
            # The text may start on the line after its label ("Kari:" alone on a line).
            label_end = start
            while label_end > 0 and text[label_end - 1].isspace():
                label_end -= 1
            line_start = text.rfind("\n", 0, label_end) + 1
            if line_start in edits.get(tid, {}):
                continue  # a second segment starting on the same labelled line
            span = _label_span(text[line_start:start], speaker)
            if span is None:
                continue  # not a labelled turn (a selection inside a turn, a paragraph)
            if role == "respondent":
                # A label that is itself a listed name must not bring the name back.
                new_label = self.pseudonyms.apply(respondent)
            elif speaker.casefold() in _IMPORT_INTERVIEWER_LABELS and not self.pseudonyms.find(
                speaker
            ):
                new_label = speaker
            else:
                new_label = _NEUTRAL_INTERVIEWER
            a, b = line_start + span[0], line_start + span[1]
            if text[a:b] != new_label:
                edits.setdefault(tid, {})[line_start] = (a, b, new_label)
        return {tid: sorted(by_line.values()) for tid, by_line in edits.items()}

    def _coder_ok(self, coder: str | None) -> bool:
        return self.coders is None or coder is None or coder in self.coders

    def build(self) -> tuple[bytes, list[tuple[str, bytes]]]:
        store, ns = self.store, PROJECT_NS
        conn = store.conn
        known = [r[0] for r in conn.execute("SELECT name FROM coders ORDER BY id")]
        if self.coders is not None:
            unknown = [c for c in self.coders if c not in known]
            if unknown:
                raise InputError(
                    f"no coder layer {', '.join(repr(c) for c in unknown)} in the project "
                    f"(layers: {', '.join(known) or 'none'})"
                )
        for name in self.coders if self.coders is not None else known:
            self._user(name)

        # Codes and their memos.
        tree = _load_codes(store)
        all_codes = list(_walk(tree))
        self.code_guid = code_guids(store, self.guids)
        self.used_guids.update(self.code_guid.values())
        code_by_id = {c.id: c for c in all_codes}
        code_notes: dict[int, list[str]] = {}
        for _mid, code_id, coder, text, created in conn.execute(
            "SELECT id, code_id, coder, text, created_at FROM memos WHERE code_id IS NOT NULL"
            " ORDER BY created_at, id"
        ):
            if not self._coder_ok(coder) or code_id not in code_by_id:
                continue
            path = code_by_id[code_id].path
            guid = self._new_note(
                f"Memo: {path}", text, coder, created, "code", path, coder, created
            )
            self._user(coder)
            code_notes.setdefault(code_id, []).append(guid)

        # Segments, codings and segment memos.
        transcripts = conn.execute(
            "SELECT t.id, t.name, t.text, t.imported_at, r.label FROM transcripts t"
            " JOIN respondents r ON r.id = t.respondent_id ORDER BY t.id"
        ).fetchall()
        transcript_extra = {
            tid: (guid, memo)
            for tid, guid, memo in conn.execute("SELECT id, guid, memo FROM transcripts")
        }
        segments = {
            r[0]: r
            for r in conn.execute(
                "SELECT id, transcript_id, char_start, char_end, text, position FROM segments"
            )
        }
        original_starts = {seg_id: seg[2] for seg_id, seg in segments.items()}
        if self.pseudonyms is not None:
            transcripts, segments = self._pseudonymise(transcripts, segments)
        coder_filter = ""
        params: list[Any] = []
        if self.coders is not None:
            coder_filter = f" WHERE d.name IN ({','.join('?' * len(self.coders))})"
            params = list(self.coders)
        picks: dict[tuple[int, int, int, str | None], _Pick] = {}

        def pick(seg_id: int, quote: tuple[int, int] | None, coder: str | None) -> _Pick:
            seg = segments[seg_id]
            if quote is None:
                start, end = seg[2], seg[3]
            else:
                # Passage offsets are inside the stored turn; a pseudonymised text moves them.
                a = original_starts[seg_id] + quote[0]
                b = original_starts[seg_id] + quote[1]
                move = self.offset_maps.get(seg[1])
                start, end = (move(a), move(b)) if move else (a, b)
            key = (seg_id, start, end, coder)
            if key not in picks:
                picks[key] = _Pick(seg, start, end, coder)
            return picks[key]

        used_codes: set[str] = set()
        for seg_id, path, coder, created, memo, q_start, q_end in conn.execute(
            "SELECT c.segment_id, k.path, d.name, c.created_at, c.memo, c.quote_start,"
            " c.quote_end"
            " FROM codings c JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
            + coder_filter
            + " ORDER BY d.name, k.path",
            params,
        ):
            quote = None if q_start is None or q_end is None else (q_start, q_end)
            pick(seg_id, quote, coder).codings.append(_Coding(path, created, memo))
            used_codes.add(path)
        for seg_id, coder, text, created in conn.execute(
            "SELECT segment_id, coder, text, created_at FROM memos WHERE segment_id IS NOT NULL"
            " ORDER BY created_at, id"
        ):
            if self._coder_ok(coder):
                pick(seg_id, None, coder).turn_memos.append((text, created))

        root = _root(
            "Project",
            ns,
            {
                "name": _clean(store.folder.resolve().name) or "qualcode",
                "origin": ORIGIN + self.target.origin_note,
                "creationDateTime": utc_z(now_iso()),
            },
        )
        # Users first in the document, but they are collected while walking everything else.
        users_el = _el(root, "Users", ns)

        # CodeBook: every code, inactive ones included where the export still uses them.
        exported_tree = _prune(
            tree, lambda c: c.active or c.path in used_codes or c.id in code_notes
        )
        if exported_tree:
            codebook = _el(root, "CodeBook", ns)
            codes_el = _el(codebook, "Codes", ns)
            for code in exported_tree:
                self._project_code(codes_el, code, code_notes)
        exported = list(_walk(exported_tree))
        self.result.codes = len(exported)
        inactive = [c for c in exported if not c.active]
        self.result.inactive_codes = len(inactive)

        # Variables and Cases: respondents and their attributes.
        attributes: dict[int, dict[str, str]] = {}
        for rid, name, value in conn.execute(
            "SELECT respondent_id, name, value FROM respondent_attributes ORDER BY name"
        ):
            attributes.setdefault(rid, {})[name] = self._apply(value)
        declared: dict[str, str | None] = {}
        shown: dict[str, str] = {}  # the name another tool gave the attribute ("Bransje")
        for name, kind, label in conn.execute("SELECT name, type, label FROM attribute_types"):
            declared[name] = kind
            if label and label.casefold() == name:
                shown[name] = label
        names = sorted({n for attrs in attributes.values() for n in attrs})
        types = {
            n: _variable_type([a[n] for a in attributes.values() if n in a], declared.get(n))
            for n in names
        }
        variable_guid = {n: self._claim(None, self.guids.variable(n)) for n in names}
        if names:
            variables = _el(root, "Variables", ns)
            for name in names:
                _el(
                    variables,
                    "Variable",
                    ns,
                    {
                        "guid": variable_guid[name],
                        "name": shown.get(name, name),
                        "typeOfVariable": types[name],
                    },
                )
        self.result.variables = len(names)
        source_guid = {
            tid: self._claim(transcript_extra[tid][0], self.guids.source(name))
            for tid, name, *_ in transcripts
        }
        respondents = conn.execute(
            "SELECT id, label, guid, memo FROM respondents ORDER BY id"
        ).fetchall()
        if respondents:
            cases = _el(root, "Cases", ns)
            for rid, label, stored_guid, memo in respondents:
                case = _el(
                    cases,
                    "Case",
                    ns,
                    {"guid": self._claim(stored_guid, self.guids.case(label)), "name": label},
                )
                if memo:
                    _text_el(case, "Description", ns, self._apply(memo))
                for name, value in sorted(attributes.get(rid, {}).items()):
                    holder = _el(case, "VariableValue", ns)
                    _el(holder, "VariableRef", ns, {"targetGUID": variable_guid[name]})
                    kind = types[name]
                    _text_el(holder, _VALUE_ELEMENT[kind], ns, _typed_value(value, kind))
                for (tid,) in conn.execute(
                    "SELECT id FROM transcripts WHERE respondent_id = ? ORDER BY id", (rid,)
                ):
                    _el(case, "SourceRef", ns, {"targetGUID": source_guid[tid]})
            self.result.cases = len(respondents)

        # Sources with their selections.
        by_transcript: dict[int, list[_Pick]] = {}
        for item in picks.values():
            by_transcript.setdefault(item.seg[1], []).append(item)
        files: list[tuple[str, bytes]] = []
        if transcripts:
            sources = _el(root, "Sources", ns)
            for tid, name, text, imported_at, _label in transcripts:
                guid = source_guid[tid]
                offsets = FileOffsets(text, self.target)
                source = _el(
                    sources,
                    "TextSource",
                    ns,
                    {
                        "guid": guid,
                        "name": self.source_names.get(name, name),
                        "plainTextPath": f"{INTERNAL}{guid}.txt",
                        "creationDateTime": utc_z(imported_at),
                    },
                )
                memo = transcript_extra[tid][1]
                if memo:
                    _text_el(source, "Description", ns, self._apply(memo))
                files.append((f"{SOURCES_DIR}/{guid}.txt", offsets.file_text.encode("utf-8")))
                ordered = sorted(
                    by_transcript.get(tid, []),
                    key=lambda p: (p.start, p.end, p.seg[0], p.coder or ""),
                )
                for item in ordered:
                    self._selections(source, name, text, item, offsets)
            self.result.sources = len(transcripts)

        if self.notes:
            notes_el = _el(root, "Notes", ns)
            for note in self.notes:
                element = _el(
                    notes_el,
                    "Note",
                    ns,
                    {
                        "guid": note.guid,
                        "name": note.name,
                        "creatingUser": self._user(note.coder),
                        "creationDateTime": utc_z(note.created),
                    },
                )
                _text_el(element, "PlainTextContent", ns, note.text)
            self.result.notes = len(self.notes)

        if inactive:
            sets = _el(root, "Sets", ns)
            group = _el(
                sets,
                "Set",
                ns,
                {"guid": self.guids.make("set", "inactive codes"), "name": INACTIVE_SET_NAME},
            )
            _text_el(
                group,
                "Description",
                ns,
                "Codes that are no longer in the current qualcode codebook; "
                "their codings are kept.",
            )
            for code in inactive:
                _el(group, "MemberCode", ns, {"targetGUID": self.code_guid[code.path]})

        if exported:
            # The standard has no place for our code ids (names are for display), so the project
            # description lists them; the importer restores the paths from it.
            lines = [
                f"Exported by {ORIGIN} from the project '{root.get('name')}'.",
                CODE_IDS_HEADING,
                *(f"{self.code_guid[c.path]} = {c.path}" for c in exported),
            ]
            _text_el(root, "Description", ns, "\n".join(lines))

        for coder, guid in self.users.items():
            _el(users_el, "User", ns, {"guid": guid, "name": coder})
        if not self.users:
            root.remove(users_el)  # UsersType needs at least one User
        self.result.users = list(self.users)
        return _serialise(root), files

    def _project_code(
        self, parent: ET.Element, code: _Code, code_notes: dict[int, list[str]]
    ) -> None:
        ns = PROJECT_NS
        element = _el(
            parent,
            "Code",
            ns,
            {
                "guid": self.code_guid[code.path],
                "name": code.name,
                "isCodable": "true" if code.codable else "false",
                "color": _color(code.color),
            },
        )
        if code.description:
            _text_el(element, "Description", ns, code.description)
        for guid in code_notes.get(code.id, []):
            _el(element, "NoteRef", ns, {"targetGUID": guid})
        for child in code.children:
            self._project_code(element, child, code_notes)

    def _selections(
        self, source: ET.Element, transcript: str, text: str, item: _Pick, offsets: FileOffsets
    ) -> None:
        """One coder's codings of one range, as selections of that coder.

        A coding's memo is the selection's ``Description``, and readers (QualCoder, MAXQDA) give
        a selection's description to every coding in it; so a coding with a memo shares its
        selection with no other coding (each gets one of its own, same range and coder), and
        the codings without a memo share one.
        """
        seg_id, _tid, seg_start, seg_end, seg_text, position = item.seg
        if text[seg_start:seg_end] != seg_text or not (
            seg_start <= item.start <= item.end <= seg_end
        ):
            raise ProjectError(
                f"segment {seg_id} of {transcript} does not match the transcript's text at "
                f"{seg_start}–{seg_end}; the store is inconsistent, re-ingest the transcript",
                path=self.store.path,
            )
        plain = [c for c in item.codings if not c.memo]
        groups: list[tuple[list[_Coding], str | None]] = [
            ([c], c.memo) for c in item.codings if c.memo
        ]
        if plain or not groups:
            groups.insert(0, (plain, None))
        for number, (codings, description) in enumerate(groups):
            self._selection(
                source,
                transcript,
                text,
                item,
                codings,
                description,
                item.turn_memos if number == 0 else [],
                number,
                offsets,
                position,
            )

    def _selection(
        self,
        source: ET.Element,
        transcript: str,
        text: str,
        item: _Pick,
        codings: list[_Coding],
        description: str | None,
        turn_memos: list[tuple[str, str]],
        number: int,
        offsets: FileOffsets,
        position: int,
    ) -> None:
        ns = PROJECT_NS
        start, end, coder = item.start, item.end, item.coder
        shown = self.source_names.get(transcript, transcript)
        dates = [c.created for c in codings] + [created for _, created in turn_memos]
        preview = " ".join(text[start:end].split())
        if len(preview) > _SELECTION_NAME_LENGTH:
            preview = preview[: _SELECTION_NAME_LENGTH - 1].rstrip() + "…"
        selection = _el(
            source,
            "PlainTextSelection",
            ns,
            {
                "guid": self._claim(
                    None, self.guids.selection(transcript, start, end, coder or "", number)
                ),
                "name": preview,
                "startPosition": offsets(start),
                "endPosition": offsets(end),
                "creatingUser": self._user(coder),
                "creationDateTime": utc_z(min(dates)) if dates else None,
            },
        )
        if description:
            _text_el(selection, "Description", ns, self._apply(description))
            self.result.coding_memos += 1
        for coding in codings:
            element = _el(
                selection,
                "Coding",
                ns,
                {
                    "guid": self._claim(
                        None,
                        self.guids.coding(transcript, start, end, coding.path, coder or ""),
                    ),
                    "creatingUser": self._user(coder),
                    "creationDateTime": utc_z(coding.created),
                },
            )
            _el(element, "CodeRef", ns, {"targetGUID": self.code_guid[coding.path]})
            self.result.codings += 1
        for memo_text, created in turn_memos:
            guid = self._new_note(
                f"Memo: {shown} turn {position}",
                memo_text,
                coder,
                created,
                "segment",
                transcript,
                start,
                end,
                coder,
                created,
            )
            _el(selection, "NoteRef", ns, {"targetGUID": guid})
        self.result.selections += 1


def project_xml(
    store: Store,
    guids: GuidMaker,
    coders: Sequence[str] | None = None,
    pseudonyms: Pseudonyms | None = None,
    target: Target = TARGETS["standard"],
) -> tuple[bytes, list[tuple[str, bytes]], ExportResult]:
    """``project.qde``, the source files (zip member name, bytes) and counts, without writing.

    With ``pseudonyms``, names are replaced in the sources, memos and attribute values, and every
    selection still covers exactly its turn or passage in the replaced text. ``target`` sets how
    positions are counted and which line end the source files have.
    """
    writer = _ProjectWriter(store, guids, coders, pseudonyms, target)
    xml, files = writer.build()
    return xml, files, writer.result


def export_qdpx(
    store: Store,
    path: Path,
    *,
    coders: Sequence[str] | None = None,
    pseudonymise: bool = True,
    target: str = "standard",
    command: str = "export qdpx",
) -> ExportResult:
    """Write the project as a REFI-QDA project file; ``coders`` limits it to those coder layers.

    The file holds whole transcripts, so the project's ``pseudonyms.csv`` is applied unless
    ``pseudonymise`` is False. ``target`` (a key of :data:`TARGETS`) writes positions and line
    ends as that tool reads them; the default is the standard's (code points, LF).
    """
    from qualcode.pseudonyms import project_pseudonyms

    if target not in TARGETS:
        raise InputError(f"unknown export target '{target}' (choose from {', '.join(TARGETS)})")
    path = Path(path)
    _check_target(path, ".qdpx")
    namespace, is_new = _namespace(store)
    names = project_pseudonyms(store) if pseudonymise else None
    xml, files, result = project_xml(
        store, GuidMaker(namespace), coders or None, names, TARGETS[target]
    )
    result.pseudonyms = len(names) if names else 0
    make_output_parent(path)
    if is_new:
        save_namespace(store, namespace, command)
    _write_zip_atomically(path, [(PROJECT_FILE, xml), *files])
    result.path = path
    return result
