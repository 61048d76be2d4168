"""A guard for the Slicer, CTK, PythonQt and Qt API the Slicer glue relies on (issue 11, point 3).

The glue (DicomDeidentify.py, DicomDeidentifySlicer/, SceneScrubber.py, SceneScrubberSlicer/) cannot run
here, so it is parsed with `ast` and every name it reaches is looked up in
Resources/SlicerAPI/slicer_api_inventory.json, generated from the Slicer, CTK and PythonQt sources of every
supported Slicer version (Resources/Tools/generate_slicer_api_inventory.py). Reported, as
`file:line: name, missing in <versions>`:
  * `slicer.X`, `slicer.util.X`, `slicer.modules.X`, `qt.X`, `ctk.X`, names imported from slicer.* and
    DICOMLib.* that some supported version lacks;
  * a member (method, slot, signal, property, enum) of an object whose class the code makes clear that the
    class (with its bases) lacks in some version. The class is clear for `qt.X()`/`ctk.X()`/`DICOMLib.X()`,
    the objects Slicer hands out (inventory "root_types": slicer.app, slicer.dicomDatabase,
    slicer.modules.DICOMWidget, slicer.util.mainWindow(), ...), what a C++ method or property returns,
    `findChild(qt.X, ...)`, Slicer's Python classes' attributes (DICOMWidget.browserWidget,
    SlicerDICOMBrowser.dicomVisualBrowser), the widgets of the module's own .ui file (self.ui.X), `qt.X`
    itself (statics and enums: qt.QTimer.singleShot, qt.Qt.UserRole), the Save dialog found by object name
    among slicer.app.topLevelWidgets() (inventory "ui_objects"), and what our own `self.method()` returns;
  * a child `findChild(qt.X, "Name")` of such a dialog that its .ui file lacks, or has with another class;
  * a keyword argument of a slicer.util function that is neither its parameter nor accepted where its
    **kwargs go (properties of the ctkMessageBox/QProgressDialog they are set on);
  * a signal string in `connect("sig(args)", ...)`/`disconnect(...)` that the class does not declare with
    exactly those arguments (PythonQt matches the normalized signature; a wrong one connects nothing);
  * PythonQt traps: assigning a property PythonQt hides (QTimer.singleShot, PythonQtClassInfo.cpp), on any
    object; assigning to a slot, signal or method of a wrapped object ("Slot '...' can not be overwritten",
    PythonQtInstanceWrapper.cpp).
Accepted fallbacks, for names some version lacks: `getattr(obj, "a", None) or getattr(obj, "b", None)`
when every version has one of the names; `getattr(obj, "a", default)` (the code handles absence); `obj.a`
inside `if hasattr(obj, "a"):`, whose else branch (like the body of `if x is None:` after
`x = getattr(obj, "a", None)`) needs of obj only what the versions lacking `a` have; names inside
`try: ... except (ImportError|ModuleNotFoundError|AttributeError)` that at least one version has.
Objects of unknown class are not checked (nothing is guessed). A declared C++ return type (or findChild
class) is looked up together with every class of the inventory deriving from it: PythonQt hands out the
most derived class, which has every member of the declared one, so a name none of them has is missing
(qSlicerCoreIOManager from coreIOManager(), QWidget from cellWidget()).
"""
import ast
import importlib.util
import json
import textwrap
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INVENTORY_PATH = ROOT / "Resources" / "SlicerAPI" / "slicer_api_inventory.json"
GLUE = sorted([ROOT / "DicomDeidentify" / "DicomDeidentify.py", ROOT / "SceneScrubber" / "SceneScrubber.py",
               *(ROOT / "DicomDeidentify" / "DicomDeidentifySlicer").glob("*.py"),
               *(ROOT / "SceneScrubber" / "SceneScrubberSlicer").glob("*.py")])
OWN_MODULES = ["DicomDeidentify", "SceneScrubber"]
OWN_PACKAGES = {"DicomDeidentifySlicer": "DicomDeidentify", "SceneScrubberSlicer": "SceneScrubber"}   # -> folder


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "generate_slicer_api_inventory", ROOT / "Resources" / "Tools" / "generate_slicer_api_inventory.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- reading the inventory ------------------------------------------------------------------------

class Inventory:
    def __init__(self, data):
        self.data = data
        self.versions = data["supported_versions"]
        # A C++ function declared to return a class may hand out a subclass (PythonQt wraps the most derived
        # class): a member is then looked up in the class and in every class of the inventory deriving from it.
        self.derived = {}
        for table in (data["classes"], data["python_classes"]):
            for name in table:
                for base in self.bases(name):
                    self.derived.setdefault(base, set()).add(name)

    def declared(self, cls):
        """The class an object declared as cls is looked up in (member() adds cls's subclasses)."""
        return cls or None

    def present(self, entry):
        """Versions an inventory entry ("slot invokable" or {"kinds", "in", "returns"}) is in."""
        if entry is None:
            return set()
        return set(self.versions) if isinstance(entry, str) else set(entry.get("in", self.versions))

    @staticmethod
    def kinds(entry):
        if entry is None:
            return set()
        return set(entry.split()) if isinstance(entry, str) else set(entry.get("kinds", []))

    @staticmethod
    def returns(entry):
        return [] if entry is None or isinstance(entry, str) else entry.get("returns", [])

    def is_class(self, name):
        return name in self.data["classes"] or name in self.data["python_classes"]

    def member(self, cls, name):
        """(versions present, kinds, returns) of `name` on an object declared as `cls`: on cls, its bases, or a
        class of the inventory deriving from cls (every subclass has cls's members, so a name none of them has
        is missing; one only a subclass has is accepted: the object may be of that subclass)."""
        versions, kinds, returns = self.member_exact(cls, name)
        for sub in sorted(self.derived.get(cls, ())):
            sub_versions, sub_kinds, sub_returns = self.member_exact(sub, name)
            versions |= sub_versions
            kinds |= sub_kinds
            returns += sub_returns
        return versions, kinds, returns

    def member_exact(self, cls, name, seen=None):
        """(versions present, kinds, returns) of `name` on class `cls` or its bases."""
        seen = seen or set()
        if cls in seen:
            return set(), set(), []
        seen.add(cls)
        info = self.data["classes"].get(cls) or self.data["python_classes"].get(cls)
        if info is None:
            return set(), set(), []
        entry = info["members"].get(name)
        versions, kinds, returns = self.present(entry), self.kinds(entry), list(self.returns(entry))
        for base in info.get("bases", []):
            base_versions, base_kinds, base_returns = self.member_exact(base, name, seen)
            versions |= base_versions
            kinds |= base_kinds
            returns += base_returns
        return versions, kinds, returns

    def ui_widget(self, owner, name):
        """(versions, class) of a widget of a Slicer module's .ui (python_classes[owner]["ui"])."""
        entry = self.data["python_classes"].get(owner, {}).get("ui", {}).get(name)
        if entry is None:
            return set(), None
        return self.present(entry), entry["class"]

    def hidden_property(self, cls, name):
        """(versions, sources) where PythonQt hides property `name`; cls None: of any class."""
        for key, entry in self.data["pythonqt"]["hidden_properties"].items():
            owner, prop = key.split(".")
            if prop == name and (cls is None or owner == cls or owner in self.bases(cls)):
                return self.present(entry), entry["source"]
        return set(), {}

    def bases(self, cls, seen=None):
        info = self.data["classes"].get(cls) or self.data["python_classes"].get(cls) or {}
        out = set()
        for base in info.get("bases", []):
            out |= {base} | self.bases(base)
        return out

    def order(self, versions):
        return [v for v in self.versions if v in versions]


# -- the checker ----------------------------------------------------------------------------------

