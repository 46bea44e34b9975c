"""Commands for reports and pseudonyms."""

from __future__ import annotations
