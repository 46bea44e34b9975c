"""Commands for REFI-QDA interchange: export/import qdpx and qdc."""

from __future__ import annotations
