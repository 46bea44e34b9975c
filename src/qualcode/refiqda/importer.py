"""Reading REFI-QDA files: a codebook (``.qdc``) into codebook YAML, a project (``.qdpx``) into a
new qualcode project.

Files from other tools are often slightly off the schema (an empty ``<Sets/>``, missing optional
attributes, GUIDs in braces, sources with CRLF line ends or a byte-order mark), so reading is
lenient: anything we can make sense of is taken, anything we cannot use is counted in
``skipped`` so the user hears about it. What would put a coding on the wrong characters (a
selection outside its source, positions that are not numbers) is an error instead.

Positions in a ``PlainTextSelection`` count Unicode code points of the source's plain text. The
store keeps text normalised (``\\n`` line ends, NFC), so every position is mapped from the file's
text to the normalised text before it is used.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from qualcode.codebook import code_id_from_name
from qualcode.errors import InputError, ProjectError
from qualcode.ingest.importer import with_default_interviewer_labels
from qualcode.ingest.turns import is_interviewer, paragraph_turns, split_turns
from qualcode.limits import MAX_CODE_DEPTH, check_file_size, check_zip_archive, read_zip_member
from qualcode.outputs import check_output_file, make_output_parent
from qualcode.refiqda.export import (
    CODE_IDS_HEADING,
    INACTIVE_SET_NAME,
    PROJECT_FILE,
    utc_moment,
)
from qualcode.refiqda.guids import is_guid
from qualcode.safexml import parse_xml
from qualcode.store import (
    AUTO_CODER,
    DB_NAME,
    Store,
    WriteTx,
    create_store,
    now_iso,
)
from qualcode.textfile import decode_bytes, normalise, replace_control_characters
from qualcode.textmap import PositionMap
from qualcode.textmap import normalise_with_map as _normalise_with_map

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
#: The coder layer for codings whose file names no user at all.
UNKNOWN_CODER = "imported"
_RGB = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")
_VALUE_TAGS = (
    "TextValue",
    "BooleanValue",
    "IntegerValue",
    "FloatValue",
    "DateValue",
    "DateTimeValue",
)
_VARIABLE_TYPES = ("Text", "Boolean", "Integer", "Float", "Date", "DateTime")
_MEDIA_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")
#: How every zip archive (so every .qdpx) begins.
_ZIP_SIGNATURE = b"PK\x03\x04"


# -- small helpers -----------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _key(guid: str | None) -> str:
    """A GUID as a lookup key: braces and case do not matter between tools."""
    return (guid or "").strip().strip("{}").upper()


def _kept_guid(key: str | None) -> str | None:
    """A GUID worth storing and writing back: only one of the schema's form (a tool may write
    anything in a GUID attribute; an export must not repeat it)."""
    return key if key and is_guid(key) else None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if child.tag == name]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if child.tag == name:
            return child
    return None


def _text(element: ET.Element | None) -> str:
    return "" if element is None else "".join(element.itertext()).strip()


def _color(value: str | None) -> str | None:
    """A colour as ``#rrggbb`` (``#rgb`` expanded), or None if it is not one."""
    value = (value or "").strip()
    if not _RGB.match(value):
        return None
    if len(value) == 4:
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value


def _parse_xml(data: bytes, where: str) -> ET.Element:
    """Parse XML and strip namespaces from tags, so files with an odd namespace still read.

    Entities and external references are refused and the depth is bounded (qualcode.safexml).
    """
    root = parse_xml(data, where)
    for element in root.iter():
        element.tag = _local(element.tag)
    # Code trees are read recursively and become codebook YAML: bound their depth first.
    stack = [(root, 0)]
    while stack:
        element, depth = stack.pop()
        if element.tag == "Code":
            depth += 1
            if depth > MAX_CODE_DEPTH:
                raise InputError(
                    f"codes nested more than {MAX_CODE_DEPTH} deep; qualcode takes code trees "
                    f"up to {MAX_CODE_DEPTH} levels",
                    path=where,
                    line=_line_of(data, element.get("guid") or "") if element.get("guid") else None,
                )
        stack.extend((child, depth) for child in element)
    return root


def _namespace(data: bytes) -> str | None:
    match = re.search(rb"<(?:\w+:)?(?:Project|CodeBook)\b[^>]*?\sxmlns=[\"']([^\"']*)[\"']", data)
    return match.group(1).decode("utf-8", "replace") if match else None


def _line_of(data: bytes, guid: str) -> int | None:
    """The line of the element with this GUID in the XML, for error messages."""
    index = data.find(guid.encode("utf-8"))
    return None if index < 0 else data.count(b"\n", 0, index) + 1


# -- code trees (shared by .qdc and .qde) --------------------------------------------------------


@dataclass
class CodeNode:
    """One code read from a file, with its qualcode id and path."""

    guid: str
    name: str
    description: str
    color: str | None
    id: str
    path: str
    children: list[CodeNode] = field(default_factory=list)
    inactive: bool = False
    codable: bool = True


def _read_codes(
    parent: ET.Element | None,
    skipped: Counter[str],
    parent_path: str = "",
    seen: set[str] | None = None,
    known: dict[str, str] | None = None,
) -> list[CodeNode]:
    """The code tree under ``parent``; ``known`` maps code GUIDs to qualcode paths to keep."""
    seen = set() if seen is None else seen
    known = known or {}
    nodes: list[CodeNode] = []
    if parent is None:
        return nodes
    for element in _children(parent, "Code"):
        guid = _key(element.get("guid"))
        if guid and guid in seen:
            skipped["codes with a GUID used twice (the second is skipped)"] += 1
            continue
        if guid:
            seen.add(guid)
        else:
            skipped["codes without a GUID (kept; codings cannot refer to them)"] += 1
        name = (element.get("name") or "").strip() or guid or "kode"
        siblings = [n.id for n in nodes]
        _old_parent, _, old_id = known.get(guid, "").rpartition("/")
        # A code qualcode knows keeps its id, even renamed (or moved) in the other tool.
        keep = old_id and old_id not in siblings
        code_id = old_id if keep else code_id_from_name(name, siblings)
        path = f"{parent_path}/{code_id}" if parent_path else code_id
        node = CodeNode(
            guid,
            name,
            _text(_child(element, "Description")),
            _color(element.get("color")),
            code_id,
            path,
        )
        if element.get("color") and node.color is None:
            skipped["colours that are not #rrggbb (left out)"] += 1
        # xsd:boolean: "false" or "0" (any case, for lenience) is a category that groups codes.
        node.codable = (element.get("isCodable") or "true").strip().casefold() not in ("false", "0")
        node.children = _read_codes(element, skipped, path, seen, known)
        nodes.append(node)
    return nodes


