#!/usr/bin/env python3
"""Generate Resources/SlicerAPI/slicer_api_inventory.json: the Slicer, CTK, PythonQt and Qt names the
extension's Slicer glue can use, per supported Slicer version, read from the sources at named commits.

Usage (git mirrors without a work tree are fine: files are read with `git show <commit>:<path>`):

    python Resources/Tools/generate_slicer_api_inventory.py \
        --slicer /work/.mirror/Slicer+Slicer/repo --ctk /work/.mirror/commontk+CTK/repo \
        --pythonqt /work/.mirror/commontk+PythonQt/repo --pythonqt-base /work/.mirror/MeVisLab+pythonqt/repo \
        --qt-include <scratch>/usr/include/x86_64-linux-gnu/qt5 --qt-origin "Debian qtbase5-dev 5.15.8+dfsg-11+deb12u3"

What is read, and why it is enough for the guard (Testing/test_slicer_api_guard.py):
  * C++ headers (CTK, Slicer qSlicer*, Qt): Q_PROPERTY, signals, public slots, Q_INVOKABLE methods and
    Q_ENUMs of each class in CLASSES and of every base class found in the same sources: what PythonQt reads
    from a QMetaObject. CTK and Slicer classes are exposed through their QMetaObject only (CTK's
    CMake/ctkWrapPythonQt.py generates decorators for constructors and destructors, nothing else).
  * Qt classes: only what PythonQt's generated wrappers of the pinned PythonQt register and wrap, for the Qt
    version Slicer builds with (generated_cpp_511 of commontk db525aff for 5.8; generated_cpp_515 of MeVisLab
    f4769f190 and 9992368e9 for 5.10 and main; recorded per version as "pythonqt_wrappers"): the class names
    registered in the wrapped packages' *_init.cpp (PYTHONQT_WRAPPED), and per class its wrapper's slots
    (methods, static_X_ statics, py_q_ virtuals, py_get_ attributes, Q_ENUMS values), plus the QMetaObject
    members above for QObject classes. A name only a Qt header declares (QScopedPointer, templated
    QTimer::callOnTimeout) is not there.
  * PythonQt decorators, which add members: PythonQt's src/PythonQtStdDecorators.h (connect, findChild, ...
    on every QObject; static helpers such as QTimer.singleShot) and every *PythonQtDecorators.h of CTK and
    Slicer (e.g. slicer.app.testingEnabled()); PythonQtClassInfo.cpp (properties PythonQt hides) and
    PythonQtInstanceWrapper.cpp (slots and signals cannot be assigned to): the traps.
  * `ctk.X`: CTK's headers under Libs/ (members are recorded only for the classes listed below).
  * Slicer's Python: slicer/util.py, slicer/__init__.py, slicer/ScriptedLoadableModule.py, the
    attributes Slicer sets on the slicer package (setattr(slicer, ...), slicer.X = ...), DICOMLib and
    the DICOM module's widget, with the .ui file that gives `DICOMWidget.ui.*` their classes; the parameter
    names of slicer.util's functions and where their **kwargs go ("python_parameters").
  * UI_OBJECTS: objects the glue finds among the top-level widgets by object name (the Save dialog), with
    their class and the children of their .ui file in each version ("ui_objects").
The parser is a deliberately small C++ declaration scanner (comments and preprocessor lines dropped,
so both sides of an #if are included: an over-approximation, never a false absence within a class).

The version table (VERSIONS) names the Slicer commits; the CTK commit is read from each Slicer's
SuperBuild/External_CTK.cmake and the PythonQt commit from that CTK's CMakeExternals/PythonQt.cmake
(when that commontk commit is not in the mirror, the MeVisLab base commit its tag names is read).
Output is deterministic: sorted keys, no dates, no local paths.
"""
import argparse
import ast
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

VERSIONS = [("5.8.0", "d20ee94c"), ("5.10.0", "a2b6d082"), ("main", "583e9b37")]

# The C++ classes the glue can reach (its own code, its .ui files, the objects Slicer hands it).
CTK_CLASSES = ["ctkDICOMDatabase", "ctkDICOMIndexer", "ctkDICOMBrowser", "ctkDICOMVisualBrowserWidget",
               "ctkPathLineEdit", "ctkMenuButton", "ctkCollapsibleButton", "ctkMessageBox"]
SLICER_CLASSES = ["qSlicerApplication", "qSlicerCoreApplication", "qSlicerMainWindow", "qSlicerIOManager",
                  "qSlicerCoreIOManager", "qSlicerModuleSelectorToolBar", "qMRMLWidget", "qSlicerSaveDataDialog",
                  "qSlicerSaveDataDialogPrivate"]
# Classes declared in a header not named after them.
HEADER_OF = {"qSlicerSaveDataDialogPrivate": "qSlicerSaveDataDialog_p"}
# Dialogs the glue finds among the top-level widgets by object name: (object name, class of the object,
# .ui file whose widgets are its children). qSlicerSaveDataDialog is no QObject; the QDialog on screen is its
# qSlicerSaveDataDialogPrivate (Base/QTGUI/qSlicerSaveDataDialog_p.h: QDialog, Ui_qSlicerSaveDataDialog).
UI_OBJECTS = [("qSlicerSaveDataDialog", "qSlicerSaveDataDialogPrivate", "Base/QTGUI/Resources/UI/qSlicerSaveDataDialog.ui")]
# PythonQt wrapper packages Slicer builds (SuperBuild/External_CTK.cmake: Core_PYTHONQT_WRAP_QTCORE, QTGUI,
# QTUITOOLS, QTNETWORK always; QTMULTIMEDIA and QTWEBKIT only on some platforms, so left out) and PythonQt's builtins.
PYTHONQT_WRAPPED = ["com_trolltech_qt_core", "com_trolltech_qt_core_builtin", "com_trolltech_qt_gui",
                    "com_trolltech_qt_gui_builtin", "com_trolltech_qt_network", "com_trolltech_qt_uitools"]
# Python modules whose functions' parameter names are recorded (keyword arguments are checked).
PARAMETER_MODULES = ["slicer.util"]
QT_CLASSES = ["Qt", "QObject", "QTimer", "QWidget", "QAbstractButton", "QPushButton", "QCheckBox", "QComboBox",
              "QLineEdit", "QLabel", "QFrame", "QPlainTextEdit", "QAbstractScrollArea", "QSpinBox",
              "QAbstractSpinBox", "QTableWidget", "QTableView", "QAbstractItemView", "QTableWidgetItem", "QAction",
              "QMenu", "QSettings", "QDialog", "QDialogButtonBox", "QProgressDialog", "QLayout", "QGridLayout",
              "QBoxLayout", "QVBoxLayout", "QFileDialog", "QPixmap", "QDesktopServices", "QUrl", "QStandardPaths",
              "QApplication", "QGuiApplication", "QCoreApplication", "QMainWindow", "QToolBar", "QMessageBox", "QSizePolicy", "QHBoxLayout", "QToolButton"]
