"""The Slicer layer, checked without Slicer: every widget the code uses exists in its .ui file, the
.ui files are well-formed, the Slicer-only packages are listed in CMake, the logic installs nothing when it is built, and the libraries never
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


def _logic_method(name):
    tree = ast.parse((ROOT / "DicomDeidentify" / "DicomDeidentify.py").read_text())
    logic = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "DicomDeidentifyLogic")
    return next(node for node in logic.body if isinstance(node, ast.FunctionDef) and node.name == name)


def test_the_logic_constructor_installs_nothing():
    """Review B1/M4: DicomDeidentifyLogic() is built at startup, by the import hook and by every panel;
    it must neither read the requirements nor call pip."""
    calls = {ast.unparse(node.func) for node in ast.walk(_logic_method("__init__")) if isinstance(node, ast.Call)}
    assert calls == {"ScriptedLoadableModuleLogic.__init__"}, calls


def test_packages_are_ensured_only_for_clean_pixel_data_and_read_with_the_library():
    source = ast.unparse(_logic_method("ensurePixelPackages"))
    assert "if not options.clean_pixel_data" in source and "req.REQUIREMENTS_FILE_NAME" in source
    shared = ast.unparse(_logic_method("_ensurePackages"))
    assert "req.load_requirements(req.requirements_path(" in shared   # the reader test_slicer_requirements checks
    assert "req.ensure(wanted, testing=slicer.app.testingEnabled()" in shared


def test_jinja2_is_offered_before_every_run_inside_slicer():
    """Slicer bundles no Jinja2, so without the offer no run inside Slicer writes report.html (glue review 3,
    G3-3): its own requirements file, asked before the panel's run, the folder run and the import."""
    assert "req.REPORT_REQUIREMENTS_FILE_NAME" in ast.unparse(_logic_method("ensureReportPackages"))
    for method in ("deidentifyFolder", "importPaths"):
        assert "self.ensureReportPackages()" in ast.unparse(_logic_method(method)), method
    module = (ROOT / "DicomDeidentify" / "DicomDeidentify.py").read_text()
    assert "self.logic.ensureReportPackages()" in module   # the panel's Apply, before its progress dialog
    hook = (ROOT / "DicomDeidentify" / "DicomDeidentifySlicer" / "import_hook.py").read_text()
    assert "logic.ensureReportPackages()" in hook   # Anonymize on import, before its busy dialog


# ctkDICOMDatabase methods present in the CTK of Slicer 5.8.0 (82cae578), 5.10.0 (dd4caeae) and main
# (5056664a): Libs/DICOM/Core/ctkDICOMDatabase.h (patients/studiesForPatient/seriesForStudy :167-169,
# filesForSeries :181, allFiles :228 in 82cae578). There is no filesForPatient (review B4).
CTK_DATABASE_CALLS = {"patients", "studiesForPatient", "seriesForStudy", "filesForSeries", "allFiles",
                      "openDatabase", "closeDatabase", "databaseChanged"}


def _class(name):
    tree = ast.parse((ROOT / "DicomDeidentify" / "DicomDeidentify.py").read_text())
    return next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == name)


def test_the_self_test_calls_only_database_methods_ctk_has():
    test = _class("DicomDeidentifyTest")
    called = {node.func.attr for node in ast.walk(test) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, (ast.Name, ast.Attribute))
              and ast.unparse(node.func.value) in ("database", "side", "mainDatabase", "slicer.dicomDatabase")}
    assert "filesForPatient" not in called
    assert called and called <= CTK_DATABASE_CALLS, called - CTK_DATABASE_CALLS


def test_each_self_test_is_hermetic():
    """Its own settings group for the logic, and the user's settings restored in a finally (review M10)."""
    test = _class("DicomDeidentifyTest")
    logics = [node for node in ast.walk(test) if isinstance(node, ast.Call) and ast.unparse(node.func) == "DicomDeidentifyLogic"]
    assert logics and all(any(k.arg == "settingsGroup" for k in node.keywords) for node in logics)
    methods = [node for node in test.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]
    assert len(methods) == 2
    for method in methods:
        finals = [ast.unparse(stmt) for node in ast.walk(method) if isinstance(node, ast.Try) for stmt in node.finalbody]
        assert "snapshot.restore()" in finals, method.name
        assert "deidentifyFolder" not in ast.unparse(method) or "DeidentifyOptions()" in ast.unparse(method)


