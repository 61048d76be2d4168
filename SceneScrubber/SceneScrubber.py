"""SceneScrubber: keep patient identity out of saved scenes (.mrml, .mrb).

A thin Slicer layer over SceneScrubberLib. From the Python console:

    logic = slicer.util.getModuleLogic("SceneScrubber")
    ok, findings = logic.saveScene("/data/shared/case.mrb")   # scrubbed copy; the session is untouched
    logic.scrubScene()                                        # scrub the live scene for good

The panel: find patient information in the scene, save a scrubbed copy, scrub for good,
check a saved file, with the options (keep UIDs, shift dates) and whether the Save dialog's
"Remove patient information (PHI) from saved files" box starts ticked. That box is added to
Slicer's Save dialog when Slicer has started (SceneScrubberSlicer/save_dialog_hook.py).
"""
import qt
import slicer
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)


SETTINGS_KEEP_UIDS = "SceneScrubber/KeepUIDs"
SETTINGS_SHIFT_DAYS = "SceneScrubber/ShiftDateDays"
SETTINGS_SCRUB_ON_SAVE = "SceneScrubber/ScrubOnSave"   # the same key as SceneScrubberSlicer.save_dialog_hook


def policyFromSettings():
    """The ScrubPolicy the user chose in this module's panel."""
    from SceneScrubberLib.policy import ScrubPolicy
    settings = slicer.app.userSettings()
    days = int(settings.value(SETTINGS_SHIFT_DAYS, 0) or 0)
    return ScrubPolicy(keep_uids=settings.value(SETTINGS_KEEP_UIDS, "false") == "true", date_offset_days=days or None)


def installSaveDialogHook():
    """Add the PHI checkbox to Slicer's Save dialog (replacing an earlier one on reload)."""
    try:
        from SceneScrubberSlicer import save_dialog_hook
        return save_dialog_hook.install(policyFromSettings)
    except Exception:   # the Save dialog must keep working whatever happens here
        import logging
        logging.exception("SceneScrubber: the Save dialog checkbox could not be added")
        return None