# Wrapped VTK/MRML classes the glue names as slicer.<Class>: only their header's presence is recorded.
SLICER_WRAPPED_NAMES = ["vtkMRMLSubjectHierarchyNode", "vtkMRMLScene"]
# Python classes of Slicer the glue reaches: (class, file, .ui file giving self.ui.* or None).
PYTHON_CLASSES = [
    ("SlicerDICOMBrowser", "Modules/Scripted/DICOMLib/DICOMBrowser.py", None),
    ("DICOMWidget", "Modules/Scripted/DICOM/DICOM.py", "Modules/Scripted/DICOM/Resources/UI/DICOM.ui"),
    ("ScriptedLoadableModuleWidget", "Base/Python/slicer/ScriptedLoadableModule.py", None),
    ("ScriptedLoadableModuleLogic", "Base/Python/slicer/ScriptedLoadableModule.py", None),
    ("ScriptedLoadableModule", "Base/Python/slicer/ScriptedLoadableModule.py", None),
    ("ScriptedLoadableModuleTest", "Base/Python/slicer/ScriptedLoadableModule.py", None),
]
PYTHON_MODULES = {   # importable name -> file whose top-level names are recorded
    "slicer.util": "Base/Python/slicer/util.py",
    "slicer.i18n": "Base/Python/slicer/i18n.py",
    "slicer.packaging": "Base/Python/slicer/packaging.py",
    "DICOMLib": "Modules/Scripted/DICOMLib/__init__.py",
    "slicer.ScriptedLoadableModule": "Base/Python/slicer/ScriptedLoadableModule.py",
    "DICOMLib.DICOMUtils": "Modules/Scripted/DICOMLib/DICOMUtils.py",
}
# Objects Slicer hands the glue, and what proves their class at each commit: (expression, class, repo, path, regex).
ROOT_TYPES = [
    ("slicer.app", "qSlicerApplication", "slicer", "Base/Python/slicerqt.py|Base/Python/slicer/slicerqt.py",
     r'setattr\(slicer, "app", _qSlicerCoreApplicationInstance\)'),
    ("slicer.dicomDatabase", "ctkDICOMDatabase", "slicer", "Modules/Scripted/DICOM/DICOM.py",
     r"slicer\.dicomDatabase = slicer\.app\.dicomDatabase\(\)"),
    ("slicer.modules.DICOMWidget", "DICOMWidget", "slicer", "Base/QTGUI/qSlicerScriptedLoadableModuleWidget.cxx",
     r'"Widget"'),
    ("slicer.util.mainWindow()", "qSlicerMainWindow", "slicer", "Base/Python/slicer/util.py",
     r"def mainWindow\("),
    ("slicer.util.moduleSelector()", "qSlicerModuleSelectorToolBar", "slicer", "Base/Python/slicer/util.py",
     r'findChild\("qSlicerModuleSelectorToolBar"|"ModuleSelectorToolBar"|return mw\.moduleSelector\(\)'),
    ("slicer.util.createProgressDialog()", "QProgressDialog", "slicer", "Base/Python/slicer/util.py",
     r"qt\.QProgressDialog\("),
]

# -- reading sources ------------------------------------------------------------------------------


class GitTree:
    """Files of one commit of a git directory (a mirror without work tree is fine)."""

    def __init__(self, gitdir, commit):
        self.gitdir = gitdir
        self.commit = subprocess.run(["git", "-C", gitdir, "rev-parse", commit + "^{commit}"], check=True,
                                     capture_output=True, text=True).stdout.strip()
        listing = subprocess.run(["git", "-C", gitdir, "ls-tree", "-r", "--name-only", self.commit], check=True,
                                 capture_output=True, text=True).stdout
        self.paths = listing.splitlines()

    def read(self, path):
        result = subprocess.run(["git", "-C", self.gitdir, "show", f"{self.commit}:{path}"], capture_output=True)
        return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else None

    def find_header(self, name):
        """The shortest path of <name>.h in the tree (headers of a class, not test copies), or None."""
        hits = sorted((p for p in self.paths if os.path.basename(p) == name + ".h" and "/Testing/" not in p),
                      key=lambda p: (len(p), p))
        return hits[0] if hits else None


class FolderTree:
    """A folder of sources (a Qt include folder, or a test fixture)."""

    def __init__(self, root):
        self.root = root
        self.paths = sorted(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                            for d, _dirs, files in os.walk(root) for f in files)

    def read(self, path):
        full = os.path.join(self.root, path)
        if not os.path.isfile(full):
            return None
        with open(full, encoding="utf-8", errors="replace") as stream:
            return stream.read()

    def find_header(self, name):
        forwarding = sorted(p for p in self.paths if os.path.basename(p) == name and "/" in p)
        for path in forwarding:   # Qt's <QTableWidgetItem> is `#include "qtablewidget.h"`
            target = re.search(r'#include "(\w+\.h)"', self.read(path) or "")
            if target and os.path.dirname(path) + "/" + target.group(1) in self.paths:
                return os.path.dirname(path) + "/" + target.group(1)
        wanted = {name + ".h", name.lower() + ".h"}
        hits = sorted((p for p in self.paths if os.path.basename(p) in wanted), key=lambda p: (len(p), p))
        return hits[0] if hits else None


# -- a small C++ declaration scanner -------------------------------------------------------------

_COMMENT_OR_STRING = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
_LABEL = re.compile(r"^\s*(?:(public|protected|private)\s*(Q_SLOTS|slots)?|(Q_SIGNALS|signals))\s*:(?!:)")
_MACRO_WORD = re.compile(r"\b(?!Q_SLOTS\b|Q_SIGNALS\b|Q_INVOKABLE\b)[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")
_IDENT_BEFORE_PAREN = re.compile(r"(~?[A-Za-z_]\w*)\s*$")


def strip_source(text):
    """C++ text without comments, string contents and preprocessor lines."""
    text = _COMMENT_OR_STRING.sub(lambda m: '""' if m.group(0).startswith('"') else " ", text)
    text = re.sub(r"\\\n", " ", text)
    return "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())


