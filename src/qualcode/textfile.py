"""Reading text files people give us: bytes to normalised text, or a one-line error."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.errors import InputError
from qualcode.limits import check_file_size

_SNIFF_BYTES = 8192
# Bytes that never occur in text files but do in binaries (NUL and most C0 controls).
_BINARY_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32)])


@dataclass
class DecodedText:
    """Text decoded from a file, with the encoding used and any warnings."""

    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


#: Characters XML 1.0 cannot hold (C0 controls other than tab and line ends, non-characters and
#: lone surrogates): a .docx or .xlsx export of a turn holding one would fail.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def replace_control_characters(text: str, path: Path | str) -> tuple[str, list[str]]:
    """``text`` with every character XML cannot hold replaced by U+FFFD (same length, so no
    offset moves), and a warning naming the file, the count and the first line, if any were."""
    first = _NOT_IN_XML.search(text)
    if first is None:
        return text, []
    cleaned, count = _NOT_IN_XML.subn(REPLACEMENT, text)
    line = text.count("\n", 0, first.start()) + 1
    warning = (
        f"{path}:{line}: {count} control character{'s' if count != 1 else ''} (such as "
        f"U+{ord(first.group()):04X}) replaced by U+FFFD; Word and Excel files cannot hold them"
    )
    return cleaned, [warning]


def normalise(text: str) -> str:
    """Unicode NFC with ``\\n`` line ends; the form every offset in the store refers to."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def looks_binary(data: bytes) -> bool:
    """True if ``data`` (not UTF-16 with BOM) has bytes that text files never hold."""
    sample = data[:_SNIFF_BYTES]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _BINARY_CONTROL_BYTES))
    return controls > max(2, len(sample) // 100)


def decode_bytes(data: bytes, path: Path) -> DecodedText:
    """Decode a text file: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252 with a warning."""
    if data.startswith(codecs.BOM_UTF8):
        return DecodedText(_strict(data[3:], "utf-8", path), "utf-8-sig")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return DecodedText(_strict(data, "utf-16", path), "utf-16")
    if looks_binary(data):
        raise InputError("binary data, not a text transcript", path=path)
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            "cannot decode: neither UTF-8, UTF-16 with BOM nor Windows-1252; "
            "save it as UTF-8 and try again",
            path=path,
            line=line,
        ) from None
    warning = f"{path}: not UTF-8; read as Windows-1252 (check æ, ø and å in the result)"
    return DecodedText(text, "cp1252", [warning])


def _strict(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"invalid {encoding.upper()} text", path=path, line=line) from None


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or an :class:`InputError` naming it if it is missing or empty."""
    if not path.exists():
        raise InputError("no such file", path=path)
    if not path.is_file():
        raise InputError("not a file", path=path)
    check_file_size(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=path) from None
    if not data.strip():
        raise InputError("empty file", path=path)
    return data
