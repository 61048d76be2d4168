"""Error popups of the Scene Scrubber's panel that put no identifying value on the screen or into
Slicer's log: the text is SceneScrubberLib.shown_errors' (what failed, the error's type)."""
import contextlib
import logging

import qt
import slicer


@contextlib.contextmanager
def typeOnlyErrorDisplay(what, waitCursor=False):
    """Run the block; on an exception, log and show `what` with the error's type only (never its text,
    nor a traceback: logging.exception would write both). Used instead of slicer.util.tryWithErrorDisplay,
    which shows and logs str(error) (util.py 5.8.0:3312-3319). Under --testing the error is re-raised,
    so that a failing step fails the self-test."""
    from SceneScrubberLib.shown_errors import shown_error
    if waitCursor:   # as tryWithErrorDisplay does (util.py 5.8.0:3299-3310)
        slicer.app.setOverrideCursor(qt.Qt.WaitCursor)
    try:
        yield
    except Exception as error:
        if waitCursor:
            waitCursor = False
            slicer.app.restoreOverrideCursor()
        logging.error("SceneScrubber: %s", shown_error(what, error))
        slicer.util.errorDisplay(shown_error(what, error))   # util.py 5.8.0:2979
        if slicer.app.testingEnabled():
            raise
    finally:
        if waitCursor:
            slicer.app.restoreOverrideCursor()