def _matching(text, start, open_char, close_char):
    """Index just after the bracket that closes the one at text[start]."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == open_char:
            depth += 1
        elif text[index] == close_char:
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)


def _remove_macro_calls(statement, found):
    """Remove Q_PROPERTY(...), Q_ENUM(...), Q_DECLARE_*(...), ... from a statement; properties and
    Q_ENUM names go to found["properties"], found["qenums"]."""
    out, index = [], 0
    pattern = re.compile(r"\b(Q_[A-Z_]+|QT_[A-Z_]+|QDOC_PROPERTY|CTK_[A-Z_]+|QVTK_[A-Z_]+)\s*\(")
    while True:
        match = pattern.search(statement, index)
        if not match:
            out.append(statement[index:])
            break
        out.append(statement[index:match.start()])
        end = _matching(statement, match.end() - 1, "(", ")")
        inner = statement[match.end():end - 1]
        if match.group(1) in ("Q_PROPERTY", "QDOC_PROPERTY"):
            prop = re.match(r"^\s*(.*?)\s*\b(\w+)\s+(?:READ|WRITE|MEMBER|BINDABLE)\b", inner, re.S)
            if prop:
                found["properties"][prop.group(2)] = _simple_type(prop.group(1))
        elif match.group(1) in ("Q_ENUM", "Q_ENUMS", "Q_FLAG", "Q_FLAGS", "Q_ENUM_NS", "Q_FLAG_NS"):
            found["qenums"].update(inner.split())
        index = end
    return "".join(out)


def _simple_type(text):
    """'const QString &' -> 'QString', 'QMenu *' -> 'QMenu' (templates and qualifiers kept as they are)."""
    text = re.sub(r"\b(const|virtual|static|inline|explicit|constexpr|volatile|friend)\b", " ", text)
    return re.sub(r"\s+", " ", text.replace("*", " ").replace("&", " ")).strip()


def normalize_parameter(parameter):
    """A parameter as QMetaObject::normalizedSignature writes it: no name, no default, const T& -> T."""
    parameter = re.sub(r"\s+", " ", parameter.split("=")[0]).strip()
    named = re.match(r"^(.*\S)\s*\b([A-Za-z_]\w*)$", parameter)
    if named and not named.group(1).endswith("::") and named.group(1).strip() not in (
            "const", "unsigned", "signed", "long", "short", ""):
        parameter = named.group(1).strip()
    parameter = re.sub(r"\s*([*&])", r"\1", parameter)
    if parameter.startswith("const ") and parameter.endswith("&"):
        parameter = parameter[len("const "):-1]
    elif parameter.endswith("&") and not parameter.endswith("&&"):
        parameter = parameter[:-1]
    return parameter.strip()


def _split_parameters(text):
    parts, depth, current = [], 0, []
    for char in text:
        if char in "<([":
            depth += 1
        elif char in ">)]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current))
    return [p.strip() for p in parts if p.strip() and p.strip() != "void"]


def signatures(name, parameter_text):
    """All signatures moc makes of one declaration (one per number of defaulted parameters left out)."""
    # Qt 5's private signals (QTimer::timeout(QPrivateSignal)) are connected without that parameter
    parameters = [p for p in _split_parameters(parameter_text) if not p.startswith("QPrivateSignal")]
    required = sum(1 for p in parameters if "=" not in p)
    normalized = [normalize_parameter(p) for p in parameters]
    return [f"{name}({','.join(normalized[:count])})" for count in range(required, len(parameters) + 1)]


def parse_class_body(class_name, body, default_access="private"):
    """{"members": {name: {"kinds": set, "signatures": set, "returns": str}}, "properties": {...}, ...}."""
    found = {"members": {}, "properties": {}, "qenums": set(), "enums": {}, "constructible": False}
    access, section = default_access, "method"

    def add(name, kind, returns=None, sigs=()):
        entry = found["members"].setdefault(name, {"kinds": set(), "signatures": set(), "returns": set()})
        entry["kinds"].add(kind)
        entry["signatures"].update(sigs)
        if returns:
            entry["returns"].add(returns)

    def declaration(statement):
        nonlocal access, section
        statement = _remove_macro_calls(statement, found)
        invokable = "Q_INVOKABLE" in statement
        statement = _MACRO_WORD.sub(" ", statement.replace("Q_INVOKABLE", " "))
        while True:
            label = _LABEL.match(statement)
            if not label:
                break
            if label.group(3):
                access, section = "public", "signal"
            else:
                access, section = label.group(1), "slot" if label.group(2) else "method"
            statement = statement[label.end():]
        statement = statement.strip()
        if not statement or access != "public" and section != "signal":
            return
        first = statement.split(None, 1)[0]
        if first in ("typedef", "using", "friend", "enum", "class", "struct", "union", "namespace"):
            return
        statement = re.sub(r"^template\s*<.*?>\s*", "", statement, flags=re.S)
        paren = statement.find("(")
        if paren < 0:
            return
        head = statement[:paren]
        if "operator" in head or "=" in head:
            return
        ident = _IDENT_BEFORE_PAREN.search(head)
        if not ident:
            return
        name = ident.group(1)
        if name.startswith("~"):
            return
        if name == class_name:
            found["constructible"] = True
            return
        parameters = statement[paren + 1:_matching(statement, paren, "(", ")") - 1]
        returns = _simple_type(head[:ident.start()])
        static = bool(re.search(r"\bstatic\b", head))
        if section == "signal":
            kind = "signal"
        elif section == "slot":
            kind = "slot"
        elif invokable:
            kind = "invokable"
        else:
            kind = "static" if static else "method"
        add(name, kind, returns, signatures(name, parameters) if kind in ("signal", "slot", "invokable") else ())

    index, start = 0, 0
    while index < len(body):
        char = body[index]
        if char == "{":
            statement = body[start:index]
            end = _matching(body, index, "{", "}")
            words = _MACRO_WORD.sub(" ", _LABEL.sub("", statement.strip())).split()
            cleaned = statement
            if "enum" in words:
                enum_name = re.search(r"\benum\s+(?:class\s+|struct\s+)?(\w+)?", statement)
                values = [re.match(r"\s*(\w+)", v).group(1) for v in body[index + 1:end - 1].split(",")
                          if re.match(r"\s*(\w+)", v)]
                declaration(statement[:statement.find("enum")])   # a label before the enum
                if access == "public":
                    found["enums"][enum_name.group(1) if enum_name and enum_name.group(1) else ""] = values
                semicolon = body.find(";", end)
                index = start = (semicolon + 1) if semicolon >= 0 else end
                continue
            if re.search(r"\b(class|struct|union)\b", _remove_macro_calls(cleaned, {"properties": {}, "qenums": set()})) \
                    and "(" not in statement:
                declaration(statement[:re.search(r"\b(class|struct|union)\b", statement).start()])
                semicolon = body.find(";", end)
                index = start = (semicolon + 1) if semicolon >= 0 else end
                continue
            if "(" in statement:
                declaration(statement)   # an inline definition
                index = start = end
                if body[index:index + 1] == ";":
                    index = start = index + 1
                continue
            index = start = end   # e.g. a brace initializer
            continue
        if char == ";":
            declaration(body[start:index])
            start = index + 1
        index += 1
    declaration(body[start:])   # a trailing label
    return found


def find_class(text, name):
    """(bases, body, is_namespace) of `class name` or `namespace name` in stripped C++ text, or None."""
    pattern = re.compile(r"\b(class|struct|namespace)\s+(?:[A-Za-z_]\w*\s+)*?" + re.escape(name) +
                         r"\b\s*(?:final\s*)?(:[^{;]*)?\{")
    for match in pattern.finditer(text):
        start = match.end() - 1
        body = text[start + 1:_matching(text, start, "{", "}") - 1]
        bases = []
        for base in (match.group(2) or ":")[1:].split(","):
            base = re.sub(r"\b(public|protected|private|virtual)\b", "", base).strip()
            base = re.sub(r"<.*", "", base).strip()
            if base:
                bases.append(base.split("::")[-1])
        return bases, body, match.group(1)
    return None


# -- inventory ------------------------------------------------------------------------------------

def _in(versions_present, all_versions):
    """None when a name is in every version (the common case, left out of the file), else the versions."""
    return None if sorted(versions_present) == sorted(all_versions) else sorted(versions_present)


def parse_cpp_class(tree, name, origin):
    """One class of one source tree, or None if its header is not there. Only what PythonQt reads from the
    QMetaObject is kept (properties, signals, slots, Q_INVOKABLE methods, Q_ENUM values); what PythonQt's
    generated wrappers add to a Qt class comes from pythonqt_wrappers()."""
    path = tree.find_header("qnamespace" if name == "Qt" and origin == "qt" else HEADER_OF.get(name, name))
    if path is None:
        return None
    text = strip_source(tree.read(path) or "")
    located = find_class(text, name)
    if located is None:
        return None
    bases, body, kind = located
    parsed = parse_class_body(name, body, "public" if kind in ("struct", "namespace") else "private")
    members = {}
    reachable = ("signal", "slot", "invokable")
    for member, entry in parsed["members"].items():
        kinds = entry["kinds"] & set(reachable)
        if kinds:
            members[member] = {"kinds": kinds, "signatures": entry["signatures"], "returns": entry["returns"]}
    for prop, prop_type in parsed["properties"].items():
        members.setdefault(prop, {"kinds": set(), "signatures": set(), "returns": set()})
        members[prop]["kinds"].add("property")
        members[prop]["returns"].add(prop_type)
    for enum_name, values in parsed["enums"].items():
        if enum_name not in parsed["qenums"]:
            continue   # through the QMetaObject PythonQt knows an enum only by Q_ENUM (Qt's others: wrappers)
        for value in values + ([enum_name] if enum_name else []):
            members.setdefault(value, {"kinds": set(), "signatures": set(), "returns": set()})["kinds"].add("enum")
    return {"header": path, "bases": bases, "members": members, "constructible": parsed["constructible"]}


def wrapper_folder(tree, qt_version_text):
    """The generated_cpp_<suffix> folder PythonQt compiles for a Qt version: the newest one not newer than
    the Qt minor version (commontk PythonQt db525aff CMakeLists.txt:171-186 picks _511 for Qt > 5.10;
    MeVisLab's 3.6/4.x have only generated_cpp_515)."""
    major, minor = (int(x) for x in qt_version_text.split(".")[:2])
    suffixes = {m.group(1) for p in tree.paths for m in [re.match(r"generated_cpp_(\d+)/", p)] if m}
    # "_511" is Qt 5.11, "_56" Qt 5.6
    as_version = {s: (int(s[0]), int(s[1:])) for s in suffixes}
    fitting = [s for s in suffixes if as_version[s] <= (major, minor)]
    return f"generated_cpp_{max(fitting, key=as_version.get)}" if fitting else None


def pythonqt_wrappers(tree, folder):
    """What PythonQt's generated wrappers give Python, per Qt class: {class: {"parent": str|None,
    "qobject": bool, "members": {name: {"kinds", "returns"}}, "constructible": bool}}.
    Registered classes are read from <package>_init.cpp (registerClass(&X::staticMetaObject, ...) for QObjects,
    registerCPPClass("X", "Parent", ...) for the rest); members from `class PythonQtWrapper_X` in the package's
    headers: a slot with a `X* theWrappedObject` first parameter is X.name, static_X_name is the static X.name,
    py_q_name is name (PythonQtClassWrapper.cpp: the qualified virtual), py_get_name the attribute name, and the
    public enums (Q_ENUMS) give their values and type names. new_/delete_ are constructor and destructor."""
    classes = {}
    for package in PYTHONQT_WRAPPED:
        base = f"{folder}/{package}/"
        init = strip_source_keep_strings(tree.read(f"{base}{package}_init.cpp") or "")
        for match in re.finditer(r"registerClass\(\s*&(\w+)::staticMetaObject", init):
            classes.setdefault(match.group(1), {"parent": None, "qobject": True, "members": {}, "constructible": False})
        for match in re.finditer(r'registerCPPClass\(\s*"(\w+)"\s*,\s*"(\w*)"', init):
            classes.setdefault(match.group(1), {"parent": match.group(2) or None, "qobject": False, "members": {},
                                                "constructible": False})
        for path in (p for p in tree.paths if p.startswith(base) and p.endswith(".h")):
            text = strip_source(tree.read(path) or "")
            for match in re.finditer(r"\bclass\s+PythonQtWrapper_(\w+)\s*:", text):
                name = match.group(1)
                if name not in classes:
                    continue
                located = find_class(text, "PythonQtWrapper_" + name)
                parsed = parse_class_body("PythonQtWrapper_" + name, located[1], "private")
                members = classes[name]["members"]
                for slot, entry in parsed["members"].items():
                    if slot == "new_" + name:
                        classes[name]["constructible"] = True
                        continue
                    static = re.match(r"static_" + re.escape(name) + r"_(\w+)$", slot)
                    if static:
                        exposed, kind = static.group(1), "static"
                    elif slot.startswith("py_q_"):
                        exposed, kind = slot[len("py_q_"):], "method"
                    elif slot.startswith("py_get_"):
                        exposed, kind = slot[len("py_get_"):], "property"
                    elif slot.startswith(("py_", "__", "new_", "delete_")):
                        continue
                    else:
                        exposed, kind = slot, "method"
                    info = members.setdefault(exposed, {"kinds": set(), "returns": set()})
                    info["kinds"].add(kind)
                    info["returns"].update(entry["returns"])
                for enum_name, values in parsed["enums"].items():
                    for value in values + ([enum_name] if enum_name else []):
                        members.setdefault(value, {"kinds": set(), "returns": set()})["kinds"].add("enum")
    for match in re.finditer(r'registerCPPClass\(\s*"(\w+)"', tree.read("src/PythonQt.cpp") or ""):
        classes.setdefault(match.group(1), {"parent": None, "qobject": False, "members": {}, "constructible": False})
    return classes


def strip_source_keep_strings(text):
    """C++ text without comments (string literals kept: registerCPPClass names its class in one)."""
    return re.sub(r"//[^\n]*|/\*.*?\*/", " ", text, flags=re.S)


def python_parameters(tree, path):
    """{function: {parameter: kinds}} of a module's public top-level functions: its named parameters
    ("parameter"), and for **kwargs ("**") where they go, read from the function bodies: a call passing
    **kwargs on to a function of the module (e.g. errorDisplay -> _messageDisplay -> messageBox) adds that
    function's parameters; `setattr(obj, key, value)` over kwargs.items(), with obj = qt.X(...) or ctk.X(...), makes them
    properties of X ("**" gets X as its return; util.py messageBox, createProgressDialog, delayDisplay).
    Kwargs used any other way accept any keyword ("**" kind "any")."""
    text = tree.read(path)
    functions = {n.name: n for n in (ast.parse(text).body if text else [])
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def named(node):
        arguments = node.args
        return {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}

    def accepted(name, seen):
        """(parameter names, classes, any) that **kwargs of function `name` accepts."""
        node = functions[name]
        kwarg = node.args.kwarg.arg if node.args.kwarg else None
        names, classes, anything = set(), set(), False
        if kwarg is None or name in seen:
            return names, classes, anything
        seen = seen | {name}
        constructed = {}
        for sub in ast.walk(node):
            if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call) and \
                    isinstance(sub.value.func, ast.Attribute) and ast.unparse(sub.value.func.value) in ("qt", "ctk"):
                constructed.update({t.id: sub.value.func.attr for t in sub.targets if isinstance(t, ast.Name)})
        uses = [n for n in ast.walk(node) if isinstance(n, ast.Name) and n.id == kwarg]
        understood = 0
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                callee = sub.func.attr if isinstance(sub.func, ast.Attribute) and \
                    ast.unparse(sub.func.value) in ("slicer.util", "util") else getattr(sub.func, "id", None)
                if any(k.arg is None and isinstance(k.value, ast.Name) and k.value.id == kwarg for k in sub.keywords):
                    understood += 1
                    if callee in functions:
                        more = accepted(callee, seen)
                        names |= named(functions[callee]) | more[0]
                        classes |= more[1]
                        anything |= more[2]
                    else:
                        anything = True
            if isinstance(sub, ast.For) and isinstance(sub.iter, ast.Call) and \
                    ast.unparse(sub.iter) == f"{kwarg}.items()" and isinstance(sub.target, ast.Tuple):
                understood += 1
                setters = [c for c in ast.walk(sub) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "setattr"
                           and c.args and isinstance(c.args[0], ast.Name) and c.args[0].id in constructed]
                if setters:
                    classes |= {constructed[c.args[0].id] for c in setters}
                else:
                    anything = True
            if isinstance(sub, ast.Compare) and isinstance(sub.comparators[0], ast.Name) and \
                    sub.comparators[0].id == kwarg or isinstance(sub, ast.Subscript) and \
                    isinstance(sub.value, ast.Name) and sub.value.id == kwarg:
                understood += 1   # "detailedText" in kwargs, kwargs["windowTitle"]: reads, not a destination
        if understood < len(uses):
            anything = True   # kwargs also used in a way not read here: accept any keyword
        return names, classes, anything

    out = {}
    for name, node in functions.items():
        if name.startswith("_"):
            continue
        parameters = {p: {"parameter"} for p in named(node)}
        if node.args.kwarg:
            names, classes, anything = accepted(name, set())
            for extra in names - set(parameters):
                parameters[extra] = {"parameter"}
            parameters["**"] = {"kwargs", "any"} if anything else {"kwargs"}
            parameters["**"] = (parameters["**"], classes)
        out[name] = parameters
    return out


def ui_children(text):
    """(top-level object name, {child name: class}) of a Qt Designer .ui file."""
    widgets = list(ElementTree.fromstring(text).iter("widget"))
    return widgets[0].get("name"), {w.get("name"): w.get("class") for w in widgets[1:]}


def decorator_members(tree, path):
    """{class: {member}} a PythonQt decorator header adds: static_<Class>_<name>(...) is Class.name;
    a slot whose first parameter is <Class>* is an instance member of Class; new_/delete_ are not members."""
    members = {}
    text = strip_source(tree.read(path) or "")
    for match in re.finditer(r"\bclass\s+(?:\w+\s+)*?(\w*Decorators?\w*)\b", text):
        located = find_class(text, match.group(1))
        if located is None:
            continue
        body = located[1]
        parsed = parse_class_body(match.group(1), body, "private")
        for name, entry in parsed["members"].items():
            if "slot" not in entry["kinds"] or name.startswith(("new_", "delete_")):
                continue
            static = re.match(r"static_(\w+?)_(\w+)$", name)
            if static:
                members.setdefault(static.group(1), set()).add(static.group(2))
                continue
            first = re.search(r"\b" + re.escape(name) + r"\s*\(\s*(?:const\s+)?(\w+)\s*\*", body)
            if first:
                members.setdefault(first.group(1), set()).add(name)
    return members


def decorator_headers(tree):
    """The PythonQt decorator headers of a source tree (PythonQt's own, CTK's, Slicer's)."""
    return [p for p in tree.paths if p.endswith("PythonQtDecorators.h") and "/Testing/" not in p
            and "Applications/" not in p] + (["src/PythonQtStdDecorators.h"] if "src/PythonQtStdDecorators.h"
                                              in tree.paths else [])


def pythonqt_facts(tree):
    """Properties PythonQt hides, and where assignment to a slot is refused."""
    facts = {"hidden_properties": [], "slot_assignment_error": None}
    source = tree.read("src/PythonQtClassInfo.cpp") or ""
    lines = source.splitlines()
    for number, line in enumerate(lines, 1):
        hidden = re.search(r'qstrcmp\(attributeName,\s*"(\w+)"\)\s*==\s*0\s*&&', line)
        if hidden:
            owner = re.search(r'className\(\)\s*==\s*"(\w+)"', "\n".join(lines[number - 1:number + 2]))
            if owner:
                facts["hidden_properties"].append({"class": owner.group(1), "name": hidden.group(1),
                                                   "source": f"src/PythonQtClassInfo.cpp:{number}"})
    wrapper = tree.read("src/PythonQtInstanceWrapper.cpp") or ""
    for number, line in enumerate(wrapper.splitlines(), 1):
        if "can not be overwritten" in line and "Slot" in line:
            facts["slot_assignment_error"] = f"src/PythonQtInstanceWrapper.cpp:{number}"
            break
    return facts


def python_module_names(tree, path):
    """Public names of a module file; for a package's __init__.py also its submodules, and the names
    that `from .sub import *` brings in (DICOMLib/__init__.py is made of those)."""
    text = tree.read(path)
    if text is None:
        return set()
    names = python_top_level_names(text)
    folder = os.path.dirname(path)
    if os.path.basename(path) == "__init__.py":
        names.update(os.path.splitext(os.path.basename(p))[0] for p in tree.paths
                     if os.path.dirname(p) == folder and p.endswith(".py") and not p.endswith("__init__.py"))
    for node in ast.parse(text).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and any(a.name == "*" for a in node.names):
            sub = tree.read(f"{folder}/{node.module.replace('.', '/')}.py") or ""
            exported = [n for n in ast.parse(sub).body if isinstance(n, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)]
            if exported:
                names.update(ast.literal_eval(exported[0].value))
            else:
                names.update(python_top_level_names(sub))
    return names


def python_top_level_names(text):
    """Public top-level names of a Python module (defs, classes, assignments, imports)."""
    names = set()
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
    return {n for n in names if not n.startswith("_")}


def _python_call_type(node, known):
    """The class a Python expression constructs: ctk.X(), qt.X(), DICOMLib.X(), X(), a if c else b."""
    if isinstance(node, ast.IfExp):
        return _python_call_type(node.body, known) or _python_call_type(node.orelse, known)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name in known:
            return name
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) and \
                ast.unparse(func.value) == "slicer.app":
            return ("slicer.app", func.attr)
    return None


