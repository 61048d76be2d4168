"""The de-identification profile: the basic profile plus every option of Table E.1-1.

One typed object, saved and loaded as JSON so the CLI, the Slicer module and
the run report all record exactly the profile that was applied.
"""
from __future__ import annotations

import difflib
import json
from pathlib import Path
from dataclasses import asdict, dataclass, fields
from enum import Enum


class IdentityMode(str, Enum):
    """How Patient's Name and Patient ID are replaced (as MeVisLab offers it)."""
    PSEUDONYM = "pseudonym"   # readable fantasy name and ID from a keyed hash of the identity
    CLEAR = "clear"           # both emptied (the basic profile's Z)
    FIXED = "fixed"           # user-defined values, the same for every patient


class DateMode(str, Enum):
    """Retain Longitudinal Temporal Information: off, with full dates, or with modified dates."""
    REMOVE = "remove"
    FULL = "full"
    MODIFIED = "modified"


@dataclass(frozen=True)
class MethodCode:
    value: str
    meaning: str


# CID 7050 "De-identification Method" (PS3.16), scheme DCM.
BASIC_PROFILE_CODE = MethodCode("113100", "Basic Application Confidentiality Profile")
OPTION_CODES = {
    "clean_pixel_data": MethodCode("113101", "Clean Pixel Data Option"),
    "clean_recognizable_visual_features": MethodCode("113102", "Clean Recognizable Visual Features Option"),
    "clean_graphics": MethodCode("113103", "Clean Graphics Option"),
    "clean_structured_content": MethodCode("113104", "Clean Structured Content Option"),
    "clean_descriptors": MethodCode("113105", "Clean Descriptors Option"),
    "retain_long_full_dates": MethodCode("113106", "Retain Longitudinal Temporal Information Full Dates Option"),
    "retain_long_modified_dates": MethodCode("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    "retain_patient_characteristics": MethodCode("113108", "Retain Patient Characteristics Option"),
    "retain_device_identity": MethodCode("113109", "Retain Device Identity Option"),
    "retain_uids": MethodCode("113110", "Retain UIDs Option"),
    "retain_safe_private": MethodCode("113111", "Retain Safe Private Option"),
    "retain_institution_identity": MethodCode("113112", "Retain Institution Identity Option"),
}
# Options that are accepted but not implemented yet: they are reported, never claimed.
NOT_IMPLEMENTED = ("clean_recognizable_visual_features",)
BURNED_IN_POLICIES = ("hold", "refuse")


@dataclass
class DeidentifyOptions:
    """Every option of PS3.15 Table E.1-1, plus how identity is replaced.

    The defaults are the Basic Application Level Confidentiality Profile alone.
    """
    retain_safe_private: bool = False
    retain_uids: bool = False
    retain_device_identity: bool = False
    retain_institution_identity: bool = False
    retain_patient_characteristics: bool = False
    dates: DateMode = DateMode.REMOVE
    clean_descriptors: bool = False
    clean_structured_content: bool = False
    clean_graphics: bool = False
    clean_pixel_data: bool = False
    clean_recognizable_visual_features: bool = False

    identity: IdentityMode = IdentityMode.PSEUDONYM
    pseudonym_keeps_sex: bool = False
    fixed_patient_name: str = "ANONYMOUS"
    fixed_patient_id: str = "ANONYMOUS"

    # Private tags: (group, creator, element low byte) added to Table E.3.10-1,
    # and whether a private creator may be found in an enclosing data set.
    extra_safe_private: tuple = ()
    allow_creator_on_higher_level: bool = False

    skip_deidentified: bool = False

    # Files whose pixels likely show identity (burned_in_risk) and are not cleaned (Clean Pixel
    # Data off, or cleaning impossible: no OCR, undecodable pixels): "hold" writes them with a
    # review item that holds them back from a side database until a person decides; "refuse"
    # writes nothing. Extra region rules (JSON, see region_rules) add to the shipped ones.
    burned_in: str = "hold"
    pixel_rules_file: str = ""

    # Decisions of earlier reviews (review.ReviewDecision as dicts): values kept by an option that
    # a person has already judged, applied by the import controller without asking again.
    review_decisions: tuple = ()

    def __post_init__(self):
        self.dates = _choice(DateMode, self.dates, "dates")
        self.identity = _choice(IdentityMode, self.identity, "identity")
        self.extra_safe_private = tuple(_parse_private_tag(t) for t in self.extra_safe_private)
        if self.burned_in not in BURNED_IN_POLICIES:
            raise ValueError(f"burned_in must be one of {', '.join(BURNED_IN_POLICIES)}, not {self.burned_in!r}")
        self.review_decisions = tuple(self.review_decisions)
        if self.review_decisions:   # review (pydicom) only when there are some: --help and usage errors load none
            from .review import ReviewDecision
            self.review_decisions = tuple(ReviewDecision(**dict(d)).to_dict() if not isinstance(d, ReviewDecision)
                                          else d.to_dict() for d in self.review_decisions)

    def enabled_columns(self) -> list[str]:
        """The Table E.1-1 option columns this profile switches on."""
        columns = [name for name in ("retain_safe_private", "retain_uids", "retain_device_identity",
                                     "retain_institution_identity", "retain_patient_characteristics",
                                     "clean_descriptors", "clean_structured_content", "clean_graphics")
                   if getattr(self, name)]
        if self.dates is DateMode.FULL:
            columns.append("retain_long_full_dates")
        elif self.dates is DateMode.MODIFIED:
            columns.append("retain_long_modified_dates")
        return columns

    def method_codes(self) -> list[MethodCode]:
        """CID 7050 codes for the profile and every option actually applied."""
        return [BASIC_PROFILE_CODE] + [OPTION_CODES[c] for c in self.enabled_columns()]

    def fixed_value_problems(self) -> list[tuple[str, str]]:
        """[(setting, what makes its value unfit)] for the fixed Patient's Name (PN) and Patient ID (LO)
        under identity fixed (character_sets.fixed_value_problem: a backslash, a control character, too
        long); [] when they fit or identity is not fixed."""
        if self.identity is not IdentityMode.FIXED:
            return []
        from .character_sets import fixed_value_problem   # pydicom: only when identity is fixed
        found = [(name, fixed_value_problem(getattr(self, name), vr))
                 for name, vr in (("fixed_patient_name", "PN"), ("fixed_patient_id", "LO"))]
        return [(name, problem) for name, problem in found if problem]

    def check_fixed_values(self) -> None:
        """Raise errors.ProfileError (a ValueError whose text may be shown) naming the first unfit fixed
        value (fixed_value_problems); what runs.deidentify_folder and batch.deidentify_paths do before
        any file is read, so that the Slicer panel and the Python API refuse what the command line does."""
        for name, problem in self.fixed_value_problems():
            from .errors import ProfileError
            raise ProfileError(f"{name} {problem}: give another value")

    def requested_but_not_implemented(self) -> list[str]:
        return [name for name in NOT_IMPLEMENTED if getattr(self, name)]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["dates"] = self.dates.value
        data["identity"] = self.identity.value
        data["extra_safe_private"] = [f"{g:04X},{c},{e:02X}" for g, c, e in self.extra_safe_private]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "DeidentifyOptions":
        """A profile from its settings. Raises ValueError naming the setting that is unknown (with the
        closest known name), of the wrong type (true/false, text), or of a value not allowed."""
        if not isinstance(data, dict):
            raise ValueError(f"a profile is a table of settings (a JSON object), not {type(data).__name__}")
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(str(name) for name in data if name not in known)
        if unknown:
            # a command-line option's name where the profile's differs (--retain-dates is "dates")
            close = [_FLAG_SETTINGS.get(name) or next(iter(difflib.get_close_matches(name, known, n=1)), None)
                     for name in unknown]
            close = [match for match in close if match]
            raise ValueError(f"unknown profile settings: {', '.join(unknown)}"
                             + (f" (did you mean {', '.join(close)}?)" if close else ""))
        for name, value in data.items():
            expected = {"bool": bool, "str": str}.get(str(known[name]))
            if expected and not isinstance(value, expected):
                raise ValueError(f"{name} must be {'true or false' if expected is bool else 'text'}, not {value!r}")
        _check_lists(data)
        try:
            return cls(**data)
        except TypeError as error:   # e.g. review_decisions entries of the wrong shape
            raise ValueError(str(error)) from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "DeidentifyOptions":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_file(cls, path) -> "DeidentifyOptions":
        """A profile saved as JSON (what the Slicer module saves) or TOML (.toml, Python 3.11+)."""
        path = Path(path)
        if path.suffix.lower() == ".toml":
            try:
                import tomllib
            except ImportError:   # Python < 3.11, e.g. inside Slicer 5.8: JSON only
                raise ValueError("TOML profiles need Python 3.11 or later; save the profile as JSON") from None
            return cls.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))
        return cls.from_json(path.read_text(encoding="utf-8"))

    def save(self, path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


def _choice(enum, value, name: str):
    """value as a member of enum; ValueError naming the setting and the values allowed."""
    try:
        return enum(value)
    except ValueError:
        raise ValueError(f"{name} must be one of {', '.join(m.value for m in enum)}, not {value!r}") from None


def _parse_private_tag(value) -> tuple:
    """'0019,SIEMENS CT VA0  COAD,0C' or (0x0019, 'SIEMENS...', 0x0C) -> (group, creator, low byte).
    ValueError, with the expected form, for anything else."""
    try:
        return _private_tag(value)
    except (ValueError, TypeError, IndexError):
        raise ValueError(f"extra safe private attribute {value!r} is not GGGG,CREATOR,EE (group and element "
                         "in hex, e.g. 0019,SIEMENS CT VA0  COAD,0C)") from None


def _private_tag(value) -> tuple:
    if isinstance(value, str):
        group, creator, element = value.split(",", 2)[0], value.split(",")[1:-1], value.rsplit(",", 1)[1]
        return int(group, 16), ",".join(creator), int(element, 16) & 0xFF
    group, creator, element = value
    return int(group), str(creator), int(element) & 0xFF


# profile settings whose command-line option has another name: the hint for a profile that uses the option's
_FLAG_SETTINGS = {"retain_dates": "dates", "keep_sex": "pseudonym_keeps_sex", "pixel_rules": "pixel_rules_file",
                  "patient_name": "fixed_patient_name", "patient_id": "fixed_patient_id"}
_DECISION_FIELDS = ("attribute", "decision", "value", "new_value")


def _check_lists(data: dict) -> None:
    """ValueError naming the setting when extra_safe_private or review_decisions is not a list of the
    right entries (text; tables with attribute, decision, value, new_value), before the dataclass sees them."""
    for name in ("extra_safe_private", "review_decisions"):
        value = data.get(name, ())
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{name} must be a list, not {value!r}")
    for entry in data.get("extra_safe_private", ()):
        if not isinstance(entry, str):
            raise ValueError(f"extra_safe_private entries must be text GGGG,CREATOR,EE, not {entry!r}")
    # entries named by number: a decision's value may be identifying text
    for number, entry in enumerate(data.get("review_decisions", ()), 1):
        if not isinstance(entry, dict):
            raise ValueError(f"review_decisions entry {number} must be a table with {', '.join(_DECISION_FIELDS)}, "
                             f"not {type(entry).__name__}")
        unknown = sorted(str(k) for k in entry if k not in _DECISION_FIELDS)
        missing = [k for k in ("attribute", "decision") if k not in entry]
        if unknown or missing:
            raise ValueError(f"review_decisions entry {number}: "
                             + (f"unknown keys {', '.join(unknown)}" if unknown else "")
                             + ("; " if unknown and missing else "")
                             + (f"missing {', '.join(missing)}" if missing else "")
                             + f" (an entry has {', '.join(_DECISION_FIELDS)})")
