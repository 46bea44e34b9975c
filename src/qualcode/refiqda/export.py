"""Writing REFI-QDA files: a project (``.qdpx``) and a codebook (``.qdc``).

A ``.qdpx`` is a zip holding ``project.qde`` (XML in the namespace ``urn:QDA-XML:project:1.0``) and
a ``sources/`` folder with one UTF-8 plain-text file per transcript. Each coded turn becomes a
``PlainTextSelection`` whose ``startPosition``/``endPosition`` are the turn's offsets into that file,
counted in Unicode code points with the end exclusive — exactly our ``char_start``/``char_end``,
because the file holds the transcript's stored text unchanged. A pseudonymised export replaces
names (speaker labels become respondent labels) and moves every offset to match. Element order
follows the ``xsd:sequence`` of every type in the standard's ``Project.xsd`` and ``Codebook.xsd``.
"""

from __future__ import annotations

import os
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from qualcode import __version__
from qualcode.errors import InputError, ProjectError
from qualcode.outputs import check_output_file, make_output_parent
from qualcode.pseudonyms import replace_spans, transcript_aliases
from qualcode.refiqda.guids import GuidMaker, save_namespace, stored_namespace
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

_RGB = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
# Characters XML 1.0 cannot carry at all, even escaped.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
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
    pseudonyms: int = 0  # names in the pseudonym list applied (0: none applied)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Code:
    id: int
    path: str
    parent_id: int | None
    name: str
    description: str
    color: str | None
    active: bool
    children: list[_Code] = field(default_factory=list)


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
        "SELECT id, path, parent_id, name, description, color, active FROM codes"
        " ORDER BY sort_order, path"
    ).fetchall()
    codes = {r[0]: _Code(r[0], r[1], r[2], r[3], r[4] or "", r[5], bool(r[6])) for r in rows}
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


def _codebook_code(parent: ET.Element, code: _Code, guids: GuidMaker, ns: str) -> None:
    element = _el(
        parent,
        "Code",
        ns,
        {
            "guid": guids.code(code.path),
            "name": code.name,
            "isCodable": "true",
            "color": _color(code.color),
        },
    )
    if code.description:
        _text_el(element, "Description", ns, code.description)
    for child in code.children:
        _codebook_code(element, child, guids, ns)


def codebook_xml(store: Store, guids: GuidMaker) -> tuple[bytes, int]:
    """The ``.qdc`` document for the project's current (active) codes, and how many it holds."""
    tree = _prune(_load_codes(store), lambda c: c.active)
    if not tree:
        raise ProjectError(
            "the project has no codes to export; install a codebook first", path=store.folder
        )
    root = _root("CodeBook", CODEBOOK_NS, {"origin": ORIGIN})
    codes = _el(root, "Codes", CODEBOOK_NS)
    for code in tree:
        _codebook_code(codes, code, guids, CODEBOOK_NS)
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


def _variable_type(values: list[str]) -> str:
    if values and all(_INTEGER.match(v) for v in values):
        return "Integer"
    if values and all(_INTEGER.match(v) or _DECIMAL.match(v) for v in values):
        return "Float"
    if values and all(_DATE.match(v) for v in values):
        return "Date"
    return "Text"


_VALUE_ELEMENT = {
    "Integer": "IntegerValue",
    "Float": "FloatValue",
    "Date": "DateValue",
    "Text": "TextValue",
}


@dataclass
class _Note:
    guid: str
    name: str
    text: str
    coder: str | None
    created: str | None