def python_class(text, name, ui_text, known):
    """Members of one Python class: methods, attributes (self.x = ...) with their class when evident."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef) and node.name == name:
            members = {}
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members.setdefault(item.name, {"kinds": {"method"}, "type": None})
                elif isinstance(item, ast.Assign):
                    for target in item.targets:
                        if isinstance(target, ast.Name):
                            members.setdefault(target.id, {"kinds": {"attribute"}, "type": None})
            for sub in ast.walk(node):
                if isinstance(sub, ast.Assign):
                    for target in sub.targets:
                        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                                and target.value.id == "self":
                            entry = members.setdefault(target.attr, {"kinds": set(), "type": None})
                            entry["kinds"].add("attribute")
                            entry["type"] = entry["type"] or _python_call_type(sub.value, known)
            bases = [b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", None) for b in node.bases]
            ui = None
            if ui_text:
                ui = {w.get("name"): w.get("class") for w in ElementTree.fromstring(ui_text).iter("widget")}
            return {"bases": [b for b in bases if b], "members": members, "ui": ui}
    return None


def slicer_attributes(tree):
    """Names Slicer's Python puts on the slicer package, and the submodules of slicer/."""
    init = tree.read("Base/Python/slicer/__init__.py") or ""
    names = set(python_top_level_names(init))
    names.update(re.findall(r'_createModule\("slicer\.(\w+)"', init))   # slicer.modules, slicer.moduleNames
    names.update(re.match(r"Base/Python/slicer/(\w+)\.py(\.in)?$", p).group(1) for p in tree.paths
                 if re.match(r"Base/Python/slicer/\w+\.py(\.in)?$", p))
    names.update(p.split("/")[3] for p in tree.paths if re.match(r"Base/Python/slicer/[^/]+/__init__\.py$", p))
    for path in tree.paths:
        if path.startswith(("Base/Python/", "Modules/Scripted/")) and path.endswith(".py") and "/Testing/" not in path:
            text = tree.read(path) or ""
            names.update(re.findall(r'setattr\(slicer, "(\w+)"', text))
            names.update(re.findall(r"^\s*slicer\.(\w+) = ", text, re.M))
    for wrapped in SLICER_WRAPPED_NAMES:
        if tree.find_header(wrapped):
            names.add(wrapped)
    return {n for n in names if not n.startswith("_")}