_CODE_ID_LINE = re.compile(
    r"^\s*\{?([0-9A-Fa-f-]{36})\}?\s*=\s*([^\s/][^/]*(?:/[^\s/][^/]*)*?)\s*$"
)


def _known_code_ids(description: str) -> dict[str, str]:
    """Code GUID -> path from the project description qualcode writes on export."""
    if CODE_IDS_HEADING not in description:
        return {}
    tail = description.split(CODE_IDS_HEADING, 1)[1]
    found = {}
    for line in tail.splitlines():
        match = _CODE_ID_LINE.match(line)
        if match:
            found[_key(match.group(1))] = match.group(2)
    return found


def walk_codes(nodes: Iterable[CodeNode]) -> Iterable[CodeNode]:
    """Every code of a tree, parents before children."""
    for node in nodes:
        yield node
        yield from walk_codes(node.children)


def codebook_yaml(name: str, codes: list[CodeNode], source: str) -> str:
    """Codebook YAML for a code tree: names, definitions and colours; matching rules empty."""
    import yaml

    def entry(node: CodeNode) -> dict:
        item: dict = {"id": node.id, "name": node.name, "description": node.description}
        if node.color:
            item["color"] = node.color
        if _kept_guid(node.guid):
            item["guid"] = node.guid
        if not node.codable:
            item["codable"] = False
        item["keywords"] = []
        children = [entry(child) for child in node.children if not child.inactive]
        if children:
            item["codes"] = children
        return item

    document = {"name": name, "codes": [entry(n) for n in codes if not n.inactive]}
    header = (
        f"# Codebook imported from {source} (REFI-QDA).\n"
        "# Names, definitions and colours come from the file; the matching rules (keywords,\n"
        "# compounds, patterns, ...) are empty: fill them in before auto-coding.\n"
        "# 'guid' is the code's id in REFI-QDA files: keep it, so the code stays the same code\n"
        "# when a file comes back from NVivo, ATLAS.ti, MAXQDA or QualCoder.\n"
    )
    return header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


# -- .qdc --------------------------------------------------------------------------------------


@dataclass
class CodebookImport:
    """A codebook read from a ``.qdc`` file."""

    name: str
    codes: list[CodeNode]
    skipped: dict[str, int]

    @property
    def count(self) -> int:
        """How many codes the tree holds."""
        return sum(1 for _ in walk_codes(self.codes))


def read_qdc(path: Path, known: dict[str, str] | None = None) -> CodebookImport:
    """Read a REFI-QDA codebook file, or the codebook of a project file (``.qdpx``).

    ``known`` maps code GUIDs to the paths a project already has: such codes keep their ids, so
    a codebook that went to another tool and came back (renamed or not) installs onto the same
    codes and no coding is orphaned.
    """
    path = Path(path)
    data = _read_file(path)
    skipped: Counter[str] = Counter()
    where = str(path)
    if data.startswith(_ZIP_SIGNATURE):
        # A project file: its CodeBook is the codebook (the project's own code ids, if qualcode
        # wrote it, come from its description).
        with _open_zip(path) as archive:
            member = _find_project_member(archive, path)
            data = _member(archive, path, member)
        where = f"{path}/{member}"
    root = _parse_xml(data, where)
    if root.tag == "Project":
        own_ids = _known_code_ids(_text(_child(root, "Description")))
        known = {**own_ids, **(known or {})}
        root = _child(root, "CodeBook") or ET.Element("CodeBook")
    elif root.tag != "CodeBook":
        raise InputError(f"not a REFI-QDA codebook: the root element is <{root.tag}>", path=path)
    namespace = _namespace(data)
    if namespace not in (CODEBOOK_NS, PROJECT_NS):
        skipped[f"unexpected namespace {namespace or '(none)'} (read anyway)"] += 1
    codes = _read_codes(_child(root, "Codes"), skipped, known=known)
    if not codes:
        raise InputError("the codebook holds no codes", path=path)
    sets = _child(root, "Sets")
    if sets is not None and len(sets):
        skipped["code sets (qualcode has no code sets)"] += len(_children(sets, "Set"))
    return CodebookImport(path.stem, codes, dict(skipped))


