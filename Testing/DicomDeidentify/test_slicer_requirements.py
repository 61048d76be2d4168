"""The Clean Pixel Data requirements, read from the real file by the function the Slicer module uses.

Review B1: the module's own reader choked on the file's comment lines, and the old test filtered
them out itself, so it never exercised the production code. Here the production reader parses the
shipped file, and every line is also checked with packaging's Requirement, the parser
slicer.packaging.load_requirements (Slicer main) applies to each non-comment line.
"""
import importlib.metadata
import importlib.util
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from DicomDeidentifyLib import requirements as req

ROOT = Path(__file__).resolve().parents[2]
MODULE_DIR = ROOT / "DicomDeidentify"
REAL_FILE = req.requirements_path(MODULE_DIR)


def test_the_real_file_parses_with_the_production_reader():
    parsed = req.load_requirements(REAL_FILE)
    names = [canonicalize_name(r.name) for r in parsed]
    assert names == ["pillow", "pytesseract", "onnxruntime", "opencv-python-headless", "pyclipper", "shapely",
                     "pyyaml", "six", "tqdm", "rapidocr-onnxruntime", "pylibjpeg", "pylibjpeg-libjpeg",
                     "pylibjpeg-openjpeg", "pylibjpeg-rle"]
    assert REAL_FILE.read_text().lstrip().startswith("#"), "the file is expected to carry its comment header"


def test_every_line_is_what_slicers_own_parser_accepts():
    """slicer.packaging.load_requirements (Slicer 583e9b37 packaging.py:62-69): strip; skip empty,
    '#' and '-' lines; Requirement(line) for the rest, which raises on an inline comment."""
    kept = [line.strip() for line in REAL_FILE.read_text().splitlines()
            if line.strip() and not line.strip().startswith(("#", "-"))]
    assert [str(Requirement(line)) for line in kept] == [str(r) for r in req.load_requirements(REAL_FILE)]


def test_the_old_form_is_refused_as_slicer_would(tmp_path):
    old = tmp_path / "old.txt"
    old.write_text("# a comment\npillow  # import PIL\n")
    with pytest.raises(ValueError, match="old.txt:2"):
        req.load_requirements(old)


def test_every_requirement_is_mapped_to_the_module_its_distribution_provides():
    """The mapping in code must match the installed distributions (the project's setup installs the
    pixels extra into both venvs)."""
    provided = importlib.metadata.packages_distributions()   # module -> [distribution]
    for requirement in req.load_requirements(REAL_FILE):
        module = req.import_name(requirement)
        assert importlib.util.find_spec(module) is not None, requirement
        distributions = {canonicalize_name(d) for d in provided.get(module, [])}
        assert canonicalize_name(requirement.name) in distributions, (requirement, module, distributions)
        assert requirement.name in req.PURPOSES or canonicalize_name(requirement.name) in req.PURPOSES


def test_all_present_here_so_nothing_to_install():
    assert not req.plan_install(req.load_requirements(REAL_FILE))


def test_a_missing_module_is_planned_and_gpl_is_apart():
    requirements = req.load_requirements(REAL_FILE)
    plan = req.plan_install(requirements, satisfied=lambda r: False)
    assert [canonicalize_name(r.name) for r in plan.opt_in] == ["pylibjpeg-libjpeg"]
    assert "pylibjpeg-libjpeg" not in {canonicalize_name(r.name) for r in plan.permissive}
    assert len(plan.missing) == len(requirements)
    assert req.licence_needing_opt_in(plan.opt_in[0]) == "GPL-3.0"
    assert "GPL-3.0" in req.describe(plan.opt_in)


def test_is_satisfied_checks_the_module_and_the_version():
    pillow = Requirement("pillow>=9")
    assert not req.is_satisfied(pillow, find_spec=lambda name: None)
    assert req.is_satisfied(pillow, find_spec=lambda name: object(), version=lambda name: "10.3.0")
    assert not req.is_satisfied(pillow, find_spec=lambda name: object(), version=lambda name: "8.4.0")

    def no_metadata(name):
        raise importlib.metadata.PackageNotFoundError(name)
    assert req.is_satisfied(pillow, find_spec=lambda name: object(), version=no_metadata)
    assert req.is_satisfied(Requirement("pillow>=9; python_version < '3'"), find_spec=lambda name: None)


