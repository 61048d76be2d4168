"""Error popups that put no identifying value on the screen or into Slicer's log (review N4).

slicer.util.tryWithErrorDisplay shows f"{message}\n\n{e}" through errorDisplay (Base/Python/slicer/
util.py 5.8.0:3279-3320, 5.10.0:3368, main 583e9b37:3692), and errorDisplay's _messageDisplay logs the
text before it shows the box (5.8.0:3057, 5.10.0:3146, main:3437); Slicer writes Python logging to its
log file. An exception's text may quote an original path or a value read from a file. Here the
popup says what failed, the error's type (or a DicomDeidentifyLib.errors.SafeError's own text) and
where the traceback was written: a note in the key holders' reports folder, owner-only.
"""
import contextlib
import logging

import qt
import slicer


@contextlib.contextmanager
def safeErrorDisplay(what, reportsFolder=None, windowTitle="DICOM De-identify", waitCursor=False):
    """Run the block; on an exception, write its traceback into a note in `reportsFolder()` (a
    callable, so that a broken setting cannot break the handler) and show `what` with the error's
    type and the note's path. The exception is swallowed, so that PythonQt does not print its
    traceback into the log (slots, timers, the DICOM module's calls); under --testing it is re-raised
    (the self-test's data only) so that a failing step fails the test."""
    if waitCursor:   # as tryWithErrorDisplay does (util.py 5.8.0:3299-3310)
        slicer.app.setOverrideCursor(qt.Qt.WaitCursor)
    try:
        yield
    except Exception as error:
        if waitCursor:
            waitCursor = False
            slicer.app.restoreOverrideCursor()
        from DicomDeidentifyLib.errors import SafeError, failure_message, write_failure_note
        note = None
        if reportsFolder is not None and not isinstance(error, SafeError):
            try:
                note = write_failure_note(reportsFolder(), error, what)
            except Exception as noteError:   # no key folder: the type is all that is said
                logging.error("DicomDeidentify: the failure note could not be written (%s)", type(noteError).__name__)
        slicer.util.errorDisplay(failure_message(what, error, note), windowTitle=windowTitle)   # util.py 5.8.0:2979
        if slicer.app.testingEnabled():
            raise
    finally:
        if waitCursor:
            slicer.app.restoreOverrideCursor()