def _merge(target, name, version, payload_kinds, signatures=(), returns=()):
    entry = target.setdefault(name, {"kinds": set(), "in": set(), "returns": set()})
    entry["kinds"].update(payload_kinds)
    entry["in"].add(version)
    entry["returns"].update(r for r in returns if r)
    for signature in signatures:
        sig_entry = target.setdefault(signature, {"kinds": set(), "in": set(), "returns": set()})
        sig_entry["kinds"].add("signature")
        sig_entry["in"].add(version)


def build_inventory(slicer_trees, ctk_trees, pythonqt_trees, qt_tree, versions, records, qt_version_text=None):
    """The inventory dict. *_trees: {version: tree}; records: {version: {"slicer": ..., ...}} for the output
    (each gets "pythonqt_wrappers": the generated wrapper folder read). A Qt class is in a version only when
    that version's PythonQt wrappers register it; its members are its QMetaObject's (Qt headers) and its
    wrapper's."""
    qt_version_text = qt_version_text or (qt_version(qt_tree) if qt_tree is not None else None) or "5.15"
    wrappers = {}
    for version in versions:
        tree = pythonqt_trees.get(version)
        folder = wrapper_folder(tree, qt_version_text) if tree is not None else None
        wrappers[version] = pythonqt_wrappers(tree, folder) if folder else {}
        records[version]["pythonqt_wrappers"] = {"folder": folder, "packages": PYTHONQT_WRAPPED,
                                                 "for_qt": qt_version_text}
    classes = {}
    queue = [(n, "ctk") for n in CTK_CLASSES] + [(n, "slicer") for n in SLICER_CLASSES] + \
        [(n, "qt") for n in QT_CLASSES]
    seen = set()
    while queue:
        name, origin = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        trees = {"ctk": ctk_trees, "slicer": slicer_trees}.get(origin) or {v: qt_tree for v in versions}
        for version in versions:
            tree = trees.get(version)
            parsed = parse_cpp_class(tree, name, origin) if tree is not None else None
            if origin == "qt":
                wrapped = wrappers[version].get(name)
                if wrapped is None:
                    continue   # PythonQt does not wrap it: qt.X does not exist
                if parsed is None or not wrapped["qobject"]:   # no QMetaObject: only the wrapper counts
                    parsed = {"header": parsed["header"] if parsed else None, "members": {},
                              "bases": [wrapped["parent"]] if wrapped["parent"] else [], "constructible": False}
                parsed["members"] = {k: dict(v) for k, v in parsed["members"].items()}
                for member, info in wrapped["members"].items():
                    entry = parsed["members"].setdefault(member, {"kinds": set(), "signatures": set(),
                                                                  "returns": set()})
                    entry["kinds"] = entry["kinds"] | info["kinds"]
                    entry["returns"] = entry["returns"] | info["returns"]
                parsed["constructible"] = parsed["constructible"] or wrapped["constructible"]
            if parsed is None:
                continue
            entry = classes.setdefault(name, {"origin": origin, "header": {}, "bases": set(), "members": {},
                                              "in": set()})
            entry["in"].add(version)
            entry["header"][version] = parsed["header"]
            entry["bases"].update(parsed["bases"])
            if parsed["constructible"]:
                entry["constructible"] = True
            for member, info in parsed["members"].items():
                _merge(entry["members"], member, version, info["kinds"], info["signatures"], info["returns"])
            for base in parsed["bases"]:
                if base in wrappers[version]:
                    queue.append((base, "qt"))
                    continue
                for base_origin, base_trees in (("ctk", ctk_trees), ("slicer", slicer_trees)):
                    base_tree = base_trees.get(version)
                    if base_tree is not None and base_tree.find_header(base):
                        queue.append((base, base_origin))
                        break
    pythonqt = {"hidden_properties": {}, "slot_assignment_error": {}}
    for version in versions:   # members PythonQt decorators add (PythonQt's own, CTK's, Slicer's)
        for trees in (pythonqt_trees, ctk_trees, slicer_trees):
            tree = trees.get(version)
            for path in decorator_headers(tree) if tree is not None else []:
                for owner, names in decorator_members(tree, path).items():
                    for name in names if owner in classes else []:
                        _merge(classes[owner]["members"], name, version, {"decorator"})
    for version in versions:
        tree = pythonqt_trees.get(version)
        if tree is None:
            continue
        facts = pythonqt_facts(tree)
        for hidden in facts["hidden_properties"]:
            key = f"{hidden['class']}.{hidden['name']}"
            pythonqt["hidden_properties"].setdefault(key, {"in": set(), "source": {}})
            pythonqt["hidden_properties"][key]["in"].add(version)
            pythonqt["hidden_properties"][key]["source"][version] = hidden["source"]
        if facts["slot_assignment_error"]:
            pythonqt["slot_assignment_error"][version] = facts["slot_assignment_error"]
    # Every class name `qt.X` / `ctk.X` can give (members are recorded only for the classes above):
    # the classes PythonQt's wrappers register; CTK's public headers under Libs/.
    class_names = {"qt": {}, "ctk": {}}
    for version in versions:
        for name in wrappers[version]:
            class_names["qt"].setdefault(name, set()).add(version)
    for version in versions:
        tree = ctk_trees.get(version)
        for path in tree.paths if tree is not None else []:
            match = re.match(r"Libs/(?:.+/)?(ctk\w+)\.h$", path)
            if match and "/Testing/" not in path and not match.group(1).endswith("_p"):
                class_names["ctk"].setdefault(match.group(1), set()).add(version)
    for name, entry in classes.items():
        if entry["origin"] == "ctk":
            class_names[entry["origin"]].setdefault(name, set()).update(entry["in"])
    class_names = {k: {n: {"kinds": {"class"}, "in": v} for n, v in table.items()}
                   for k, table in class_names.items()}
    known = set(classes)
    for entry in classes.values():   # keep return types only where they name a class of the inventory
        for info in entry["members"].values():
            info["returns"] = {r for r in info["returns"] if r in known}
    python = {}
    python_classes = {}
    roots = {}
    parameters_table = {}
    ui_objects = {}
    for version in versions:
        tree = slicer_trees.get(version)
        if tree is None:
            continue
        modules = {"slicer": slicer_attributes(tree)}
        for module, path in PYTHON_MODULES.items():
            modules[module] = python_module_names(tree, path)
        # slicer.modules.<lower-case name> for every core module; <Name>Widget/<Name>Instance for scripted ones
        core = {p.split("/")[2] for p in tree.paths if re.match(r"Modules/(Loadable|Scripted|CLI)/\w+/CMakeLists\.txt$", p)}
        scripted = {p.split("/")[2] for p in tree.paths if re.match(r"Modules/Scripted/(\w+)/\1\.py$", p)}
        modules["slicer.modules"] = {n.lower() for n in core} | {n + s for n in scripted for s in ("Widget", "Instance")}
        for module, names in modules.items():
            for name in names:
                _merge(python.setdefault(module, {}), name, version, {"name"})
        for module in PARAMETER_MODULES:
            for function, parameters in python_parameters(tree, PYTHON_MODULES[module]).items():
                for parameter, kinds in parameters.items():
                    kinds, targets = kinds if isinstance(kinds, tuple) else (kinds, ())
                    _merge(parameters_table.setdefault(module, {}).setdefault(function, {}), parameter, version,
                           kinds, returns=targets)
        for object_name, class_name, ui_path in UI_OBJECTS:
            text = tree.read(ui_path)
            if text is None:
                continue
            top, children = ui_children(text)
            if top != object_name:
                continue
            entry = ui_objects.setdefault(object_name, {"class": class_name, "ui": ui_path, "in": set(),
                                                        "children": {}})
            entry["in"].add(version)
            for child, child_class in children.items():
                entry["children"].setdefault(child, {"class": child_class, "in": set()})["in"].add(version)
        for class_name, path, ui_path in PYTHON_CLASSES:
            text = tree.read(path)
            parsed = python_class(text, class_name, tree.read(ui_path) if ui_path else None,
                                  known | {c for c, _p, _u in PYTHON_CLASSES}) if text else None
            if parsed is None:
                continue
            entry = python_classes.setdefault(class_name, {"source": path, "bases": set(), "members": {},
                                                           "in": set(), "ui": {}})
            entry["in"].add(version)
            entry["bases"].update(parsed["bases"])
            for member, info in parsed["members"].items():
                member_type = info["type"]
                if isinstance(member_type, tuple):   # slicer.app.<method>() -> its C++ return type
                    returns = classes.get("qSlicerApplication", {}).get("members", {}).get(member_type[1], {})
                    member_type = sorted(returns.get("returns", set()))[0] if returns.get("returns") else None
                _merge(entry["members"], member, version, info["kinds"], returns=[member_type])
            for widget, widget_class in (parsed["ui"] or {}).items():
                entry["ui"].setdefault(widget, {"class": widget_class, "in": set()})["in"].add(version)
        for expression, class_name, repo, paths, proof in ROOT_TYPES:
            for path in paths.split("|"):
                text = tree.read(path) or ""
                lines = [n for n, line in enumerate(text.splitlines(), 1) if re.search(proof, line)]
                if lines:
                    root = roots.setdefault(expression, {"class": class_name, "in": set(), "source": {}})
                    root["in"].add(version)
                    root["source"][version] = f"{path}:{lines[0]}"
                    break
    return finish({"versions": records, "classes": classes, "python_classes": python_classes,
                   "class_names": class_names,
                   "python": python, "python_parameters": parameters_table, "ui_objects": ui_objects,
                   "root_types": roots, "pythonqt": pythonqt}, versions)