class _ProjectWriter:
    """Builds ``project.qde`` and the source files from the store."""

    def __init__(
        self,
        store: Store,
        guids: GuidMaker,
        coders: Sequence[str] | None,
        pseudonyms: Pseudonyms | None = None,
    ):
        self.store = store
        self.guids = guids
        self.pseudonyms = pseudonyms if pseudonyms else None
        self.source_names: dict[str, str] = {}  # transcript name -> name shown in the file
        self.coders = list(coders) if coders is not None else None
        self.result = ExportResult(path=Path())
        self.notes: list[_Note] = []
        self._note_keys: set[str] = set()
        self.users: dict[str, str] = {}  # coder name -> guid

    # helpers
    def _new_note(
        self, name: str, text: str, coder: str | None, created: str | None, *identity: object
    ) -> str:
        if self.pseudonyms is not None:
            text = self.pseudonyms.apply(text)
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
            self.users[coder] = self.guids.user(coder)
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
        segments = {
            r[0]: r
            for r in conn.execute(
                "SELECT id, transcript_id, char_start, char_end, text, position FROM segments"
            )
        }
        if self.pseudonyms is not None:
            transcripts, segments = self._pseudonymise(transcripts, segments)
        coder_filter = ""
        params: list[Any] = []
        if self.coders is not None:
            coder_filter = f" WHERE d.name IN ({','.join('?' * len(self.coders))})"
            params = list(self.coders)
        codings_by_segment: dict[int, list[tuple[str, str, str, str | None]]] = {}
        for seg_id, path, coder, created, memo in conn.execute(
            "SELECT c.segment_id, k.path, d.name, c.created_at, c.memo FROM codings c"
            " JOIN codes k ON k.id = c.code_id JOIN coders d ON d.id = c.coder_id"
            + coder_filter
            + " ORDER BY d.name, k.path",
            params,
        ):
            codings_by_segment.setdefault(seg_id, []).append((path, coder, created, memo))
        memos_by_segment: dict[int, list[tuple[str | None, str, str]]] = {}
        for seg_id, coder, text, created in conn.execute(
            "SELECT segment_id, coder, text, created_at FROM memos WHERE segment_id IS NOT NULL"
            " ORDER BY created_at, id"
        ):
            if self._coder_ok(coder):
                memos_by_segment.setdefault(seg_id, []).append((coder, text, created))
        used_codes = {path for items in codings_by_segment.values() for path, *_ in items}

        root = _root(
            "Project",
            ns,
            {
                "name": _clean(store.folder.resolve().name) or "qualcode",
                "origin": ORIGIN,
                "creationDateTime": now_iso(),
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
            if self.pseudonyms is not None:
                value = self.pseudonyms.apply(value)
            attributes.setdefault(rid, {})[name] = value
        names = sorted({n for attrs in attributes.values() for n in attrs})
        types = {n: _variable_type([a[n] for a in attributes.values() if n in a]) for n in names}
        if names:
            variables = _el(root, "Variables", ns)
            for name in names:
                _el(
                    variables,
                    "Variable",
                    ns,
                    {
                        "guid": self.guids.variable(name),
                        "name": name,
                        "typeOfVariable": types[name],
                    },
                )
        self.result.variables = len(names)
        respondents = conn.execute("SELECT id, label FROM respondents ORDER BY id").fetchall()
        if respondents:
            cases = _el(root, "Cases", ns)
            for rid, label in respondents:
                case = _el(cases, "Case", ns, {"guid": self.guids.case(label), "name": label})
                for name, value in sorted(attributes.get(rid, {}).items()):
                    holder = _el(case, "VariableValue", ns)
                    _el(holder, "VariableRef", ns, {"targetGUID": self.guids.variable(name)})
                    _text_el(holder, _VALUE_ELEMENT[types[name]], ns, value)
                for (name,) in conn.execute(
                    "SELECT name FROM transcripts WHERE respondent_id = ? ORDER BY id", (rid,)
                ):
                    _el(case, "SourceRef", ns, {"targetGUID": self.guids.source(name)})
            self.result.cases = len(respondents)

        # Sources with their selections.
        by_transcript: dict[int, list[tuple]] = {}
        for seg_id in set(codings_by_segment) | set(memos_by_segment):
            seg = segments[seg_id]
            by_transcript.setdefault(seg[1], []).append(seg)
        files: list[tuple[str, bytes]] = []
        if transcripts:
            sources = _el(root, "Sources", ns)
            for tid, name, text, imported_at, _label in transcripts:
                guid = self.guids.source(name)
                source = _el(
                    sources,
                    "TextSource",
                    ns,
                    {
                        "guid": guid,
                        "name": self.source_names.get(name, name),
                        "plainTextPath": f"{INTERNAL}{guid}.txt",
                        "creationDateTime": imported_at,
                    },
                )
                files.append((f"{SOURCES_DIR}/{guid}.txt", text.encode("utf-8")))
                for seg in sorted(by_transcript.get(tid, []), key=lambda s: (s[2], s[3], s[0])):
                    self._selection(
                        source,
                        name,
                        text,
                        seg,
                        codings_by_segment.get(seg[0], []),
                        memos_by_segment.get(seg[0], []),
                    )
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
                        "creationDateTime": note.created,
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
                _el(group, "MemberCode", ns, {"targetGUID": self.guids.code(code.path)})

        if exported:
            # The standard has no place for our code ids (names are for display), so the project
            # description lists them; the importer restores the paths from it.
            lines = [
                f"Exported by {ORIGIN} from the project '{root.get('name')}'.",
                CODE_IDS_HEADING,
                *(f"{self.guids.code(c.path)} = {c.path}" for c in exported),
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
                "guid": self.guids.code(code.path),
                "name": code.name,
                "isCodable": "true",
                "color": _color(code.color),
            },
        )
        if code.description:
            _text_el(element, "Description", ns, code.description)
        for guid in code_notes.get(code.id, []):
            _el(element, "NoteRef", ns, {"targetGUID": guid})
        for child in code.children:
            self._project_code(element, child, code_notes)

    def _selection(
        self,
        source: ET.Element,
        transcript: str,
        text: str,
        seg: tuple,
        codings: list[tuple[str, str, str, str | None]],
        memos: list[tuple[str | None, str, str]],
    ) -> None:
        ns = PROJECT_NS
        seg_id, _tid, start, end, seg_text, position = seg
        if text[start:end] != seg_text:
            raise ProjectError(
                f"segment {seg_id} of {transcript} does not match the transcript's text at "
                f"{start}–{end}; the store is inconsistent, re-ingest the transcript",
                path=self.store.path,
            )
        first = min([(c[2], c[1]) for c in codings] + [(m[2], m[0] or "") for m in memos])
        preview = " ".join(seg_text.split())
        if len(preview) > _SELECTION_NAME_LENGTH:
            preview = preview[: _SELECTION_NAME_LENGTH - 1].rstrip() + "…"
        selection = _el(
            source,
            "PlainTextSelection",
            ns,
            {
                "guid": self.guids.selection(transcript, start, end),
                "name": preview,
                "startPosition": start,
                "endPosition": end,
                "creatingUser": self._user(first[1] or None),
                "creationDateTime": first[0],
            },
        )
        for path, coder, created, memo in codings:
            coding = _el(
                selection,
                "Coding",
                ns,
                {
                    "guid": self.guids.coding(transcript, start, end, path, coder),
                    "creatingUser": self._user(coder),
                    "creationDateTime": created,
                },
            )
            _el(coding, "CodeRef", ns, {"targetGUID": self.guids.code(path)})
            if memo:
                guid = self._new_note(
                    f"Memo: {path} on {self.source_names.get(transcript, transcript)} turn {position}",
                    memo,
                    coder,
                    created,
                    "coding",
                    transcript,
                    start,
                    end,
                    path,
                    coder,
                )
                _el(coding, "NoteRef", ns, {"targetGUID": guid})
            self.result.codings += 1
        for coder, memo_text, created in memos:
            guid = self._new_note(
                f"Memo: {self.source_names.get(transcript, transcript)} turn {position}",
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
            self._user(coder)
            _el(selection, "NoteRef", ns, {"targetGUID": guid})
        self.result.selections += 1


def project_xml(
    store: Store,
    guids: GuidMaker,
    coders: Sequence[str] | None = None,
    pseudonyms: Pseudonyms | None = None,
) -> tuple[bytes, list[tuple[str, bytes]], ExportResult]:
    """``project.qde``, the source files (zip member name, bytes) and counts, without writing.

    With ``pseudonyms``, names are replaced in the sources, memos and attribute values, and every
    selection still covers exactly its turn in the replaced text.
    """
    writer = _ProjectWriter(store, guids, coders, pseudonyms)
    xml, files = writer.build()
    return xml, files, writer.result


def export_qdpx(
    store: Store,
    path: Path,
    *,
    coders: Sequence[str] | None = None,
    pseudonymise: bool = True,
    command: str = "export qdpx",
) -> ExportResult:
    """Write the project as a REFI-QDA project file; ``coders`` limits it to those coder layers.

    The file holds whole transcripts, so the project's ``pseudonyms.csv`` is applied unless
    ``pseudonymise`` is False.
    """
    from qualcode.pseudonyms import project_pseudonyms

    path = Path(path)
    _check_target(path, ".qdpx")
    namespace, is_new = _namespace(store)
    names = project_pseudonyms(store) if pseudonymise else None
    xml, files, result = project_xml(store, GuidMaker(namespace), coders or None, names)
    result.pseudonyms = len(names) if names else 0
    make_output_parent(path)
    if is_new:
        save_namespace(store, namespace, command)
    _write_zip_atomically(path, [(PROJECT_FILE, xml), *files])
    result.path = path
    return result