def import_qdc(
    path: Path, out: Path, *, overwrite: bool = False, known: dict[str, str] | None = None
) -> CodebookImport:
    """Write the codebook of a ``.qdc`` (or ``.qdpx``) file as qualcode codebook YAML at ``out``.

    ``known``: code GUID -> path in the current project (see :func:`read_qdc`).
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError("exists already; choose another name or pass --force", path=out)
    if out.is_dir():
        raise InputError("is a folder, not a file name", path=out)
    check_output_file(out)
    codebook = read_qdc(path, known)
    text = codebook_yaml(codebook.name, codebook.codes, Path(path).name)
    make_output_parent(out)  # only now: a bad codebook file leaves no new empty folder
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return codebook


def _read_file(path: Path) -> bytes:
    if not path.exists():
        raise InputError("no such file", path=path)
    if not path.is_file():
        raise InputError("not a file", path=path)
    check_file_size(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None


# -- positions ---------------------------------------------------------------------------------


def normalise_with_map(raw: str) -> tuple[str, PositionMap]:
    """The normalised text and a map from raw positions to its positions (qualcode.textmap)."""
    return _normalise_with_map(raw)


# -- .qdpx -------------------------------------------------------------------------------------


@dataclass
class _Selection:
    guid: str
    start: int  # in the normalised text
    end: int
    codings: list[tuple[str, str | None, str | None]]  # code guid, coder, memo
    notes: list[str]  # note guids on the selection
    description: str  # a memo on the selection itself (the turn), not on one coding
    coder: str | None  # the selection's own creating user, as a coder name


@dataclass
class _Source:
    guid: str
    name: str
    text: str
    sha256: str
    respondent: str
    selections: list[_Selection]
    description: str = ""


@dataclass
class _Note:
    text: str
    coder: str | None
    created: str | None


@dataclass
class ParsedProject:
    """Everything read from a ``.qdpx`` file, checked, before anything is written."""

    path: Path
    name: str
    codes: list[CodeNode]
    users: dict[str, str]  # guid key -> coder name
    respondents: dict[str, dict[str, str]]  # label -> attributes
    sources: list[_Source]
    notes: dict[str, _Note]
    notes_on_codes: dict[str, list[str]]  # code guid -> note guids
    default_coder: str
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    respondent_guids: dict[str, str] = field(default_factory=dict)  # label -> case guid
    respondent_memos: dict[str, str] = field(default_factory=dict)  # label -> description
    #: attribute name -> (typeOfVariable or None, the name as the file spelled it)
    variable_types: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    offsets: str = "code points"  # how the file counted positions


@dataclass
class ProjectImport:
    """What ``import qdpx`` created."""

    project: Path
    transcripts: int = 0
    turns: int = 0
    passages: int = 0
    codes: int = 0
    respondents: int = 0
    codings: dict[str, int] = field(default_factory=dict)
    memos: int = 0
    codebook_file: Path | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    offsets: str = "code points"


def _looks_like_xml(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            start = handle.read(64)
    except OSError:
        return False
    return start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise InputError("no such file", path=path)
    if not path.is_file():
        raise InputError("not a file", path=path)
    if not zipfile.is_zipfile(path):
        if path.suffix.casefold() == ".qdc" or _looks_like_xml(path):
            raise InputError(
                "this is a REFI-QDA codebook (.qdc, XML), not a project; "
                "use 'qualcode import qdc FILE -o CODEBOOK.yaml'",
                path=path,
            )
        raise InputError("not a REFI-QDA project (.qdpx files are zip archives)", path=path)
    check_file_size(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"cannot open the archive: {exc}", path=path) from None
    try:
        check_zip_archive(path, archive, kind=".qdpx file")
    except InputError:
        archive.close()
        raise
    return archive


def _member(archive: zipfile.ZipFile, path: Path, name: str) -> bytes:
    try:
        return read_zip_member(archive, path, name)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, RuntimeError, EOFError) as exc:
        raise InputError(f"cannot read {name} from the archive: {exc}", path=path) from None


def _find_project_member(archive: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in archive.namelist() if not n.endswith("/")]
    exact = [n for n in names if n.lower() == PROJECT_FILE]
    if exact:
        return exact[0]
    qde = [n for n in names if n.lower().endswith(".qde")]
    if len(qde) == 1:
        return qde[0]
    raise InputError(f"no {PROJECT_FILE} in the archive; is this a REFI-QDA project?", path=path)


def _source_member(archive: zipfile.ZipFile, reference: str) -> str | None:
    """The archive member an ``internal://`` (or bare) path names, matched leniently."""
    target = unquote(reference.split("://", 1)[-1]).lstrip("/").replace("\\", "/")
    names = [n for n in archive.namelist() if not n.endswith("/")]
    lowered = {n.lower(): n for n in names}
    for candidate in (f"sources/{target}", target):
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    base = PurePosixPath(target).name.lower()
    matches = [n for n in names if PurePosixPath(n).name.lower() == base]
    return matches[0] if len(matches) == 1 else None


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name} ({n})"
    taken.add(candidate)
    return candidate


def _int_attr(element: ET.Element, name: str, where: str, data: bytes) -> int:
    value = (element.get(name) or "").strip()
    guid = element.get("guid") or ""
    try:
        return int(value)
    except ValueError:
        raise InputError(
            f"selection {guid or '(no guid)'} has no valid {name} ({value or 'missing'})",
            path=where,
            line=_line_of(data, guid) if guid else None,
        ) from None


def _values(
    element: ET.Element, variables: dict[str, str], skipped: Counter[str]
) -> dict[str, str]:
    """The ``VariableValue`` children of a case or source as attribute name -> value."""
    found: dict[str, str] = {}
    for holder in _children(element, "VariableValue"):
        ref = _child(holder, "VariableRef")
        name = variables.get(_key(ref.get("targetGUID") if ref is not None else ""))
        value = next((_text(c) for c in holder if c.tag in _VALUE_TAGS), "")
        if not name:
            skipped["variable values of unknown variables"] += 1
        elif value:
            found[name] = value
    return found


def store_time(value: str | None) -> str | None:
    """A date-time from a file as the store writes times (UTC, ``+00:00``); None if unreadable.

    Files write ``Z`` (QualCoder, qualcode), an offset, or no zone (taken as UTC).
    """
    moment = utc_moment(value)
    return None if moment is None else moment.isoformat(timespec="seconds")


# -- how a producer counts positions -------------------------------------------------------------

CODE_POINTS = "code points"
UTF16 = "UTF-16 code units"


def counts_utf16(origin: str) -> bool:
    """True if the producer named by a project's ``origin`` counts UTF-16 code units.

    NVivo for Windows (a .NET program) does; NVivo for Mac, ATLAS.ti, MAXQDA, QualCoder and
    qualcode count code points, as the standard says.
    """
    lowered = origin.casefold()
    if "utf-16" in lowered:  # qualcode's own export for NVivo says so
        return True
    return "nvivo" in lowered and not any(m in lowered for m in ("mac", "os x", "osx"))


def counts_crlf_as_one(origin: str) -> bool:
    """True if the producer counts a Windows line end (CR LF) in its source files as one position.

    ATLAS.ti writes sources with CR LF but counts each line end once, as Windows rich-text editors
    do; MAXQDA likewise, and QualCoder's export with Windows line ends keeps its LF positions.
    NVivo counts both characters of what the file holds.
    """
    lowered = origin.casefold()
    if "crlf counting" in lowered:  # qualcode's own export says which
        return "crlf counting one" in lowered
    return any(name in lowered for name in ("atlas", "maxqda", "qualcoder"))


@dataclass(frozen=True)
class Reading:
    """How a file counts positions in its source text."""

    utf16: bool = False  # UTF-16 code units instead of code points
    crlf_as_one: bool = False  # a CR LF line end counts as one position

    def describe(self) -> str:
        """In words, for messages and the import report."""
        counted = UTF16 if self.utf16 else CODE_POINTS
        return f"{counted}, a CR LF line end counting one" if self.crlf_as_one else counted


def position_map(text: str, reading: Reading) -> list[int]:
    """For every position ``0..n`` as ``reading`` counts ``text``, the code point offset.

    A position between the halves of a surrogate pair maps after the character; one between
    the CR and LF of a line end counted as one maps before the line end.
    """
    result: list[int] = []
    i, n = 0, len(text)
    while i < n:
        result.append(i)
        ch = text[i]
        if reading.crlf_as_one and ch == "\r" and i + 1 < n and text[i + 1] == "\n":
            i += 2
            continue
        if reading.utf16 and ord(ch) > 0xFFFF:
            result.append(i + 1)
        i += 1
    result.append(n)
    return result


def utf16_to_code_points(text: str) -> list[int]:
    """For every UTF-16 code unit offset ``0..len`` of ``text``, the code point offset."""
    return position_map(text, Reading(utf16=True))


def _at_word_edge(text: str, position: int) -> bool:
    """True if ``position`` does not cut a word (or a run of digits) in two."""
    if position <= 0 or position >= len(text):
        return True
    return not (text[position - 1].isalnum() and text[position].isalnum())


