"""The optional Python packages of Clean Pixel Data and of the report page: which are missing, which need
an opt-in, what to ask.

Slicer bundles pydicom, numpy and Pillow; Clean Pixel Data also wants pytesseract (OCR) and the
pylibjpeg decoders (compressed pixel data). Nothing here installs anything: the Slicer module asks
the user and installs (slicer.packaging.pip_ensure on Slicer main, slicer.util.pip_install on 5.8
and 5.10) when this module says so, and only when Clean Pixel Data is actually used.

The requirements file, Resources/DicomDeidentifyRequirements.txt, is in the plain form Slicer main's
own parser reads (slicer.packaging.load_requirements, Slicer 583e9b37 Base/Python/slicer/packaging.py:40-69:
strip each line; skip empty lines, lines starting with "#" and lines starting with "-"; every other
line is one packaging.requirements.Requirement). load_requirements() below applies the same rules,
with the same parser (packaging, bundled by Slicer 5.8, 5.10 and main), so a file this module reads
is a file Slicer reads. The name is module-specific: every scripted module of an extension is
copied into one folder, where two Resources/requirements.txt collide (review B6).

Which module a requirement provides, and its licence, is kept here in code (a requirements file
has no place for it). pylibjpeg-libjpeg is GPL-3.0: never installed without its own yes.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

REQUIREMENTS_FILE_NAME = "DicomDeidentifyRequirements.txt"
# The run report's page (Jinja2, which Slicer does not bundle: 5.8, 5.10, main): its own file and its
# own question, asked before any run, so that a run inside Slicer writes report.html, not only report.json.
REPORT_REQUIREMENTS_FILE_NAME = "DicomDeidentifyReportRequirements.txt"

# distribution (canonical name) -> the top-level module it provides
IMPORT_NAMES = {
    "pillow": "PIL",
    "pytesseract": "pytesseract",
    "onnxruntime": "onnxruntime",
    "opencv-python-headless": "cv2",
    "pyclipper": "pyclipper",
    "shapely": "shapely",
    "pyyaml": "yaml",
    "six": "six",
    "tqdm": "tqdm",
    "rapidocr-onnxruntime": "rapidocr_onnxruntime",
    "pylibjpeg": "pylibjpeg",
    "pylibjpeg-libjpeg": "libjpeg",
    "pylibjpeg-openjpeg": "openjpeg",
    "pylibjpeg-rle": "rle",
    "jinja2": "jinja2",
}
# distribution -> what it is for (shown to the user before installing)
PURPOSES = {
    "pillow": "images for OCR and the report's thumbnails",
    "pytesseract": "a second reader of burned-in text (with the tesseract program, where installed)",
    "onnxruntime": "runs the text detector's models (CPU)",
    "opencv-python-headless": "image operations of the text detector (OpenCV without its GUI)",
    "pyclipper": "used by the text detector",
    "shapely": "used by the text detector",
    "pyyaml": "used by the text detector",
    "six": "used by the text detector",
    "tqdm": "used by the text detector",
    "rapidocr-onnxruntime": "the text detector and reader (PP-OCR models in the package)",
    "pylibjpeg": "decoding compressed pixel data",
    "pylibjpeg-libjpeg": "decoding JPEG and JPEG-LS pixel data",
    "pylibjpeg-openjpeg": "decoding JPEG 2000 pixel data",
    "pylibjpeg-rle": "decoding RLE pixel data",
    "jinja2": "the run report's page and the compare page (templates, autoescaping on)",
}
# Non-permissive licences (from each package's metadata): installed only after their own opt-in.
OPT_IN_LICENCES = {
    "pylibjpeg-libjpeg": "GPL-3.0",
}


# Installed with pip's --no-deps, each in a call of its own: its metadata requires the GUI build of
# OpenCV (opencv-python), which carries Qt plugins that clash with Slicer's Qt; the file lists its
# other requirements, with opencv-python-headless.
NO_DEPS = frozenset({"rapidocr-onnxruntime"})


def install_commands(requirements) -> list:
    """The pip argument lists that install `requirements`: [[specs of those installed with their
    dependencies], ["--no-deps", spec], ...] (empty lists left out). slicer.util.pip_install takes a
    list of command-line arguments in 5.8 (util.py 3899-3910), 5.10 (util.py 3991) and main (util.py
    4470 -> packaging.pip_install, whose _build_pip_args passes a list as it is, packaging.py 935-960)."""
    normal = [str(r) for r in requirements if canonicalize_name(r.name) not in NO_DEPS]
    commands = [normal] if normal else []
    commands += [["--no-deps", str(r)] for r in requirements if canonicalize_name(r.name) in NO_DEPS]
    return commands


def requirements_path(module_dir, file_name: str = REQUIREMENTS_FILE_NAME) -> Path:
    """<module folder>/Resources/<file_name> (where CMake installs it): Clean Pixel Data's requirements
    by default, REPORT_REQUIREMENTS_FILE_NAME for the report page's."""
    return Path(module_dir) / "Resources" / file_name


def load_requirements(path) -> list:
    """The requirements of a file, by the rules of slicer.packaging.load_requirements (Slicer main).

    Returns [packaging.requirements.Requirement]. Raises ValueError naming the line when a line is not
    a valid requirement (Slicer's parser would raise InvalidRequirement there), OSError if unreadable.
    """
    requirements = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            line = line.strip()
            if not line or line.startswith("#") or line.startswith("-"):
                continue
            try:
                requirements.append(Requirement(line))
            except InvalidRequirement as error:
                raise ValueError(f"{path}:{number}: not a requirement Slicer can read: {error}") from None
    return requirements


def import_name(requirement: Requirement) -> str:
    """The top-level module a requirement provides. KeyError for a requirement not mapped here."""
    return IMPORT_NAMES[canonicalize_name(requirement.name)]


