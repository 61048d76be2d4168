"""The "Remove patient information (PHI) from saved files" checkbox in Slicer's Save dialog.

Slicer fires no scene event before saving and a Python scene writer never takes over from
the C++ one, so the dialog itself is hooked. Facts read from Slicer's source
(Base/QTGUI/qSlicerSaveDataDialog.cxx, _p.h, Resources/UI/qSlicerSaveDataDialog.ui,
Modules/Loadable/Data/qSlicerDataModule.cxx, Base/QTCore/qSlicerCoreIOManager.h), the same
in v5.8.0, v5.10.0 and main (583e9b3, 2026-08-21):
  * the dialog is a top-level QDialog named "qSlicerSaveDataDialog", created once by the Data
    module and reused by File > Save and the unsaved-changes prompts;
  * its QGridLayout has row 0 free in columns 3-5 (column 3 stretches);
  * "ButtonBox" accepted() -> accept() -> save: nodes first (file names from the table), then
    the scene with a screenshot of the layout;
  * the table "FileWidget": column 0 holds the file name, the node ID (Qt.UserRole + 2) and the
    extension (Qt.UserRole + 1); column 2 a ctkPathLineEdit with the folder;
  * qSlicerCoreIOManager emits fileSaved(IOProperties) after every save, "fileName" included.
If any of this is missing, the hook is not installed and the dialog stays as Slicer made it.
"""
import logging

import qt
import slicer

from SceneScrubberLib.after_save import finish_saved_scene, is_saved_scene
from SceneScrubberLib.live_scene import identifying_values, plan_scrub, restore, take_snapshot, apply_plan
from SceneScrubberLib.save_rows import RowChange, SaveRow, neutral_rows, outcome_message

DIALOG_NAME = "qSlicerSaveDataDialog"
CHECKBOX_NAME = "SceneScrubberRemovePHICheckBox"
SETTINGS_SCRUB_ON_SAVE = "SceneScrubber/ScrubOnSave"
FILE_NAME_COLUMN, FILE_DIRECTORY_COLUMN = 0, 2
FILE_EXTENSION_ROLE, UID_ROLE = qt.Qt.UserRole + 1, qt.Qt.UserRole + 2

_installed = None   # the hook in use; a module reload replaces it


def install(policyFactory):
    """Add the checkbox to the Save dialog and the fileSaved check; returns the hook, or None if the
    dialog is not there (yet) or not as expected. policyFactory() gives the current ScrubPolicy."""
    global _installed
    if _installed is not None:
        _installed.uninstall()
        _installed = None
    hook = SaveDialogHook(policyFactory)
    if hook.install():
        _installed = hook
    return _installed


def scrubOnSaveByDefault():
    return slicer.app.userSettings().value(SETTINGS_SCRUB_ON_SAVE, "false") == "true"


