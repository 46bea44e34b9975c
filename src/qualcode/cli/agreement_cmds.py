"""Commands for consistency: agreement, disagreements, evaluate, consistency."""

from __future__ import annotations