class GlueChecker(ast.NodeVisitor):
    """Walk one glue file; self.violations collects "file:line: name, missing in <versions>"."""

    def __init__(self, inventory, label, source, ui_file=None):
        self.inv = inventory
        self.label = label
        self.tree = ast.parse(source)
        self.violations = []
        self.own_ui = {}
        if ui_file is not None and Path(ui_file).exists():
            self.own_ui = {w.get("name"): w.get("class") for w in ElementTree.parse(ui_file).iter("widget")}
        self.modules = {}          # local name -> module key in inventory["python"] (from imports)
        self.self_types = {}       # class name -> {attribute: type}
        self.env = {}              # local variable -> type, for the function being checked
        self.current_class = None
        self.guards = []           # [(object source, name)] of enclosing `if hasattr(obj, "name")`
        self.fallback_nodes = set()
        self.scopes = []           # [(object source, versions)]: in a fallback branch, what the object must have
        self.fallbacks = {}        # variable -> (object node, name) of `variable = getattr(obj, "name", None)`
        self.tolerant = 0          # depth of enclosing try blocks that catch ImportError/AttributeError
        self.param_types = {}      # class -> method -> argument index -> {types passed by self.method(...)}
        self.return_types = {}     # class -> method -> type of what every return gives (None ignored)
        self.constants = {}        # module-level name (or alias.NAME of our own module) -> string
        self.list_sources = {}     # name -> its list comprehension, for name[0]
        self.functions = {}        # local name -> (module, function) of `from slicer.util import f`

    # -- types ------------------------------------------------------------------------------------
    def type_of(self, node):
        """A class name, "ui:<owner>", "ui:own", "module:<key>", or None when the code does not make it clear."""
        source = ast.unparse(node)
        roots = self.inv.data["root_types"]
        if source in roots:
            return roots[source]["class"]
        if isinstance(node, ast.IfExp):   # `x if cond else None`
            types = {self.type_of(v) for v in (node.body, node.orelse)
                     if not (isinstance(v, ast.Constant) and v.value is None)}
            return types.pop() if len(types) == 1 else None
        if isinstance(node, ast.Name):
            if node.id in self.modules:
                return "module:" + self.modules[node.id]
            return self.env.get(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in ("qt", "ctk") and self.inv.is_class(node.attr):
                return node.attr   # the class itself: its statics and enums (qt.QTimer.singleShot, qt.Qt.UserRole)
            if isinstance(node.value, ast.Name) and node.value.id == "self" and self.current_class:
                return self.self_types.get(self.current_class, {}).get(node.attr)
            return self.attribute_type(self.type_of(node.value), node.attr)
        if isinstance(node, ast.Subscript):
            return self.top_level_widget(node)
        if isinstance(node, ast.Call):
            func = node.func
            func_source = ast.unparse(func)
            if func_source + "()" in roots:
                return roots[func_source + "()"]["class"]
            if func_source == "slicer.util.childWidgetVariables":
                return "ui:own"
            found = self.top_level_widget(node)
            if found is not None:
                return found
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self" \
                    and self.current_class and func.attr in self.return_types.get(self.current_class, {}):
                return self.return_types[self.current_class][func.attr]   # self.method() of our own class
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                    func.value.id in ("qt", "ctk", "DICOMLib") and self.inv.is_class(func.attr):
                return func.attr
            if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2 and \
                    isinstance(node.args[1], ast.Constant):
                if f"{ast.unparse(node.args[0])}.{node.args[1].value}" in roots:   # getattr(slicer.modules, "DICOMWidget")
                    return roots[f"{ast.unparse(node.args[0])}.{node.args[1].value}"]["class"]
                return self.attribute_type(self.type_of(node.args[0]), node.args[1].value)
            if isinstance(func, ast.Attribute):
                if func.attr in ("findChild",) and node.args and isinstance(node.args[0], ast.Attribute) and \
                        ast.unparse(node.args[0].value) == "qt":
                    return self.inv.declared(node.args[0].attr)
                owner = self.type_of(func.value)
                if owner and self.inv.is_class(owner):
                    returns = self.inv.member(owner, func.attr)[2]
                    return self.inv.declared(returns[0]) if returns else None
        return None

    def top_level_widget(self, node):
        """next((w for w in slicer.app.topLevelWidgets() if w.objectName == NAME), None): the class of the
        object named NAME (inventory "ui_objects", e.g. the Save dialog), else None."""
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):   # dialogs[0], dialogs = [w ...]
            node = self.list_sources.get(node.value.id, node.value)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.ListComp):
            comprehension = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "next" and \
                node.args and isinstance(node.args[0], ast.GeneratorExp):
            comprehension = node.args[0]
        else:
            return None
        if len(comprehension.generators) != 1:
            return None
        generator = comprehension.generators[0]
        if ast.unparse(generator.iter) != "slicer.app.topLevelWidgets()" or not isinstance(generator.target, ast.Name):
            return None
        for test in generator.ifs:
            if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) and \
                    ast.unparse(test.left) == f"{generator.target.id}.objectName":
                value = test.comparators[0]
                name = value.value if isinstance(value, ast.Constant) else \
                    self.constants.get(value.id) if isinstance(value, ast.Name) else \
                    self.constants.get(ast.unparse(value)) if isinstance(value, ast.Attribute) else None
                entry = self.inv.data.get("ui_objects", {}).get(name)
                if entry is not None:
                    return entry["class"]
        return None

    def attribute_type(self, owner, name):
        if owner is None:
            return None
        if owner == "ui:own":
            return self.own_ui.get(name) if self.inv.is_class(self.own_ui.get(name, "")) else None
        if owner.startswith("ui:"):
            widget_class = self.inv.ui_widget(owner[3:], name)[1]
            return widget_class if widget_class and self.inv.is_class(widget_class) else None
        if owner.startswith("module:"):
            return None
        versions, kinds, returns = self.inv.member(owner, name)
        if name == "ui" and owner in self.inv.data["python_classes"] and \
                self.inv.data["python_classes"][owner].get("ui"):
            return "ui:" + owner
        if "attribute" in kinds:   # a Slicer Python class's attribute, set to a constructed object
            return returns[0] if returns else None
        if "property" in kinds:
            return self.inv.declared(returns[0]) if returns else None
        return None

    def iteration_type(self, node):
        """for x in obj.findChildren(qt.X, ...): x is an X."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "findChildren" and node.args and isinstance(node.args[0], ast.Attribute) and \
                ast.unparse(node.args[0].value) == "qt":
            return node.args[0].attr
        return None

    def local_types(self, function):
        """Local variable -> type, when every assignment of the function agrees (None values ignored);
        a method's parameter gets the type every `self.method(...)` call of its class passes."""
        seed = {}
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and self.current_class:
            calls = self.param_types.get(self.current_class, {}).get(function.name, {})
            for index, argument in enumerate(function.args.args[1:]):
                if index in calls:
                    seed[argument.arg] = set(calls[index])
        outer = self.env
        env = {}
        for _ in range(3):   # a variable's type may come from another variable's
            self.env = {**outer, **env}
            found = {name: set(types) for name, types in seed.items()}
            for node in ast.walk(function):
                pairs = []
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            pairs.append((target.id, node.value))
                        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                            pairs += [(t.id, v) for t, v in zip(target.elts, node.value.elts)
                                      if isinstance(t, ast.Name)]
                elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
                    found.setdefault(node.target.id, set()).add(self.iteration_type(node.iter))
                elif isinstance(node, ast.NamedExpr):
                    pairs.append((node.target.id, node.value))
                for name, value in pairs:
                    if isinstance(value, ast.Constant) and value.value is None:
                        continue
                    found.setdefault(name, set()).add(self.type_of(value))
            env = {name: next(iter(types)) for name, types in found.items() if len(types) == 1 and None not in types}
        self.env = outer
        return env

    def collect_self_types(self, cls):
        found, calls, returned = {}, {}, {}
        for function in (n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            self.env = self.local_types(function)
            for node in ast.walk(function):
                if isinstance(node, ast.Return) and node.value is not None and \
                        not (isinstance(node.value, ast.Constant) and node.value.value is None):
                    returned.setdefault(function.name, set()).add(self.type_of(node.value))
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        pairs = [(target, node.value)]
                        if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                            pairs = list(zip(target.elts, node.value.elts))
                        for element, value in pairs:
                            if isinstance(element, ast.Attribute) and isinstance(element.value, ast.Name) and \
                                    element.value.id == "self":
                                if isinstance(value, ast.Constant) and value.value is None:
                                    continue
                                found.setdefault(element.attr, set()).add(self.type_of(value))
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                        isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
                    for index, argument in enumerate(node.args):
                        calls.setdefault(node.func.attr, {}).setdefault(index, set()).add(self.type_of(argument))
        self.self_types[cls.name] = {k: next(iter(v)) for k, v in found.items() if len(v) == 1 and None not in v}
        self.return_types[cls.name] = {k: next(iter(v)) for k, v in returned.items() if len(v) == 1 and None not in v}
        self.param_types[cls.name] = {m: {i: t for i, t in args.items() if len(t) == 1 and None not in t}
                                      for m, args in calls.items()}

    # -- reporting --------------------------------------------------------------------------------
    def report(self, node, name, present, note="", required=None):
        if self.tolerant and present:   # inside try/except ImportError or AttributeError: absence is handled
            return
        missing = set(self.inv.versions if required is None else required) - set(present)
        if missing:
            self.violations.append(f"{self.label}:{node.lineno}: {name}, missing in "
                                   f"{', '.join(self.inv.order(missing))}{note}")

    def trap(self, node, name, versions, why):
        self.violations.append(f"{self.label}:{node.lineno}: {name}, PythonQt trap in "
                               f"{', '.join(self.inv.order(versions))}: {why}")

    # -- walking ----------------------------------------------------------------------------------
    def run(self):
        # module-level string constants (DIALOG_NAME = "qSlicerSaveDataDialog"), also of our own modules
        # imported as `from SceneScrubberSlicer import save_dialog_hook as h` (h.DIALOG_NAME)
        self.constants.update(module_constants(self.tree))
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in OWN_PACKAGES:
                for alias in node.names:
                    path = ROOT / OWN_PACKAGES[node.module.split(".")[0]] / node.module.replace(".", "/") / f"{alias.name}.py"
                    if path.exists():
                        self.constants.update({f"{alias.asname or alias.name}.{k}": v for k, v in
                                               module_constants(ast.parse(path.read_text())).items()})
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, ast.ListComp):
                self.list_sources[node.targets[0].id] = ast.Subscript(value=node.value, slice=ast.Constant(0))
        for node in ast.walk(self.tree):   # imports anywhere in the file bind module names
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in self.inv.data["python"] and alias.name != "slicer":
                        self.modules[alias.asname or alias.name] = alias.name
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    key = f"{node.module}.{alias.name}"
                    if key in self.inv.data["python"]:
                        self.modules[alias.asname or alias.name] = key
                    if node.module in self.inv.data.get("python_parameters", {}):
                        self.functions[alias.asname or alias.name] = (node.module, alias.name)
        for _ in range(3):   # attribute and parameter types may depend on each other
            for node in ast.walk(self.tree):
                if isinstance(node, ast.ClassDef):
                    self.current_class = node.name
                    self.collect_self_types(node)
        self.current_class = None
        module_level = ast.Module(body=[n for n in self.tree.body if not isinstance(
            n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))], type_ignores=[])
        self.env = self.local_types(module_level)
        self.visit(self.tree)
        return self.violations

    def visit_ClassDef(self, node):
        outer, self.current_class = self.current_class, node.name
        self.generic_visit(node)
        self.current_class = outer

    def visit_FunctionDef(self, node):
        outer, outer_fallbacks = self.env, self.fallbacks
        self.env = {**outer, **self.local_types(node)}
        self.fallbacks = {t.id: (a.value.args[0], a.value.args[1].value) for a in ast.walk(node)
                          if isinstance(a, ast.Assign) and self.is_getattr(a.value) and len(a.value.args) == 3
                          for t in a.targets if isinstance(t, ast.Name)}
        self.generic_visit(node)
        self.env, self.fallbacks = outer, outer_fallbacks

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ImportFrom(self, node):
        module = node.module or ""
        key = module if module in self.inv.data["python"] else None
        if key is None and module in ("slicer",):
            key = "slicer"
        if key is not None:
            for alias in node.names:
                if f"{module}.{alias.name}" in self.inv.data["python"]:
                    continue
                self.report(node, f"from {module} import {alias.name}",
                            self.inv.present(self.inv.data["python"][key].get(alias.name)))

    def visit_If(self, node):
        """`if hasattr(obj, "a"):` the body may use obj.a (and what it gives, where obj has a); the else
        branch, and the body of `if x is None:` / `if not x:` after `x = getattr(obj, "a", None)`, needs
        what it uses of obj only in the versions that lack a."""
        guards, lacking = [], []
        for call in ast.walk(node.test):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "hasattr" \
                    and len(call.args) == 2 and isinstance(call.args[1], ast.Constant):
                owner_source = ast.unparse(call.args[0])
                present = self.member_versions(self.type_of(call.args[0]), owner_source, call.args[1].value)
                present = set(self.inv.versions) if present is None else present
                guards.append((f"{owner_source}.{call.args[1].value}", present))
                if node.test is call:
                    lacking.append((owner_source, set(self.inv.versions) - present))
        test = node.test
        variable = None
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is) and \
                isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None:
            variable = test.left
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            variable = test.operand
        body_scopes = []
        if isinstance(variable, ast.Name) and variable.id in self.fallbacks:
            owner_node, name = self.fallbacks[variable.id]
            present = self.member_versions(self.type_of(owner_node), ast.unparse(owner_node), name)
            if present is not None:
                body_scopes.append((ast.unparse(owner_node), set(self.inv.versions) - present))
        self.visit(node.test)
        self.guards.extend(guards)
        self.scopes.extend(body_scopes)
        for statement in node.body:
            self.visit(statement)
        del self.guards[len(self.guards) - len(guards):]
        del self.scopes[len(self.scopes) - len(body_scopes):]
        self.scopes.extend(lacking)
        for statement in node.orelse:
            self.visit(statement)
        del self.scopes[len(self.scopes) - len(lacking):]

    TOLERATED = {"ImportError", "ModuleNotFoundError", "AttributeError"}

    def visit_Try(self, node):
        caught = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            caught |= {ast.unparse(k) for k in kinds if k is not None}
        tolerant = bool(caught & self.TOLERATED)
        self.tolerant += tolerant
        for statement in node.body:
            self.visit(statement)
        self.tolerant -= tolerant
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    def visit_BoolOp(self, node):
        """getattr(obj, "a", None) or getattr(obj, "b", None): fine when every version has a or b."""
        calls = [v for v in node.values if self.is_getattr(v)]
        if isinstance(node.op, ast.Or) and len(calls) >= 2 and \
                len({ast.unparse(c.args[0]) for c in calls}) == 1:
            owner = self.type_of(calls[0].args[0])
            if owner and self.inv.is_class(owner):
                covered = set()
                for call in calls:
                    covered |= self.inv.member(owner, call.args[1].value)[0]
                    self.fallback_nodes.add(call)
                names = " or ".join(c.args[1].value for c in calls)
                self.report(node, f"{owner}.({names})", covered, " (no alternative covers it)")
        self.generic_visit(node)

    @staticmethod
    def is_getattr(node):
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
            and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)

    def visit_Call(self, node):
        if self.is_getattr(node) and node not in self.fallback_nodes:
            owner = self.type_of(node.args[0])
            name = node.args[1].value
            present = self.member_versions(owner, ast.unparse(node.args[0]), name)
            if present is not None:
                if len(node.args) == 3:   # with a default: the code handles absence; a name no version has is dead
                    if not present:
                        self.report(node, self.display(owner, ast.unparse(node.args[0]), name), present)
                else:
                    self.report(node, self.display(owner, ast.unparse(node.args[0]), name), present)
        self.check_keywords(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "findChild" and len(node.args) >= 2:
            self.check_ui_child(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("connect", "disconnect") and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            self.check_signal(node, node.func.value, node.args[0].value)
            if len(node.args) >= 3 and isinstance(node.args[2], ast.Constant) and isinstance(node.args[2].value, str):
                self.check_signal(node, node.args[1], node.args[2].value, slot=True)
        self.generic_visit(node)

    def check_keywords(self, node):
        """slicer.util.f(name=...): name must be a parameter of f, or go through f's **kwargs to where they
        go (a property of the QMessageBox / QProgressDialog they are set on, inventory "python_parameters")."""
        func = node.func
        target = None
        if isinstance(func, ast.Attribute) and ast.unparse(func.value) in self.inv.data.get("python_parameters", {}):
            target = (ast.unparse(func.value), func.attr)
        elif isinstance(func, ast.Name) and func.id in self.functions:
            target = self.functions[func.id]
        table = self.inv.data.get("python_parameters", {}).get(target[0], {}).get(target[1]) if target else None
        if table is None:
            return
        rest = table.get("**")
        for keyword in node.keywords:
            if keyword.arg is None:
                continue
            present = self.inv.present(table.get(keyword.arg))
            if rest is not None:
                if "any" in self.inv.kinds(rest):
                    present |= self.inv.present(rest)
                for cls in self.inv.returns(rest):
                    present |= self.inv.member(cls, keyword.arg)[0] & self.inv.present(rest)
            self.report(node, f"{target[0]}.{target[1]}({keyword.arg}=...)", present)

    def check_ui_child(self, node):
        """dialog.findChild(qt.X, "Name") on an object of a .ui of the inventory: a child of that name and a
        class that is X (or derives from X) in every version."""
        owner = self.type_of(node.func.value)
        entry = next((e for e in self.inv.data.get("ui_objects", {}).values() if e["class"] == owner), None)
        kind, name = node.args[0], node.args[1]
        if entry is None or not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return
        wanted = kind.attr if isinstance(kind, ast.Attribute) and ast.unparse(kind.value) in ("qt", "ctk") else None
        child = entry["children"].get(name.value)
        present = self.inv.present(child) if child else set()
        if child and wanted and wanted != child["class"] and wanted not in self.inv.bases(child["class"]):
            present = set()
        self.report(node, f"{owner} child \"{name.value}\"" + (f" ({wanted})" if wanted else ""),
                    present & self.inv.present(entry))

    def check_signal(self, node, owner_node, signature, slot=False):
        owner = self.type_of(owner_node)
        if not owner or not self.inv.is_class(owner) or owner not in self.inv.data["classes"]:
            return
        normalized = "".join(signature.split())
        name = normalized.split("(")[0]
        versions, kinds, _ = self.inv.member(owner, normalized)
        wanted = {"slot", "invokable", "method"} if slot else {"signal"}
        name_versions, name_kinds, _ = self.inv.member(owner, name)
        if not (name_kinds & wanted):
            versions = set()
        what = "slot" if slot else "signal"
        self.report(node, f"{owner} {what} \"{normalized}\"", versions & name_versions)

    def visit_Assign(self, node):
        for target in node.targets:
            if isinstance(target, ast.Attribute):
                self.check_assignment(target)
        self.visit(node.value)
        for target in node.targets:
            if not isinstance(target, ast.Attribute):
                self.visit(target)
            else:
                self.visit(target.value)

    def check_assignment(self, target):
        owner = self.type_of(target.value)
        hidden, sources = self.inv.hidden_property(owner if owner and self.inv.is_class(owner) else None,
                                                   target.attr)
        if hidden and (owner is None or not self.inv.is_class(owner) or
                       owner in self.inv.data["classes"] and target.attr in self.member_names(owner)):
            where = "; ".join(f"{v}: {sources[v]}" for v in self.inv.order(sources))
            self.trap(target, f"{ast.unparse(target)} = ...", hidden,
                      f"PythonQt hides this property ({where}); call the setter (setSingleShot)")
            return
        if not owner or owner not in self.inv.data["classes"]:
            return
        versions, kinds, _ = self.inv.member(owner, target.attr)
        if versions and "property" not in kinds and kinds & {"slot", "signal", "method", "invokable", "decorator",
                                                               "static"}:
            self.trap(target, f"{owner}.{target.attr} = ...", versions,
                      "not a property: PythonQt refuses to overwrite a slot, signal or method")
            return
        self.report(target, f"{owner}.{target.attr} (property)", versions)

    def member_names(self, owner):
        return set(self.inv.data["classes"].get(owner, {}).get("members", {}))

    def member_versions(self, owner, owner_source, name):
        """Versions having `name` on the object, or None when nothing is known about the object."""
        if owner_source in self.inv.data["python"] and owner_source != "DICOMLib" or owner_source == "slicer.modules":
            key = owner_source
            if key == "slicer.modules" and any(name in (m + "Widget", m.lower(), m + "Instance") for m in OWN_MODULES):
                return set(self.inv.versions)
            return self.inv.present(self.inv.data["python"][key].get(name))
        if owner_source in ("qt", "ctk"):   # any class of the toolkit, members recorded or not
            return self.inv.present(self.inv.data["class_names"][owner_source].get(name))
        if owner is None:
            return None
        if owner == "ui:own":
            return set(self.inv.versions) if name in self.own_ui else set()
        if owner.startswith("ui:"):
            return self.inv.ui_widget(owner[3:], name)[0]
        if owner.startswith("module:"):
            return self.inv.present(self.inv.data["python"][owner[7:]].get(name))
        if not self.inv.is_class(owner):
            return None
        return self.inv.member(owner, name)[0]

    @staticmethod
    def display(owner, owner_source, name):
        if owner is None or owner.startswith(("module:", "ui:")):
            return f"{owner_source}.{name}"
        return f"{owner}.{name}"

    def visit_Attribute(self, node):
        """A name; inside `if hasattr(x, "a"):`, x.a itself is fine and names reached through x.a are
        needed only in the versions that have x.a."""
        owner_source = ast.unparse(node.value)
        source = f"{owner_source}.{node.attr}"
        required = set(self.inv.versions)
        for guarded, versions in self.guards + self.scopes:
            if owner_source == guarded or owner_source.startswith(guarded + "."):
                required &= versions
        self.visit(node.value)   # the object first: `slicer.packaging` is reported before `...pip_ensure`
        if isinstance(node.ctx, ast.Load) and all(source != guarded for guarded, _v in self.guards):
            owner = self.type_of(node.value)
            present = self.member_versions(owner, owner_source, node.attr)
            if present is not None:
                self.report(node, self.display(owner, owner_source, node.attr), present, required=required)


def module_constants(tree):
    """NAME -> string of a module's top-level `NAME = "text"` assignments."""
    return {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for t in node.targets if isinstance(t, ast.Name)}


def check_source(source, label="snippet.py", inventory=None, ui_file=None):
    return GlueChecker(inventory or INVENTORY, label, textwrap.dedent(source), ui_file).run()


def check_glue_file(path, inventory=None):
    module = path.parent.name if path.parent.name in OWN_MODULES else path.parent.parent.name
    ui_file = ROOT / module / "Resources" / "UI" / f"{module}.ui" if path.name == f"{module}.py" else None
    return GlueChecker(inventory or INVENTORY, str(path.relative_to(ROOT)), path.read_text(), ui_file).run()


INVENTORY = Inventory(json.loads(INVENTORY_PATH.read_text()))


# -- the guard over the real glue -------------------------------------------------------------------

def test_the_glue_uses_only_names_every_supported_slicer_has():
    violations = [v for path in GLUE for v in check_glue_file(path)]
    assert not violations, "\n" + "\n".join(violations)


# -- the guard catches the review's B2, B3 and B4, and accepts their fixes ----------------------------

B2_HOOK = """
    import qt
    class ImportHook:
        def __init__(self):
            self.warningTimer = qt.QTimer()
            self.warningTimer.singleShot = True
            self.warningTimer.interval = 1000
"""


def test_b2_setting_the_hidden_singleShot_property_is_a_trap():
    violations = check_source(B2_HOOK)
    assert len(violations) == 1, violations
    assert violations[0].startswith("snippet.py:6: self.warningTimer.singleShot = ..., PythonQt trap in 5.8.0, 5.10.0, main")
    assert "PythonQtClassInfo.cpp" in violations[0]


def test_b2_on_an_object_of_unknown_class_too():
    violations = check_source("def f(timer):\n    timer.singleShot = True\n")
    assert violations and violations[0].startswith("snippet.py:2: timer.singleShot = ..., PythonQt trap")


def test_b2_fixed_with_setSingleShot():
    assert check_source(B2_HOOK.replace("self.warningTimer.singleShot = True",
                                        "self.warningTimer.setSingleShot(True)")) == []


def test_assigning_to_a_slot_is_a_trap():
    violations = check_source("import qt\ntimer = qt.QTimer()\ntimer.start = 5\n")
    assert violations == ["snippet.py:3: QTimer.start = ..., PythonQt trap in 5.8.0, 5.10.0, main: "
                          "not a property: PythonQt refuses to overwrite a slot, signal or method"]


B3_HOOK = """
    import slicer
    class ImportHook:
        def ensureInstalled(self):
            widget = getattr(slicer.modules, "DICOMWidget", None)
            self.browserWidget = slicer.modules.DICOMWidget.browserWidget
        def _refreshBrowser(self):
            visual = getattr(self.browserWidget, "dicomVisualBrowser", None)
            if visual is not None and visual.visible:
                visual.refreshBrowser()
"""


def test_b3_refreshBrowser_without_fallback_is_missing_in_5_8_and_5_10():
    assert check_source(B3_HOOK) == [
        "snippet.py:10: ctkDICOMVisualBrowserWidget.refreshBrowser, missing in 5.8.0, 5.10.0"]


def test_b3_fixed_with_the_getattr_fallback():
    fixed = B3_HOOK.replace("visual.refreshBrowser()", """refresh = getattr(visual, "refreshBrowser", None) or getattr(visual, "onShowPatients", None)
                refresh()""")
    assert check_source(fixed) == []


def test_b3_a_fallback_that_does_not_cover_every_version_is_reported():
    fixed = B3_HOOK.replace("visual.refreshBrowser()", """refresh = getattr(visual, "refreshBrowser", None) or getattr(visual, "patientView", None)
                refresh()""")
    assert check_source(fixed) == [
        "snippet.py:10: ctkDICOMVisualBrowserWidget.(refreshBrowser or patientView), missing in 5.8.0, 5.10.0 "
        "(no alternative covers it)"]


def test_b3_fixed_with_a_hasattr_guard():
    fixed = B3_HOOK.replace("                visual.refreshBrowser()", """                if hasattr(visual, "refreshBrowser"):
                    visual.refreshBrowser()
                else:
                    visual.onShowPatients()""")
    # the else branch runs where refreshBrowser is missing (5.8, 5.10), which have onShowPatients
    assert check_source(fixed) == []
    wrong = fixed.replace("visual.onShowPatients()", "visual.patientView()")
    assert check_source(wrong) == ["snippet.py:13: ctkDICOMVisualBrowserWidget.patientView, missing in 5.8.0, 5.10.0"]


def test_b3_fixed_with_getattr_then_a_fallback_when_none():
    fixed = B3_HOOK.replace("                visual.refreshBrowser()", """                refresh = getattr(visual, "refreshBrowser", None)
                if refresh is None:
                    refresh = visual.onShowPatients
                refresh()""")
    assert check_source(fixed) == []
    wrong = fixed.replace("refresh = visual.onShowPatients", "refresh = visual.patientView")
    assert check_source(wrong) == ["snippet.py:12: ctkDICOMVisualBrowserWidget.patientView, missing in 5.8.0, 5.10.0"]
    unguarded = fixed.replace("if refresh is None:", "if True:")
    assert check_source(unguarded) == ["snippet.py:12: ctkDICOMVisualBrowserWidget.onShowPatients, missing in main"]


B4_TEST = """
    import slicer
    def test_AnonymizeOnImport(self):
        db = slicer.dicomDatabase
        files = db.filesForPatient(db.patients()[0])
        for patient in slicer.dicomDatabase.patients():
            for path in slicer.dicomDatabase.filesForPatient(patient):
                pass
"""


def test_b4_filesForPatient_does_not_exist_in_any_version():
    assert check_source(B4_TEST) == [
        "snippet.py:5: ctkDICOMDatabase.filesForPatient, missing in 5.8.0, 5.10.0, main",
        "snippet.py:7: ctkDICOMDatabase.filesForPatient, missing in 5.8.0, 5.10.0, main"]


def test_b4_fixed_with_studies_series_files():
    assert check_source("""
        import slicer
        def files(patient):
            db = slicer.dicomDatabase
            return [f for study in db.studiesForPatient(patient) for series in db.seriesForStudy(study)
                    for f in db.filesForSeries(series)]
    """) == []


def test_module_level_names():
    assert check_source("""
        import qt, ctk, slicer
        from slicer.ScriptedLoadableModule import ScriptedLoadableModule, NoSuchBase
        from DICOMLib import DICOMUtils
        from slicer.i18n import tr as _
        import DICOMLib
        DICOMLib.SlicerDICOMBrowser
        DICOMLib.NoSuchBrowser
        slicer.util.pip_install("x")
        slicer.util.pip_ensure("x")
        slicer.packaging.pip_ensure
        qt.QTimer
        qt.QNoSuchWidget
        ctk.ctkDICOMIndexer
        ctk.ctkNoSuchThing
        DICOMUtils.loadSeriesByUID([])
        DICOMUtils.noSuchFunction()
        slicer.modules.DICOMWidget
        slicer.modules.DicomDeidentifyWidget
    """) == [
        "snippet.py:3: from slicer.ScriptedLoadableModule import NoSuchBase, missing in 5.8.0, 5.10.0, main",
        "snippet.py:8: DICOMLib.NoSuchBrowser, missing in 5.8.0, 5.10.0, main",
        "snippet.py:10: slicer.util.pip_ensure, missing in 5.8.0, 5.10.0, main",
        "snippet.py:11: slicer.packaging, missing in 5.8.0, 5.10.0",
        "snippet.py:11: slicer.packaging.pip_ensure, missing in 5.8.0, 5.10.0",
        "snippet.py:13: qt.QNoSuchWidget, missing in 5.8.0, 5.10.0, main",
        "snippet.py:15: ctk.ctkNoSuchThing, missing in 5.8.0, 5.10.0, main",
        "snippet.py:17: DICOMUtils.noSuchFunction, missing in 5.8.0, 5.10.0, main"]


def test_names_of_some_versions_inside_try_except_import_or_attribute_error():
    assert check_source("""
        import slicer
        try:
            from slicer.packaging import pip_ensure
        except ImportError:
            pip_ensure = None
        try:
            from slicer.packaging import no_such_function
        except ImportError:
            pass
        try:
            slicer.util.pip_ensure
        except AttributeError:
            pass
        try:
            from slicer.packaging import pip_ensure as ensure
        except OSError:
            pass
    """) == ["snippet.py:8: from slicer.packaging import no_such_function, missing in 5.8.0, 5.10.0, main",
             "snippet.py:12: slicer.util.pip_ensure, missing in 5.8.0, 5.10.0, main",
             "snippet.py:16: from slicer.packaging import pip_ensure, missing in 5.8.0, 5.10.0"]


def test_members_added_by_slicer_and_pythonqt_decorators():
    # qSlicerBaseQTCorePythonQtDecorators.h: static_qSlicerCoreApplication_testingEnabled;
    # PythonQtStdDecorators.h: findChild(QObject* parent, ...) for every QObject
    assert check_source("""
        import qt, slicer
        slicer.app.testingEnabled()
        slicer.app.findChild(qt.QWidget, "x")
        slicer.app.testingDisabled()
    """) == ["snippet.py:5: qSlicerApplication.testingDisabled, missing in 5.8.0, 5.10.0, main"]


def test_qt_and_ctk_classes_without_recorded_members():
    assert check_source("""
        import qt, ctk
        box = qt.QInputDialog()
        box.anything()
        ctk.ctkCheckableHeaderView
        qt.QNoSuchBox
    """) == ["snippet.py:6: qt.QNoSuchBox, missing in 5.8.0, 5.10.0, main"]


def test_main_only_names_behind_a_hasattr_guard():
    assert check_source("""
        import slicer
        def ensure(requirements):
            if hasattr(slicer, "packaging"):
                slicer.packaging.pip_ensure(requirements)
                slicer.packaging.pip_ensur(requirements)
            else:
                slicer.util.pip_install(requirements)
            slicer.packaging.pip_ensure(requirements)
    """) == ["snippet.py:6: slicer.packaging.pip_ensur, missing in main",
             "snippet.py:9: slicer.packaging, missing in 5.8.0, 5.10.0",
             "snippet.py:9: slicer.packaging.pip_ensure, missing in 5.8.0, 5.10.0"]


def test_signal_strings_must_match_a_declared_signature():
    assert check_source("""
        import qt, slicer
        timer = qt.QTimer()
        timer.connect("timeout()", print)
        timer.connect("timeout(int)", print)
        slicer.app.coreIOManager().connect("fileSaved(qSlicerIO::IOProperties)", print)
        slicer.app.coreIOManager().connect("fileSaved(QVariantMap)", print)
        slicer.dicomDatabase.connect("instanceAdded(QString)", print)
        slicer.dicomDatabase.connect("instanceAdded()", print)
        box = qt.QCheckBox()
        box.connect("toggled(bool)", print)
        box.connect("toggled(const QString &)", print)
    """) == [
        'snippet.py:5: QTimer signal "timeout(int)", missing in 5.8.0, 5.10.0, main',
        # IOProperties is QVariantMap, but PythonQt matches the signature as declared
        'snippet.py:7: qSlicerCoreIOManager signal "fileSaved(QVariantMap)", missing in 5.8.0, 5.10.0, main',
        'snippet.py:9: ctkDICOMDatabase signal "instanceAdded()", missing in 5.8.0, 5.10.0, main',
        'snippet.py:12: QCheckBox signal "toggled(constQString&)", missing in 5.8.0, 5.10.0, main']


def test_members_through_return_types_ui_files_and_findChild():
    assert check_source("""
        import qt, slicer
        def f():
            settings = slicer.app.userSettings()
            settings.value("a")
            settings.noSuchValue("a")
            menu = slicer.modules.DICOMWidget.ui.importButton.menu()
            menu.addAction(qt.QAction("x", menu))
            slicer.modules.DICOMWidget.ui.noSuchButton
            box = slicer.util.mainWindow().findChild(qt.QDialogButtonBox, "ButtonBox")
            box.button(qt.QDialogButtonBox.Save).click()
            box.noSuchMethod()
    """) == [
        "snippet.py:6: QSettings.noSuchValue, missing in 5.8.0, 5.10.0, main",
        "snippet.py:9: slicer.modules.DICOMWidget.ui.noSuchButton, missing in 5.8.0, 5.10.0, main",
        "snippet.py:12: QDialogButtonBox.noSuchMethod, missing in 5.8.0, 5.10.0, main"]


# -- the generator, on a small source fixture built from real header lines ---------------------------

def _write(root, path, text):
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(text))


CTK_VISUAL_5_8 = """
    // CTK 82cae578 Libs/DICOM/Widgets/ctkDICOMVisualBrowserWidget.h (lines 74-80, 292, 375)
    class CTK_DICOM_WIDGETS_EXPORT ctkDICOMVisualBrowserWidget : public QWidget
    {
      Q_OBJECT;
      Q_PROPERTY(QString databaseDirectory READ databaseDirectory WRITE setDatabaseDirectory)
    public:
      explicit ctkDICOMVisualBrowserWidget(QWidget* parent = nullptr);
      QString databaseDirectory() const;
    public Q_SLOTS:
      void setDatabaseDirectory(const QString& directory);
      void onShowPatients();
    Q_SIGNALS:
      void sendRequested(const QStringList&);
    protected:
      void closeEvent(QCloseEvent*);
    };
"""
CTK_VISUAL_MAIN = CTK_VISUAL_5_8.replace("  QString databaseDirectory() const;\n", """  QString databaseDirectory() const;
      /// Refresh the browser (comment with a ; and a { in it)
      Q_INVOKABLE void refreshBrowser(bool isImport = false);
      inline int inlined() const { return 1; }
      enum ThumbnailSizePresetOption { Hidden = 0, Small, Medium, Large };
      Q_ENUM(ThumbnailSizePresetOption)
    """).replace("  void onShowPatients();\n", "")
CTK_DATABASE = """
    class CTK_DICOM_CORE_EXPORT ctkDICOMDatabase : public QObject
    {
      Q_OBJECT
      Q_PROPERTY(bool isOpen READ isOpen)
    public:
      Q_INVOKABLE QStringList patients();
      Q_INVOKABLE QStringList studiesForPatient(const QString patientUID);
      QString notReachableFromPython();
    Q_SIGNALS:
      void instanceAdded(QString);
    };
"""
QT_TIMER = """
    class Q_CORE_EXPORT QTimer : public QObject
    {
        Q_OBJECT
        Q_PROPERTY(bool singleShot READ isSingleShot WRITE setSingleShot)
        Q_PROPERTY(int interval READ interval WRITE setInterval)
    public:
        explicit QTimer(QObject *parent = nullptr);
        inline void setSingleShot(bool singleShot);
        static void singleShot(int msec, const QObject *receiver, const char *member);
        template <typename Functor>
        QMetaObject::Connection callOnTimeout(Functor slot, Qt::ConnectionType connectionType = Qt::AutoConnection);
    public Q_SLOTS:
        void start(int msec);
        void start();
    Q_SIGNALS:
        void timeout(QPrivateSignal);
    };
"""
QT_OBJECT = """
    class Q_CORE_EXPORT QObject
    {
        Q_OBJECT
        Q_PROPERTY(QString objectName READ objectName WRITE setObjectName NOTIFY objectNameChanged)
    public:
        Q_INVOKABLE explicit QObject(QObject *parent=nullptr);
        QString objectName() const;
    Q_SIGNALS:
        void destroyed(QObject * = nullptr);
    };
"""
PYTHONQT_CLASSINFO = """
    bool PythonQtClassInfo::lookForPropertyAndCache(const char* memberName)
    {
      if (qstrcmp(attributeName, "singleShot") == 0 &&
          className() == "QTimer") {
        // ignore singleShot property, users need to use setSingleShot and isSingleShot instead...
        i = -1;
      }
    }
"""
PYTHONQT_DECORATORS = """
    class PYTHONQT_EXPORT PythonQtStdDecorators : public QObject
    {
      Q_OBJECT
    public Q_SLOTS:
      bool connect(QObject* sender, const QByteArray& signal, PyObject* callable);
      QObject* findChild(QObject* parent, PyObject* type, const QString& name = QString());
      void static_QTimer_singleShot(int msec, PyObject* callable);
    };
"""


# PythonQt's generated wrappers (commontk PythonQt db525aff generated_cpp_511/com_trolltech_qt_core/
# com_trolltech_qt_core_init.cpp:110,154, com_trolltech_qt_core3.h:695-713; _builtin_init.cpp:23 and
# com_trolltech_qt_core_builtin0.h:1136-1220, shortened)
WRAPPER_INIT = """
    void PythonQt_init_QtCore(PyObject* module) {
    PythonQt::priv()->registerClass(&QObject::staticMetaObject, "QtCore", PythonQtCreateObject<PythonQtWrapper_QObject>, PythonQtSetInstanceWrapperOnShell<PythonQtShell_QObject>, module, 0);
    PythonQt::priv()->registerClass(&QTimer::staticMetaObject, "QtCore", PythonQtCreateObject<PythonQtWrapper_QTimer>, PythonQtSetInstanceWrapperOnShell<PythonQtShell_QTimer>, module, 0);
    }
"""
WRAPPER_HEADER = """
    class PythonQtWrapper_QObject : public QObject
    { Q_OBJECT
    public:
    public slots:
    QObject* new_QObject(QObject*  parent = nullptr);
    void delete_QObject(QObject* obj) { delete obj; }
       bool  blockSignals(QObject* theWrappedObject, bool  b);
    };
    class PythonQtWrapper_QTimer : public QObject
    { Q_OBJECT
    public:
    public slots:
    QTimer* new_QTimer(QObject*  parent = nullptr);
    void delete_QTimer(QTimer* obj) { delete obj; }
       int  interval(QTimer* theWrappedObject) const;
       void setSingleShot(QTimer* theWrappedObject, bool  singleShot);
       void static_QTimer_singleShot(int  msec, const QObject*  receiver, const char*  member);
       void py_q_timerEvent(QTimer* theWrappedObject, QTimerEvent*  arg__1){  (((PythonQtPublicPromoter_QTimer*)theWrappedObject)->py_q_timerEvent(arg__1));}
    };
"""
WRAPPER_BUILTIN_INIT = """
    PythonQt::priv()->registerCPPClass("Qt", "", "QtCore", PythonQtCreateObject<PythonQtWrapper_Qt>, NULL, module, 0);
"""
WRAPPER_BUILTIN_HEADER = """
    class PythonQtWrapper_Qt : public QObject
    { Q_OBJECT
    public:
    Q_ENUMS(ItemDataRole )
    enum ItemDataRole{
      DisplayRole = Qt::DisplayRole,   UserRole = Qt::UserRole};
    public slots:
       QString  static_Qt_convertFromPlainText(const QString&  plain, Qt::WhiteSpaceMode  mode = Qt::WhiteSpacePre);
    };
"""


def test_generator_on_a_fixture_of_real_header_lines(tmp_path):
    generator = load_generator()
    versions = ["5.8.0", "main"]
    trees = {}
    for version, visual in (("5.8.0", CTK_VISUAL_5_8), ("main", CTK_VISUAL_MAIN)):
        _write(tmp_path / version / "ctk", "Libs/DICOM/Widgets/ctkDICOMVisualBrowserWidget.h", visual)
        _write(tmp_path / version / "ctk", "Libs/DICOM/Core/ctkDICOMDatabase.h", CTK_DATABASE)
        _write(tmp_path / version / "pythonqt", "src/PythonQtClassInfo.cpp", PYTHONQT_CLASSINFO)
        _write(tmp_path / version / "pythonqt", "src/PythonQtStdDecorators.h", PYTHONQT_DECORATORS)
        for folder in ("generated_cpp_511",) + (("generated_cpp_56", "generated_cpp_515") if version == "main" else ()):
            generated = f"{folder}/com_trolltech_qt_core"
            _write(tmp_path / version / "pythonqt", f"{generated}/com_trolltech_qt_core_init.cpp", WRAPPER_INIT)
            _write(tmp_path / version / "pythonqt", f"{generated}/com_trolltech_qt_core0.h", WRAPPER_HEADER.replace(
                "int  interval", "int  intervalOf" if folder == "generated_cpp_511" and version == "main" else "int  interval"))
            _write(tmp_path / version / "pythonqt", f"{generated}_builtin/com_trolltech_qt_core_builtin_init.cpp",
                   WRAPPER_BUILTIN_INIT)
            _write(tmp_path / version / "pythonqt", f"{generated}_builtin/com_trolltech_qt_core_builtin0.h",
                   WRAPPER_BUILTIN_HEADER)
        _write(tmp_path / version / "slicer", "Base/Python/slicer/util.py", "def pip_install(x):\n    pass\n" +
               ("def pip_ensure(x):\n    pass\n" if version == "main" else ""))
        _write(tmp_path / version / "slicer", "Base/Python/slicer/__init__.py",
               '_createModule("slicer.modules", globals(), "")\n')
        # Slicer 583e9b37 Modules/Scripted/DICOMLib/DICOMBrowser.py:36,57,60 and DICOM/DICOM.py:322
        _write(tmp_path / version / "slicer", "Modules/Scripted/DICOMLib/DICOMBrowser.py", """
            class SlicerDICOMBrowser(VTKObservationMixin, qt.QWidget):
                def __init__(self, dicomBrowser=None, parent="mainWindow"):
                    self.dicomBrowser = dicomBrowser if dicomBrowser is not None else slicer.app.createDICOMBrowserForMainDatabase()
                    self.dicomVisualBrowser = ctk.ctkDICOMVisualBrowserWidget()
                def importDirectory(self, inputDirectory):
                    pass
            """)
        _write(tmp_path / version / "slicer", "Modules/Scripted/DICOM/DICOM.py",
               "def setup():\n        slicer.dicomDatabase = slicer.app.dicomDatabase()\n")
        trees[version] = {k: generator.FolderTree(str(tmp_path / version / k)) for k in ("ctk", "pythonqt", "slicer")}
    _write(tmp_path / "qt", "QtCore/qtimer.h", QT_TIMER)
    _write(tmp_path / "qt", "QtCore/qobject.h", QT_OBJECT)
    _write(tmp_path / "qt", "QtCore/QTimer", '#include "qtimer.h"\n')
    _write(tmp_path / "qt", "QtCore/qnamespace.h", "namespace Qt {\n  enum ItemDataRole { DisplayRole = 0, UserRole = 0x0100 };\n}\n")
    qt_tree = generator.FolderTree(str(tmp_path / "qt"))
    inventory = generator.build_inventory({v: t["slicer"] for v, t in trees.items()},
                                          {v: t["ctk"] for v, t in trees.items()},
                                          {v: t["pythonqt"] for v, t in trees.items()}, qt_tree, versions,
                                          {v: {"slicer": "fixture"} for v in versions})
    inventory["supported_versions"] = versions
    visual = inventory["classes"]["ctkDICOMVisualBrowserWidget"]["members"]
    assert visual["refreshBrowser"] == {"in": ["main"], "kinds": ["invokable"]}
    assert visual["refreshBrowser()"] == visual["refreshBrowser(bool)"] == {"in": ["main"], "kinds": ["signature"]}
    assert visual["onShowPatients"] == {"in": ["5.8.0"], "kinds": ["slot"]}
    assert visual["databaseDirectory"] == "property"   # its QString type is no class of the inventory
    assert visual["sendRequested(QStringList)"] == "signature"
    assert visual["Large"] == {"in": ["main"], "kinds": ["enum"]}
    assert "closeEvent" not in visual and "inlined" not in visual   # protected; plain method of a CTK class
    assert inventory["classes"]["ctkDICOMVisualBrowserWidget"]["bases"] == ["QWidget"]
    database = inventory["classes"]["ctkDICOMDatabase"]["members"]
    assert database["patients"] == "invokable" and database["instanceAdded(QString)"] == "signature"
    assert "notReachableFromPython" not in database and "filesForPatient" not in database
    timer = inventory["classes"]["QTimer"]
    assert timer["bases"] == ["QObject"] and "QObject" in inventory["classes"]   # bases are followed
    assert timer["members"]["timeout()"] == "signature"   # QPrivateSignal is not part of the connection
    assert timer["members"]["setSingleShot"] == "method"   # Qt classes: what the wrapper wraps
    assert timer["members"]["singleShot"] == "decorator property static"
    assert timer["members"]["timerEvent"] == "method"   # py_q_timerEvent
    assert "callOnTimeout" not in timer["members"]   # declared in the header, not wrapped by PythonQt
    assert "new_QTimer" not in timer["members"] and "delete_QTimer" not in timer["members"]
    # main reads generated_cpp_515 (the newest not newer than Qt 5.15), not _511 or _56
    assert timer["members"]["interval"] == "method property" and "intervalOf" not in timer["members"]
    assert inventory["versions"]["main"]["pythonqt_wrappers"]["folder"] == "generated_cpp_515"
    assert inventory["versions"]["5.8.0"]["pythonqt_wrappers"]["folder"] == "generated_cpp_511"
    assert inventory["classes"]["Qt"]["members"]["UserRole"] == "enum"
    assert inventory["classes"]["Qt"]["members"]["convertFromPlainText"] == "static"
    assert set(inventory["class_names"]["qt"]) == {"QObject", "QTimer", "Qt"}   # what the wrappers register
    assert inventory["classes"]["QObject"]["members"]["blockSignals"] == "method"
    assert inventory["classes"]["QObject"]["members"]["destroyed()"] == "signature"
    assert inventory["classes"]["QObject"]["members"]["destroyed(QObject*)"] == "signature"
    assert inventory["classes"]["QObject"]["members"]["findChild"] == "decorator"
    assert inventory["pythonqt"]["hidden_properties"] == {
        "QTimer.singleShot": {"source": {"5.8.0": "src/PythonQtClassInfo.cpp:4", "main": "src/PythonQtClassInfo.cpp:4"}}}
    assert inventory["python"]["slicer.util"] == {"pip_ensure": {"in": ["main"], "kinds": ["name"]},
                                                  "pip_install": "name"}
    assert inventory["python"]["slicer"]["modules"] == "name"
    browser = inventory["python_classes"]["SlicerDICOMBrowser"]
    assert browser["bases"] == ["QWidget", "VTKObservationMixin"]
    assert browser["members"]["dicomVisualBrowser"] == {"kinds": ["attribute"], "returns": ["ctkDICOMVisualBrowserWidget"]}
    assert browser["members"]["importDirectory"] == "method"
    assert inventory["root_types"]["slicer.dicomDatabase"] == {
        "class": "ctkDICOMDatabase", "source": {"5.8.0": "Modules/Scripted/DICOM/DICOM.py:2",
                                                "main": "Modules/Scripted/DICOM/DICOM.py:2"}}
    # and the checker, on this inventory, finds B3 and B2
    fixture = Inventory(json.loads(json.dumps(inventory)))
    assert check_source("import ctk\nv = ctk.ctkDICOMVisualBrowserWidget()\nv.refreshBrowser()\n",
                        inventory=fixture) == ["snippet.py:3: ctkDICOMVisualBrowserWidget.refreshBrowser, missing in 5.8.0"]
    assert check_source("import qt\nt = qt.QTimer()\nt.singleShot = True\n", inventory=fixture)[0].startswith(
        "snippet.py:3: t.singleShot = ..., PythonQt trap in 5.8.0, main")


def test_the_committed_inventory_names_its_sources():
    versions = INVENTORY.data["versions"]
    assert INVENTORY.versions == ["5.8.0", "5.10.0", "main"]
    assert versions["5.8.0"]["slicer"].startswith("d20ee94c") and versions["5.8.0"]["ctk"].startswith("82cae578")
    assert versions["5.10.0"]["slicer"].startswith("a2b6d082") and versions["5.10.0"]["ctk"].startswith("dd4caeae")
    assert versions["main"]["slicer"].startswith("583e9b37") and versions["main"]["ctk"].startswith("5056664a")
    assert versions["5.8.0"]["pythonqt_read"]["commit"].startswith("db525aff")
    assert all(v["qt"]["version"].startswith("5.15") for v in versions.values())
    # the Qt part is what PythonQt's wrappers give for Qt 5.15 (db525aff CMakeLists.txt:180-181: _511 for Qt > 5.10)
    assert versions["5.8.0"]["pythonqt_wrappers"]["folder"] == "generated_cpp_511"
    assert versions["5.10.0"]["pythonqt_wrappers"]["folder"] == versions["main"]["pythonqt_wrappers"]["folder"] == \
        "generated_cpp_515"
    assert versions["5.10.0"]["pythonqt_read"]["commit"].startswith("f4769f190")
    assert versions["main"]["pythonqt_read"]["commit"].startswith("9992368e9")


def test_normalized_signatures():
    generator = load_generator()
    assert generator.signatures("clicked", "bool checked = false") == ["clicked()", "clicked(bool)"]
    assert generator.signatures("fileSaved", "const qSlicerIO::IOProperties& fileProperties") == [
        "fileSaved(qSlicerIO::IOProperties)"]
    assert generator.signatures("currentPathChanged", "const QString & path") == ["currentPathChanged(QString)"]
    assert generator.signatures("f", "QObject *") == ["f(QObject*)"]
    assert generator.signatures("g", "unsigned int") == ["g(unsigned int)"]


@pytest.mark.parametrize("path", GLUE, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_glue_file_parses(path):
    ast.parse(path.read_text())


# -- review N8: what the guard used to miss -----------------------------------------------------------

def test_statics_and_enums_of_qt_classes():
    # qt.X is the class X: its statics (wrapper static_X_name, decorators) and enums (wrapper Q_ENUMS)
    assert check_source("""
        import qt
        qt.QTimer.singleShot(0, print)
        qt.QTimer.singleShote(0, print)
        result = qt.QDialog.Accepted
        result = qt.QDialog.Rejectd
        role = qt.Qt.UserRole + 1
        role = qt.Qt.UserRolee
        qt.QDialogButtonBox.Save
        qt.QDialogButtonBox.Savee
        qt.QApplication.activeModalWidget()
        qt.QApplication.activeModalWidgett()
        qt.Qt.Checked
    """) == ["snippet.py:4: QTimer.singleShote, missing in 5.8.0, 5.10.0, main",
             "snippet.py:6: QDialog.Rejectd, missing in 5.8.0, 5.10.0, main",
             "snippet.py:8: Qt.UserRolee, missing in 5.8.0, 5.10.0, main",
             "snippet.py:10: QDialogButtonBox.Savee, missing in 5.8.0, 5.10.0, main",
             "snippet.py:12: QApplication.activeModalWidgett, missing in 5.8.0, 5.10.0, main"]


def test_names_qt_headers_declare_but_pythonqt_does_not_wrap():
    # QScopedPointer is registered in no wrapper package; QTimer::callOnTimeout is a template PythonQt's
    # generator skips (db525aff generated_cpp_511 com_trolltech_qt_core3.h:695-713 has no such slot)
    assert check_source("""
        import qt
        qt.QScopedPointer
        timer = qt.QTimer()
        timer.callOnTimeout(print)
        timer.setSingleShot(True)
    """) == ["snippet.py:3: qt.QScopedPointer, missing in 5.8.0, 5.10.0, main",
             "snippet.py:5: QTimer.callOnTimeout, missing in 5.8.0, 5.10.0, main"]


def test_the_io_manager_slicer_hands_out():
    # coreIOManager() is declared qSlicerCoreIOManager*, and qSlicerIOManager derives from it: a name neither
    # has is missing whatever the object is
    assert check_source("""
        import slicer
        manager = slicer.app.coreIOManager()
        manager.connect("fileSaved(qSlicerIO::IOProperties)", print)
        manager.connect("fileSavedd(qSlicerIO::IOProperties)", print)
        slicer.app.coreIOManager().disconnect("fileSaved(QVariantMap)", print)
        manager.defaultSceneFileType = "MRML Scene (.mrml)"
        manager.defaultSceneFileTypee = "MRML Scene (.mrml)"
        slicer.app.ioManager().openSaveDataDialog()
        slicer.app.ioManager().openSaveDataDialogg()
    """) == ['snippet.py:5: qSlicerCoreIOManager signal "fileSavedd(qSlicerIO::IOProperties)", missing in 5.8.0, 5.10.0, main',
             'snippet.py:6: qSlicerCoreIOManager signal "fileSaved(QVariantMap)", missing in 5.8.0, 5.10.0, main',
             "snippet.py:8: qSlicerCoreIOManager.defaultSceneFileTypee (property), missing in 5.8.0, 5.10.0, main",
             "snippet.py:10: qSlicerIOManager.openSaveDataDialogg, missing in 5.8.0, 5.10.0, main"]


SAVE_DIALOG_HOOK = """
    import qt, slicer
    DIALOG_NAME = "qSlicerSaveDataDialog"
    class Hook:
        def install(self):
            self.dialog = next((w for w in slicer.app.topLevelWidgets() if w.objectName == DIALOG_NAME), None)
            self.table = self.dialog.findChild(qt.QTableWidget, "FileWidget")
            self.buttonBox = self.dialog.findChild(qt.QDialogButtonBox, "ButtonBox")
            self.buttonBox.connect("accepted()", self.dialog, "accept()")
            layout = self.dialog.layout()
            self.dialog.setResult(qt.QDialog.Rejected)
            accepted = self.dialog.result() == qt.QDialog.Accepted
            folder = self.table.cellWidget(0, 2)
            path = folder.currentPath
"""


def test_the_save_dialog_found_by_its_object_name():
    # the Save dialog's QDialog is qSlicerSaveDataDialogPrivate (qSlicerSaveDataDialog_p.h); its children are
    # the widgets of qSlicerSaveDataDialog.ui in each version; cellWidget() is a QWidget (ctkPathLineEdit here)
    assert check_source(SAVE_DIALOG_HOOK) == []
    broken = (SAVE_DIALOG_HOOK.replace('"FileWidget"', '"FileWidgett"')
              .replace('qt.QDialogButtonBox, "ButtonBox"', 'qt.QPushButton, "ButtonBox"')
              .replace('"accept()")', '"acceptt()")').replace("setResult(", "setResultt(")
              .replace("folder.currentPath", "folder.currentPathh"))
    assert check_source(broken) == [
        'snippet.py:7: qSlicerSaveDataDialogPrivate child "FileWidgett" (QTableWidget), missing in 5.8.0, 5.10.0, main',
        'snippet.py:8: qSlicerSaveDataDialogPrivate child "ButtonBox" (QPushButton), missing in 5.8.0, 5.10.0, main',
        'snippet.py:9: QPushButton signal "accepted()", missing in 5.8.0, 5.10.0, main',
        'snippet.py:9: qSlicerSaveDataDialogPrivate slot "acceptt()", missing in 5.8.0, 5.10.0, main',
        "snippet.py:11: qSlicerSaveDataDialogPrivate.setResultt, missing in 5.8.0, 5.10.0, main",
        "snippet.py:14: QWidget.currentPathh, missing in 5.8.0, 5.10.0, main"]


def test_keyword_arguments_of_slicer_util():
    # errorDisplay(text, windowTitle, parent, standardButtons, **kwargs): kwargs go through _messageDisplay and
    # messageBox to ctkMessageBox properties (setattr when hasattr: a wrong name is silently dropped)
    assert check_source("""
        import slicer
        from slicer.util import createProgressDialog as progress
        slicer.util.errorDisplay("x", parent=None, windowTitle="t")
        slicer.util.errorDisplay("x", parentt=None)
        slicer.util.errorDisplay("x", detailedText="more")
        slicer.util.errorDisplay("x", detailedTextt="more")
        progress(labelText="x", maximum=0, autoClose=False, autoReset=False)
        progress(labelText="x", autoClosee=False)
        slicer.util.tryWithErrorDisplay("x", waitCursor=True)
        slicer.util.tryWithErrorDisplay("x", waitcursor=True)
    """) == ["snippet.py:5: slicer.util.errorDisplay(parentt=...), missing in 5.8.0, 5.10.0, main",
             "snippet.py:7: slicer.util.errorDisplay(detailedTextt=...), missing in 5.8.0, 5.10.0, main",
             "snippet.py:9: slicer.util.createProgressDialog(autoClosee=...), missing in 5.8.0, 5.10.0, main",
             "snippet.py:11: slicer.util.tryWithErrorDisplay(waitcursor=...), missing in 5.8.0, 5.10.0, main"]


def test_the_save_dialog_through_a_method_a_list_and_our_own_constant():
    # the self-tests find the dialog as [w for w ...][0] with save_dialog_hook.DIALOG_NAME; a method of our
    # own class that returns it gives its class to self.method()
    assert check_source("""
        import qt, slicer
        from SceneScrubberSlicer import save_dialog_hook as h
        class Hook:
            def _dialog(self):
                return next((w for w in slicer.app.topLevelWidgets() if w.objectName == h.DIALOG_NAME), None)
            def run(self):
                self._dialog().accept()
                self._dialog().acceptt()
                dialogs = [w for w in slicer.app.topLevelWidgets() if w.objectName == h.DIALOG_NAME]
                dialogs[0].findChild(qt.QCheckBox, "ShowMoreCheckBox")
                dialogs[0].findChild(qt.QCheckBox, "ShowMoreCheckBoxx")
    """) == ["snippet.py:9: qSlicerSaveDataDialogPrivate.acceptt, missing in 5.8.0, 5.10.0, main",
             'snippet.py:12: qSlicerSaveDataDialogPrivate child "ShowMoreCheckBoxx" (QCheckBox), missing in 5.8.0, '
             '5.10.0, main']
