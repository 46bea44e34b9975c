"""Commands for the codebook and the auto-coder: codebook, code, search, explain."""

from __future__ import annotations