def finish(value, versions):
    """Sets -> sorted lists; "in" equal to every version -> left out (the common case); a member present
    in every version with nothing else to say -> just its kinds, "slot invokable"."""
    if isinstance(value, dict) and set(value) <= {"kinds", "in", "returns"} and "kinds" in value \
            and _in(value.get("in", versions), versions) is None and not value.get("returns"):
        return " ".join(sorted(value["kinds"]))
    if isinstance(value, dict):
        out = {}
        for key in sorted(value):
            item = value[key]
            if key == "in":
                compact = _in(item, versions)
                if compact is not None:
                    out[key] = compact
                continue
            if isinstance(item, (set, frozenset, list, tuple)) and not item and key in ("returns", "bases"):
                continue
            out[key] = finish(item, versions)
        return out
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, (list, tuple)):
        return [finish(v, versions) for v in value]
    return value


def pinned_commit(text, variable="revision_tag"):
    """The commit of `set(revision_tag <sha>)` (or `set(<proj>_REVISION_TAG ...)`) in a CMake external."""
    match = re.search(r'set\(\s*(?:revision_tag|\w+_REVISION_TAG)\s+"?([0-9a-f]{7,40})"?\s*\)[ \t]*(#\s*(.*))?', text) or \
        re.search(r'_GIT_TAG\s+"([0-9a-f]{7,40})"()()', text)   # Slicer's ExternalProject_SetIfNotDefined
    return (match.group(1), (match.group(3) or "").strip()) if match else (None, "")


