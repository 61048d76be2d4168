"""The "Remove patient information (PHI) from saved files" checkbox in Slicer's Save dialog.

Slicer fires no scene event before saving and a Python scene writer never takes over from
the C++ one, so the dialog itself is hooked. Facts read from Slicer's source (Slicer/Slicer
v5.8.0 d20ee94c, v5.10.0 a2b6d082, main 583e9b37; Base/QTGUI/qSlicerSaveDataDialog.cxx, _p.h,
Resources/UI/qSlicerSaveDataDialog.ui, Modules/Loadable/Data/qSlicerDataModule.cxx,
Base/QTCore/qSlicerCoreIOManager.h), the same in the three versions unless noted:
  * the dialog is a top-level QDialog named "qSlicerSaveDataDialog" (.ui line 4), created once
    by the Data module (qSlicerDataModule.cxx 5.8:114, main:113) and reused by File > Save and
    the unsaved-changes prompts;
  * its QGridLayout has row 0 free in columns 3-5 (column 3 stretches, .ui line 20);
  * "ButtonBox" accepted() -> accept() (.ui lines 172-178) -> save(): nodes first (file names from
    the table), then the scene with a screenshot of the layout; accept() calls done(Accepted) only
    if everything was saved (.cxx main 641-648);
  * the table "FileWidget" (_p.h main 77-93): column 0 holds the file name, the node ID
    (Qt.UserRole + 2, empty for the scene) and the extension (Qt.UserRole + 1); column 2 a
    ctkPathLineEdit with the folder; column 5 the type item, whose Qt.UserRole is "Scene" on the
    scene's row (findSceneRow, .cxx main 941-946);
  * qSlicerCoreIOManager emits fileSaved(IOProperties) after every successful writer, "fileName"
    included (qSlicerCoreIOManager.h 5.8:299, 5.10:294, main:295; .cxx main 892).
If any of this is missing, or Save cannot be taken over, the hook is not installed and the
dialog stays as Slicer made it. What to do after a save is decided in
SceneScrubberLib.save_decisions; this module reads the dialog and applies the answer.
"""
import logging

import qt
import slicer

from SceneScrubberLib.live_scene import apply_plan, identifying_values, plan_scrub, restore, take_snapshot
from SceneScrubberLib.save_decisions import (after_scrubbed_save, carry_out, check_after_unscrubbed_save,
                                             private_listing, run_scrubbed_save, scene_row_target)
from SceneScrubberLib.save_rows import RowChange, SaveRow, neutral_rows, outcome_message, outcome_message_path

try:   # Slicer's translation function (Base/Python/slicer/i18n.py, present in 5.8.0, 5.10.0 and main)
    from slicer.i18n import tr as _
except ImportError:   # an older Slicer: untranslated
    def _(text):
        return text

DIALOG_NAME = "qSlicerSaveDataDialog"
CHECKBOX_NAME = "SceneScrubberRemovePHICheckBox"
SETTINGS_SCRUB_ON_SAVE = "SceneScrubber/ScrubOnSave"
# qSlicerSaveDataDialog_p.h (main 77-93, same in 5.8.0 and 5.10.0): ColumnType and CustomRole
FILE_NAME_COLUMN, FILE_FORMAT_COLUMN, FILE_DIRECTORY_COLUMN, NODE_TYPE_COLUMN = 0, 1, 2, 5
SCENE_TYPE_ROLE, FILE_EXTENSION_ROLE, UID_ROLE = qt.Qt.UserRole, qt.Qt.UserRole + 1, qt.Qt.UserRole + 2

_installed = None   # the hook in use; a module reload replaces it


def install(policyFactory):
    """Add the checkbox to the Save dialog and the fileSaved check; returns the hook, or None if the
    dialog is not there (yet), not as expected, or Save cannot be taken over.
    policyFactory() gives the current ScrubPolicy."""
    global _installed
    if _installed is not None:
        _installed.uninstall()
        _installed = None
    hook = SaveDialogHook(policyFactory)
    if hook.install():
        _installed = hook
    return _installed


def uninstall():
    """Remove the hook in use, if any, and give the dialog back as Slicer made it."""
    global _installed
    if _installed is not None:
        _installed.uninstall()
        _installed = None


