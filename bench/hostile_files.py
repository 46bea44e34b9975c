"""Generators of hostile and malformed input files (used by bench/hostile.py and tests/hostile).

Each function writes one file and returns its path. Sizes are parameters, so the tests can make
small variants of what the benchmark makes at full size.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

_DOCX_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _write_repeated(
    archive: zipfile.ZipFile, name: str, head: bytes, unit: bytes, tail: bytes, size: int
) -> None:
    """A member of about ``size`` bytes: ``head``, ``unit`` repeated, ``tail``; streamed."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as member:
        member.write(head)
        block = unit * max(1, (1 << 20) // len(unit))
        written = len(head)
        while written < size:
            member.write(block)
            written += len(block)
        member.write(tail)


def docx_bomb(path: Path, expanded_bytes: int = 1_200_000_000) -> Path:
    """A .docx whose word/document.xml expands to ``expanded_bytes`` of paragraphs."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_CONTENT_TYPES)
        archive.writestr("_rels/.rels", _DOCX_RELS)
        head = f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode()
        unit = b"<w:p><w:r><w:t>R1: ja ja ja ja ja ja ja ja</w:t></w:r></w:p>"
        _write_repeated(
            archive, "word/document.xml", head, unit, b"</w:body></w:document>", expanded_bytes
        )
    return path


def qdpx_project_xml(
    source_name: str, selections: int = 0, source_length: int = 0, code_depth: int = 1
) -> str:
    """A REFI-QDA project.qde with one text source, a code chain ``code_depth`` deep, and
    ``selections`` coded selections spread over the source."""
    codes = ""
    for i in range(code_depth):
        codes += f'<Code guid="00000000-0000-0000-0000-{i:012d}" name="kode{i}" isCodable="true">'
    codes += "</Code>" * code_depth
    sels = ""
    step = max(1, source_length // max(selections, 1))
    for i in range(selections):
        start = i * step
        sels += (
            f'<PlainTextSelection guid="10000000-0000-0000-0000-{i:012d}" '
            f'startPosition="{start}" endPosition="{start + min(step, 20)}">'
            '<Coding guid="20000000-0000-0000-0000-{0:012d}">'
            '<CodeRef targetGUID="00000000-0000-0000-0000-000000000000"/></Coding>'
            "</PlainTextSelection>"
        ).replace("{0:012d}", f"{i:012d}")
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="fiendtlig" origin="bench">'
        f"<CodeBook><Codes>{codes}</Codes></CodeBook>"
        "<Sources>"
        '<TextSource guid="30000000-0000-0000-0000-000000000001" name="intervju1" '
        f'plainTextPath="internal://{source_name}">{sels}</TextSource>'
        "</Sources></Project>"
    )


def qdpx_bomb(path: Path, expanded_bytes: int = 1_200_000_000) -> Path:
    """A .qdpx whose one text source expands to ``expanded_bytes``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("project.qde", qdpx_project_xml("kilde.txt"))
        _write_repeated(
            archive, "sources/kilde.txt", b"I: Hei.\nR1: ", b"ja ", b"\n", expanded_bytes
        )
    return path


_WORDS = [
    "altså",
    "ja",
    "nei",
    "men",
    "og",
    "så",
    "sånn",
    "sett",
    "egentlig",
    "jo",
    "vi",
    "de",
    "klyngen",
    "ledelsen",
    "bedriften",
    "kommunen",
    "leverandørene",
    "folk",
    "har",
    "deler",
    "samarbeider",
    "om",
    "snakker",
    "tenker",
    "på",
    "bruker",
    "møter",
    "trenger",
    "kompetanse",
    "tillit",
    "prosjekter",
    "møteplasser",
    "konkurrentene",
    "samlingene",
    "mål",
    "ressurser",
    "nettverket",
    "kundene",
    "leveransene",
    "informasjon",
    "opplæring",
    "regionen",
    "i",
    "med",
    "over",
    "tid",
    "liksom",
    "hver",
    "måned",
]


def honest_text(size: int, seed: int = 16) -> str:
    """About ``size`` characters of labelled interview text in spoken Norwegian (as varied as
    real speech, so it compresses about as much: a few times, not hundreds)."""
    import random

    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    while length < size:
        question = " ".join(rng.choices(_WORDS, k=rng.randint(6, 14))).capitalize() + "?"
        answer = ". ".join(
            " ".join(rng.choices(_WORDS, k=rng.randint(5, 16))).capitalize()
            for _ in range(rng.randint(1, 6))
        )
        turn = f"I: {question}\nR1: {answer}.\n"
        parts.append(turn)
        length += len(turn)
    return "".join(parts)


def honest_qdpx(path: Path, text_bytes: int = 20_000_000, selections: int = 2000) -> Path:
    """A .qdpx holding one honest source of ``text_bytes`` with coded selections."""
    text = honest_text(text_bytes)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qdpx_project_xml("kilde.txt", selections, len(text)))
        archive.writestr("sources/kilde.txt", text.encode("utf-8"))
    return path