class SceneScrubber(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "Scene Scrubber"
        self.parent.categories = ["Utilities"]
        self.parent.dependencies = []
        self.parent.contributors = ["SlicerDeidentify developers"]
        self.parent.helpText = ("Finds patient identity that DICOM loading put into the scene (subject hierarchy "
                                "attributes and item names) so that it does not end up in saved scenes.")
        self.parent.acknowledgementText = ""
        # The Data module creates the Save dialog while modules load: hook it once they all have.
        slicer.app.connect("startupCompleted()", installSaveDialogHook)


class SceneScrubberWidget(ScriptedLoadableModuleWidget):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/SceneScrubber.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = SceneScrubberLogic()
        settings = slicer.app.userSettings()
        self.ui.keepUIDsCheckBox.checked = settings.value(SETTINGS_KEEP_UIDS, "false") == "true"
        self.ui.shiftDatesSpinBox.value = int(settings.value(SETTINGS_SHIFT_DAYS, 0) or 0)
        self.ui.scrubOnSaveCheckBox.checked = settings.value(SETTINGS_SCRUB_ON_SAVE, "false") == "true"
        self.ui.scrubOnSaveCheckBox.connect("toggled(bool)", self.onScrubOnSaveToggled)
        self.ui.keepUIDsCheckBox.connect("toggled(bool)", lambda _checked: self._policyArguments())
        self.ui.shiftDatesSpinBox.connect("valueChanged(int)", lambda _days: self._policyArguments())
        self.hook = installSaveDialogHook()   # also re-installs it after a module reload
        self.ui.findButton.connect("clicked(bool)", self.onFindButton)
        self.ui.saveButton.connect("clicked(bool)", self.onSaveButton)
        self.ui.scrubButton.connect("clicked(bool)", self.onScrubButton)
        self.ui.checkButton.connect("clicked(bool)", self.onCheckButton)

    def _policyArguments(self):
        """The panel's options as saveScene/checkFile take them, remembered in the settings."""
        settings = slicer.app.userSettings()
        settings.setValue(SETTINGS_KEEP_UIDS, "true" if self.ui.keepUIDsCheckBox.checked else "false")
        settings.setValue(SETTINGS_SHIFT_DAYS, self.ui.shiftDatesSpinBox.value)
        days = self.ui.shiftDatesSpinBox.value
        return {"keepUIDs": self.ui.keepUIDsCheckBox.checked, "dateOffsetDays": days or None}

    def onScrubOnSaveToggled(self, checked):
        slicer.app.userSettings().setValue(SETTINGS_SCRUB_ON_SAVE, "true" if checked else "false")
        if self.hook is not None and self.hook.checkBox is not None:
            self.hook.checkBox.checked = checked

    def onFindButton(self):
        found = self.logic.findIdentifyingAttributes(slicer.mrmlScene)
        self.ui.statusLabel.text = (f"{len(found)} identifying attributes in the subject hierarchy."
                                    if found else "No identifying attributes in the subject hierarchy.")

    def onSaveButton(self):
        path = qt.QFileDialog.getSaveFileName(slicer.util.mainWindow(), "Save a copy without patient information",
                                              "", "Medical Reality Bundle (*.mrb);;Scene (*.mrml)")
        if not path:
            return
        saved, findings = self.logic.saveScene(path, scrub=True, **self._policyArguments())
        self.ui.statusLabel.text = _outcome(path, saved, findings)

    def onScrubButton(self):
        if not slicer.util.confirmOkCancelDisplay(
                "Remove patient names, IDs, dates and DICOM UIDs from the loaded scene for good? "
                "Links to the DICOM database are lost."):
            return
        report = self.logic.scrubScene(**self._policyArguments())
        self.ui.statusLabel.text = (f"Removed {report.removed_attributes} attributes and {report.removed_uids} UIDs, "
                                    f"renamed {len(report.renamed_items)} items.")

    def onCheckButton(self):
        path = self.ui.savedFileSelector.currentPath
        if not path:
            return
        terms = [t.strip() for t in self.ui.termsLineEdit.text.split(";") if t.strip()]
        try:
            findings = self.logic.checkFile(path, terms, **self._policyArguments())
        except Exception as error:
            self.ui.statusLabel.text = f"{path} could not be checked: {error}"
            return
        self.ui.statusLabel.text = _outcome(path, True, findings)


def _outcome(path, saved, findings):
    if not saved:
        return f"{path} was not saved."
    if not findings:
        return f"{path}: no patient information found."
    files = sorted({finding.file for finding in findings})
    return f"{path}: patient information found in {len(files)} file(s) of the scene. Do not share it as it is."


class SceneScrubberLogic(ScriptedLoadableModuleLogic):
    def saveScene(self, path, scrub=True, keepUIDs=False, dateOffsetDays=None):
        """Save the scene (.mrml or .mrb); with scrub, save a scrubbed version and restore the live
        scene afterwards, blank the screenshot, then check the written file. Returns (saved, findings).
        keepUIDs keeps study/series/instance UIDs; dateOffsetDays shifts DICOM dates instead of removing them."""
        from SceneScrubberLib.after_save import finish_saved_scene
        from SceneScrubberLib.live_scene import scrubbed_for_saving
        from SceneScrubberLib.policy import ScrubPolicy
        if not scrub:
            return slicer.util.saveScene(path), []
        policy = ScrubPolicy(keep_uids=keepUIDs, date_offset_days=dateOffsetDays)
        with scrubbed_for_saving(slicer.mrmlScene, policy) as report:
            saved = slicer.util.saveScene(path)
        return saved, finish_saved_scene(path, report.identifying_values, policy)[0] if saved else []

    def scrubScene(self, keepUIDs=False, dateOffsetDays=None):
        """Remove patient information from the live scene for good; returns the ScrubReport."""
        from SceneScrubberLib.live_scene import scrub_scene
        from SceneScrubberLib.policy import ScrubPolicy
        return scrub_scene(slicer.mrmlScene, policy=ScrubPolicy(keep_uids=keepUIDs, date_offset_days=dateOffsetDays))

    def checkFile(self, path, terms=(), keepUIDs=False, dateOffsetDays=None):
        """Where identifying values (the scene's own and `terms`) stand in a saved .mrb, .mrml or folder."""
        from SceneScrubberLib.scene_check import check_scene, identifying_terms
        from SceneScrubberLib.policy import ScrubPolicy
        policy = ScrubPolicy(keep_uids=keepUIDs, date_offset_days=dateOffsetDays)
        return check_scene(path, identifying_terms(path, policy) | set(terms))

    def findIdentifyingAttributes(self, scene):
        """[(item name, attribute name)] for every subject hierarchy attribute that can carry identity."""
        from SceneScrubberLib import is_identifying_attribute
        from SceneScrubberLib.live_scene import take_snapshot
        return [(name, attribute) for name, attributes, _uids in take_snapshot(scene).items.values()
                for attribute in attributes if is_identifying_attribute(attribute)]


class SceneScrubberTest(ScriptedLoadableModuleTest):
    """Run in Slicer: Developer mode on, then Reload and Test in this module's panel."""

    def setUp(self):
        slicer.mrmlScene.Clear(0)

    def runTest(self):
        self.setUp()
        self.test_FindsDicomAttributesOfAPatientItem()
        self.setUp()
        self.test_SaveSceneScrubbedKeepsTheSession()
        self.setUp()
        self.test_SaveDialogWithTheBoxTicked()

    def test_FindsDicomAttributesOfAPatientItem(self):
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        patient = shNode.CreateSubjectItem(shNode.GetSceneItemID(), "Doe^John")
        shNode.SetItemAttribute(patient, "DICOM.PatientName", "Doe^John")
        shNode.SetItemAttribute(patient, "Color", "red")
        found = SceneScrubberLogic().findIdentifyingAttributes(slicer.mrmlScene)
        self.assertEqual(found, [("Doe^John", "DICOM.PatientName")])
        self.delayDisplay("SceneScrubber self-test passed")

    def test_SaveSceneScrubbedKeepsTheSession(self):
        import os
        import tempfile
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        patient = shNode.CreateSubjectItem(shNode.GetSceneItemID(), "Doe^John")
        shNode.SetItemAttribute(patient, "DICOM.PatientName", "Doe^John")
        shNode.SetItemAttribute(patient, "DICOM.PatientID", "MRN12345")
        path = os.path.join(tempfile.mkdtemp(), "scrubbed.mrb")
        saved, findings = SceneScrubberLogic().saveScene(path)
        self.assertTrue(saved)
        self.assertEqual(findings, [])
        import zipfile
        with zipfile.ZipFile(path) as bundle:
            for name in bundle.namelist():
                self.assertNotIn(b"MRN12345", bundle.read(name))
        self.assertEqual(SceneScrubberLogic().checkFile(path, ["MRN12345", "Doe"]), [])
        self.assertEqual(shNode.GetItemAttribute(patient, "DICOM.PatientID"), "MRN12345")   # session untouched
        self.assertEqual(shNode.GetItemName(patient), "Doe^John")
        self.delayDisplay("SceneScrubber save self-test passed")

    def test_SaveDialogWithTheBoxTicked(self):
        """The real Save dialog, its PHI box ticked, Save pressed: the .mrb holds no identity, the
        scene is as it was, and the box's state is remembered."""
        import os
        import tempfile
        import zipfile
        import numpy
        from SceneScrubberSlicer import save_dialog_hook
        hook = installSaveDialogHook()
        self.assertIsNotNone(hook, "the Save dialog was not found or not as expected")
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        patient = shNode.CreateSubjectItem(shNode.GetSceneItemID(), "Doe^Jane")
        shNode.SetItemAttribute(patient, "DICOM.PatientName", "Doe^Jane")
        shNode.SetItemAttribute(patient, "DICOM.PatientID", "MRN67890")
        volume = slicer.util.addVolumeFromArray(numpy.zeros((3, 4, 5), dtype="int16"), name="Doe Jane T1")
        volume.SetAttribute("DICOM.instanceUIDs", "1.2.840.99.77")
        shNode.SetItemParent(shNode.GetItemByDataNode(volume), patient)
        folder = tempfile.mkdtemp()
        path = os.path.join(folder, "shared.mrb")
        wasChecked = hook.checkBox.checked

        def pressSave():
            table = hook.table
            for row in range(table.rowCount):
                item = table.item(row, save_dialog_hook.FILE_NAME_COLUMN)
                if not item.data(save_dialog_hook.UID_ROLE):   # the scene's row
                    item.setText("shared.mrb")
                    table.cellWidget(row, save_dialog_hook.FILE_DIRECTORY_COLUMN).currentPath = folder
                    item.setCheckState(qt.Qt.Checked)
            hook.checkBox.checked = True
            hook.buttonBox.button(qt.QDialogButtonBox.Save).click()

        qt.QTimer.singleShot(1000, pressSave)
        try:
            slicer.app.ioManager().openSaveDataDialog()
        finally:
            hook.checkBox.checked = wasChecked
        self.assertTrue(os.path.exists(path))
        with zipfile.ZipFile(path) as bundle:
            for name in bundle.namelist():
                self.assertNotIn("Doe", name)
                data = bundle.read(name)
                for value in (b"MRN67890", b"Doe^Jane", b"Doe Jane", b"1.2.840.99.77"):
                    self.assertNotIn(value, data, name)
        self.assertEqual(SceneScrubberLogic().checkFile(path, ["MRN67890", "Doe^Jane"]), [])
        self.assertEqual(shNode.GetItemName(patient), "Doe^Jane")                 # the session is untouched
        self.assertEqual(volume.GetName(), "Doe Jane T1")
        self.assertEqual(volume.GetAttribute("DICOM.instanceUIDs"), "1.2.840.99.77")
        self.delayDisplay("SceneScrubber Save dialog self-test passed")
