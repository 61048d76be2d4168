"""The de-identification profile: the basic profile plus every option of Table E.1-1.

One typed object, saved and loaded as JSON so the CLI, the Slicer module and
the run report all record exactly the profile that was applied.

Each setting is declared once, with its OptionInfo as the field's metadata (standard name, Table
E.1-1 column, CID 7050 code, command-line flag and help, panel widget, report label); OPTIONS,
OPTION_CODES, NOT_IMPLEMENTED, the method codes, the panel's mapping (panel_widgets) and the report's
profile table (profile_rows) are read from it, and so are cli.py's flags.
"""
from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from dataclasses import asdict, dataclass, field, fields
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
    """A coded value of CID 7050 "De-identification Method" (PS3.16, coding scheme DCM): `value` is the
    code value (e.g. '113100'), `meaning` its code meaning. markers.py writes one item per code into
    De-identification Method Code Sequence (0012,0064), PS3.3 C.7.1.1."""
    value: str
    meaning: str


# CID 7050 "De-identification Method" (PS3.16), scheme DCM.
BASIC_PROFILE_CODE = MethodCode("113100", "Basic Application Confidentiality Profile")
BURNED_IN_POLICIES = ("hold", "refuse")


@dataclass(frozen=True)
class OptionInfo:
    """How one setting of DeidentifyOptions is named and shown: declared once, as the field's metadata
    (field(metadata={"option": OptionInfo(...)})), and read by the command line (cli.py: its flags and
    options_from_args), the Slicer panel (panel_values, panel_settings: the widgets of
    Resources/UI/DicomDeidentify.ui), the method codes (DeidentifyOptions.method_codes) and the report's
    profile table (profile_rows).

    label: the report's name for the setting. standard_name: the option of PS3.15 Table E.1-1 (named
    as in E.3 and CID 7050), "" for a setting of this tool. columns: {setting value: the Table E.1-1
    column it switches on} (True for an on/off option). codes: {setting value: the CID 7050 code
    (PS3.16) claimed for it}; a code without a column is claimed where the work is done (Clean Pixel
    Data, per cleaned file: pixel_stage) or never (implemented False). choices: the values of a
    setting with a fixed list, in the panel's order. flag (named as the setting: --<setting with dashes>
    where it can be), aliases (older spellings of the flag that still work), help, flag_choices (when the command line
    offers fewer values than the setting has), metavar, path (the flag takes a path), group ("profile"
    or "identity": the part of --help it is listed in): the command line's flag, "" for none. widget,
    widget_class: the panel's object name and Qt class in the .ui, "" for none."""
    label: str
    standard_name: str = ""
    columns: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    choices: tuple = ()
    implemented: bool = True
    flag: str = ""
    aliases: tuple = ()   # other spellings of the flag, kept because they were public (e.g. --retain-dates)
    help: str | None = None
    flag_choices: tuple = ()
    metavar: str | None = None
    path: bool = False
    group: str = "profile"
    widget: str = ""
    widget_class: str = ""

    @property
    def dest(self) -> str:
        """The flag's attribute on argparse's namespace ("--keep-sex" -> "keep_sex"); "" without a flag."""
        return self.flag[2:].replace("-", "_")


def _option(default, info: OptionInfo, **kwargs):
    """A DeidentifyOptions field with its OptionInfo as metadata."""
    return field(default=default, metadata={"option": info}, **kwargs)


def _on_off(standard_name: str, code: str, column: str, flag: str, widget: str, does: str, **more) -> OptionInfo:
    """An on/off option of Table E.1-1: its column, its CID 7050 code (meaning: the standard name), and
    its --help line, made from the standard name, the code and `does` (what the option does, E.3)."""
    help_text = f"{standard_name} of PS3.15 Table E.1-1 (CID 7050 code {code}): {does}"
    return OptionInfo(standard_name.removesuffix(" Option"), standard_name, columns={True: column},
                      codes={True: MethodCode(code, standard_name)}, flag=flag, widget=widget,
                      widget_class="QCheckBox", help=help_text, **more)


