"""SceneScrubber: keep patient identity out of saved scenes (.mrml, .mrb).

A thin Slicer layer over SceneScrubberLib. From the Python console:

    logic = slicer.util.getModuleLogic("SceneScrubber")
    ok, findings = logic.saveScene("/data/shared/case.mrb")   # scrubbed copy; the session is untouched
    logic.scrubScene()                                        # scrub the live scene for good

The checkbox in the Save dialog comes with issue 4.
"""
import slicer
from slicer.ScriptedLoadableModule import (ScriptedLoadableModule, ScriptedLoadableModuleLogic,
                                           ScriptedLoadableModuleTest, ScriptedLoadableModuleWidget)


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


class SceneScrubberWidget(ScriptedLoadableModuleWidget):
    def setup(self):
        ScriptedLoadableModuleWidget.setup(self)
        uiWidget = slicer.util.loadUI(self.resourcePath("UI/SceneScrubber.ui"))
        self.layout.addWidget(uiWidget)
        self.ui = slicer.util.childWidgetVariables(uiWidget)
        uiWidget.setMRMLScene(slicer.mrmlScene)
        self.logic = SceneScrubberLogic()
        self.ui.findButton.connect("clicked(bool)", self.onFindButton)

    def onFindButton(self):
        found = self.logic.findIdentifyingAttributes(slicer.mrmlScene)
        self.ui.statusLabel.text = (f"{len(found)} identifying attributes in the subject hierarchy."
                                    if found else "No identifying attributes in the subject hierarchy.")


class SceneScrubberLogic(ScriptedLoadableModuleLogic):
    def saveScene(self, path, scrub=True, keepUIDs=False, dateOffsetDays=None):
        """Save the scene (.mrml or .mrb); with scrub, save a scrubbed version and restore the live
        scene afterwards, then check the written file. Returns (saved, findings).
        keepUIDs keeps study/series/instance UIDs; dateOffsetDays shifts DICOM dates instead of removing them."""
        from SceneScrubberLib.bundles import check_scene
        from SceneScrubberLib.live_scene import scrubbed_for_saving
        from SceneScrubberLib.policy import ScrubPolicy
        if not scrub:
            return slicer.util.saveScene(path), []
        policy = ScrubPolicy(keep_uids=keepUIDs, date_offset_days=dateOffsetDays)
        with scrubbed_for_saving(slicer.mrmlScene, policy) as report:
            saved = slicer.util.saveScene(path)
        return saved, check_scene(path, report.identifying_values) if saved else []

    def scrubScene(self):
        """Remove patient information from the live scene for good; returns the ScrubReport."""
        from SceneScrubberLib.live_scene import scrub_scene
        return scrub_scene(slicer.mrmlScene)

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
        self.assertEqual(shNode.GetItemAttribute(patient, "DICOM.PatientID"), "MRN12345")   # session untouched
        self.assertEqual(shNode.GetItemName(patient), "Doe^John")
        self.delayDisplay("SceneScrubber save self-test passed")
