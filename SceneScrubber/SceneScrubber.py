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
import logging

import qt
import slicer
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)

try:   # as Slicer's scripted module template (Utilities/Templates/Modules/Scripted/TemplateKey.py:8-9);
    # Base/Python/slicer/i18n.py has tr and translate in v5.8.0, v5.10.0 and main
    from slicer.i18n import tr as _
    from slicer.i18n import translate
except ImportError:   # an older Slicer: untranslated
    def _(text):
        return text

    def translate(_context, text):
        return text


def typeOnlyErrorDisplay(*args, **kwargs):
    """SceneScrubberSlicer.errors.typeOnlyErrorDisplay: popups and log lines with the error's type only,
    never its text (Slicer logs every popup; an error can quote a patient-named node or file, G3-1)."""
    from SceneScrubberSlicer.errors import typeOnlyErrorDisplay as display
    return display(*args, **kwargs)


SETTINGS_KEEP_UIDS = "SceneScrubber/KeepUIDs"
SETTINGS_SHIFT_DAYS = "SceneScrubber/ShiftDateDays"
SETTINGS_SCRUB_ON_SAVE = "SceneScrubber/ScrubOnSave"   # the same key as SceneScrubberSlicer.save_dialog_hook
HELP_URL = "https://github.com/SlicerDeidentify/SlicerDeidentify#readme"


def policyFromSettings():
    """The ScrubPolicy the user chose in this module's panel."""
    from SceneScrubberLib.policy import policy_from_settings
    settings = slicer.app.userSettings()
    return policy_from_settings(settings.value(SETTINGS_KEEP_UIDS, "false"), settings.value(SETTINGS_SHIFT_DAYS, 0))


def installSaveDialogHook():
    """Add the PHI checkbox to Slicer's Save dialog (replacing an earlier one on reload)."""
    try:
        from SceneScrubberSlicer import save_dialog_hook
        return save_dialog_hook.install(policyFromSettings)
    except Exception:   # the Save dialog must keep working whatever happens here
        logging.exception("SceneScrubber: the Save dialog checkbox could not be added")
        return None


def installedSaveDialogHook():
    """The Save dialog hook in use now (looked up at each call: a reinstall replaces it), or None."""
    try:
        from SceneScrubberSlicer import save_dialog_hook
    except Exception:
        return None
    return save_dialog_hook.installed()