def installed():
    """The hook in use now, or None (looked up at each call: a reinstall replaces it)."""
    return _installed


def scrubOnSaveByDefault():
    """The panel's "Remove patient information on every save" option: the box's state when the dialog
    opens, and whether a dialog save with the box unticked is checked afterwards. Only the panel
    writes it (SceneScrubber.py onScrubOnSaveToggled); the box never does (N1)."""
    return slicer.app.userSettings().value(SETTINGS_SCRUB_ON_SAVE, "false") == "true"


class SaveDialogHook:
    def __init__(self, policyFactory):
        self.policyFactory = policyFactory
        self.dialog = self.buttonBox = self.table = self.checkBox = None
        self.savedFiles = []          # fileSaved names during a scrubbed save
        self.inScrubbedSave = False
        self.inDialogSave = False     # an unscrubbed save through the dialog (M11: only these are checked)
        self.sceneTarget = ""
        self.active = False           # Save taken over; uninstall() gives it back once

    # -- installing ------------------------------------------------------------------------------
    def install(self):
        self.dialog = next((w for w in slicer.app.topLevelWidgets() if w.objectName == DIALOG_NAME), None)
        if self.dialog is None:
            return False
        self.buttonBox = self.dialog.findChild(qt.QDialogButtonBox, "ButtonBox")
        self.table = self.dialog.findChild(qt.QTableWidget, "FileWidget")
        layout = self.dialog.layout()
        if self.buttonBox is None or self.table is None or not isinstance(layout, qt.QGridLayout):
            logging.warning("SceneScrubber: the Save dialog is not as expected; its PHI checkbox is not added")
            return False
        if not self._takeOverSave():
            return False
        self.active = True
        self.checkBox = qt.QCheckBox(_("Remove patient information (PHI) from saved files"))
        self.checkBox.objectName = CHECKBOX_NAME
        self.checkBox.toolTip = _("Save the scene without patient names, IDs, dates, DICOM UIDs and screenshots; "
                                  "the loaded scene stays as it is. The written files are checked afterwards. "
                                  "For this save only: it starts from Scene Scrubber's \"every save\" option.")
        # N1: the box is this save's choice; it never writes the "every save" setting, which the
        # unscrubbed-save check reads. It starts from that setting and goes back to it whenever the
        # dialog closes: done() emits QDialog::finished(int) for Save and Cancel alike (the dialog is
        # a QDialog registered with its metaobject, commontk/PythonQt db525aff generated_cpp_511
        # com_trolltech_qt_gui_init.cpp:460, so its signals connect by signature).
        self.checkBox.checked = scrubOnSaveByDefault()
        layout.addWidget(self.checkBox, 0, 3)
        if not self.dialog.connect("finished(int)", self.onDialogFinished):
            logging.warning("SceneScrubber: the Save dialog's PHI box keeps its last state between saves")
        # coreIOManager(): Q_INVOKABLE, qSlicerCoreApplication.h 5.8:383, 5.10:384, main:435
        if not slicer.app.coreIOManager().connect("fileSaved(qSlicerIO::IOProperties)", self.onFileSaved):
            logging.warning("SceneScrubber: scenes saved through the dialog will be found by their URL "
                            "(no fileSaved signal)")
        return True

    def _takeOverSave(self):
        """Remove every connection of the button box's accepted() and connect ours instead.

        uic makes string connections in Qt5 builds and member-function-pointer ones in Qt6 builds
        (Qt 6 uic default; Slicer main runs AUTOUIC with default options,
        CMake/SlicerMacroBuildBaseQtLibrary.cmake:223). A string disconnect of accept() never
        matches the latter. PythonQt's disconnect(sender, signal) with no callable removes its own
        handlers and calls QObject::disconnect(sender, signal, nullptr, nullptr), which removes
        every connection of the signal however it was made, and returns whether any was removed
        (commontk/PythonQt db525aff src/PythonQtStdDecorators.cpp:102-127; MeVisLab/pythonqt
        f4769f190 same lines, 9992368e9 (v4.1.0) 104-130). Instance form: the static
        qt.QObject.disconnect forwards to the same decorator (PythonQtStdDecorators.h db525aff:77-78,
        9992368e9:89-96), either would do. This also removes any other receiver of accepted(), such as
        another extension's; uninstall() gives back only the dialog's own accept() (review S2)."""
        if not self.buttonBox.disconnect("accepted()"):
            logging.warning("SceneScrubber: Save could not be taken over in the Save dialog; "
                            "its PHI checkbox is not added")
            return False
        if not self.buttonBox.connect("accepted()", self.onAccepted):
            self._giveBackSave()
            logging.warning("SceneScrubber: Save could not be taken over in the Save dialog; "
                            "its PHI checkbox is not added")
            return False
        return True

    def _giveBackSave(self):
        # connect(sender, signal, receiver, slot): PythonQtStdDecorators.cpp db525aff:74-100 (string
        # SIGNAL/SLOT connect, as the .ui's connection in a Qt5 build)
        if not self.buttonBox.connect("accepted()", self.dialog, "accept()"):
            logging.error("SceneScrubber: the Save dialog's Save button could not be given back; restart Slicer")

    def uninstall(self):
        """Give the dialog back as Slicer made it (on module reload); once only, so that accept() is
        never connected twice."""
        if not self.active:
            return
        self.active = False
        try:
            self.buttonBox.disconnect("accepted()", self.onAccepted)
            self._giveBackSave()
            slicer.app.coreIOManager().disconnect("fileSaved(qSlicerIO::IOProperties)", self.onFileSaved)
            self.dialog.disconnect("finished(int)", self.onDialogFinished)
            self.checkBox.setParent(None)
            self.checkBox.deleteLater()
        except Exception:   # the dialog may be gone at shutdown
            logging.debug("SceneScrubber: Save dialog hook already gone", exc_info=True)

    def onDialogFinished(self, _result=None):
        """The next save starts from the panel's "every save" option again (N1)."""
        if self.checkBox is not None:
            self.checkBox.checked = scrubOnSaveByDefault()

    # -- saving ----------------------------------------------------------------------------------
    def onAccepted(self):
        """Save pressed. Every error is shown (N7): an exception leaving a PythonQt slot is only
        printed to the console, and Save would seem to do nothing."""
        try:
            if self.checkBox.checked:
                self._saveScrubbed()
            else:
                self._saveUnscrubbed()
        except Exception as error:
            # the error's type only: its text may quote a path named after the patient, and Slicer logs
            # the text of every popup (util.py 5.8.0:3057)
            logging.error("SceneScrubber: the Save dialog's save failed (%s)", type(error).__name__)
            slicer.util.errorDisplay(_("Scene Scrubber could not complete the save ({error}). Check the saved "
                                       "files before sharing them.").format(error=type(error).__name__),
                                     parent=self.dialog)

    def _saveUnscrubbed(self):
        sceneRow = self._sceneRow()
        self.sceneTarget = (scene_row_target(sceneRow.directory, sceneRow.file_name, slicer.mrmlScene.GetURL() or "")
                            if sceneRow is not None else "")
        self.inDialogSave = True
        try:
            self.dialog.accept()   # qSlicerSaveDataDialogPrivate::accept(), a slot override (_p.h main:62)
        finally:
            self.inDialogSave = False

    def _saveScrubbed(self):
        scene = slicer.mrmlScene
        try:
            policy = self.policyFactory()   # reads the panel's settings: can raise (N7)
            snapshot = take_snapshot(scene)
            plan = plan_scrub(snapshot, policy)
            changes = neutral_rows(self._rows(), plan.report.renamed_nodes, plan.report.identifying_values,
                                   self._sceneDirectory())
        except Exception as error:   # never save unscrubbed when the user asked for scrubbing
            # the error's type only, never its text nor a traceback (logging.exception): it may quote a
            # patient-named node or file, and Slicer logs every popup (util.py 5.8.0:3057; glue review 3, G3-1)
            logging.error("SceneScrubber: could not prepare a scrubbed save (%s)", type(error).__name__)
            slicer.util.errorDisplay(_("Patient information could not be removed, so nothing was saved: {error}")
                                     .format(error=type(error).__name__), parent=self.dialog)
            return
        previous = []   # filled as the table is changed, so that a partial change is put back too
        state = {"sceneRow": None, "privateBefore": None, "url": ""}

        def apply():
            self._applyRowChanges(changes, previous)
            sceneRow = state["sceneRow"] = self._sceneRow()   # with the neutral names: what the dialog writes to
            # what Slicer 5.10's saveHiddenNodes may replace: only files not there now are removed after (N2)
            if sceneRow is not None:
                state["privateBefore"] = private_listing(
                    scene_row_target(sceneRow.directory, sceneRow.file_name, scene.GetURL() or ""))
            apply_plan(scene, plan)

        def save():
            self.savedFiles = []
            self.inScrubbedSave = True
            try:
                # QDialog::setResult/result, wrapped by PythonQt (commontk db525aff generated_cpp_511
                # com_trolltech_qt_gui1.h:877-879; MeVisLab f4769f190 and 9992368e9 generated_cpp_515 ...gui1.h:1177-1179)
                self.dialog.setResult(qt.QDialog.Rejected)   # so that result() below tells this save's outcome
                self.dialog.accept()   # saves; done(Accepted) only when everything was written
                return self.dialog.result() == qt.QDialog.Accepted
            finally:
                self.inScrubbedSave = False
                state["url"] = scene.GetURL() or ""   # the writer's; restore() puts the user's back (N3)

        run = run_scrubbed_save(apply, save, [("scene", lambda: restore(scene, snapshot)),
                                              ("table", lambda: self._restoreRows(previous))])
        try:
            if run.failed("apply"):
                slicer.util.errorDisplay(_("Patient information could not be removed, so nothing was saved: {error}")
                                         .format(error=dict(run.errors)["apply"]), parent=self.dialog)
            else:   # what was written is finished and checked, even if the save or a put-back step failed
                sceneRow = state["sceneRow"]
                decision = after_scrubbed_save(
                    bool(run.saved), sceneRow is not None and sceneRow.checked, sceneRow.directory if sceneRow else "",
                    sceneRow.file_name if sceneRow else "", state["url"], self.savedFiles, state["privateBefore"])
                self._finish(decision, plan.report.identifying_values, policy, plan.report.identifier_values)
                if run.failed("save"):
                    slicer.util.errorDisplay(_("The scrubbed save failed: {error}")
                                             .format(error=dict(run.errors)["save"]), parent=self.dialog)
        finally:
            problems = run.put_back_errors()
            if problems:
                slicer.util.errorDisplay(
                    _("After the scrubbed save, the loaded scene or the Save dialog could not be put back as they "
                      "were ({errors}). The loaded scene may have lost patient names, DICOM attributes or UIDs: "
                      "check it before saving it over your own files.").format(
                        errors="; ".join(f"{name}: {text}" for name, text in problems)))

    def _finish(self, decision, values, policy, identifiers=()):
        outcome = carry_out(decision, values, policy, identifiers)
        for path, findings, error in outcome.scenes:
            if error is not None:
                slicer.util.warningDisplay(_("{path} was saved but could not be checked ({error}): check it "
                                             "before sharing it.").format(path=outcome_message_path(path, values),
                                                                          error=type(error).__name__))
            elif findings:   # carry_out removed the scene that failed its check (if it could)
                slicer.util.warningDisplay(outcome_message(path, findings, scrubbed=True, values=values,
                                                           removed=path in outcome.removed_scenes))
            else:
                message = outcome_message(path, findings, scrubbed=True, values=values)
                slicer.util.showStatusMessage(message, 10000)
                logging.info(message)
        if outcome.not_removed:
            slicer.util.warningDisplay(
                _("Slicer left copies of hidden nodes beside the saved bundle that could not be removed: {files}. "
                  "Delete them before sharing the folder.").format(files=", ".join(outcome_message_path(path, values) for path in outcome.not_removed)))
        if decision.warning:
            slicer.util.warningDisplay(decision.warning)   # the library's text (not translated)

    def onFileSaved(self, properties=None, *_args):
        """Every save (IOProperties arrive as a dict); only dialog saves are acted on."""
        path = (properties or {}).get("fileName", "") if hasattr(properties, "get") else ""
        if not path:
            return
        if self.inScrubbedSave:
            self.savedFiles.append(path)
            return
        # testingEnabled(): qSlicerBaseQTCorePythonQtDecorators.h 5.8:55, 5.10:54, main:54
        if check_after_unscrubbed_save(scrubOnSaveByDefault(), bool(slicer.app.testingEnabled()),
                                       self.inDialogSave, path, self.sceneTarget):
            # after the dialog has closed, not inside qSlicerCoreIOManager::saveNodes (M11);
            # QTimer.singleShot(int, callable): PythonQtStdDecorators.h db525aff:133
            qt.QTimer.singleShot(0, lambda: self._checkUnscrubbed(path))

    def _checkUnscrubbed(self, path):
        values = ()
        try:
            from SceneScrubberLib.scene_check import check_scene
            values = identifying_values(slicer.mrmlScene, self.policyFactory())
            findings = check_scene(path, values)
        except Exception as error:
            logging.error("SceneScrubber: a saved scene could not be checked (%s)", type(error).__name__)
            return
        if findings:
            slicer.util.warningDisplay(
                outcome_message(path, findings, scrubbed=False, values=values) + "\n\n" +
                _("This save did not use the Save dialog's \"Remove patient information\" option."))

    # -- the dialog's table ------------------------------------------------------------------------
    def _isSceneRow(self, row):
        item = self.table.item(row, NODE_TYPE_COLUMN)
        return item is not None and item.data(SCENE_TYPE_ROLE) == "Scene"

    def _rows(self):
        rows = []
        for row in range(self.table.rowCount):
            item = self.table.item(row, FILE_NAME_COLUMN)
            folder = self.table.cellWidget(row, FILE_DIRECTORY_COLUMN)
            if item is None or folder is None or self.table.isRowHidden(row):
                continue
            nodeID = "" if self._isSceneRow(row) else (item.data(UID_ROLE) or "")
            rows.append(SaveRow(row, nodeID, item.text(), item.data(FILE_EXTENSION_ROLE) or "",
                                folder.currentPath, item.checkState() == qt.Qt.Checked))
        return rows

    def _sceneRow(self):
        return next((row for row in self._rows() if self._isSceneRow(row.row)), None)

    def _sceneDirectory(self):
        sceneRow = self._sceneRow()
        return sceneRow.directory if sceneRow is not None else slicer.mrmlScene.GetRootDirectory()

    def _applyRowChanges(self, changes, previous):
        """Apply the changes, appending to `previous` what to put back (check=True: the row was checked
        by us) before each row is changed. The table's signals are blocked: the dialog's onItemChanged
        would otherwise check the row and rewrite the extension of a name it does not recognise
        (qSlicerSaveDataDialog.cxx main 1216-1267, connected at 158; 5.10 160, 5.8 167) (review S1).
        QObject.blockSignals: PythonQt's QObject wrapper (commontk db525aff generated_cpp_511
        com_trolltech_qt_core2.cpp:231; MeVisLab f4769f190 and 9992368e9 generated_cpp_515 ...core2.cpp:1455)."""
        self.table.blockSignals(True)
        try:
            for change in changes:
                item = self.table.item(change.row, FILE_NAME_COLUMN)
                folder = self.table.cellWidget(change.row, FILE_DIRECTORY_COLUMN)
                previous.append(RowChange(change.row, item.text(), folder.currentPath, change.check))
                if change.file_name is not None:
                    item.setText(change.file_name)
                if change.directory is not None:
                    folder.currentPath = change.directory
                if change.check:
                    item.setCheckState(qt.Qt.Checked)
        finally:
            self.table.blockSignals(False)

    def _restoreRows(self, previous):
        self.table.blockSignals(True)   # as in _applyRowChanges (S1)
        try:
            for change in previous:
                item = self.table.item(change.row, FILE_NAME_COLUMN)
                if item is None:   # the dialog refilled its table
                    continue
                item.setText(change.file_name)
                self.table.cellWidget(change.row, FILE_DIRECTORY_COLUMN).currentPath = change.directory
                if change.check:
                    item.setCheckState(qt.Qt.Unchecked)
        finally:
            self.table.blockSignals(False)