def licence_needing_opt_in(requirement: Requirement) -> str | None:
    """The licence that makes a requirement opt-in (e.g. "GPL-3.0"), or None for permissive ones."""
    return OPT_IN_LICENCES.get(canonicalize_name(requirement.name))


def is_satisfied(requirement: Requirement, find_spec=importlib.util.find_spec,
                 version=importlib.metadata.version) -> bool:
    """Whether the requirement's module can be imported and, where its distribution is recorded, at a
    version the requirement accepts. A requirement whose marker does not apply counts as satisfied
    (as slicer.packaging.pip_check does)."""
    if requirement.marker is not None and not requirement.marker.evaluate():
        return True
    if find_spec(import_name(requirement)) is None:
        return False
    try:
        installed = version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        return True   # importable without metadata (bundled another way): good enough to use
    return requirement.specifier.contains(installed, prereleases=True)


@dataclass
class InstallPlan:
    """What is missing, split into what one confirmation covers and what needs its own opt-in."""
    permissive: list = field(default_factory=list)   # [Requirement]
    opt_in: list = field(default_factory=list)       # [Requirement] (licence: licence_needing_opt_in)

    @property
    def missing(self) -> list:
        """Every missing requirement: the permissive ones, then those needing an opt-in."""
        return self.permissive + self.opt_in

    def __bool__(self) -> bool:
        return bool(self.missing)


def plan_install(requirements, satisfied=is_satisfied) -> InstallPlan:
    """The missing requirements, permissive first, opt-in (non-permissive licence) apart."""
    plan = InstallPlan()
    for requirement in requirements:
        if satisfied(requirement):
            continue
        (plan.opt_in if licence_needing_opt_in(requirement) else plan.permissive).append(requirement)
    return plan


def describe(requirements) -> str:
    """One line per requirement: what it is and what for (the confirmation's details)."""
    lines = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        licence = OPT_IN_LICENCES.get(name)
        lines.append(f"- {requirement}: {PURPOSES.get(name, 'used by Clean Pixel Data')}"
                     + (f" (licence {licence})" if licence else ""))
    return "\n".join(lines)


# -- what to do this time: ask, or not (and why) -------------------------------------------------------
NOTHING_MISSING = "nothing missing"
TESTING = "testing"                 # never install while Slicer runs its tests (--testing)
FAILED_BEFORE = "failed before"     # an install failed this session (offline, typically): do not retry
DECLINED_BEFORE = "declined before"  # the user said no this session: do not ask again
ASK = "ask"


class SessionMemory:
    """What happened to installs in this Python process (one Slicer session): failures and refusals
    are remembered so that nothing is retried or asked again in a loop. Module-level SESSION is the
    one the Slicer module uses; it survives a Reload of the module (which reloads only its main file)."""

    def __init__(self):
        self.failed: set = set()     # canonical names
        self.declined: set = set()

    def record_failure(self, requirements) -> None:
        """Remember that installing `requirements` (packaging Requirements) failed this session."""
        self.failed |= {canonicalize_name(r.name) for r in requirements}

    def record_declined(self, requirements) -> None:
        """Remember that the user declined to install `requirements` (packaging Requirements) this session."""
        self.declined |= {canonicalize_name(r.name) for r in requirements}

    def next_step(self, requirements, testing: bool) -> str:
        """ASK, or why not: NOTHING_MISSING, TESTING, FAILED_BEFORE, DECLINED_BEFORE."""
        requirements = list(requirements)
        if not requirements:
            return NOTHING_MISSING
        if testing:
            return TESTING
        names = {canonicalize_name(r.name) for r in requirements}
        if names & self.failed:
            return FAILED_BEFORE
        if names <= self.declined:
            return DECLINED_BEFORE
        return ASK

    def still_to_ask(self, requirements) -> list:
        """The requirements the user has not refused (or seen fail) this session."""
        return [r for r in requirements
                if canonicalize_name(r.name) not in self.declined | self.failed]


SESSION = SessionMemory()


@dataclass
class EnsureOutcome:
    """What ensure() did: what is still missing afterwards, and the install error if one happened."""
    missing: list
    error: Exception | None = None
    asked: int = 0


def ensure(requirements, *, testing: bool, confirm, install, memory: SessionMemory = SESSION,
           satisfied=is_satisfied) -> EnsureOutcome:
    """Offer the missing requirements: the permissive ones first, then the opt-in ones (their own
    question). `confirm(requirements, licensed: bool) -> bool` asks the user; `install(requirements)`
    installs (and raises on failure). Nothing happens under testing, after a failure this session
    (offline: nothing is retried), or for what the user refused this session; "no" to the first
    question is "no" to the second, and a failure stops both."""
    import logging
    log = logging.getLogger(__name__)
    requirements = list(requirements)
    plan = plan_install(requirements, satisfied)
    outcome = EnsureOutcome(missing=plan.missing)
    for group, licensed in ((plan.permissive, False), (plan.opt_in, True)):
        step = memory.next_step(group, testing)
        if step != ASK:
            if group:
                log.info("not installing %s (%s)", ", ".join(str(r) for r in group), step)
            continue
        group = memory.still_to_ask(group)
        outcome.asked += 1
        if not confirm(group, licensed):
            memory.record_declined(group if licensed else plan.missing)
            break
        try:
            install(group)
        except Exception as error:   # pip's CalledProcessError (offline, no index), RuntimeError, OSError
            memory.record_failure(plan.missing)
            log.warning("installing %s failed: %s", ", ".join(str(r) for r in group), error)
            outcome.error = error
            break
    importlib.invalidate_caches()
    outcome.missing = plan_install(requirements, satisfied).missing
    return outcome
