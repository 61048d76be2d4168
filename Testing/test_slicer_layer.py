"""The Slicer layer, checked without Slicer: every widget the code uses exists in its .ui file, the
.ui files are well-formed, the Slicer-only packages are listed in CMake, and the libraries never
import Qt or Slicer's GUI (they must run without Slicer)."""
import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = ["DicomDeidentify", "SceneScrubber"]


def ui_names(module: str) -> set:
    root = ET.parse(ROOT / module / "Resources" / "UI" / f"{module}.ui").getroot()
    return {element.get("name") for element in root.iter() if element.get("name")}


@pytest.mark.parametrize("module", MODULES)
def test_every_widget_the_panel_uses_is_in_its_ui_file(module):
    code = (ROOT / module / f"{module}.py").read_text()
    used = set(re.findall(r"self\.ui\.([A-Za-z_][A-Za-z0-9_]*)", code))
    used |= set(re.findall(r'"([a-z][A-Za-z]*(?:CheckBox|Button|ComboBox|LineEdit|Selector))"', code))
    assert used, "no widget found: the pattern no longer matches the code"
    missing = used - ui_names(module)
    assert not missing, f"{module}.py uses widgets its .ui file does not have: {sorted(missing)}"


@pytest.mark.parametrize("module", MODULES)
def test_widget_names_are_unique(module):
    root = ET.parse(ROOT / module / "Resources" / "UI" / f"{module}.ui").getroot()
    names = [element.get("name") for element in root.iter("widget")]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("module", MODULES)
def test_the_libraries_do_not_need_slicer(module):
    for path in (ROOT / module / f"{module}Lib").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        assert not imported & {"qt", "ctk", "slicer", "DICOMLib"} or path.name == "live_scene.py", path
        # live_scene imports slicer's MRML classes (the slicer-core wheel has them) and nothing of the GUI


@pytest.mark.parametrize("module", MODULES)
def test_cmake_installs_the_slicer_package(module):
    cmake = (ROOT / module / "CMakeLists.txt").read_text()
    assert f"set(MODULE_NAME {module})" in cmake
    assert "${MODULE_NAME}Slicer/*.py" in cmake and "${MODULE_NAME}Lib/*.py" in cmake


def test_each_requirement_names_the_module_it_provides():
    """The Slicer module installs a requirement when its module is missing: the names must match
    (checked here, where the project's setup has installed them all)."""
    import importlib.util
    lines = [line for line in (ROOT / "DicomDeidentify" / "Resources" / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines
    for line in lines:
        requirement, _, module = line.partition("# import")
        assert module.strip(), f"{line!r}: say which module it provides"
        assert importlib.util.find_spec(module.strip()) is not None, line
