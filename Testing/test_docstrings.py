"""Every public name of DicomDeidentifyLib and SceneScrubberLib has a docstring, and the libraries print
nothing (issue 17, item 8).

Read with `ast`, so nothing is imported and every module is seen, including those needing optional extras.
Public: a top-level function or class whose name does not start with "_", and a method (or nested class)
of a public class whose name does not start with "_" (dunders are left out). Functions and classes defined
under a top-level `if`/`try` count too. Every module needs a module docstring. Only the command-line
modules may call `print(`; the library reports through `logging` and return values.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = (ROOT / "DicomDeidentify" / "DicomDeidentifyLib", ROOT / "SceneScrubber" / "SceneScrubberLib")
CLI_MODULES = {"cli.py", "command_line.py", "__main__.py"}
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def library_modules() -> list:
    """The libraries' .py files, subpackages included, sorted."""
    return sorted(path for library in LIBRARIES for path in library.rglob("*.py"))


def _top_level_definitions(statements):
    """Definitions in a module body, looking through top-level `if`/`try` blocks."""
    for node in statements:
        if isinstance(node, DEFINITIONS):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            blocks = [node.body, node.orelse] + [getattr(node, "finalbody", [])]
            blocks += [handler.body for handler in getattr(node, "handlers", [])]
            for block in blocks:
                yield from _top_level_definitions(block)


def _public_definitions(tree):
    """Yield (line, qualified name, node) for every public definition the docstring rule covers."""
    def visit(nodes, prefix):
        for node in nodes:
            if node.name.startswith("_"):
                continue
            yield node.lineno, prefix + node.name, node
            if isinstance(node, ast.ClassDef):
                yield from visit([m for m in node.body if isinstance(m, DEFINITIONS)], prefix + node.name + ".")
    yield from visit(list(_top_level_definitions(tree.body)), "")


def missing_docstrings(path: Path, source: str) -> list:
    """`path:line: name` for the module (if it lacks a docstring) and each public definition without one."""
    tree = ast.parse(source, filename=str(path))
    missing = [] if ast.get_docstring(tree) else [f"{path}:1: module docstring"]
    missing += [f"{path}:{line}: {name}" for line, name, node in _public_definitions(tree)
                if ast.get_docstring(node) is None]
    return missing


def print_calls(path: Path, source: str) -> list:
    """`path:line` of every call of the builtin `print` (by name) in the source."""
    tree = ast.parse(source, filename=str(path))
    return [f"{path}:{node.lineno}: print(" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"]


def test_the_library_is_found():
    names = {path.relative_to(ROOT).as_posix() for path in library_modules()}
    assert len(names) > 80
    assert {"DicomDeidentify/DicomDeidentifyLib/engine.py", "SceneScrubber/SceneScrubberLib/cli.py",
            "SceneScrubber/SceneScrubberLib/live_scene.py"} <= names


def test_the_checks_find_what_they_look_for():
    source = ("def public(): pass\n"
              "def _private(): pass\n"
              "try:\n    def guarded(): pass\nexcept ImportError:\n    pass\n"
              "class Shown:\n    '''Has one.'''\n    def method(self): pass\n    def __init__(self): pass\n"
              "    @property\n    def size(self): '''Bytes.'''\n"
              "class _Hidden:\n    def method(self): pass\n"
              "async def waiting(): print('x')\n")
    path = Path("example.py")
    assert missing_docstrings(path, source) == [
        "example.py:1: module docstring", "example.py:1: public", "example.py:4: guarded",
        "example.py:9: Shown.method", "example.py:15: waiting"]
    assert print_calls(path, source) == ["example.py:15: print("]
    assert missing_docstrings(path, '"""Doc."""\ndef f():\n    """Doc."""\n') == []
    assert print_calls(path, "logger.info('x')\nsys.stdout.write('fingerprint(x)')\n") == []


def test_every_public_function_class_and_module_has_a_docstring():
    missing = [entry for path in library_modules()
               for entry in missing_docstrings(path.relative_to(ROOT), path.read_text(encoding="utf-8"))]
    assert not missing, f"{len(missing)} without a docstring:\n" + "\n".join(missing)


def test_only_the_command_line_modules_print():
    printing = [entry for path in library_modules() if path.name not in CLI_MODULES
                for entry in print_calls(path.relative_to(ROOT), path.read_text(encoding="utf-8"))]
    assert not printing, "library modules print; log through `logging` instead:\n" + "\n".join(printing)
