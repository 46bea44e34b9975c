"""The respondent table (``respondents.csv``): who each transcript belongs to, and their attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qualcode.csvio import read_csv
from qualcode.errors import InputError
from qualcode.store import Store

RESPONDENTS_FILE = "respondents.csv"
FILE_SEPARATOR = "|"

#: Column names that ``qualcode respondents``, the reports and the respondent table use themselves;
#: an attribute with one of these names would make a table with two columns of that name.
RESERVED_ATTRIBUTE_NAMES = frozenset(
    {"respondent", "file", "transcripts", "turns", "words", "coded", "codes"}
)


def check_attribute_name(name: str) -> str:
    """The attribute name as stored (stripped, case-folded); a reserved name is an InputError."""
    cleaned = name.strip().casefold()
    if cleaned in RESERVED_ATTRIBUTE_NAMES:
        raise InputError(
            f"'{cleaned}' cannot be an attribute name: qualcode uses it for a column of its own "
            f"(reserved: {', '.join(sorted(RESERVED_ATTRIBUTE_NAMES))})"
        )
    return cleaned


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
    """Read a respondents CSV: the columns ``respondent`` and ``file``, then attributes.

    A respondent with several transcripts lists them in one ``file`` cell separated by ``|``; a
    respondent of a joint interview who has no file of their own leaves the cell empty.
    """
    # Without a `file` column no transcript would find its respondent: each would become a
    # respondent named after its file, beside an empty one from the table.
    table = read_csv(path, required=["respondent", "file"], strict_width=True)
    result = RespondentTable(path=path)
    first_line: dict[str, int] = {}
    attribute_columns = [c for c in table.columns if c not in ("respondent", "file") and c]
    for column in attribute_columns:
        try:
            check_attribute_name(column)
        except InputError as exc:
            raise InputError(exc.message, path=path, line=1) from None
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


def attribute_names(store: Store) -> list[str]:
    """The project's attribute names in the order they were first stored.

    That is the column order of the respondent table they came from (or of the first
    ``respondents set``): the store keeps no other order, and rows are never renumbered.
    """
    return [
        name
        for (name,) in store.conn.execute(
            "SELECT name FROM respondent_attributes GROUP BY name ORDER BY MIN(rowid)"
        )
    ]
