"""Stable GUIDs for REFI-QDA files.

Every object gets a name-based UUID (version 5) from a per-project namespace and the object's
identity (code path, coder name, transcript name, character range…), so exporting the same project
twice gives the same GUIDs and another tool re-importing the file recognises its codes and sources.
The namespace is random per project, created on the first export and kept in the project settings:
two projects never share GUIDs by accident.
"""

from __future__ import annotations

import re
import uuid

from qualcode.store import Store

NAMESPACE_SETTING = "refi_namespace"

#: The GUID pattern of the REFI-QDA schemas: 8-4-4-4-12 hex digits, optionally in braces.
GUID_RE = re.compile(
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\})$"
)


def is_guid(value: str | None) -> bool:
    """True if ``value`` has the schema's GUID form."""
    return bool(value) and GUID_RE.match(value or "") is not None


def stored_namespace(store: Store) -> uuid.UUID | None:
    """The project's GUID namespace, or None before the first export."""
    stored = store.get_setting(NAMESPACE_SETTING)
    if isinstance(stored, str):
        try:
            return uuid.UUID(stored)
        except ValueError:
            return None  # a hand-edited, broken value: a new one replaces it
    return None


def save_namespace(store: Store, namespace: uuid.UUID, command: str) -> None:
    """Keep ``namespace`` as the project's GUID namespace (in one write transaction)."""
    with store.write(command) as tx:
        store.set_setting(tx, NAMESPACE_SETTING, str(namespace))


def project_namespace(store: Store, command: str) -> uuid.UUID:
    """The project's GUID namespace, created (and stored) on first use."""
    namespace = stored_namespace(store)
    if namespace is None:
        namespace = uuid.uuid4()
        save_namespace(store, namespace, command)
    return namespace


class GuidMaker:
    """Deterministic GUIDs within one project namespace."""

    def __init__(self, namespace: uuid.UUID):
        self.namespace = namespace

    def make(self, kind: str, *identity: object) -> str:
        """The GUID of the object of ``kind`` with this identity (upper-case, no braces)."""
        # \x1f (unit separator) cannot occur in names, so ("a/b", "c") and ("a", "b/c") differ.
        key = "\x1f".join([kind, *(str(part) for part in identity)])
        return str(uuid.uuid5(self.namespace, key)).upper()

    def code(self, path: str) -> str:
        """A code, by its path."""
        return self.make("code", path)

    def user(self, coder: str) -> str:
        """A user, by coder-layer name."""
        return self.make("user", coder)

    def source(self, transcript: str) -> str:
        """A source, by transcript name."""
        return self.make("source", transcript)

    def selection(self, transcript: str, start: int, end: int, *more: object) -> str:
        """A text selection, by transcript, character range and (optionally) coder and number."""
        return self.make("selection", transcript, start, end, *more)

    def coding(self, transcript: str, start: int, end: int, code_path: str, coder: str) -> str:
        """One coder's coding of a selection with a code."""
        return self.make("coding", transcript, start, end, code_path, coder)

    def case(self, respondent: str) -> str:
        """A case, by respondent label."""
        return self.make("case", respondent)

    def variable(self, name: str) -> str:
        """A variable, by attribute name."""
        return self.make("variable", name)

    def note(self, *identity: object) -> str:
        """A note (memo), by what it is attached to and who wrote it when."""
        return self.make("note", *identity)


def code_guid_map(store: Store) -> dict[str, str]:
    """Code GUID -> path for every code of the project, as its exports write the GUIDs.

    A code's GUID is the one it came with (a REFI-QDA import or the codebook's ``guid:``), else
    the one derived from its path in the project's namespace (none before the first export).
    """
    namespace = stored_namespace(store)
    maker = GuidMaker(namespace) if namespace is not None else None
    found: dict[str, str] = {}
    for path, guid in store.conn.execute("SELECT path, guid FROM codes ORDER BY sort_order, path"):
        if maker is not None:
            found.setdefault(maker.code(path), path)
        if guid:
            found[guid.strip("{}").upper()] = path
    return found