def test_the_import_self_test_leaves_the_session_as_it_found_it():
    """Review N3/N8: the hook gets back exactly the logic it had (None included: hook() no longer caches
    a caller's logic), and the observers hear the restored setting after the restore."""
    test = _class("DicomDeidentifyTest")
    method = next(n for n in test.body if isinstance(n, ast.FunctionDef) and n.name == "test_AnonymizeOnImport")
    body = ast.unparse(method)
    assert "userLogic, hook.logic = (hook.logic, logic)" in body and "import_hook.hook()" in body
    final = next(ast.unparse(stmt) for node in ast.walk(method) if isinstance(node, ast.Try) and node.finalbody
                 for stmt in [ast.Module(body=node.finalbody, type_ignores=[])])
    assert "if hook is not None:\n    hook.logic = userLogic" in final
    assert final.index("snapshot.restore()") < final.index("import_hook.notifyAnonymizeOnImport()")
    hook_source = (ROOT / "DicomDeidentify" / "DicomDeidentifySlicer" / "import_hook.py").read_text()
    hook_function = next(n for n in ast.parse(hook_source).body if isinstance(n, ast.FunctionDef) and n.name == "hook")
    assert "_hook.logic = logic" not in ast.unparse(hook_function)


# Slicer logs the text of every popup (Base/Python/slicer/util.py _messageDisplay: 5.8.0:3057, 5.10.0:3146,
# main:3437) and tryWithErrorDisplay shows str(error) (5.8.0:3312-3319): an error's text can quote a
# patient-named node, value or file. Allowed in the glue: the error's type (type(error)), and the libraries'
# own wording of it (shown_error, shown_text, failure_message, write_failure_note).
SAFE_ERROR_USES = {"type", "shown_error", "shown_text", "failure_message", "write_failure_note", "isinstance"}
SAYING = {"errorDisplay", "warningDisplay", "infoDisplay", "messageBox", "showStatusMessage", "exception",
          "error", "warning", "info", "debug", "critical", "log"}
# (a panel's own status line or result box, on screen only and never logged, may say more: not checked)
# logging.exception writes the traceback (the error's text): only where nothing of a scene or file is in
# play, installing and removing the Save dialog hook when the module loads or reloads
TRACEBACK_ALLOWED = {("SceneScrubber.py", "installSaveDialogHook"), ("SceneScrubber.py", "onReload")}


def _glue_files():
    for module in MODULES:
        yield ROOT / module / f"{module}.py"
        yield from sorted((ROOT / module / f"{module}Slicer").glob("*.py"))


def _unsafe_error_uses(tree, name):
    """Lines where the caught exception `name` reaches a popup, status message or log call other than
    through SAFE_ERROR_USES."""
    lines = []

    def visit(node, safe):
        if isinstance(node, ast.Call):
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            safe = safe or func in SAFE_ERROR_USES
            saying = func in SAYING
            for child in ast.iter_child_nodes(node):
                visit(child, safe)
            if saying and not safe and any(isinstance(n, ast.Name) and n.id == name and not _inside_safe(node, n)
                                           for n in ast.walk(node)):
                lines.append(node.lineno)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, safe)
    visit(tree, False)
    return lines


def _inside_safe(call, target):
    """Whether `target` (a Name inside `call`) sits inside a call of a SAFE_ERROR_USES function."""
    for node in ast.walk(call):
        if isinstance(node, ast.Call) and node is not call:
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if func in SAFE_ERROR_USES and any(n is target for n in ast.walk(node)):
                return True
    return False


def test_no_error_text_reaches_a_popup_or_the_log_from_the_glue():
    """Glue review 3, G3-1: SceneScrubber's popups and log took the error's text and traceback."""
    found = []
    for path in _glue_files():
        tree = ast.parse(path.read_text())
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for function in functions:
            for handler in [n for n in ast.walk(function) if isinstance(n, ast.ExceptHandler)]:
                calls = [n for n in ast.walk(handler) if isinstance(n, ast.Call)]
                for call in calls:
                    func = call.func
                    if (isinstance(func, ast.Attribute) and func.attr == "exception"
                            and (path.name, function.name) not in TRACEBACK_ALLOWED):
                        found.append(f"{path.name}:{call.lineno}: logging.exception in {function.name}")
                if handler.name:
                    for statement in handler.body:
                        found += [f"{path.name}:{line}: the error's text in {function.name}"
                                  for line in _unsafe_error_uses(statement, handler.name)]
        found += [f"{path.name}:{n.lineno}: tryWithErrorDisplay" for n in ast.walk(tree)
                  if isinstance(n, ast.Attribute) and n.attr == "tryWithErrorDisplay"]
    assert not sorted(set(found)), sorted(set(found))


def test_the_error_check_finds_what_it_looks_for():
    source = ("def f():\n    try:\n        pass\n    except Exception as error:\n"
              "        slicer.util.errorDisplay('x {e}'.format(e=error))\n"
              "        logging.error('y %s', type(error).__name__)\n"
              "        slicer.util.errorDisplay(shown_error('z', error))\n"
              "        logging.error('w %s', error)\n")
    handler = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ExceptHandler))
    lines = sorted({line for statement in handler.body for line in _unsafe_error_uses(statement, "error")})
    assert lines == [5, 8]
