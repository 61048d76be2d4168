"""Every file of a module's library and Slicer glue is in what its CMakeLists.txt installs (glue review 3,
G3-2: the report templates were left out of the extension, so the pages failed inside Slicer once Jinja2
was there).

Read without CMake: each module's `file(GLOB VAR RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} pattern...)` is
expanded with pathlib (a CMake GLOB `*` does not cross folders, like pathlib's), `${MODULE_NAME}` is
substituted, and a glob counts only if its variable is passed to slicerMacroBuildScriptedModule through
MODULE_PYTHON_SCRIPTS or MODULE_PYTHON_RESOURCES. Files listed by name count too.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("DicomDeidentify", "SceneScrubber")


def _block(text: str, name: str) -> str:
    match = re.search(r"set\(" + name + r"\b(.*?)\)", text, re.S)
    return match.group(1) if match else ""


def installed_files(module: str) -> set:
    """Paths (relative to the module folder, posix) that the module's CMakeLists.txt installs."""
    folder = ROOT / module
    text = (folder / "CMakeLists.txt").read_text().replace("${MODULE_NAME}", module)
    passed = _block(text, "MODULE_PYTHON_SCRIPTS") + _block(text, "MODULE_PYTHON_RESOURCES")
    files = set()
    for variable, patterns in re.findall(r"file\(GLOB (\w+) RELATIVE \$\{CMAKE_CURRENT_SOURCE_DIR\}([^)]*)\)", text):
        if "${" + variable + "}" in passed:
            for pattern in patterns.split():
                files |= {path.relative_to(folder).as_posix() for path in folder.glob(pattern) if path.is_file()}
    files |= {word for word in passed.split() if "${" not in word}
    return files


def shipped_sources(module: str) -> set:
    """The files of <module>Lib/ and <module>Slicer/ (caches left out) and the module's own script."""
    folder = ROOT / module
    found = {module + ".py"}
    for part in (module + "Lib", module + "Slicer"):
        found |= {path.relative_to(folder).as_posix() for path in (folder / part).rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}
    return found


def test_the_reading_finds_what_is_installed():
    files = installed_files("DicomDeidentify")
    assert {"DicomDeidentify.py", "DicomDeidentifyLib/engine.py", "DicomDeidentifyLib/data/ps315_profile.json",
            "Resources/UI/DicomDeidentify.ui", "DicomDeidentifySlicer/import_hook.py"} <= files


@pytest.mark.parametrize("module", MODULES)
def test_every_file_of_the_library_and_glue_is_installed(module):
    missing = sorted(shipped_sources(module) - installed_files(module))
    assert not missing, f"{module}/CMakeLists.txt does not install: {missing}"


@pytest.mark.parametrize("module", MODULES)
def test_every_file_listed_by_name_exists(module):
    listed = {name for name in installed_files(module) if not (ROOT / module / name).is_file()}
    assert not listed, f"{module}/CMakeLists.txt names missing files: {sorted(listed)}"