@dataclass
class DeidentifyOptions:
    """Every option of PS3.15 Table E.1-1, plus how identity is replaced.

    The defaults are the Basic Application Level Confidentiality Profile alone. Each field's
    metadata["option"] (OptionInfo) is the one place its standard name, code, flag and widget are named.
    """
    retain_safe_private: bool = _option(False, _on_off(
        "Retain Safe Private Option", "113111", "retain_safe_private", "--retain-safe-private",
        "retainSafePrivateCheckBox",
        "keep the private attributes Table E.3.10-1 lists as safe (and --extra-safe-private)"))
    retain_uids: bool = _option(False, _on_off(
        "Retain UIDs Option", "113110", "retain_uids", "--retain-uids", "retainUIDsCheckBox",
        "keep the original Study, Series, Instance and other UIDs instead of new ones"))
    retain_device_identity: bool = _option(False, _on_off(
        "Retain Device Identity Option", "113109", "retain_device_identity", "--retain-device-identity",
        "retainDeviceIdentityCheckBox", "keep what identifies the device (serial numbers, station names)"))
    retain_institution_identity: bool = _option(False, _on_off(
        "Retain Institution Identity Option", "113112", "retain_institution_identity",
        "--retain-institution-identity", "retainInstitutionIdentityCheckBox",
        "keep the institution's name, address and department"))
    retain_patient_characteristics: bool = _option(False, _on_off(
        "Retain Patient Characteristics Option", "113108", "retain_patient_characteristics",
        "--retain-patient-characteristics", "retainPatientCharacteristicsCheckBox",
        "keep Patient's Sex, Age, Size, Weight and other characteristics"))
    dates: DateMode = _option(DateMode.REMOVE, OptionInfo(
        "Retain Longitudinal Temporal Information", "Retain Longitudinal Temporal Information Options",
        columns={"full": "retain_long_full_dates", "modified": "retain_long_modified_dates"},
        codes={"full": MethodCode("113106", "Retain Longitudinal Temporal Information Full Dates Option"),
               "modified": MethodCode("113107", "Retain Longitudinal Temporal Information Modified Dates Option")},
        choices=tuple(m.value for m in DateMode), flag="--dates", aliases=("--retain-dates",),
        flag_choices=("full", "modified"),
        help="Retain Longitudinal Temporal Information Options of PS3.15 Table E.1-1 (CID 7050 codes 113106, "
             "113107): full keeps dates and times, modified shifts them by a per-patient offset from the key, "
             "(--retain-dates is the same flag)", widget="datesComboBox", widget_class="QComboBox"))
    clean_descriptors: bool = _option(False, _on_off(
        "Clean Descriptors Option", "113105", "clean_descriptors", "--clean-descriptors", "cleanDescriptorsCheckBox",
        "keep descriptions and comments, with identifying text taken out (held for review)"))
    clean_structured_content: bool = _option(False, _on_off(
        "Clean Structured Content Option", "113104", "clean_structured_content", "--clean-structured-content",
        "cleanStructuredContentCheckBox", "keep structured report content, with identifying text taken out"))
    clean_graphics: bool = _option(False, _on_off(
        "Clean Graphics Option", "113103", "clean_graphics", "--clean-graphics", "cleanGraphicsCheckBox",
        "keep overlays and graphics, with identifying text blanked"))
    clean_pixel_data: bool = _option(False, OptionInfo(
        "Clean Pixel Data", "Clean Pixel Data Option", codes={True: MethodCode("113101", "Clean Pixel Data Option")},
        flag="--clean-pixel-data",
        help="look for burned-in text in every image (text detector, region rules) and blank it; an "
             "image is marked clean only when a second check finds none left; cleaned images are "
             "written uncompressed", widget="cleanPixelDataCheckBox", widget_class="QCheckBox"))

    # Files whose pixels likely show identity (burned_in_risk) and are not cleaned (Clean Pixel
    # Data off, or cleaning impossible: no OCR, undecodable pixels): "hold" writes them with a
    # review item that holds them back from a side database until a person decides; "refuse"
    # writes nothing. Extra region rules (JSON, see region_rules) add to the shipped ones.
    burned_in: str = _option("hold", OptionInfo(
        "Images at risk, not cleaned", choices=BURNED_IN_POLICIES, flag="--burned-in",
        help="images likely to show identity that are not cleaned: hold (write, flagged for review; "
             "the default) or refuse (write nothing)", widget="burnedInComboBox", widget_class="QComboBox"))
    pixel_rules_file: str = _option("", OptionInfo(
        "Extra region rules", flag="--pixel-rules", path=True, metavar="FILE",
        help="extra region rules (JSON) for --clean-pixel-data"))
    clean_recognizable_visual_features: bool = _option(False, OptionInfo(
        "Clean Recognizable Visual Features", "Clean Recognizable Visual Features Option",
        codes={True: MethodCode("113102", "Clean Recognizable Visual Features Option")}, implemented=False,
        flag="--clean-recognizable-visual-features", help="accepted; not implemented yet, never claimed"))

    identity: IdentityMode = _option(IdentityMode.PSEUDONYM, OptionInfo(
        "Patient identity", choices=tuple(m.value for m in IdentityMode), flag="--identity", group="identity",
        help="pseudonym (default): fantasy name and ID from the key; clear: empty; "
             "fixed: --patient-name/--patient-id", widget="identityComboBox", widget_class="QComboBox"))
    pseudonym_keeps_sex: bool = _option(False, OptionInfo(
        "Pseudonym keeps the patient's sex", flag="--keep-sex", group="identity",
        help="the pseudonym's given name gets a female or male ending after Patient's Sex (F or M), so "
             "the name shows the sex; Patient's Sex itself is kept only with "
             "--retain-patient-characteristics (the basic profile empties it); no effect with "
             "--identity clear or fixed", widget="pseudonymKeepsSexCheckBox", widget_class="QCheckBox"))
    fixed_patient_name: str = _option("ANONYMOUS", OptionInfo(
        "Fixed Patient's Name", flag="--patient-name", group="identity",
        help="with --identity fixed (default ANONYMOUS); refused without it", widget="fixedNameLineEdit", widget_class="QLineEdit"))
    fixed_patient_id: str = _option("ANONYMOUS", OptionInfo(
        "Fixed Patient ID", flag="--patient-id", group="identity",
        help="with --identity fixed (default ANONYMOUS); refused without it", widget="fixedIDLineEdit", widget_class="QLineEdit"))

    # Private tags: (group, creator, element low byte) added to Table E.3.10-1,
    # and whether a private creator may be found in an enclosing data set.
    extra_safe_private: tuple = _option((), OptionInfo(
        "Extra safe private attributes", flag="--extra-safe-private", metavar="GGGG,CREATOR,EE", group="identity",
        help="another private attribute to keep under --retain-safe-private (repeatable)",
        widget="extraSafePrivateLineEdit", widget_class="QLineEdit"))
    allow_creator_on_higher_level: bool = _option(False, OptionInfo(
        "Private creator on a higher level", flag="--allow-creator-on-higher-level", group="identity",
        help="look for a private creator in enclosing data sets too", widget="allowCreatorOnHigherLevelCheckBox",
        widget_class="QCheckBox"))

    skip_deidentified: bool = _option(False, OptionInfo(
        "Skip de-identified files", flag="--skip-deidentified", group="identity",
        help="skip files with Patient Identity Removed = YES"))

    # Decisions of earlier reviews (review.ReviewDecision as dicts): values kept by an option that
    # a person has already judged, applied by the import controller without asking again. No flag
    # (a --profile carries them) and no widget (the panel's review table makes them).
    review_decisions: tuple = _option((), OptionInfo("Review decisions"))

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
        """The Table E.1-1 option columns this profile switches on (OptionInfo.columns)."""
        return [column for column, _ in self._switched_on()]

    def method_codes(self) -> list[MethodCode]:
        """CID 7050 codes for the profile and every option actually applied (one per enabled column;
        Clean Pixel Data's is added per cleaned file, by pixel_stage)."""
        return [BASIC_PROFILE_CODE] + [code for _, code in self._switched_on()]

    def _switched_on(self) -> list[tuple[str, MethodCode]]:
        """[(Table E.1-1 column, its CID 7050 code)] of the settings that switch a column on: the
        on/off options in their declaration order, then the dates choice. The order the codes are
        written in (Deidentification Method and its Code Sequence): outputs depend on it."""
        found = [(name, info, _plain(getattr(self, name))) for name, info in OPTIONS.items() if info.columns]
        return [(info.columns[value], info.codes[value])
                for on_off in (True, False) for name, info, value in found
                if (not info.choices) is on_off and value in info.columns]

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
        """The options switched on that are accepted but not implemented (OptionInfo.implemented):
        reported, never claimed."""
        return [name for name in NOT_IMPLEMENTED if getattr(self, name)]

    def to_dict(self) -> dict:
        """The profile as a JSON-ready dict: every setting by field name, enums by their value, extra safe
        private attributes as 'GGGG,creator,EE' strings (what from_dict reads back)."""
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
            close = [_closest_setting(name, known) for name in unknown]
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
        """to_dict() as JSON text, indented, keys sorted (a stable text for saved profiles and the report)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "DeidentifyOptions":
        """A profile from JSON text (see from_dict). Raises ValueError (json.JSONDecodeError is one) when the
        text is not JSON or a setting is unknown, of the wrong type or not allowed."""
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
        """Write the profile as JSON (to_json) to `path`, replacing what is there atomically: a temporary
        file beside it, then renamed, so an interrupted save leaves the earlier profile whole. Raises
        OSError when it cannot be written (the temporary file is removed)."""
        path = Path(path)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            temporary.write_text(self.to_json() + "\n", encoding="utf-8")
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise



# Everything below is read from the fields' OptionInfo (DeidentifyOptions): never listed again.
OPTIONS = {f.name: f.metadata["option"] for f in fields(DeidentifyOptions)}   # setting -> OptionInfo
# CID 7050 codes by the Table E.1-1 column they stand for (the setting's name for an option without one)
OPTION_CODES = {info.columns.get(value, name): code for name, info in OPTIONS.items()
                for value, code in info.codes.items()}
# Options that are accepted but not implemented yet: they are reported, never claimed.
NOT_IMPLEMENTED = tuple(name for name, info in OPTIONS.items() if not info.implemented)
# profile settings whose command-line option has another name: the hint for a profile that uses the option's
_FLAG_SETTINGS = {flag[2:].replace("-", "_"): name for name, info in OPTIONS.items()
                  for flag in (info.flag, *info.aliases) if flag and flag[2:].replace("-", "_") != name}
# the property of each widget class of the panel (Resources/UI/DicomDeidentify.ui) that shows a setting
PANEL_PROPERTIES = {"QCheckBox": "checked", "QComboBox": "currentIndex", "QLineEdit": "text"}
_LIST_SEPARATOR = ";"   # a list setting in a line edit: "0019,A,0C; 0021,B,01"


def _plain(value):
    """An enum member as its value (DateMode.FULL -> "full"); anything else as it is."""
    return value.value if isinstance(value, Enum) else value


def panel_widgets() -> dict[str, tuple[str, str]]:
    """{panel widget's object name: (setting, the widget's Qt property showing it)} for every setting
    the Slicer panel shows (OptionInfo.widget): what DicomDeidentify.py reads and sets."""
    return {info.widget: (name, PANEL_PROPERTIES[info.widget_class]) for name, info in OPTIONS.items() if info.widget}


def panel_values(options: DeidentifyOptions) -> list[tuple[str, str, object]]:
    """[(widget name, property, value)] that show `options` on the panel: a check box's checked (bool),
    a combo box's currentIndex (the value's place in OptionInfo.choices, which the .ui's items follow),
    a line edit's text (a list joined with "; ")."""
    data = options.to_dict()
    shown = []
    for widget, (name, prop) in panel_widgets().items():
        value = data[name]
        if prop == "currentIndex":
            value = OPTIONS[name].choices.index(value)
        elif isinstance(value, list):
            value = f"{_LIST_SEPARATOR} ".join(value)
        shown.append((widget, prop, value))
    return shown


