"""DicomDeidentify: DICOM PS3.15 Annex E de-identification inside 3D Slicer.

A thin Slicer layer: every decision lives in DicomDeidentifyLib (pure Python,
tested without Slicer). This file holds the module description, the panel,
the logic glue (settings, progress, cancel) and the in-Slicer self-test.
"""
import os
import threading

import slicer
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)

SETTINGS_PROFILE = "DicomDeidentify/Profile"
SETTINGS_KEY_FILE = "DicomDeidentify/KeyFile"
SETTINGS_OUTPUT = "DicomDeidentify/OutputDirectory"


class DicomDeidentify(ScriptedLoadableModule):
    def __init__(self, parent):
        ScriptedLoadableModule.__init__(self, parent)
        self.parent.title = "DICOM De-identify"
        self.parent.categories = ["Utilities"]
        self.parent.dependencies = []
        self.parent.contributors = ["SlicerDeidentify developers"]
        self.parent.helpText = (
            "De-identify DICOM files by DICOM PS3.15 Annex E (the Basic Application Level Confidentiality "
            "Profile and every option of Table E.1-1), with pseudonyms, UIDs and date shifts derived from a "
            "secret key so that they stay consistent across files and runs. Inputs are never modified.")
        self.parent.acknowledgementText = (
            "The action tables are generated from DICOM PS3.15 (NEMA). pydicom reads and writes the files.")


class DicomDeidentifyWidget(ScriptedLoadableModuleWidget):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/DicomDeidentify.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = DicomDeidentifyLogic()
        self._showOptions(self.logic.loadOptions())
        self.ui.keyFileSelector.currentPath = self.logic.keyFile()
        self.ui.outputDirectorySelector.currentPath = slicer.app.userSettings().value(SETTINGS_OUTPUT, "")
        for selector in (self.ui.inputDirectorySelector, self.ui.outputDirectorySelector):
            selector.connect("currentPathChanged(QString)", self._updateApplyButton)
        self.ui.applyButton.connect("clicked(bool)", self.onApplyButton)
        self._updateApplyButton()

    def _updateApplyButton(self, *unused):
        self.ui.applyButton.enabled = bool(self.ui.inputDirectorySelector.currentPath
                                           and self.ui.outputDirectorySelector.currentPath)

    # The panel shows a DeidentifyOptions and reads one back: nothing else is decided here.
    _CHECKBOXES = {
        "retain_safe_private": "retainSafePrivateCheckBox", "retain_uids": "retainUIDsCheckBox",
        "retain_device_identity": "retainDeviceIdentityCheckBox",
        "retain_institution_identity": "retainInstitutionIdentityCheckBox",
        "retain_patient_characteristics": "retainPatientCharacteristicsCheckBox",
        "clean_descriptors": "cleanDescriptorsCheckBox", "clean_structured_content": "cleanStructuredContentCheckBox",
        "clean_graphics": "cleanGraphicsCheckBox",
    }
    _DATES = ["remove", "full", "modified"]
    _IDENTITIES = ["pseudonym", "clear", "fixed"]

    def _showOptions(self, options):
        for field, name in self._CHECKBOXES.items():
            getattr(self.ui, name).checked = getattr(options, field)
        self.ui.datesComboBox.currentIndex = self._DATES.index(options.dates.value)
        self.ui.identityComboBox.currentIndex = self._IDENTITIES.index(options.identity.value)

    def _readOptions(self):
        options = self.logic.loadOptions()
        for field, name in self._CHECKBOXES.items():
            setattr(options, field, getattr(self.ui, name).checked)
        options.dates = self._DATES[self.ui.datesComboBox.currentIndex]
        options.identity = self._IDENTITIES[self.ui.identityComboBox.currentIndex]
        options.__post_init__()
        return options

    def onApplyButton(self):
        options = self._readOptions()
        self.logic.saveOptions(options)
        slicer.app.userSettings().setValue(SETTINGS_OUTPUT, self.ui.outputDirectorySelector.currentPath)
        progressDialog = slicer.util.createProgressDialog(labelText="De-identifying...", maximum=0)
        cancel = threading.Event()
        progressDialog.connect("canceled()", cancel.set)

        def progress(done, total, result):
            progressDialog.maximum = total
            progressDialog.value = done
            progressDialog.labelText = f"De-identified {done} of {total} files"
            slicer.app.processEvents()

        try:
            summary, reportPath = self.logic.deidentifyFolder(
                self.ui.inputDirectorySelector.currentPath, self.ui.outputDirectorySelector.currentPath,
                options, keyFile=self.ui.keyFileSelector.currentPath, progress=progress, cancel=cancel)
        except Exception as error:
            slicer.util.errorDisplay(f"De-identification did not run: {error}")
            return
        finally:
            progressDialog.close()
        totals = summary.totals()
        self.ui.statusLabel.text = (
            f"{'Cancelled: ' if summary.cancelled else ''}{totals['written']} written, {totals['skipped']} skipped, "
            f"{totals['failed']} failed, {totals['review_items']} items to review.\nReport (key holders only): {reportPath}")