def _edge_score(text: str, ranges: list[tuple[int, int]]) -> int | None:
    """How many selection edges fall between words; None if a range lies outside the text."""
    score = 0
    for start, end in ranges:
        if not 0 <= start <= end <= len(text):
            return None
        score += _at_word_edge(text, start) + _at_word_edge(text, end)
    return score


@dataclass
class _PendingSource:
    """A text source read, with its selections' positions not yet interpreted."""

    element: ET.Element
    guid: str
    display: str
    raw: str  # the file's text, byte-order mark removed
    raw_bytes: bytes
    selections: list[tuple[ET.Element, int, int]]


class _ProjectReader:
    """Reads one ``project.qde`` and the sources it names; raises on what cannot be used."""

    def __init__(self, path: Path, archive: zipfile.ZipFile, member: str, data: bytes):
        self.path = path
        self.archive = archive
        self.where = f"{path}/{member}"
        self.data = data
        self.skipped: Counter[str] = Counter()
        self.warnings: list[str] = []
        self.users: dict[str, str] = {}
        self.notes: dict[str, _Note] = {}
        self.variables: dict[str, str] = {}
        self.variable_types: dict[str, tuple[str | None, str]] = {}
        self.respondents: dict[str, dict[str, str]] = {}
        self.respondent_guids: dict[str, str] = {}
        self.respondent_memos: dict[str, str] = {}
        self.labels: set[str] = set()
        self.source_owner: dict[str, str] = {}
        self.code_guids: set[str] = set()
        self.source_names: set[str] = set()
        self.reading = Reading()
        self.coding_notes: set[str] = set()  # notes that are a coding's memo
        self.media: dict[str, list[int]] = {}  # kind -> [sources, codings] skipped

    def coder_for(self, *guids: str | None) -> str | None:
        """The coder name of the first user GUID given (the GUID itself if no such user)."""
        for guid in guids:
            key = _key(guid)
            if key:
                return self.users.get(key, key)
        return None

    def read(self) -> ParsedProject:
        root = _parse_xml(self.data, self.where)
        if root.tag != "Project":
            raise InputError(
                f"not a REFI-QDA project: the root element is <{root.tag}>", path=self.where
            )
        namespace = _namespace(self.data)
        if namespace != PROJECT_NS:
            self.skipped[f"unexpected namespace {namespace or '(none)'} (read anyway)"] += 1
        empty = ET.Element("none")
        self._users(_child(root, "Users") or empty)
        codes = _read_codes(
            _child(_child(root, "CodeBook") or empty, "Codes"),
            self.skipped,
            known=_known_code_ids(_text(_child(root, "Description"))),
        )
        self.code_guids = {node.guid for node in walk_codes(codes) if node.guid}
        self._sets(_child(root, "Sets") or empty, codes)
        for part, label in (("Links", "Link"), ("Graphs", "Graph")):
            count = len(_children(_child(root, part) or empty, label))
            if count:
                self.skipped[f"{part.lower()} (qualcode has no {part.lower()})"] += count
        self._notes(_child(root, "Notes") or empty)
        for variable in _children(_child(root, "Variables") or empty, "Variable"):
            # qualcode's attribute names are case-folded (reports find them in any case); the
            # name as written ("Bransje") is kept and goes back out on export.
            label = " ".join((variable.get("name") or "").split())
            if not label:
                self.skipped["variables without a name"] += 1
                continue
            name = label.casefold()
            self.variables[_key(variable.get("guid"))] = name
            kind = (variable.get("typeOfVariable") or "").strip()
            self.variable_types[name] = (kind if kind in _VARIABLE_TYPES else None, label)
        self._cases(_child(root, "Cases") or empty)

        pending: list[_PendingSource] = []
        for element in _child(root, "Sources") or empty:
            if element.tag in _MEDIA_SOURCES:
                self._skip_media(element)
            elif element.tag == "TextSource":
                found = self._pending_source(element)
                if found is not None:
                    pending.append(found)
        for kind, (count, codings) in self.media.items():
            held = f" holding {codings} coding{'s' * (codings != 1)}" if codings else ""
            self.warnings.append(
                f"skipped {count} {'PDF' if kind == 'PDF' else kind.lower()} "
                f"source{'s' * (count != 1)}{held} (qualcode reads text only)"
            )
        self._choose_offsets(pending, (root.get("origin") or "").strip())
        sources = [s for s in (self._source(p) for p in pending) if s is not None]
        if not sources:
            if not codes:
                raise InputError(
                    "the project holds no text sources and no codes qualcode can read",
                    path=self.where,
                )
            self.warnings.append(
                f"{self.path.name} holds no text qualcode can read (a codebook-only project, as "
                "NVivo for Mac and ATLAS.ti write one): imported its codebook, users and cases"
            )

        code_notes = _code_notes(root, self.notes)
        used = {g for s in sources for sel in s.selections for g in sel.notes}
        used |= self.coding_notes
        used |= {g for guids in code_notes.values() for g in guids}
        unused = [g for g in self.notes if g not in used]
        if unused:
            self.skipped["notes not attached to a selection, coding or code (project memos)"] += (
                len(unused)
            )
        return ParsedProject(
            path=self.path,
            name=(root.get("name") or "").strip() or self.path.stem,
            codes=codes,
            users=self.users,
            respondents=self.respondents,
            sources=sources,
            notes=self.notes,
            notes_on_codes=code_notes,
            default_coder=self.coder_for(root.get("creatingUserGUID")) or UNKNOWN_CODER,
            skipped=self.skipped,
            warnings=self.warnings,
            respondent_guids=self.respondent_guids,
            respondent_memos=self.respondent_memos,
            variable_types=self.variable_types,
            offsets=self.reading.describe(),
        )

    def _skip_media(self, element: ET.Element) -> None:
        """Count a source qualcode cannot read, and the codings it holds."""
        counts = self.media.setdefault(element.tag.removesuffix("Source"), [0, 0])
        counts[0] += 1
        counts[1] += sum(1 for _ in element.iter("Coding"))

    def _users(self, holder: ET.Element) -> None:
        taken: set[str] = set()
        for user in _children(holder, "User"):
            guid = _key(user.get("guid"))
            if not guid or guid in self.users:
                continue
            name = " ".join((user.get("name") or "").split()) or guid
            if name in taken:  # two users of the same name stay two layers
                name = f"{name} ({guid[:8]})"
            taken.add(name)
            self.users[guid] = name

    def _sets(self, holder: ET.Element, codes: list[CodeNode]) -> None:
        for group in _children(holder, "Set"):
            if (group.get("name") or "").strip() != INACTIVE_SET_NAME:
                self.skipped["sets (qualcode has no sets)"] += 1
                continue
            members = {
                _key(m.get("targetGUID") or m.get("guid")) for m in _children(group, "MemberCode")
            }
            for node in walk_codes(codes):
                if node.guid in members:
                    node.inactive = True

    def _notes(self, holder: ET.Element) -> None:
        for note in _children(holder, "Note"):
            guid = _key(note.get("guid"))
            text = _text(_child(note, "PlainTextContent"))
            reference = note.get("plainTextPath")
            if not text and reference:
                member = _source_member(self.archive, reference)
                if member:
                    raw = _member(self.archive, self.path, member)
                    text = normalise(decode_bytes(raw, Path(f"{self.path}/{member}")).text)
                    text = text.removeprefix("\ufeff").strip()
            if guid and text:
                self.notes[guid] = _Note(
                    text,
                    self.coder_for(note.get("creatingUser")),
                    store_time(note.get("creationDateTime")),
                )

    def _cases(self, holder: ET.Element) -> None:
        for number, case in enumerate(_children(holder, "Case"), start=1):
            name = " ".join((case.get("name") or "").split()) or f"case-{number}"
            label = _unique(name, self.labels)
            self.respondents[label] = _values(case, self.variables, self.skipped)
            if _key(case.get("guid")):
                self.respondent_guids[label] = _key(case.get("guid"))
            description = _text(_child(case, "Description"))
            if description:
                self.respondent_memos[label] = normalise(description)
            for ref in _children(case, "SourceRef"):
                key = _key(ref.get("targetGUID"))
                if key in self.source_owner:
                    self.skipped["sources in more than one case (the first case owns them)"] += 1
                else:
                    self.source_owner[key] = label
            if _children(case, "SelectionRef") or _children(case, "CodeRef"):
                self.skipped["case links to selections or codes (only whole sources are used)"] += 1

    def _source_text(self, element: ET.Element, display: str) -> tuple[str, bytes] | None:
        inline = _child(element, "PlainTextContent")
        reference = element.get("plainTextPath")
        if inline is not None and inline.text:
            return inline.text, inline.text.encode("utf-8")
        if not reference:
            self.skipped["text sources without text (no plainTextPath or PlainTextContent)"] += 1
            return None
        member = _source_member(self.archive, reference)
        if member is None:
            if not reference.lower().startswith("internal://"):
                self.skipped["sources outside the archive (relative:// or absolute:// paths)"] += 1
                return None
            raise InputError(
                f"source '{display}' names {reference}, which is not in the archive",
                path=self.where,
                line=_line_of(self.data, element.get("guid") or display),
            )
        raw = _member(self.archive, self.path, member)
        return decode_bytes(raw, Path(f"{self.path}/{member}")).text, raw

    def _pending_source(self, element: ET.Element) -> _PendingSource | None:
        guid = _key(element.get("guid"))
        display = (element.get("name") or "").strip()
        if not display:
            # A nameless source is known by its file name (ATLAS.ti, older MAXQDA), not its GUID.
            reference = element.get("richTextPath") or element.get("plainTextPath") or ""
            file_name = PurePosixPath(unquote(reference.split("://", 1)[-1]).replace("\\", "/"))
            display = file_name.name if file_name.stem and _key(file_name.stem) != guid else ""
            display = display or guid or "source"
        found = self._source_text(element, display)
        if found is None:
            return None
        raw, raw_bytes = found
        raw = raw.removeprefix("\ufeff")  # positions never count a byte-order mark
        selections = [
            (
                sel,
                _int_attr(sel, "startPosition", self.where, self.data),
                _int_attr(sel, "endPosition", self.where, self.data),
            )
            for sel in _children(element, "PlainTextSelection")
        ]
        return _PendingSource(element, guid, display, raw, raw_bytes, selections)

    def _choose_offsets(self, sources: list[_PendingSource], origin: str) -> None:
        """Decide how the file counts positions: code points or UTF-16 code units, and a CR LF
        line end as two positions or one.

        The readings differ only after a character outside the Basic Multilingual Plane (an
        emoji), or after a CR LF. The producer decides the default (NVivo for Windows: UTF-16;
        ATLAS.ti: a line end counts one); when the text gives the readings a chance to differ,
        the one that puts more selection edges between words wins (the default on a tie), and a
        warning says which was used when emoji made it matter or the default lost.
        """
        default = Reading(counts_utf16(origin), counts_crlf_as_one(origin))
        self.reading = default
        with_selections = [s for s in sources if s.selections]
        emoji = any(any(ord(c) > 0xFFFF for c in s.raw) for s in with_selections)
        crlf = any("\r\n" in s.raw for s in with_selections)
        if not emoji and not crlf:
            return
        candidates = [
            Reading(utf16, crlf_as_one)
            for utf16 in ({default.utf16, not default.utf16} if emoji else {default.utf16})
            for crlf_as_one in (
                {default.crlf_as_one, not default.crlf_as_one} if crlf else {default.crlf_as_one}
            )
        ]
        scores: dict[Reading, int | None] = {}
        ranges: dict[Reading, list[tuple[int, int]]] = {}
        for reading in candidates:
            total: int | None = 0
            found: list[tuple[int, int]] = []
            for source in with_selections:
                mapping = position_map(source.raw, reading)
                converted = [
                    (mapping[a], mapping[b]) if 0 <= a <= b < len(mapping) else (-1, -1)
                    for _, a, b in source.selections
                ]
                found.extend(converted)
                score = _edge_score(source.raw, converted)
                total = None if total is None or score is None else total + score
            scores[reading], ranges[reading] = total, found
        if all(ranges[r] == ranges[default] for r in candidates):
            return  # every reading gives the same positions
        fitting = [r for r in candidates if scores[r] is not None]
        if not fitting:
            return  # nothing fits: the first selection outside its source is the error
        chosen = max(
            fitting,
            key=lambda r: (
                scores[r],
                (r.utf16 == default.utf16) + (r.crlf_as_one == default.crlf_as_one),
            ),
        )
        self.reading = chosen
        edges = 2 * len(ranges[chosen])
        why = f"origin '{origin}'" if origin else "no origin given"
        others = "; ".join(
            f"{r.describe()}: {scores[r] if scores[r] is not None else 'outside the text'}"
            for r in candidates
            if r != chosen
        )
        if emoji and ranges[Reading(not chosen.utf16, chosen.crlf_as_one)] != ranges[chosen]:
            self.warnings.append(
                f"the text holds characters outside the Basic Multilingual Plane (emoji), so "
                f"positions depend on how {self.path.name} counts them ({why}): read as "
                f"{chosen.describe()}, which puts {scores[chosen]} of {edges} selection edges "
                f"between words (other readings: {others})"
            )
        elif chosen != default:
            self.warnings.append(
                f"{self.path.name} ({why}) counts positions as {chosen.describe()}, not as its "
                f"producer usually does: that puts {scores[chosen]} of {edges} selection edges "
                f"between words (other readings: {others})"
            )

    def _source(self, pending: _PendingSource) -> _Source | None:
        element, guid, display, raw = pending.element, pending.guid, pending.display, pending.raw
        text, position = normalise_with_map(raw)
        # Same length, so no selection moves; Word and Excel files could not hold them.
        text, replaced = replace_control_characters(text, f"{self.path}/{display}")
        for message in replaced:
            self.skipped[message] += 1
        if not text.strip():
            self.skipped["empty text sources"] += 1
            return None
        owner = self.source_owner.get(guid)
        if owner is None:
            owner = _unique(PurePosixPath(display).stem or display, self.labels)
            self.respondents[owner] = {}
        # Source variables (NVivo's file classifications) describe the interview: they become
        # attributes of its respondent unless the case says otherwise.
        for name, value in _values(element, self.variables, self.skipped).items():
            self.respondents[owner].setdefault(name, value)

        units = position_map(raw, self.reading) if self.reading != Reading() else None
        selections = []
        for sel, start, end in pending.selections:
            if units is not None:
                if not 0 <= start <= end < len(units):
                    self._outside(sel, start, end, display, len(units) - 1)
                start, end = units[start], units[end]
            selection = self._selection(sel, start, end, raw, text, position, display)
            if selection is not None:
                selections.append(selection)
        whole = len(_children(element, "Coding"))
        if whole:
            self.skipped["codings of whole sources (not of a text selection)"] += whole
        source_notes = len(_children(element, "NoteRef"))
        if source_notes:
            self.skipped["notes on whole sources"] += source_notes
        return _Source(
            guid,
            _unique(display, self.source_names),
            text,
            hashlib.sha256(pending.raw_bytes).hexdigest(),
            owner,
            selections,
            normalise(_text(_child(element, "Description"))),
        )

    def _outside(self, sel: ET.Element, start: int, end: int, display: str, length: int) -> None:
        guid = sel.get("guid") or ""
        raise InputError(
            f"selection {guid or '(no guid)'} ({start}–{end}) lies outside its source "
            f"'{display}' ({length} positions as {self.reading.describe()})",
            path=self.where,
            line=_line_of(self.data, guid) if guid else None,
        )

    def _selection(
        self,
        sel: ET.Element,
        start: int,
        end: int,
        raw: str,
        text: str,
        position: list[int],
        display: str,
    ) -> _Selection | None:
        guid = sel.get("guid") or ""
        if not 0 <= start <= end <= len(raw):
            self._outside(sel, start, end, display, len(raw))
        # Whitespace at the edges is not part of what was coded; trimming it lets a selection
        # of a whole turn (often taken with its line end) land on the turn itself.
        a, b = position[start], position[end]
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a == b:
            self.skipped["empty selections"] += 1
            return None
        codings: list[tuple[str, str | None, str | None]] = []
        for coding in _children(sel, "Coding"):
            ref = _child(coding, "CodeRef")
            code_guid = _key(ref.get("targetGUID") if ref is not None else "")
            if code_guid not in self.code_guids:
                self.skipped["codings of codes that are not in the codebook"] += 1
                continue
            coder = self.coder_for(coding.get("creatingUser"), sel.get("creatingUser"))
            memo_refs = [_key(r.get("targetGUID")) for r in _children(coding, "NoteRef")]
            memo_refs = [g for g in memo_refs if g in self.notes]
            self.coding_notes.update(memo_refs)
            memo = "\n\n".join(self.notes[g].text for g in memo_refs) or None
            codings.append((code_guid, coder, memo))
        description = normalise(_text(_child(sel, "Description")))
        if description and len(codings) == 1:
            # QualCoder, MAXQDA and ATLAS.ti keep a coding's memo in its selection's Description
            # (one coding per selection); a NoteRef memo on the coding comes first.
            code_guid, coder, memo = codings[0]
            codings[0] = (code_guid, coder, f"{memo}\n\n{description}" if memo else description)
            description = ""
        note_refs = [_key(r.get("targetGUID")) for r in _children(sel, "NoteRef")]
        missing = sum(1 for g in note_refs if g not in self.notes)
        if missing:
            self.skipped["references to notes that are not in the file"] += missing
        return _Selection(
            guid,
            a,
            b,
            codings,
            [g for g in note_refs if g in self.notes],
            description,
            self.coder_for(sel.get("creatingUser")),
        )


