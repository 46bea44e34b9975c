"""The respondent table (``respondents.csv``): who each transcript belongs to, and their attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qualcode.csvio import read_csv
from qualcode.errors import InputError

RESPONDENTS_FILE = "respondents.csv"
FILE_SEPARATOR = "|"


@dataclass
class RespondentTable:
    """Respondents with their attributes, and which files belong to whom."""

    path: Path | None = None
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    file_owner: dict[str, str] = field(default_factory=dict)

    def respondent_for(self, file: Path) -> str | None:
        """The respondent listed for this file (by file name, or by stem), or None."""
        return self.file_owner.get(file.name) or self.file_owner.get(file.stem)


def read_respondent_table(path: Path) -> RespondentTable:
    """Read a respondents CSV: a ``respondent`` column, optionally ``file``, then attributes.

    A respondent with several transcripts lists them in one ``file`` cell separated by ``|``.
    """
    table = read_csv(path, required=["respondent"])
    result = RespondentTable(path=path)
    first_line: dict[str, int] = {}
    attribute_columns = [c for c in table.columns if c not in ("respondent", "file") and c]
    for row in table.rows:
        label = row.values["respondent"].strip()
        if not label:
            raise InputError("empty respondent", path=path, line=row.line)
        if label in first_line:
            raise InputError(
                f"duplicate respondent {label} (first on line {first_line[label]}); list each "
                f"respondent once and separate several files with '{FILE_SEPARATOR}'",
                path=path,
                line=row.line,
            )
        first_line[label] = row.line
        result.attributes[label] = {
            c: row.values[c].strip() for c in attribute_columns if row.values[c].strip()
        }
        for name in row.values.get("file", "").split(FILE_SEPARATOR):
            name = name.strip()
            if not name:
                continue
            if name in result.file_owner:
                raise InputError(
                    f"file {name} is listed for both {result.file_owner[name]} and {label}",
                    path=path,
                    line=row.line,
                )
            result.file_owner[name] = label
    return result