class SceneScrubber(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = _("Scene Scrubber")
        # as Slicer's own modules (DICOMPatcher.py and ScreenCapture.py 5.8 and main:26-27)
        self.parent.categories = [translate("qSlicerAbstractCoreModule", "Utilities")]
        # Data: the Save dialog (qSlicerDataModule::setup registers it); SubjectHierarchy: the DICOM
        # attributes scrubbed. Module names as Slicer's own modules declare them (DICOM.py 5.8:39
        # ["SubjectHierarchy"]; selectModule("Data"), qSlicerWelcomeModuleWidget.cxx 5.8:346).
        self.parent.dependencies = ["Data", "SubjectHierarchy"]
        self.parent.contributors = ["SlicerDeidentify maintainers (SlicerDeidentify project)"]
        self.parent.helpText = _(
            "Finds patient identity that DICOM loading put into the scene (subject hierarchy attributes, item and "
            "node names, DICOM UIDs) and keeps it out of saved scenes: a \"Remove patient information (PHI) from "
            "saved files\" option in the Save dialog, a scrubbed copy, scrubbing the scene for good, and a check of "
            "saved files. See the <a href=\"{url}\">documentation</a>.").format(url=HELP_URL)
        self.parent.acknowledgementText = _(
            "Developed in the SlicerDeidentify project. Built on 3D Slicer's MRML scene and subject hierarchy "
            "(slicer.org); the attributes removed are those Slicer's DICOM plugins copy from DICOM headers, named "
            "by their DICOM keywords (DICOM PS3.6, NEMA).")
        # The Data module creates the Save dialog while modules load: hook it once they all have.
        slicer.app.connect("startupCompleted()", installSaveDialogHook)
        # Loaded into a running Slicer (the Extension Wizard's "Load module"), the signal has come and
        # gone: it is emitted once, when the main window is first shown (qSlicerApplicationHelper.txx
        # 5.8.0:312-319, .hxx 5.10.0:308-315 and main:499-506, after every module is loaded), so a
        # visible main window means it has been.
        mainWindow = slicer.util.mainWindow()
        if mainWindow is not None and mainWindow.isVisible():
            installSaveDialogHook()


class SceneScrubberWidget(ScriptedLoadableModuleWidget):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/SceneScrubber.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = SceneScrubberLogic()
        self._showSettings()
        self.ui.scrubOnSaveCheckBox.connect("toggled(bool)", self.onScrubOnSaveToggled)
        self.ui.keepUIDsCheckBox.connect("toggled(bool)", lambda _checked: self._policyArguments())
        self.ui.shiftDatesSpinBox.connect("valueChanged(int)", lambda _days: self._policyArguments())
        installSaveDialogHook()   # also re-installs it after a module reload
        self.ui.findButton.connect("clicked(bool)", self.onFindButton)
        self.ui.saveButton.connect("clicked(bool)", self.onSaveButton)
        self.ui.scrubButton.connect("clicked(bool)", self.onScrubButton)
        self.ui.checkButton.connect("clicked(bool)", self.onCheckButton)

    def onReload(self):
        """Reload and Test also reloads SceneScrubberSlicer and SceneScrubberLib: Slicer reloads only this
        file (ScriptedLoadableModuleWidget.onReload -> slicer.util.reloadScriptedModule, Base/Python/slicer/
        ScriptedLoadableModule.py 5.8:236-248, same in 5.10 and main). The Save dialog is given back first,
        so that the fresh hook finds it as Slicer made it."""
        import sys
        try:
            from SceneScrubberSlicer import save_dialog_hook
            save_dialog_hook.uninstall()
        except Exception:
            logging.exception("SceneScrubber: the Save dialog hook could not be removed before reloading")
        for name in [name for name in sys.modules if name.split(".")[0] in ("SceneScrubberLib", "SceneScrubberSlicer")]:
            del sys.modules[name]
        ScriptedLoadableModuleWidget.onReload(self)

    def enter(self):
        # called by qSlicerScriptedLoadableModuleWidget::enter (Base/QTGUI/qSlicerScriptedLoadableModuleWidget.cxx
        # 5.8:65 declareMethod(EnterMethod, "enter"))
        self._showSettings()   # the settings may have changed elsewhere (another panel instance, Slicer.ini)

    def _showSettings(self):
        settings = slicer.app.userSettings()
        for widget in (self.ui.keepUIDsCheckBox, self.ui.shiftDatesSpinBox, self.ui.scrubOnSaveCheckBox):
            widget.blockSignals(True)
        try:
            self.ui.keepUIDsCheckBox.checked = settings.value(SETTINGS_KEEP_UIDS, "false") == "true"
            from SceneScrubberLib.policy import shift_days_setting
            self.ui.shiftDatesSpinBox.value = shift_days_setting(settings.value(SETTINGS_SHIFT_DAYS, 0))
            self.ui.scrubOnSaveCheckBox.checked = settings.value(SETTINGS_SCRUB_ON_SAVE, "false") == "true"
        finally:
            for widget in (self.ui.keepUIDsCheckBox, self.ui.shiftDatesSpinBox, self.ui.scrubOnSaveCheckBox):
                widget.blockSignals(False)

    def _policyArguments(self):
        """The panel's options as saveScene/checkFile take them, remembered in the settings."""
        settings = slicer.app.userSettings()
        settings.setValue(SETTINGS_KEEP_UIDS, "true" if self.ui.keepUIDsCheckBox.checked else "false")
        settings.setValue(SETTINGS_SHIFT_DAYS, self.ui.shiftDatesSpinBox.value)
        days = self.ui.shiftDatesSpinBox.value
        return {"keepUIDs": self.ui.keepUIDsCheckBox.checked, "dateOffsetDays": days or None}

    def onScrubOnSaveToggled(self, checked):
        slicer.app.userSettings().setValue(SETTINGS_SCRUB_ON_SAVE, "true" if checked else "false")
        hook = installedSaveDialogHook()   # M12: never a hook kept from an earlier install
        if hook is not None and hook.checkBox is not None:
            hook.checkBox.checked = checked

    def onFindButton(self):
        with typeOnlyErrorDisplay(_("Patient information could not be looked for."), waitCursor=True):
            found = self.logic.findIdentifyingAttributes(slicer.mrmlScene)
            self.ui.statusLabel.text = (
                _("{count} identifying attributes in the subject hierarchy.").format(count=len(found))
                if found else _("No identifying attributes in the subject hierarchy."))

    def onSaveButton(self):
        # .mrb only (S5): slicer.util.saveScene saves a .mrml "as a single file without associated data"
        # (Base/Python/slicer/util.py saveScene docstring, 5.8 1155-1156, 5.10 1154-1155, main 1445-1446), so
        # such a copy would reference the original, possibly patient-named, files
        path = qt.QFileDialog.getSaveFileName(slicer.util.mainWindow(), _("Save a copy without patient information"),
                                              "", _("Medical Reality Bundle (*.mrb)"))
        if not path:
            return
        with typeOnlyErrorDisplay(_("The scrubbed copy could not be saved."), waitCursor=True):
            saved, findings = self.logic.saveScene(path, scrub=True, **self._policyArguments())
            self.ui.statusLabel.text = _outcome(path, saved, findings)

    def onScrubButton(self):
        if not slicer.util.confirmOkCancelDisplay(
                _("Remove patient names, IDs, dates and DICOM UIDs from the loaded scene for good? "
                  "Links to the DICOM database are lost.")):
            return
        with typeOnlyErrorDisplay(_("Patient information could not be removed from the scene."), waitCursor=True):
            report = self.logic.scrubScene(**self._policyArguments())
            self.ui.statusLabel.text = _(
                "Removed {attributes} attributes and {uids} UIDs, renamed {items} items.").format(
                attributes=report.removed_attributes, uids=report.removed_uids, items=len(report.renamed_items))

    def onCheckButton(self):
        path = self.ui.savedFileSelector.currentPath
        if not path:
            return
        terms = [t.strip() for t in self.ui.termsLineEdit.text.split(";") if t.strip()]
        # Not tryWithErrorDisplay: it shows (and Slicer logs, util.py 5.8.0:3057) the exception's text,
        # which may quote the chosen path, named after the patient. The popup and the log get the error's
        # type; the panel's own status line (on screen only) says more.
        slicer.app.setOverrideCursor(qt.Qt.WaitCursor)
        try:
            findings = self.logic.checkFile(path, terms, **self._policyArguments())
        except Exception as error:
            self.ui.statusLabel.text = _("{path} could not be checked: {error}").format(path=path, error=error)
            logging.error("SceneScrubber: a scene could not be checked (%s)", type(error).__name__)
            slicer.util.errorDisplay(_("The scene could not be checked ({error}).").format(error=type(error).__name__))
            if slicer.app.testingEnabled():
                raise
            return
        finally:
            slicer.app.restoreOverrideCursor()
        self.ui.statusLabel.text = _outcome(path, True, findings)


def _outcome(path, saved, findings):
    if not saved:
        return _("{path} was not saved.").format(path=path)
    if not findings:
        return _("{path}: no patient information found.").format(path=path)
    files = sorted({finding.file for finding in findings})
    return _("{path}: patient information found in {count} file(s) of the scene. Do not share it as it is.").format(
        path=path, count=len(files))


class SceneScrubberLogic(ScriptedLoadableModuleLogic):
    def saveScene(self, path, scrub=True, keepUIDs=False, dateOffsetDays=None):
        """Save the scene (.mrml or .mrb); with scrub, save a scrubbed copy and restore the live
        scene afterwards (its URL and root directory too: the copy does not become the scene's file),
        blank the screenshot, then check the written file. Returns (saved, findings).
        keepUIDs keeps study/series/instance UIDs; dateOffsetDays shifts DICOM dates instead of removing them."""
        from SceneScrubberLib.after_save import finish_saved_scene
        from SceneScrubberLib.live_scene import scrubbed_for_saving
        from SceneScrubberLib.policy import ScrubPolicy
        if not scrub:
            return slicer.util.saveScene(path), []
        policy = ScrubPolicy(keep_uids=keepUIDs, date_offset_days=dateOffsetDays)
        with scrubbed_for_saving(slicer.mrmlScene, policy) as report:
            saved = slicer.util.saveScene(path)
        return saved, (finish_saved_scene(path, report.identifying_values, policy, report.identifier_values)[0]
                       if saved else [])

    def scrubScene(self, keepUIDs=False, dateOffsetDays=None):
        """Remove patient information from the live scene for good; returns the ScrubReport."""
        from SceneScrubberLib.live_scene import scrub_scene
        from SceneScrubberLib.policy import ScrubPolicy
        return scrub_scene(slicer.mrmlScene, policy=ScrubPolicy(keep_uids=keepUIDs, date_offset_days=dateOffsetDays))

    def checkFile(self, path, terms=(), keepUIDs=False, dateOffsetDays=None):
        """Where identifying values (the scene's own and `terms`) stand in a saved .mrb, .mrml or folder."""
        from SceneScrubberLib.identity_matcher import IdentityMatcher
        from SceneScrubberLib.scene_check import check_scene, identifying_terms
        from SceneScrubberLib.policy import ScrubPolicy
        policy = ScrubPolicy(keep_uids=keepUIDs, date_offset_days=dateOffsetDays)
        # the user's terms as terms: any 3+ characters, numbers included (identity_matcher)
        return check_scene(path, IdentityMatcher(identifying_terms(path, policy), terms=terms), policy=policy)

    def findIdentifyingAttributes(self, scene):
        """[(item name, attribute name)] for every subject hierarchy attribute that can carry identity."""
        from SceneScrubberLib import is_identifying_attribute
        from SceneScrubberLib.live_scene import take_snapshot
        return [(name, attribute) for name, attributes, _uids in take_snapshot(scene).items.values()
                for attribute in attributes if is_identifying_attribute(attribute)]


class SceneScrubberTest(ScriptedLoadableModuleTest):
    """Run in Slicer: Developer mode on, then Reload and Test in this module's panel (or ctest
    py_SceneScrubber). Hermetic: every file goes to a temporary folder that is removed, and this
    module's settings, the scene's URL and root directory and the last scene format the Save dialog
    remembers are put back exactly as they were. The Save dialog tests pick .mrb with the dialog's
    own "DataBundleButton" and a watchdog closes the dialog, so they can fail but never hang."""

    WATCHDOG_MSEC = 60000
    SETTINGS = (SETTINGS_KEEP_UIDS, SETTINGS_SHIFT_DAYS, SETTINGS_SCRUB_ON_SAVE)

    def setUp(self):
        import tempfile
        slicer.mrmlScene.Clear(0)
        settings = slicer.app.userSettings()
        self._settings = {key: (settings.contains(key), settings.value(key)) for key in self.SETTINGS}
        self._sceneURL = slicer.mrmlScene.GetURL()
        self._rootDirectory = slicer.mrmlScene.GetRootDirectory()
        # Q_PROPERTY defaultSceneFileType (Base/QTCore/qSlicerCoreIOManager.h 5.8:52, main:53); a dialog
        # save sets it (qSlicerSaveDataDialog.cxx 5.8:1126, main:1011). PythonQt finds the property before
        # the Q_INVOKABLE getter of the same name (PythonQtClassInfo.cpp db525aff:314-316), so this is the value.
        self._sceneFileType = slicer.app.coreIOManager().defaultSceneFileType
        self.folder = tempfile.mkdtemp(prefix="SceneScrubberTest-")

    def tearDown(self):
        import shutil
        settings = slicer.app.userSettings()
        for key, (present, value) in self._settings.items():
            if present:
                settings.setValue(key, value)
            else:
                settings.remove(key)
        slicer.mrmlScene.Clear(0)
        slicer.mrmlScene.SetURL(self._sceneURL or "")
        slicer.mrmlScene.SetRootDirectory(self._rootDirectory or "")
        slicer.app.coreIOManager().defaultSceneFileType = self._sceneFileType
        shutil.rmtree(self.folder, ignore_errors=True)

    def runTest(self):
        for name in ("test_FindsDicomAttributesOfAPatientItem", "test_SaveSceneScrubbedKeepsTheSession",
                     "test_SaveDialogWithTheBoxTicked", "test_UninstalledHookGivesSaveBack"):
            self.setUp()
            try:
                getattr(self, name)()
            finally:
                self.tearDown()

    # -- helpers (no "test" in their names: ScriptedLoadableModuleTest runs every such method) --------
    def _patientScene(self, name, patientID):
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        patient = shNode.CreateSubjectItem(shNode.GetSceneItemID(), name)
        shNode.SetItemAttribute(patient, "DICOM.PatientName", name)
        shNode.SetItemAttribute(patient, "DICOM.PatientID", patientID)
        return shNode, patient

    def _runSaveDialog(self, fileName, tickBox=None):
        """Open Slicer's Save dialog, choose .mrb in self.folder and press Save. tickBox: True/False
        sets the PHI box of the installed hook; None: there is no hook. Fails (never hangs) if the
        dialog does not close by itself."""
        from SceneScrubberSlicer import save_dialog_hook as h
        dialog = next((w for w in slicer.app.topLevelWidgets() if w.objectName == h.DIALOG_NAME), None)
        self.assertIsNotNone(dialog, "Slicer's Save dialog was not found")
        table = dialog.findChild(qt.QTableWidget, "FileWidget")
        failures, watchdogFired = [], []

        def pressSave():
            try:
                sceneRow = next(row for row in range(table.rowCount)
                                if table.item(row, h.NODE_TYPE_COLUMN).data(h.SCENE_TYPE_ROLE) == "Scene")
                formats = table.cellWidget(sceneRow, h.FILE_FORMAT_COLUMN)
                if ".mrb" not in formats.currentText:
                    # saveSceneAsDataBundle() toggles .mrb/.mrml (qSlicerSaveDataDialog.cxx main 1057-1078);
                    # the button is "DataBundleButton" in the .ui of 5.8.0, 5.10.0 and main (line 134)
                    dialog.findChild(qt.QToolButton, "DataBundleButton").click()
                self.assertIn(".mrb", formats.currentText)
                item = table.item(sceneRow, h.FILE_NAME_COLUMN)
                item.setText(fileName)
                table.cellWidget(sceneRow, h.FILE_DIRECTORY_COLUMN).currentPath = self.folder
                item.setCheckState(qt.Qt.Checked)
                if tickBox is not None:
                    h.installed().checkBox.checked = tickBox
                dialog.findChild(qt.QDialogButtonBox, "ButtonBox").button(qt.QDialogButtonBox.Save).click()
            except Exception as error:   # reported after the dialog is closed
                failures.append(error)
                dialog.reject()

        def watchdog():
            watchdogFired.append(True)
            # static QApplication::activeModalWidget (PythonQt generated_cpp_511 com_trolltech_qt_gui0.cpp:14926)
            modal = qt.QApplication.activeModalWidget()
            if modal is not None and modal.objectName != h.DIALOG_NAME:
                modal.close()   # a message box opened by the save (overwrite, error)
            if dialog.visible:
                dialog.reject()

        timer = qt.QTimer()
        timer.setInterval(self.WATCHDOG_MSEC)   # repeats until stopped: setSingleShot is not needed
        timer.connect("timeout()", watchdog)
        timer.start()
        qt.QTimer.singleShot(0, pressSave)
        try:
            # ioManager(): qSlicerApplication.h 5.8:89, main:88; openSaveDataDialog(): a public slot that exec()s
            # the dialog and returns whether it was accepted (qSlicerIOManager.h 5.8:116, 5.10 and main:118)
            saved = slicer.app.ioManager().openSaveDataDialog()
        finally:
            timer.stop()
        if failures:
            raise failures[0]
        self.assertFalse(watchdogFired, "the Save dialog did not close by itself: the save failed")
        self.assertTrue(saved, "the Save dialog was not accepted")
        return saved

    # -- tests ---------------------------------------------------------------------------------
    def test_FindsDicomAttributesOfAPatientItem(self):
        shNode, patient = self._patientScene("Doe^John", "MRN12345")
        shNode.SetItemAttribute(patient, "Color", "red")
        found = SceneScrubberLogic().findIdentifyingAttributes(slicer.mrmlScene)
        self.assertEqual(sorted(found), [("Doe^John", "DICOM.PatientID"), ("Doe^John", "DICOM.PatientName")])
        self.delayDisplay("SceneScrubber self-test passed")

    def test_SaveSceneScrubbedKeepsTheSession(self):
        import os
        import zipfile
        shNode, patient = self._patientScene("Doe^John", "MRN12345")
        path = os.path.join(self.folder, "scrubbed.mrb")
        location = (slicer.mrmlScene.GetURL(), slicer.mrmlScene.GetRootDirectory())
        saved, findings = SceneScrubberLogic().saveScene(path)
        # N3: the copy does not become the scene's file (the writer moved both, qSlicerSceneWriter.cxx main 168-169)
        self.assertEqual((slicer.mrmlScene.GetURL(), slicer.mrmlScene.GetRootDirectory()), location)
        self.assertTrue(saved)
        self.assertEqual(findings, [])
        with zipfile.ZipFile(path) as bundle:
            for name in bundle.namelist():
                self.assertNotIn(b"MRN12345", bundle.read(name))
                self.assertNotIn(b"Doe^John", bundle.read(name))
        self.assertEqual(SceneScrubberLogic().checkFile(path, ["MRN12345", "Doe"]), [])
        self.assertEqual(shNode.GetItemAttribute(patient, "DICOM.PatientID"), "MRN12345")   # session untouched
        self.assertEqual(shNode.GetItemName(patient), "Doe^John")
        self.delayDisplay("SceneScrubber save self-test passed")

    def test_SaveDialogWithTheBoxTicked(self):
        """The real Save dialog, its PHI box ticked, Save pressed: the .mrb holds no identity, nothing is
        left beside it, the scene is as it was, and the box goes back to the "every save" option."""
        import os
        import zipfile
        import numpy
        hook = installSaveDialogHook()
        self.assertIsNotNone(hook, "the Save dialog was not found, not as expected, or Save not taken over")
        self.assertIs(installedSaveDialogHook(), hook)
        shNode, patient = self._patientScene("Doe^Jane", "MRN67890")
        volume = slicer.util.addVolumeFromArray(numpy.zeros((3, 4, 5), dtype="int16"), name="Doe Jane T1")
        volume.SetAttribute("DICOM.instanceUIDs", "1.2.840.99.77")
        shNode.SetItemParent(shNode.GetItemByDataNode(volume), patient)
        # a hidden storable node: Slicer 5.10 writes it to <folder>/Private/ beside the bundle (M8),
        # 5.8 and main only inside it (qSlicerSaveDataDialog.cxx 5.10:869-950; main 870f01fa)
        hidden = slicer.util.addVolumeFromArray(numpy.ones((2, 2, 2), dtype="int16"), name="Hidden for Doe Jane")
        hidden.SetHideFromEditors(True)
        wasChecked = hook.checkBox.checked
        slicer.app.userSettings().setValue(SETTINGS_SCRUB_ON_SAVE, "false")   # tearDown puts it back
        location = (slicer.mrmlScene.GetURL(), slicer.mrmlScene.GetRootDirectory())
        try:
            self._runSaveDialog("shared.mrb", tickBox=True)
            # N3: the next ordinary Save does not propose the shared copy
            self.assertEqual((slicer.mrmlScene.GetURL(), slicer.mrmlScene.GetRootDirectory()), location)
            # N1: the tick was this save's only: the "every save" option is untouched and the box is back to it
            self.assertEqual(slicer.app.userSettings().value(SETTINGS_SCRUB_ON_SAVE), "false")
            self.assertFalse(hook.checkBox.checked)
        finally:
            hook.checkBox.checked = wasChecked   # tearDown then puts the setting back as it was
        path = os.path.join(self.folder, "shared.mrb")
        self.assertEqual(sorted(os.listdir(self.folder)), ["shared.mrb"])   # no stray Private/ (5.10)
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
        self.assertEqual(hidden.GetName(), "Hidden for Doe Jane")
        self.delayDisplay("SceneScrubber Save dialog self-test passed")

    def test_UninstalledHookGivesSaveBack(self):
        """Uninstalled, the hook gives Save back to Slicer's accept(): the dialog saves as it always did
        (identity included, which is what proves no scrubbing ran), and the box is gone."""
        import os
        import zipfile
        from SceneScrubberSlicer import save_dialog_hook
        self.assertIsNotNone(installSaveDialogHook())
        self._patientScene("Doe^Jim", "MRN24680")
        save_dialog_hook.uninstall()
        try:
            self.assertIsNone(save_dialog_hook.installed())
            dialogs = [w for w in slicer.app.topLevelWidgets() if w.objectName == save_dialog_hook.DIALOG_NAME]
            self.assertIsNone(dialogs[0].findChild(qt.QCheckBox, save_dialog_hook.CHECKBOX_NAME))
            self._runSaveDialog("plain.mrb")
            with zipfile.ZipFile(os.path.join(self.folder, "plain.mrb")) as bundle:
                self.assertTrue(any(b"MRN24680" in bundle.read(name) for name in bundle.namelist()))
        finally:
            reinstalled = installSaveDialogHook()   # asserted after: a failure above stays the reported one (S3)
        self.assertIsNotNone(reinstalled, "the hook could not be installed again")
        self.delayDisplay("SceneScrubber uninstall self-test passed")