def test_session_memory_never_retries_a_failure_nor_asks_again_after_no():
    memory = req.SessionMemory()
    plan = req.plan_install(req.load_requirements(REAL_FILE), satisfied=lambda r: False)
    assert memory.next_step([], testing=False) == req.NOTHING_MISSING
    assert memory.next_step(plan.missing, testing=True) == req.TESTING
    assert memory.next_step(plan.permissive, testing=False) == req.ASK
    memory.record_failure(plan.permissive)     # offline
    for _ in range(3):                         # every later use in the session: no new attempt
        assert memory.next_step(plan.permissive, testing=False) == req.FAILED_BEFORE
    assert memory.next_step(plan.opt_in, testing=False) == req.ASK
    memory.record_declined(plan.opt_in)
    assert memory.next_step(plan.opt_in, testing=False) == req.DECLINED_BEFORE
    assert memory.still_to_ask(plan.missing) == []


def test_cmake_installs_the_module_specific_file_and_no_shared_name():
    cmake = "\n".join(line.split("#")[0] for line in (MODULE_DIR / "CMakeLists.txt").read_text().splitlines())
    assert "Resources/${MODULE_NAME}Requirements.txt" in cmake
    assert "Resources/requirements.txt" not in cmake
    assert req.REQUIREMENTS_FILE_NAME == "DicomDeidentifyRequirements.txt"
    assert not (MODULE_DIR / "Resources" / "requirements.txt").exists()


class Recorder:
    """The glue's confirm/install, recorded; installing makes a requirement present."""

    def __init__(self, answers=(), fail=False):
        self.answers, self.fail = list(answers), fail
        self.questions, self.installs, self.present = [], [], set()

    def satisfied(self, requirement):
        return canonicalize_name(requirement.name) in self.present

    def confirm(self, requirements, licensed):
        self.questions.append(([canonicalize_name(r.name) for r in requirements], licensed))
        return self.answers.pop(0)

    def install(self, requirements):
        self.installs.append([canonicalize_name(r.name) for r in requirements])
        if self.fail:
            raise OSError("no network")
        self.present |= {canonicalize_name(r.name) for r in requirements}


def run(recorder, memory, testing=False):
    return req.ensure(req.load_requirements(REAL_FILE), testing=testing, confirm=recorder.confirm,
                      install=recorder.install, memory=memory, satisfied=recorder.satisfied)


def test_ensure_asks_twice_and_installs_gpl_only_after_its_own_yes():
    recorder, memory = Recorder(answers=[True, False]), req.SessionMemory()
    outcome = run(recorder, memory)
    assert [licensed for _, licensed in recorder.questions] == [False, True]
    assert recorder.questions[1][0] == ["pylibjpeg-libjpeg"]
    assert recorder.installs == [[n for n in recorder.questions[0][0]]] and "pylibjpeg-libjpeg" not in recorder.installs[0]
    assert [canonicalize_name(r.name) for r in outcome.missing] == ["pylibjpeg-libjpeg"]
    again = run(recorder, memory)            # the same session: the refused GPL decoder is not asked again
    assert len(recorder.questions) == 2 and again.asked == 0


def test_ensure_under_testing_neither_asks_nor_installs():
    recorder = Recorder()
    outcome = run(recorder, req.SessionMemory(), testing=True)
    assert recorder.questions == [] and recorder.installs == [] and len(outcome.missing) == 14


def test_ensure_offline_fails_once_and_is_not_retried():
    recorder, memory = Recorder(answers=[True, True, True], fail=True), req.SessionMemory()
    outcome = run(recorder, memory)
    assert isinstance(outcome.error, OSError) and len(recorder.installs) == 1
    for _ in range(3):
        later = run(recorder, memory)
        assert later.asked == 0 and later.error is None
    assert len(recorder.installs) == 1 and len(recorder.questions) == 1


