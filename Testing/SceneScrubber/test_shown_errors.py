"""The Scene Scrubber's popups say what failed and the error's type, never the error's text (glue review 3,
G3-1: Slicer logs every popup, and an error can quote the patient-named node it failed on)."""
from SceneScrubberLib.shown_errors import shown_error


def test_the_error_text_is_never_shown():
    error = KeyError("Doe^John CT: no storage node")
    text = shown_error("The scrubbed copy could not be saved.", error)
    assert text == "The scrubbed copy could not be saved. (KeyError)"
    assert "Doe" not in text and "John" not in text
