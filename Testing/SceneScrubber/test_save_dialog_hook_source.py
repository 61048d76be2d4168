"""The Save dialog hook's wiring, read from its source (Slicer cannot run here): the decisions themselves
are tested in test_save_decisions.py; these tests check that the glue feeds them the right state."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "SceneScrubber" / "SceneScrubberSlicer" / "save_dialog_hook.py"


def _tree():
    return ast.parse(HOOK.read_text())


def _method(name):
    [cls] = [node for node in _tree().body if isinstance(node, ast.ClassDef) and node.name == "SaveDialogHook"]
    return next(node for node in cls.body if isinstance(node, ast.FunctionDef) and node.name == name)


def test_n1_the_box_never_writes_the_every_save_setting():
    """N1: the unscrubbed-save check reads SceneScrubber/ScrubOnSave; if unticking the box wrote it,
    the check could never run. Only the panel writes that key."""
    writes = [ast.unparse(node) for node in ast.walk(_tree()) if isinstance(node, ast.Call)
              and isinstance(node.func, ast.Attribute) and node.func.attr in ("setValue", "remove")]
    assert writes == []
    gate = ast.unparse(_method("onFileSaved"))
    assert "check_after_unscrubbed_save(scrubOnSaveByDefault()" in gate
    assert "self.checkBox" not in gate


def test_n1_the_box_goes_back_to_the_option_when_the_dialog_closes():
    install = ast.unparse(_method("install"))
    assert "self.dialog.connect('finished(int)', self.onDialogFinished)" in install
    assert "self.checkBox.checked = scrubOnSaveByDefault()" in ast.unparse(_method("onDialogFinished"))
    assert "self.dialog.disconnect('finished(int)', self.onDialogFinished)" in ast.unparse(_method("uninstall"))


def _handlers(function):
    return [handler for node in ast.walk(function) if isinstance(node, ast.Try) for handler in node.handlers]


def test_n7_every_error_of_the_save_handler_is_shown_to_the_user():
    """N7: an exception leaving a PythonQt slot reaches only the console. onAccepted catches everything
    and shows it; reading the policy is inside the guarded preparation; the scrubbed save runs through
    run_scrubbed_save (tested in test_save_decisions), whose put-back errors are shown."""
    [handler] = _handlers(_method("onAccepted"))
    assert ast.unparse(handler.type) == "Exception" and "slicer.util.errorDisplay(" in ast.unparse(handler)
    scrubbed = _method("_saveScrubbed")
    [prepare] = [node for node in scrubbed.body if isinstance(node, ast.Try)][:1]
    assert "self.policyFactory()" in ast.unparse(prepare.body)
    assert "self.policyFactory()" not in ast.unparse([n for n in scrubbed.body if n is not prepare])
    source = ast.unparse(scrubbed)
    assert "run_scrubbed_save(apply, save, [('scene', lambda: restore(scene, snapshot))" in source
    assert "run.put_back_errors()" in source and "self._finish(decision" in source


def test_s1_the_table_is_changed_with_its_signals_blocked():
    for name in ("_applyRowChanges", "_restoreRows"):
        source = ast.unparse(_method(name))
        assert "self.table.blockSignals(True)" in source and "self.table.blockSignals(False)" in source, name