class DicomDeidentifyLogic(ScriptedLoadableModuleLogic):
    """Glue between Slicer (settings, progress) and DicomDeidentifyLib. Usable from the Python console:

        logic = slicer.util.getModuleLogic("DicomDeidentify")
        summary, report = logic.deidentifyFolder("/data/in", "/data/out")
    """

    def __init__(self):
        ScriptedLoadableModuleLogic.__init__(self)
        self.ensureRequirements()

    @staticmethod
    def ensureRequirements():
        """Install what Resources/requirements.txt lists and is missing (nothing today)."""
        import importlib.util
        path = os.path.join(os.path.dirname(__file__), "Resources", "requirements.txt")
        if not os.path.exists(path):
            return
        with open(path) as stream:
            wanted = [line.strip() for line in stream if line.strip() and not line.startswith("#")]
        missing = [name for name in wanted if importlib.util.find_spec(name.split("=")[0].split(">")[0].strip()) is None]
        if missing:
            slicer.util.pip_install(" ".join(missing))

    def loadOptions(self):
        from DicomDeidentifyLib import DeidentifyOptions
        saved = slicer.app.userSettings().value(SETTINGS_PROFILE, "")
        try:
            return DeidentifyOptions.from_json(saved) if saved else DeidentifyOptions()
        except ValueError:
            return DeidentifyOptions()   # a profile saved by another version: start from the basic profile

    def saveOptions(self, options):
        slicer.app.userSettings().setValue(SETTINGS_PROFILE, options.to_json())

    def keyFile(self):
        from DicomDeidentifyLib.keys import default_key_file
        return slicer.app.userSettings().value(SETTINGS_KEY_FILE, str(default_key_file()))

    def deidentifyFolder(self, inputFolder, outputFolder, options=None, keyFile=None, progress=None, cancel=None,
                         sideDatabase=False, linkage=True):
        """De-identify every file under inputFolder into outputFolder: (RunSummary, report path).

        The same run as the command line's: key, linkage store and report beside the key."""
        from pathlib import Path
        from DicomDeidentifyLib.runs import deidentify_folder
        keyFile = Path(keyFile or self.keyFile())
        # One process inside Slicer: worker processes would each start a copy of the application.
        # First use of a key location (its folder does not exist yet) creates the key; after that a
        # missing key is an error, never silently a new one.
        run = deidentify_folder([inputFolder], outputFolder, options or self.loadOptions(), key_file=keyFile,
                                create_key=not keyFile.parent.exists(), side_database=sideDatabase,
                                linkage=linkage, jobs=1, progress=progress, cancel=cancel)
        slicer.app.userSettings().setValue(SETTINGS_KEY_FILE, str(keyFile))
        return run.summary, str(run.report_html)


class DicomDeidentifyTest(ScriptedLoadableModuleTest):
    """Run in Slicer: Developer mode on, then Reload and Test in this module's panel."""

    def setUp(self):
        slicer.mrmlScene.Clear(0)

    def runTest(self):
        self.setUp()
        self.test_DeidentifyFolderOfPydicomFiles()

    def test_DeidentifyFolderOfPydicomFiles(self):
        import shutil
        import tempfile
        from pathlib import Path
        import pydicom
        from pydicom.data import get_testdata_file
        work = Path(tempfile.mkdtemp(prefix="DicomDeidentifyTest-"))
        try:
            inputs = work / "in"
            inputs.mkdir()
            for name in ("CT_small.dcm", "MR_small.dcm"):
                source = get_testdata_file(name)
                self.assertIsNotNone(source, f"pydicom's test file {name} is missing")
                shutil.copy(source, inputs / name)
            originals = {name: pydicom.dcmread(str(inputs / name)) for name in ("CT_small.dcm", "MR_small.dcm")}
            summary, report = DicomDeidentifyLogic().deidentifyFolder(
                str(inputs), str(work / "out"), keyFile=str(work / "secrets" / "pseudonym.key"))
            self.assertEqual(summary.count("written"), 2)
            self.assertTrue(os.path.exists(report))
            for output in (work / "out").rglob("*.dcm"):
                data = output.read_bytes()
                ds = pydicom.dcmread(str(output))
                self.assertEqual(ds.PatientIdentityRemoved, "YES")
                for original in originals.values():
                    self.assertNotIn(str(original.PatientName).encode(), data)
                    self.assertNotIn(original.SOPInstanceUID.encode(), data)
            self.delayDisplay("DicomDeidentify self-test passed")
        finally:
            shutil.rmtree(work, ignore_errors=True)
