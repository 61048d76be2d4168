"""SceneScrubber: keep patient identity out of saved scenes (.mrml, .mrb).

A thin Slicer layer over SceneScrubberLib. This is the module's skeleton: it
lists the identifying attributes of the current scene; scrubbing on save and
offline is built in its own issue.
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
    def findIdentifyingAttributes(self, scene):
        """[(item name, attribute name)] for every subject hierarchy attribute that can carry identity."""
        from SceneScrubberLib import is_identifying_attribute
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
        items = slicer.vtkIdList()
        shNode.GetItemChildren(shNode.GetSceneItemID(), items, True)
        found = []
        for index in range(items.GetNumberOfIds()):
            item = items.GetId(index)
            for name in shNode.GetItemAttributeNames(item):
                if is_identifying_attribute(name):
                    found.append((shNode.GetItemName(item), name))
        return found


class SceneScrubberTest(ScriptedLoadableModuleTest):
    """Run in Slicer: Developer mode on, then Reload and Test in this module's panel."""

    def setUp(self):
        slicer.mrmlScene.Clear(0)

    def runTest(self):
        self.setUp()
        self.test_FindsDicomAttributesOfAPatientItem()

    def test_FindsDicomAttributesOfAPatientItem(self):
        shNode = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(slicer.mrmlScene)
        patient = shNode.CreateSubjectItem(shNode.GetSceneItemID(), "Doe^John")
        shNode.SetItemAttribute(patient, "DICOM.PatientName", "Doe^John")
        shNode.SetItemAttribute(patient, "Color", "red")
        found = SceneScrubberLogic().findIdentifyingAttributes(slicer.mrmlScene)
        self.assertEqual(found, [("Doe^John", "DICOM.PatientName")])
        self.delayDisplay("SceneScrubber self-test passed")
