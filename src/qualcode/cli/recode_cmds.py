"""Commands for manual coding: coder, recode, review, export/import codings, log, undo, memo."""

from __future__ import annotations