def deep_qdpx(path: Path, depth: int = 5000) -> Path:
    """A .qdpx whose code tree is ``depth`` codes deep."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qdpx_project_xml("kilde.txt", code_depth=depth))
        archive.writestr("sources/kilde.txt", honest_text(2000))
    return path


def deep_qdc(path: Path, depth: int = 5000) -> Path:
    """A REFI-QDA codebook (.qdc) whose code tree is ``depth`` codes deep."""
    codes = (
        "".join(
            f'<Code guid="00000000-0000-0000-0000-{i:012d}" name="kode{i}" isCodable="true">'
            for i in range(depth)
        )
        + "</Code>" * depth
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes}</Codes></CodeBook>',
        encoding="utf-8",
    )
    return path


def encrypted_qdpx(path: Path) -> Path:
    """A .qdpx whose members are marked as encrypted (as a password-protected zip is).

    zipfile cannot write encrypted members, so the "encrypted" bit is set in the local and central
    headers afterwards: every reader then asks for a password.
    """
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", qdpx_project_xml("kilde.txt"))
        archive.writestr("sources/kilde.txt", honest_text(500))
    data = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start >= 0:
            data[start + flag_offset] |= 0x1
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
    return path


def vtt_unclosed_tags(path: Path, size: int = 800_000) -> Path:
    """WebVTT whose cue text is ``size`` bytes of unclosed ``<v`` and ``<a`` tags."""
    body = ("<v Ola <a " * (size // 10 + 1))[:size]
    path.write_text(f"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n{body}\n", encoding="utf-8")
    return path


def vtt_huge_hour(path: Path, digits: int = 100_000) -> Path:
    """WebVTT with a cue whose hour has ``digits`` digits."""
    path.write_text(
        f"WEBVTT\n\n{'9' * digits}:00:01.000 --> 00:00:04.000\n<v Ola>Hei.\n", encoding="utf-8"
    )
    return path


def yaml_alias_bomb(path: Path, levels: int = 9) -> Path:
    """A codebook of about 430 bytes whose aliases expand to 9**levels keywords."""
    lines = ["name: bombe", 'a0: &a0 ["ja","ja","ja","ja","ja","ja","ja","ja","ja"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines += ["codes:", "  - id: x", f"    keywords: *a{levels - 1}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def yaml_recursive_alias(path: Path) -> Path:
    """A codebook with a merge key and an alias that refers to its own mapping."""
    path.write_text(
        "name: rekursiv\nbase: &base\n  id: x\n  self: *base\ncodes:\n  - <<: *base\n",
        encoding="utf-8",
    )
    return path


def catastrophic_pattern_codebook(path: Path) -> Path:
    """A codebook whose one pattern backtracks exponentially with Python's ``re``."""
    path.write_text(
        "name: treg\ncodes:\n  - id: alt\n    patterns: ['^(\\w+\\s?)*$']\n", encoding="utf-8"
    )
    return path


def many_codes_codebook(path: Path, codes: int = 4000, nested: bool = False) -> Path:
    """A codebook of ``codes`` codes, flat or each inside the previous one (in flow style, so the
    file grows linearly with the depth)."""
    if nested:
        body = "".join(f"{{id: kode{i}, keywords: [ord{i}], codes: [" for i in range(codes))
        body += "]}" * codes
        path.write_text(f"name: dyp\ncodes: [{body}]\n", encoding="utf-8")
        return path
    lines = ["name: stor", "codes:"]
    for i in range(codes):
        lines += [f"  - id: kode{i}", f"    keywords: [ord{i}]"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def respondents_csv(
    path: Path, rows: int = 1_000_000, files: tuple[str, ...] = ("R1.txt",)
) -> Path:
    """A respondents.csv with ``rows`` rows; the first rows own ``files``."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("respondent,file,sektor\n")
        for i in range(rows):
            owned = files[i] if i < len(files) else f"fil{i}.txt"
            handle.write(f"R{i + 1},{owned},industri\n")
    return path


def xlsx_with_xxe(path: Path) -> Path:
    """An .xlsx whose sheet declares an external entity (XXE) and uses it in a cell."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "codings"
    sheet.append(["segment_id", "code", "coder", "memo"])
    sheet.append([1, "tillit", "kari", "memo"])
    plain = path.with_suffix(".plain.xlsx")
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                declaration_end = text.index("?>") + 2 if "?>" in text else 0
                text = (
                    text[:declaration_end]
                    + '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                    + text[declaration_end:]
                ).replace("<v>1</v>", "<v>&xxe;</v>")
                data = text.encode("utf-8")
            target.writestr(item, data)
    plain.unlink()
    return path


def codings_csv_unclosed_quote(path: Path, segment_ids: list[int], code: str) -> Path:
    """A codings CSV whose first memo opens a quote that is never closed."""
    lines = ["segment_id,code,coder,memo"]
    for i, seg in enumerate(segment_ids):
        memo = '"et notat som aldri slutter' if i == 0 else "ok"
        lines.append(f"{seg},{code},kari,{memo}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
