"""What a popup or a log line of the Scene Scrubber may say of an error: what failed and the error's type.

Slicer logs the text of every popup before it shows it (Base/Python/slicer/util.py _messageDisplay,
5.8.0:3057, 5.10.0:3146, main 583e9b37:3437), and slicer.util.tryWithErrorDisplay puts str(error) into
it (5.8.0:3312-3319). An error raised while a scene is scrubbed, saved or checked can quote a node name,
an attribute value or a file name: the identity being removed. So neither the popup nor the log gets an
error's text, only its type (glue review 3, G3-1); the panel's status line, on screen only, may say more.
"""
from __future__ import annotations


def shown_error(what: str, error: BaseException) -> str:
    """The popup text for `error` (any exception) raised while doing `what` (a translated sentence):
    `what`, then the error's type in parentheses; never the error's own text."""
    return f"{what} ({type(error).__name__})"