def qt_version(qt_tree):
    """QT_VERSION_STR of a Qt include folder, e.g. "5.15.8"."""
    for path in ("QtCore/qtcore-config.h", "QtCore/qconfig.h", "QtCore/qtcoreversion.h"):
        match = re.search(r'#\s*define\s+(?:QT_VERSION_STR|QTCORE_VERSION_STR)\s+"([^"]+)"', qt_tree.read(path) or "")
        if match:
            return match.group(1)
    return None


def main(argv=None):
    """Read the named commits of the mirrors and the Qt headers, write the inventory (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slicer", required=True, help="git directory of Slicer/Slicer")
    parser.add_argument("--ctk", required=True, help="git directory of commontk/CTK")
    parser.add_argument("--pythonqt", required=True, help="git directory of commontk/PythonQt")
    parser.add_argument("--pythonqt-base", help="git directory of MeVisLab/pythonqt (bases of newer commontk tags)")
    parser.add_argument("--qt-include", required=True, help="Qt 5 include folder (holds QtCore/, QtWidgets/, ...)")
    parser.add_argument("--qt-origin", default="", help="where the Qt headers came from (recorded)")
    parser.add_argument("--output", default=os.path.join(os.path.dirname(__file__), "..", "SlicerAPI",
                                                         "slicer_api_inventory.json"))
    args = parser.parse_args(argv)
    qt_tree = FolderTree(args.qt_include)
    slicer_trees, ctk_trees, pythonqt_trees, records = {}, {}, {}, {}
    versions = [name for name, _commit in VERSIONS]
    for name, commit in VERSIONS:
        slicer_tree = slicer_trees[name] = GitTree(args.slicer, commit)
        ctk_commit, _ = pinned_commit(slicer_tree.read("SuperBuild/External_CTK.cmake") or "")
        ctk_tree = ctk_trees[name] = GitTree(args.ctk, ctk_commit)
        pythonqt_commit, tag = pinned_commit(ctk_tree.read("CMakeExternals/PythonQt.cmake") or "")
        record = {"slicer": slicer_tree.commit, "ctk": ctk_tree.commit,
                  "pythonqt_pinned": {"repository": "commontk/PythonQt", "commit": pythonqt_commit, "tag": tag}}
        try:
            pythonqt_trees[name] = GitTree(args.pythonqt, pythonqt_commit)
            record["pythonqt_read"] = {"repository": "commontk/PythonQt", "commit": pythonqt_trees[name].commit}
        except subprocess.CalledProcessError:
            base = re.search(r"-([0-9a-f]{7,40})$", tag)
            if not (base and args.pythonqt_base):
                sys.exit(f"PythonQt {pythonqt_commit} ({tag}) not in {args.pythonqt}; pass --pythonqt-base")
            pythonqt_trees[name] = GitTree(args.pythonqt_base, base.group(1))
            record["pythonqt_read"] = {"repository": "MeVisLab/pythonqt", "commit": pythonqt_trees[name].commit,
                                       "why": "the pinned commontk commit is not public in the mirror; "
                                              "its tag names this MeVisLab base"}
        record["qt"] = {"version": qt_version(qt_tree), "origin": args.qt_origin,
                        "note": "Slicer's official builds use Qt 5.15; one Qt 5.15 header set stands for all"}
        records[name] = record
    inventory = build_inventory(slicer_trees, ctk_trees, pythonqt_trees, qt_tree, versions, records)
    inventory["generator"] = "Resources/Tools/generate_slicer_api_inventory.py"
    inventory["supported_versions"] = versions
    write(inventory, args.output)


def write(inventory, path):
    """Write the inventory as sorted, indented JSON with short lists on one line (stable diffs)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    text = json.dumps(inventory, indent=1, sort_keys=True)
    # short lists on one line: one member per line keeps the file small and its diffs readable
    text = re.sub(r'\[\n\s+("[^"\n]*"(?:,\n\s+"[^"\n]*")*)\n\s*\]',
                  lambda m: "[" + re.sub(r",\n\s+", ", ", m.group(1)) + "]", text)
    text = re.sub(r'\{\n\s+("(?:in|kinds|returns|class)": (?:"[^"\n]*"|\[[^\]\n]*\])(?:,\n\s+"(?:in|kinds|returns|class)": (?:"[^"\n]*"|\[[^\]\n]*\]))*)\n\s*\}',
                  lambda m: "{" + re.sub(r",\n\s+", ", ", m.group(1)) + "}", text)
    with open(path, "w", encoding="utf-8", newline="\n") as stream:
        stream.write(text + "\n")


if __name__ == "__main__":
    main()
