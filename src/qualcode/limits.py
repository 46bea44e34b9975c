"""Every limit qualcode puts on what it reads, in one place (documented in docs/limits.md).

The limits keep a small hostile file from taking minutes of CPU or gigabytes of memory: each is
far above what a real interview project needs (a two-hour transcript is about 150 KB of text, a
.docx of it under 1 MB) and low enough that reading a file at the limit stays well under a second
per megabyte and a few hundred megabytes of memory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from qualcode.errors import InputError

MB = 1024 * 1024

#: Largest transcript, CSV, YAML or REFI-QDA file read (bytes on disk).
MAX_INPUT_FILE_BYTES = 50 * MB
#: Largest uncompressed member of a zip archive (.docx, .xlsx, .qdpx) read.
MAX_ZIP_MEMBER_BYTES = 30 * MB
#: Largest sum of the uncompressed members of one archive.
MAX_ZIP_TOTAL_BYTES = 100 * MB
#: Largest compression ratio (uncompressed / compressed) of a member above
#: :data:`ZIP_RATIO_FLOOR_BYTES`. Text and XML compress 5-20 times; a zip bomb 1000 times.
MAX_ZIP_RATIO = 100
#: Members smaller than this may compress any amount (an empty-ish XML part compresses well).
ZIP_RATIO_FLOOR_BYTES = 1 * MB
#: Most members one archive may hold.
MAX_ZIP_MEMBERS = 10_000

#: Deepest nesting of codes in a codebook (YAML, .qdc or .qdpx). Real codebooks use 2-4 levels.
MAX_CODE_DEPTH = 20
#: Deepest nesting of any YAML collection in a codebook file.
MAX_YAML_DEPTH = 2 * MAX_CODE_DEPTH + 10
#: Deepest XML element nesting read from a REFI-QDA file.
MAX_XML_DEPTH = 200
#: Most codes one codebook may hold.
MAX_CODES = 20_000

#: Time one codebook pattern may spend on one turn before it is stopped (seconds).
PATTERN_TIMEOUT_SECONDS = 0.5
#: Longest codebook pattern (characters).
MAX_PATTERN_LENGTH = 500

#: Largest time stamp accepted in a subtitle file (seconds): 100 hours.
MAX_TIMESTAMP_SECONDS = 100 * 3600.0

#: Most physical lines one quoted CSV field may span before the file is taken to have an
#: unclosed quote (a memo of a few paragraphs spans a few lines).
MAX_CSV_FIELD_LINES = 50
#: Most rows of one CSV file (a respondent table or a codings export).
MAX_CSV_ROWS = 200_000

#: An import that would remove more than this share of a layer's codings needs --replace-layer.
MAX_IMPORT_REMOVED_SHARE = 0.5


def check_file_size(path: Path, limit: int = MAX_INPUT_FILE_BYTES) -> int:
    """The size of ``path``; an :class:`InputError` naming it if it is larger than ``limit``."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if size > limit:
        raise InputError(
            f"the file is {size / MB:.1f} MB; qualcode reads files up to {limit / MB:.0f} MB "
            "(see docs/limits.md)",
            path=path,
        )
    return size


def check_zip_archive(
    path: Path, archive: zipfile.ZipFile | None = None, kind: str = "zip archive"
) -> None:
    """Refuse an archive whose members would expand too far, before any member is read.

    The sizes come from the central directory; :func:`read_zip_member` checks them again while
    reading, since a forged directory may understate them.
    """
    own = archive is None
    try:
        if archive is None:
            archive = zipfile.ZipFile(path)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(f"not a readable {kind} ({exc})", path=path) from None
    finally:
        if own and archive is not None:
            archive.close()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputError(
            f"the archive holds {len(infos)} members; qualcode reads at most {MAX_ZIP_MEMBERS}",
            path=path,
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise InputError(
                f"the archive is encrypted ({info.filename}); save it without a password",
                path=path,
            )
        _check_member_size(path, info.filename, info.file_size, info.compress_size)
        total += info.file_size
        if total > MAX_ZIP_TOTAL_BYTES:
            raise InputError(
                f"the archive expands to more than {MAX_ZIP_TOTAL_BYTES // MB} MB "
                "(a zip bomb?); see docs/limits.md",
                path=path,
            )


def _check_member_size(path: Path, name: str, size: int, compressed: int) -> None:
    if size > MAX_ZIP_MEMBER_BYTES:
        raise InputError(
            f"{name} in the archive expands to {size / MB:.0f} MB; qualcode reads members up to "
            f"{MAX_ZIP_MEMBER_BYTES // MB} MB (see docs/limits.md)",
            path=path,
        )
    if size > ZIP_RATIO_FLOOR_BYTES and size > MAX_ZIP_RATIO * max(compressed, 1):
        raise InputError(
            f"{name} in the archive is compressed {size // max(compressed, 1)} times; more than "
            f"{MAX_ZIP_RATIO} times is refused as a likely zip bomb (see docs/limits.md)",
            path=path,
        )


def read_zip_member(archive: zipfile.ZipFile, path: Path, name: str) -> bytes:
    """A member's bytes, read in chunks and stopped as soon as it exceeds the limits."""
    info = archive.getinfo(name)
    _check_member_size(path, name, info.file_size, info.compress_size)
    chunks: list[bytes] = []
    read = 0
    with archive.open(info) as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            read += len(chunk)
            _check_member_size(path, name, read, info.compress_size)
            chunks.append(chunk)
    return b"".join(chunks)
