"""Errors of the label drawing code."""

from __future__ import annotations


class LabelError(Exception):
    """A label batch cannot be produced (bad input PDF, no labels, missing font...)."""