def panel_settings(options: DeidentifyOptions, values: dict) -> dict:
    """The settings (DeidentifyOptions.from_dict's input) of `options` with what the panel shows in
    place: `values` is {widget name: its property's value} for every panel_widgets() entry. Raises
    KeyError for a widget missing from `values`, IndexError for a combo box index past its choices."""
    data = options.to_dict()
    for widget, (name, prop) in panel_widgets().items():
        value = values[widget]
        if prop == "currentIndex":
            value = OPTIONS[name].choices[value]
        elif isinstance(data[name], list):
            value = [t.strip() for t in value.split(_LIST_SEPARATOR) if t.strip()]
        data[name] = value
    return data


def profile_rows(settings: dict) -> list[tuple[str, str, object]]:
    """[(label, setting, value)] of a profile's settings (DeidentifyOptions.to_dict, or a report's
    "profile"), in their order: the report's profile table. A setting this version does not know
    (an older report's) is labelled by its name."""
    return [(OPTIONS[name].label if name in OPTIONS else name, name, value) for name, value in settings.items()]


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


def _closest_setting(name: str, known) -> str | None:
    """The profile setting a wrong key most likely means: a command-line option's spelling (--retain-dates,
    retain-uids) read as the setting it sets (dates, retain_uids), else the closest known name."""
    spelled = name.strip().lstrip("-").replace("-", "_")
    if spelled in _FLAG_SETTINGS:
        return _FLAG_SETTINGS[spelled]
    if spelled in known:
        return spelled
    return next(iter(difflib.get_close_matches(spelled, known, n=1)), None)


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
