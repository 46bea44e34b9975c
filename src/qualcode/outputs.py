"""Where output files and folders go: one rule for every command that writes files.

Missing folders on the way to an output are created, but only once the output has been built
(``check_*`` first, ``make_*``/``prepare_*`` just before writing), so a command that fails on its
input leaves no new empty folder behind. A path that is itself a folder (for a file) or a file
(for a folder), or that has a file where a folder should be, is refused with one clear line.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qualcode.errors import InputError


def _check_ancestors(path: Path) -> None:
    """Refuse ``path`` when its nearest existing ancestor is a file: no folder can be made there."""
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise InputError("is a file, not a folder", path=ancestor)
            return


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder: {exc.strerror or exc}", path=folder) from None


def check_output_file(path: str | Path) -> Path:
    """Refuse an output file name that is a folder or whose folder cannot be made; creates nothing."""
    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder, not a file name", path=path)
    _check_ancestors(path)
    return path


def make_output_parent(path: str | Path) -> Path:
    """Create the folder (and any missing parents) the output file ``path`` goes into."""
    path = Path(path)
    _make_folder(path.parent)
    return path


def prepare_output_file(path: str | Path) -> Path:
    """:func:`check_output_file`, then create its folder: for a file about to be written."""
    return make_output_parent(check_output_file(path))


def check_output_folder(folder: str | Path) -> Path:
    """Refuse an output folder that is a file or cannot be made; creates nothing."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("is a file, not a folder", path=folder)
    _check_ancestors(folder)
    return folder


def prepare_output_folder(folder: str | Path) -> Path:
    """:func:`check_output_folder`, then create the folder (and any missing parents)."""
    folder = check_output_folder(folder)
    _make_folder(folder)
    return folder


@contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """A new, uniquely named temporary file beside ``path``; moved over ``path`` on success.

    Write the output to the yielded path. When the block ends without an error the file replaces
    ``path`` in one step (a reader sees the old file or the new one, never half of one); on an
    error it is removed. The name is unique, so two commands writing the same output at once
    never share a temporary file. ``os.replace`` replaces a symbolic link at ``path`` itself and
    never writes through it to the file it points at.
    """
    path = Path(path)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write the file: {exc.strerror or exc}", path=path) from None
    os.close(handle)
    tmp = Path(name)
    try:
        # mkstemp makes the file private; an output gets the user's usual permissions.
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        yield tmp
        try:
            os.replace(tmp, path)
        except PermissionError:
            raise InputError(
                "cannot write the file (is it open in Word or Excel?)", path=path
            ) from None
        except OSError as exc:
            raise InputError(f"cannot write the file: {exc.strerror or exc}", path=path) from None
    finally:
        tmp.unlink(missing_ok=True)
