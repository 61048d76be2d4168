"""What Slicer's generated tests and its build check in the SceneScrubber module, checked without Slicer:
the texts the generic test asserts (B5), the declared dependencies (M14), translatable texts (C2) and
resources that cannot collide with the other module's in the shared scripted-modules folder (B6)."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["DicomDeidentify", "SceneScrubber"]


def module_assignments():
    """self.parent.<name> = <expression> in SceneScrubber.__init__, as ast nodes."""
    tree = ast.parse((ROOT / "SceneScrubber" / "SceneScrubber.py").read_text())
    [cls] = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "SceneScrubber"]
    found = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute):
            target = node.targets[0]
            if isinstance(target.value, ast.Attribute) and target.value.attr == "parent":
                found[target.attr] = node.value
    return found


def translated_text(node):
    """The literal inside _("...") (optionally followed by .format(...)), or None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        node = node.func.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
        [argument] = node.args
        return argument.value if isinstance(argument, ast.Constant) else None
    return None


def test_the_texts_the_generic_test_checks_are_filled_and_translatable():
    """qSlicerModuleGenericTest.py.in:33-37 asserts acknowledgementText and contributors are not empty."""
    found = module_assignments()
    for name in ("title", "helpText", "acknowledgementText"):
        text = translated_text(found[name])
        assert text and text.strip(), f"{name} must be a non-empty _() text"
    assert 'href="{url}"' in translated_text(found["helpText"])   # the link to the documentation
    contributors = ast.literal_eval(found["contributors"])
    assert contributors and all(re.fullmatch(r"[^()]+ \([^()]+\)", name) for name in contributors)


def test_dependencies_are_the_modules_the_glue_uses():
    # "Data" creates the Save dialog, "SubjectHierarchy" holds the attributes (names as Slicer declares them)
    assert ast.literal_eval(module_assignments()["dependencies"]) == ["Data", "SubjectHierarchy"]


def resources(module):
    """The installed paths of a module's RESOURCES, ${MODULE_NAME} expanded."""
    cmake = (ROOT / module / "CMakeLists.txt").read_text()
    block = re.search(r"set\(MODULE_PYTHON_RESOURCES(.*?)\)", cmake, re.S).group(1)
    return {line.strip().replace("${MODULE_NAME}", module) for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")}


def test_no_two_modules_install_the_same_resource():
    """slicerMacroBuildScriptedModule copies every module of the extension into one folder
    (Slicer CMake/SlicerMacroBuildScriptedModule.cmake main 92-107): two equal paths make Ninja fail."""
    scene = resources("SceneScrubber")
    assert scene and all((ROOT / "SceneScrubber" / path).is_file() for path in scene)
    assert not scene & resources("DicomDeidentify")
    assert not (ROOT / "SceneScrubber" / "Resources" / "requirements.txt").exists()   # nothing needs one