def read_qdpx(path: Path) -> ParsedProject:
    """Read and check a REFI-QDA project file without writing anything."""
    path = Path(path)
    with _open_zip(path) as archive:
        member = _find_project_member(archive, path)
        data = _member(archive, path, member)
        return _ProjectReader(path, archive, member, data).read()


def _code_notes(root: ET.Element, notes: dict[str, _Note]) -> dict[str, list[str]]:
    """Code guid -> guids of the notes on that code."""
    result: dict[str, list[str]] = {}
    codebook = _child(root, "CodeBook")
    if codebook is None:
        return result
    for code in codebook.iter("Code"):
        refs = [_key(r.get("targetGUID")) for r in _children(code, "NoteRef")]
        refs = [r for r in refs if r in notes]
        if refs and code.get("guid"):
            result[_key(code.get("guid"))] = refs
    return result


# -- writing the project -----------------------------------------------------------------------


#: The role of text before a source's first speaker label (a heading, a date): kept as a segment,
#: since codings may point into it, but neither the interviewer's nor a respondent's speech.
HEADER_ROLE = "other"


def _turns_for(
    source: _Source, interviewer_labels: list[str], warnings: list[str]
) -> list[tuple[str, str | None, int, int, float | None]]:
    """The source's turns as ``(speaker, role or None, start, end, time)``, split as ``ingest``
    splits a transcript; text before the first label is a turn of its own (role ``other``)."""
    text = source.text
    split = split_turns(text, interviewer_labels)
    if not split.turns:
        return [
            (source.respondent, None, t.char_start, t.char_end, None)
            for t in paragraph_turns(text, source.respondent)
        ]
    turns: list[tuple[str, str | None, int, int, float | None]] = []
    header = text[: split.header_end]
    if header.strip():
        start = len(header) - len(header.lstrip())
        end = len(header.rstrip())
        turns.append((source.respondent, HEADER_ROLE, start, end, None))
        warnings.append(
            f"{source.name}: the {len(header.strip())} characters before the first speaker label "
            f"are kept as a segment of their own (role {HEADER_ROLE})"
        )
    turns.extend((t.speaker, None, t.char_start, t.char_end, t.start_time) for t in split.turns)
    for label in split.unconfirmed:
        warnings.append(
            f"{source.name}: '{label}:' starts a line only once, so it is read as text, not as a "
            f"speaker; if it is the interviewer, import again with --interviewer {label}"
        )
    return turns


