"""A progress dialog with Cancel for the library's runs (which report progress(done, total, result))."""
import threading

import slicer


def progressDialog(label):
    """(dialog, progress callback, cancel event set by the dialog's Cancel). Close the dialog when done."""
    dialog = slicer.util.createProgressDialog(labelText=label, maximum=0)
    cancel = threading.Event()
    dialog.connect("canceled()", cancel.set)

    def progress(done, total, result):
        dialog.maximum = total
        dialog.value = done
        dialog.labelText = f"De-identified {done} of {total} files"
        slicer.app.processEvents()

    return dialog, progress, cancel
