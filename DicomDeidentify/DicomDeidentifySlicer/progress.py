"""A modal progress dialog with Cancel for the library's runs (which report progress(done, total, result)).

The runs are on the GUI thread and process events once per finished file, so the dialog must be modal:
otherwise the user could start a second import, switch databases or save inside the first one.

    dialog, progress, cancel = progressDialog("De-identifying...")
    try:
        logic.importPaths(paths, progress=progress, cancel=cancel)
    finally:
        finishProgressDialog(dialog)
"""
import threading

import slicer

try:   # slicer.i18n.tr (Base/Python/slicer/i18n.py 5.8.0 and 5.10.0:52, main:54), as in import_hook.py
    from slicer.i18n import tr as _
except ImportError:
    def _(text):
        return text


def progressDialog(label):
    """(dialog, progress callback, cancel event set by the dialog's Cancel). The dialog is application
    modal and already on screen when this returns (before the work starts, which may scan a whole CD
    before the first file is done). Hand it to finishProgressDialog when the work ends."""
    # slicer.util.createProgressDialog (Base/Python/slicer/util.py 5.8:3113, 5.10:3202, main:3497, the same
    # body in all three) makes a QProgressDialog with minimumDuration 0 and sets the keyword arguments that
    # are attributes of it (its docstring's example passes autoClose=False); it does not make it modal.
    # Without autoClose/autoReset the dialog would vanish when the last file is done, before indexing.
    dialog = slicer.util.createProgressDialog(labelText=label, maximum=0, autoClose=False, autoReset=False)
    # QDialog::setModal(true) = ApplicationModal; Slicer does the same (Base/Python/slicer/packaging.py
    # main:1243); PythonQt wraps it (generated_cpp_511 com_trolltech_qt_gui1.h in commontk db525aff,
    # generated_cpp_515 in MeVisLab f4769f190 and 9992368e9).
    dialog.setModal(True)
    cancel = threading.Event()

    def onCanceled():
        # QProgressDialog connects canceled() to its cancel() slot in its constructor, and cancel()
        # hides the dialog (Qt documentation of QProgressDialog::canceled and ::cancel; Qt's source is
        # not mirrored here). Slots run in the order of connection, so this one comes after it: the
        # run stops only after the file being de-identified (OCR can take long), and meanwhile the
        # modal dialog must stay on screen, or the user could start another run inside this one
        # (review N6; the ImportGate refuses it too).
        cancel.set()
        dialog.labelText = _("Cancelling: the file being de-identified is finished first...")
        dialog.show()

    dialog.connect("canceled()", onCanceled)
    dialog.show()
    slicer.app.processEvents()   # paint it now: the first progress call may be minutes away

    def progress(done, total, result):
        dialog.maximum = total
        dialog.value = done
        if cancel.is_set():
            dialog.labelText = _("Cancelling ({done} of {total} files done)...").format(done=done, total=total)
            dialog.show()
        else:
            dialog.labelText = _("De-identified {done} of {total} files").format(done=done, total=total)
        slicer.app.processEvents()

    return dialog, progress, cancel


def finishProgressDialog(dialog):
    """Take the dialog off the screen and delete it (each run used to leave one parented to the main
    window). hide(), not close(): QProgressDialog's closeEvent emits canceled()."""
    if dialog is None:
        return
    dialog.hide()
    dialog.deleteLater()