def _write_project(
    store: Store,
    parsed: ParsedProject,
    report: ProjectImport,
    command: str,
    interviewer_labels: list[str],
    extra_labels: bool,
) -> None:
    with store.write(command, coder=None) as tx:
        conn = tx.conn
        if extra_labels:
            store.set_setting(tx, "interviewer_labels", interviewer_labels)
        respondent_ids: dict[str, int] = {}
        for label, attributes in parsed.respondents.items():
            rid = int(
                conn.execute(
                    "INSERT INTO respondents (label, guid, memo) VALUES (?, ?, ?)",
                    (
                        label,
                        _kept_guid(parsed.respondent_guids.get(label)),
                        parsed.respondent_memos.get(label),
                    ),
                ).lastrowid
                or 0
            )
            respondent_ids[label] = rid
            for name, value in sorted(attributes.items()):
                conn.execute(
                    "INSERT INTO respondent_attributes (respondent_id, name, value) VALUES (?, ?, ?)",
                    (rid, name, value),
                )
        report.respondents = len(respondent_ids)
        used_names = {n for attributes in parsed.respondents.values() for n in attributes}
        for name, (kind, label) in sorted(parsed.variable_types.items()):
            if name in used_names:
                conn.execute(
                    "INSERT INTO attribute_types (name, type, label) VALUES (?, ?, ?)"
                    " ON CONFLICT(name) DO NOTHING",
                    (name, kind, label if label != name else None),
                )

        path_by_guid = _write_codes(store, tx, parsed, report)
        layers: dict[str, int] = {}
        user_guids = {name: guid for guid, name in parsed.users.items()}

        def layer(name: str | None) -> str:
            coder = name or parsed.default_coder
            if coder not in layers:
                store.ensure_coder(tx, coder)
                if _kept_guid(user_guids.get(coder)):
                    conn.execute(
                        "UPDATE coders SET guid = ? WHERE name = ?", (user_guids[coder], coder)
                    )
                layers[coder] = 0
            return coder

        for name in parsed.users.values():  # every user is a layer, even one with no codings
            layer(name)
        imported = now_iso()
        merged = 0
        for source in parsed.sources:
            owner_id = respondent_ids[source.respondent]
            tid = int(
                conn.execute(
                    "INSERT INTO transcripts (respondent_id, name, format, sha256, text,"
                    " imported_at, guid, memo) VALUES (?, ?, 'qdpx', ?, ?, ?, ?, ?)",
                    (
                        owner_id,
                        source.name,
                        source.sha256,
                        source.text,
                        imported,
                        _kept_guid(source.guid),
                        source.description or None,
                    ),
                ).lastrowid
                or 0
            )
            report.transcripts += 1
            places = _write_segments(
                conn, tid, owner_id, source, respondent_ids, report, interviewer_labels
            )
            coders_here: set[str] = set()
            for sel in source.selections:
                targets = places.get((sel.start, sel.end), [])
                if not targets:
                    report.skipped["selections on a speaker label or between turns"] = (
                        report.skipped.get("selections on a speaker label or between turns", 0) + 1
                    )
                    continue
                for code_guid, coder, memo in sel.codings:
                    name = layer(coder)
                    coders_here.add(name)
                    report.memos += bool(memo)
                    for seg_id, quote in targets:
                        extra = {"quote": quote} if quote is not None else {}
                        if store.add_coding(
                            tx,
                            seg_id,
                            path_by_guid[code_guid],
                            name,
                            source="auto" if name == AUTO_CODER else "manual",
                            memo=memo,
                            **extra,
                        ):
                            layers[name] += 1
                        else:
                            merged += 1
                        report.passages += quote is not None
                texts = [
                    (
                        parsed.notes[g].text,
                        parsed.notes[g].coder or sel.coder,
                        parsed.notes[g].created,
                    )
                    for g in sel.notes
                ]
                if sel.description:
                    texts.append((sel.description, sel.coder, None))
                for memo_text, coder, created in texts:
                    conn.execute(
                        "INSERT INTO memos (segment_id, coder, text, created_at) VALUES (?, ?, ?, ?)",
                        (targets[0][0], coder, memo_text, created or imported),
                    )
                    report.memos += 1
            # The other tool's coders coded this source: it counts as done by them (issue 12).
            for name in sorted(coders_here - {AUTO_CODER}):
                store.set_done(tx, tid, name, True)
        if merged:
            report.skipped["codings given twice or overlapping (merged)"] = merged
        for code_guid, note_guids in parsed.notes_on_codes.items():
            if code_guid not in path_by_guid:
                continue
            code_id = store.code_id(path_by_guid[code_guid])
            for guid in note_guids:
                note = parsed.notes[guid]
                conn.execute(
                    "INSERT INTO memos (code_id, coder, text, created_at) VALUES (?, ?, ?, ?)",
                    (code_id, note.coder, note.text, note.created or imported),
                )
                report.memos += 1
        report.codings = {name: count for name, count in sorted(layers.items()) if count}
        if UNKNOWN_CODER in layers and UNKNOWN_CODER not in parsed.users.values():
            report.warnings.append(
                f"{layers[UNKNOWN_CODER]} codings name no user; they are in the layer "
                f"'{UNKNOWN_CODER}'"
            )
        tx.audit(
            "import_qdpx",
            detail={
                "file": str(parsed.path),
                "transcripts": report.transcripts,
                "turns": report.turns,
                "passages": report.passages,
                "offsets": parsed.offsets,
                "codes": report.codes,
                "codings": report.codings,
                "memos": report.memos,
                "skipped": report.skipped,
            },
        )



