"""Fixtures for the codebook and auto-coder tests: a small codebook and the process pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.autocode import CompiledCodebook
from qualcode.codebook import loads_codebook

SMALL_CODEBOOK = """\
name: test
exclude_terms: [tillitsvalgt, konkurransedyktig, konkurranseevne, fasilitet, forankret i teorien]
codes:
  - id: forankring
    keywords: [forankring]
    codes:
      - id: ledelse
        keywords: [toppledelse]
  - id: tillit
    keywords: [tillit, stole på hverandre]
    codes:
      - id: mistillit
        keywords: [mistenksom]
  - id: samkonkurranse
    keywords: [konkurrent, konkurranse]
    near:
      - a: [dele]
        b: [pris]
        within: 4
  - id: fasilitering
    keywords: [fasilitering, klyngeledelse]
    patterns: ['frokost\\w*']
"""


@pytest.fixture(scope="session")
def compiled() -> CompiledCodebook:
    """The small codebook compiled once per test session."""
    return CompiledCodebook(loads_codebook(SMALL_CODEBOOK, "small.yaml"))


@pytest.fixture
def codebook_file(tmp_path: Path) -> Path:
    """The small codebook as a file."""
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_CODEBOOK, encoding="utf-8")
    return path