class SaveDialogHook:
    def __init__(self, policyFactory):
        self.policyFactory = policyFactory
        self.dialog = self.buttonBox = self.table = self.checkBox = None
        self.savedScenes = []
        self.inScrubbedSave = False

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
        self.checkBox = qt.QCheckBox("Remove patient information (PHI) from saved files")
        self.checkBox.objectName = CHECKBOX_NAME
        self.checkBox.toolTip = ("Save the scene without patient names, IDs, dates, DICOM UIDs and screenshots; "
                                 "the loaded scene stays as it is. The written files are checked afterwards.")
        self.checkBox.checked = scrubOnSaveByDefault()
        self.checkBox.connect("toggled(bool)", self.onToggled)
        layout.addWidget(self.checkBox, 0, 3)
        # Instance form: PythonQt's static qt.QObject.disconnect(...) would connect instead.
        self.buttonBox.disconnect("accepted()", self.dialog, "accept()")
        self.buttonBox.connect("accepted()", self.onAccepted)
        if not slicer.app.coreIOManager().connect("fileSaved(qSlicerIO::IOProperties)", self.onFileSaved):
            logging.warning("SceneScrubber: saves that bypass the Save dialog will not be checked (no fileSaved signal)")
        return True

    def uninstall(self):
        """Give the dialog back as Slicer made it (on module reload)."""
        try:
            self.buttonBox.disconnect("accepted()", self.onAccepted)
            self.buttonBox.connect("accepted()", self.dialog, "accept()")
            slicer.app.coreIOManager().disconnect("fileSaved(qSlicerIO::IOProperties)", self.onFileSaved)
            self.checkBox.setParent(None)
            self.checkBox.deleteLater()
        except Exception:   # the dialog may be gone at shutdown
            logging.debug("SceneScrubber: Save dialog hook already gone", exc_info=True)

    def onToggled(self, checked):
        slicer.app.userSettings().setValue(SETTINGS_SCRUB_ON_SAVE, "true" if checked else "false")

    # -- saving ----------------------------------------------------------------------------------
    def onAccepted(self):
        if not self.checkBox.checked:
            self.dialog.accept()
            return
        scene = slicer.mrmlScene
        policy = self.policyFactory()
        try:
            snapshot = take_snapshot(scene)
            plan = plan_scrub(snapshot, policy)
            changes = neutral_rows(self._rows(), plan.report.renamed_nodes, plan.report.identifying_values,
                                   self._sceneDirectory())
        except Exception as error:   # never save unscrubbed when the user asked for scrubbing
            logging.exception("SceneScrubber: could not prepare a scrubbed save")
            slicer.util.errorDisplay(f"Patient information could not be removed, so nothing was saved: {error}",
                                     parent=self.dialog)
            return
        sceneRow = next((row for row in self._rows() if not row.node_id and row.checked), None)
        previous = self._applyRowChanges(changes)
        self.savedScenes = []
        self.inScrubbedSave = True
        try:
            apply_plan(scene, plan)
            self.dialog.accept()   # saves; closes the dialog when everything was written
        finally:
            self.inScrubbedSave = False
            restore(scene, snapshot)
            self._restoreRows(previous)
        if not self.savedScenes and sceneRow is not None and scene.GetURL():
            self.savedScenes = [scene.GetURL()]   # fileSaved not received: the writer set the scene's URL
        self._finish(plan.report.identifying_values, policy)

    def _finish(self, values, policy):
        for path in self.savedScenes:
            try:
                findings, _blanked = finish_saved_scene(path, values, policy)
            except Exception as error:
                logging.exception("SceneScrubber: could not check %s", path)
                slicer.util.warningDisplay(f"{path} was saved but could not be checked: {error}")
                continue
            message = outcome_message(path, findings, scrubbed=True)
            if findings:
                slicer.util.warningDisplay(message)
            else:
                slicer.util.showStatusMessage(message, 10000)
                logging.info(message)

    def onFileSaved(self, properties=None, *_):
        """Every save, also those that bypass the dialog (slicer.util.saveScene)."""
        path = (properties or {}).get("fileName", "") if hasattr(properties, "get") else ""
        if not path or not is_saved_scene(path):
            return
        if self.inScrubbedSave:
            self.savedScenes.append(path)
            return
        if not scrubOnSaveByDefault():
            return
        try:
            from SceneScrubberLib.scene_check import check_scene
            findings = check_scene(path, identifying_values(slicer.mrmlScene, self.policyFactory()))
        except Exception:
            logging.exception("SceneScrubber: could not check %s", path)
            return
        if findings:
            slicer.util.warningDisplay(
                outcome_message(path, findings, scrubbed=False) +
                "\n\nThis save did not go through the Save dialog's \"Remove patient information\" option.")

    # -- the dialog's table ------------------------------------------------------------------------
    def _rows(self):
        rows = []
        for row in range(self.table.rowCount):
            item = self.table.item(row, FILE_NAME_COLUMN)
            folder = self.table.cellWidget(row, FILE_DIRECTORY_COLUMN)
            if item is None or folder is None or self.table.isRowHidden(row):
                continue
            rows.append(SaveRow(row, item.data(UID_ROLE) or "", item.text(), item.data(FILE_EXTENSION_ROLE) or "",
                                folder.currentPath, item.checkState() == qt.Qt.Checked))
        return rows

    def _sceneDirectory(self):
        for row in self._rows():
            if not row.node_id:
                return row.directory
        return slicer.mrmlScene.GetRootDirectory()

    def _applyRowChanges(self, changes):
        """Apply the changes; returns what to put back (check=True: the row was checked by us)."""
        previous = []
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
        return previous

    def _restoreRows(self, previous):
        for change in previous:
            item = self.table.item(change.row, FILE_NAME_COLUMN)
            if item is None:   # the dialog refilled its table
                continue
            item.setText(change.file_name)
            self.table.cellWidget(change.row, FILE_DIRECTORY_COLUMN).currentPath = change.directory
            if change.check:
                item.setCheckState(qt.Qt.Unchecked)