def _write_codes(
    store: Store, tx: WriteTx, parsed: ParsedProject, report: ProjectImport
) -> dict[str, str]:
    path_by_guid: dict[str, str] = {}
    nodes = list(walk_codes(parsed.codes))
    if not nodes:
        return path_by_guid
    content = codebook_yaml(parsed.name, parsed.codes, parsed.path.name)
    version_id = int(
        tx.conn.execute(
            "INSERT INTO codebook_versions (name, source_path, sha256, content, loaded_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                parsed.name,
                str(parsed.path),
                hashlib.sha256(content.encode("utf-8")).hexdigest(),
                content,
                now_iso(),
            ),
        ).lastrowid
        or 0
    )
    # Sort order as installing the YAML would give (file order), codes kept inactive after them.
    ordered = [n for n in nodes if not n.inactive] + [n for n in nodes if n.inactive]
    order = {id(node): i for i, node in enumerate(ordered)}
    for node in nodes:  # parents before children
        store.upsert_code(
            tx,
            node.path,
            name=node.name,
            description=node.description,
            color=node.color,
            sort_order=order[id(node)],
            codebook_version_id=version_id,
            guid=_kept_guid(node.guid),
            codable=node.codable,
        )
        if node.inactive:
            tx.conn.execute("UPDATE codes SET active = 0 WHERE path = ?", (node.path,))
        if node.guid:
            path_by_guid[node.guid] = node.path
    report.codes = len(nodes)
    return path_by_guid


