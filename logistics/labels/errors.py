"""Errors of the label engine.

``LayoutError`` is also a ``ValueError`` so a form or serializer that validates a seller's
layout can catch it the way it catches any bad value.
"""

from __future__ import annotations


class LabelError(Exception):
    """A label batch cannot be produced (bad input PDF, no labels, missing font...)."""


class LayoutError(LabelError, ValueError):
    """A seller's layout override is malformed; the message names the block and the field."""