def test_no_to_the_first_question_is_no_to_the_gpl_one():
    recorder, memory = Recorder(answers=[False]), req.SessionMemory()
    run(recorder, memory)
    assert len(recorder.questions) == 1 and recorder.installs == []
    assert run(recorder, memory).asked == 0


def test_the_detector_is_installed_without_its_dependencies_which_the_file_lists_with_headless_opencv():
    """rapidocr-onnxruntime's metadata asks for the GUI build of OpenCV (Qt plugins that clash with
    Slicer's): inside Slicer it is installed with --no-deps, in a call of its own, after the rest,
    and the file lists its other requirements with opencv-python-headless, as pyproject's extra does."""
    import importlib.metadata
    import tomllib
    from DicomDeidentifyLib.requirements import NO_DEPS, install_commands
    requirements = req.load_requirements(req.requirements_path(MODULE_DIR))
    names = {canonicalize_name(r.name) for r in requirements}
    assert "rapidocr-onnxruntime" in names and "opencv-python" not in names and "opencv-python-headless" in names
    commands = install_commands(requirements)
    assert commands[-1] == ["--no-deps", "rapidocr-onnxruntime==1.4.4"]
    assert all("rapidocr" not in spec for spec in commands[0]) and "--no-deps" not in commands[0]
    # every requirement the installed detector declares is in the file (OpenCV as its headless build)
    declared = {canonicalize_name(Requirement(line).name) for line in importlib.metadata.requires("rapidocr-onnxruntime")
                if "extra ==" not in line}
    assert declared - {"opencv-python", "numpy"} <= names, declared - names   # numpy: bundled by Slicer
    # the command line's [pixels] extra holds the same, the detector at the same pin (pip brings its GUI
    # OpenCV along there: harmless outside Slicer; review 18c finding 3)
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["pixels"]
    assert {canonicalize_name(Requirement(line).name) for line in extra} >= names - {"tqdm"}
    assert "rapidocr-onnxruntime==1.4.4" in extra


REPORT_FILE = req.requirements_path(MODULE_DIR, req.REPORT_REQUIREMENTS_FILE_NAME)


def test_the_report_page_requirements_are_jinja2_read_as_slicer_reads_them():
    """Slicer bundles no Jinja2 (glue review 3, G3-3): its own file, installed by CMake, read by the
    production reader, mapped to its module, with a purpose to show, permissive (no opt-in)."""
    parsed = req.load_requirements(REPORT_FILE)
    assert [canonicalize_name(r.name) for r in parsed] == ["jinja2"]
    kept = [line.strip() for line in REPORT_FILE.read_text().splitlines()
            if line.strip() and not line.strip().startswith(("#", "-"))]
    assert [str(Requirement(line)) for line in kept] == [str(r) for r in parsed]
    assert req.import_name(parsed[0]) == "jinja2" and importlib.util.find_spec("jinja2") is not None
    assert "jinja2" in req.PURPOSES and req.licence_needing_opt_in(parsed[0]) is None
    cmake = "\n".join(line.split("#")[0] for line in (MODULE_DIR / "CMakeLists.txt").read_text().splitlines())
    assert "Resources/${MODULE_NAME}ReportRequirements.txt" in cmake
    # the version pyproject asks for is the one offered inside Slicer
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"jinja2>=3.0"' in pyproject and str(parsed[0]) == "jinja2>=3.0"


def test_jinja2_missing_is_asked_once_and_installed_on_yes():
    recorder, memory = Recorder(answers=[True]), req.SessionMemory()
    outcome = req.ensure(req.load_requirements(REPORT_FILE), testing=False, confirm=recorder.confirm,
                         install=recorder.install, memory=memory, satisfied=recorder.satisfied)
    assert recorder.questions == [(["jinja2"], False)] and recorder.installs == [["jinja2"]]
    assert outcome.error is None
    again = req.ensure(req.load_requirements(REPORT_FILE), testing=False, confirm=recorder.confirm,
                       install=recorder.install, memory=memory, satisfied=recorder.satisfied)
    assert again.asked == 0 and len(recorder.questions) == 1   # present now: not asked again