def _write_segments(
    conn,
    tid: int,
    owner_id: int,
    source: _Source,  # type: ignore[no-untyped-def]
    respondent_ids: dict[str, int],
    report: ProjectImport,
    interviewer_labels: list[str],
) -> dict[tuple[int, int], list[tuple[int, tuple[int, int] | None]]]:
    """Store the turns of one source; returns, for every selection range, where its codings go:
    ``(segment id, passage)`` per turn it covers, the passage None where it is the whole turn.

    A selection that is part of a turn becomes a passage of that turn (split per turn when it
    spans several); the source gets exactly its turns, no extra segments.
    """
    insert = (
        "INSERT INTO segments (transcript_id, respondent_id, position, speaker, role, char_start,"
        " char_end, start_time, end_time, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    text = source.text
    turns = _turns_for(source, interviewer_labels, report.warnings)
    stored: list[tuple[int, int, int]] = []  # (start, end, segment id), in text order
    for position, (speaker, fixed_role, start, end, time) in enumerate(turns, start=1):
        if fixed_role is not None:
            role, rid = fixed_role, owner_id
        elif is_interviewer(speaker, interviewer_labels):
            role, rid = "interviewer", owner_id
        else:
            role, rid = "respondent", respondent_ids.get(speaker, owner_id)
        seg_id = int(
            conn.execute(
                insert, (tid, rid, position, speaker, role, start, end, time, None, text[start:end])
            ).lastrowid
            or 0
        )
        stored.append((start, end, seg_id))
    report.turns += len(turns)
    places: dict[tuple[int, int], list[tuple[int, tuple[int, int] | None]]] = {}
    ends = [t_end for _, t_end, _ in stored]  # increasing: turns are in text order
    for sel in source.selections:
        key = (sel.start, sel.end)
        if key in places:
            continue
        found: list[tuple[int, tuple[int, int] | None]] = []
        first = bisect.bisect_right(ends, sel.start)  # the first turn ending after the start
        for t_start, t_end, seg_id in stored[first:]:
            if t_start >= sel.end:
                break
            a, b = max(sel.start, t_start), min(sel.end, t_end)
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a >= b:
                continue
            found.append(
                (seg_id, None if (a, b) == (t_start, t_end) else (a - t_start, b - t_start))
            )
        places[key] = found
    return places


#: Name start of the folder an import builds its project in (beside the target folder).
STAGING_PREFIX = ".qualcode-import-staging."
#: A staging folder in the old naming (".NAME.import-…", no process id) older than this is stale.
_OLD_STAGING_SECONDS = 3600


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: leave its folder alone
    return True


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove staging folders of imports that were killed (their process is gone); returns them.

    They hold a partial store with transcript text, which must not lie about.
    """
    import time

    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        stale = False
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir():
            pid_text = entry.name[len(STAGING_PREFIX) :].rsplit(".", 2)[-2:-1]
            stale = bool(pid_text) and pid_text[0].isdigit() and not _process_alive(int(pid_text[0]))
        elif re.fullmatch(r"\..+\.import-[A-Za-z0-9_]+", entry.name) and entry.is_dir():
            try:
                old = time.time() - entry.stat().st_mtime > _OLD_STAGING_SECONDS
            except OSError:
                old = False
            stale = old and (entry / DB_NAME).exists()
        if stale:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def import_qdpx(
    path: Path,
    folder: Path,
    *,
    interviewer_labels: Iterable[str] = (),
    command: str = "import qdpx",
) -> ProjectImport:
    """Create a new project in ``folder`` from a REFI-QDA project file, all or nothing.

    Sources are split into turns as ``ingest`` splits transcripts; ``interviewer_labels`` are added
    to the default interviewer labels and kept as the new project's setting.
    """
    extra = [label.strip() for label in interviewer_labels if label.strip()]
    labels = with_default_interviewer_labels(extra)
    path, folder = Path(path), Path(folder)
    if (folder / DB_NAME).exists():
        raise ProjectError(
            "already holds a qualcode project; import into a new folder", path=folder
        )
    if folder.exists() and not folder.is_dir():
        raise ProjectError("exists and is not a folder", path=folder)
    parent = folder.resolve().parent
    if not parent.is_dir():
        raise ProjectError("the parent folder does not exist", path=parent)
    parsed = read_qdpx(path)

    report = ProjectImport(
        project=folder,
        skipped=dict(parsed.skipped),
        warnings=list(parsed.warnings),
        offsets=parsed.offsets,
    )
    # Built in a hidden folder beside the target and moved into place at the end, so a failure
    # leaves no half-made project behind. A killed import leaves its folder: removed here.
    remove_stale_staging(parent)
    staging = Path(
        tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{folder.name}.{os.getpid()}.", dir=parent)
    )
    try:
        # mkdtemp makes the folder private; a project folder gets the user's usual permissions.
        umask = os.umask(0o022)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        store = create_store(staging)
        try:
            _write_project(store, parsed, report, command, labels, bool(extra))
        finally:
            store.close()
        if parsed.codes:
            codebooks = staging / "codebooks"
            codebooks.mkdir()
            slug = code_id_from_name(parsed.name)
            target = codebooks / f"{slug}.yaml"
            target.write_text(codebook_yaml(parsed.name, parsed.codes, path.name), encoding="utf-8")
            report.codebook_file = folder / "codebooks" / target.name
        if folder.exists():
            for item in staging.iterdir():
                if (folder / item.name).exists():
                    raise ProjectError(f"{item.name} exists already in the folder", path=folder)
            for item in staging.iterdir():
                os.replace(item, folder / item.name)
            staging.rmdir()
        else:
            os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report
