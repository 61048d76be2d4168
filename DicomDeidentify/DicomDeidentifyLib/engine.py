"""The de-identification engine: applies PS3.15 Annex E to one pydicom Dataset.

`Deidentifier` holds what is shared by every file (options, key, tables);
`_FileRun` holds what belongs to one file (its pseudonym, UID map, cleaner,
result) and walks the data set, at every nesting depth:

  * attributes listed in Table E.1-1: the action the enabled options resolve to;
  * private attributes: removed, unless Retain Safe Private finds them in
    Table E.3.10-1 under their private creator;
  * overlay and curve groups (60xx, 50xx): removed whole, or cleaned under
    Clean Graphics;
  * everything else by VR: dates and times by the date option, UIDs that are
    not the standard's own are replaced, person names emptied, unknown public
    attributes removed, free text inside a replaced (D) or cleaned (C)
    sequence replaced or cleaned.

Pixel data is never decoded: compressed pixel data keeps its bytes.
"""
from __future__ import annotations

import logging
from functools import lru_cache

from pydicom import config
from pydicom.datadict import dictionary_VR, keyword_for_tag, private_dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag
from pydicom.values import convert_UI

from . import actions as A
from .character_sets import CHARACTER_SET_VRS, fit_character_set, terms_of
from .dates import shift_value
from .dicom_writer import dictionary_vr_or_empty, plain_text_value
from .errors import error_kind
from .element_decoding import KNOWN_VRS, Undecodable, decode_as, looks_like_sequence, plain_vr, stored_bytes
from .dummies import DATE_TIME_VRS, DUMMY_CODE, TEXT_VRS, dummy_for, is_code_sequence
from .keyed_hash import KeyedHasher
from . import raw_values
from .markers import add_deidentification_markers
from .output_check import protected_kind
from .pixel_stage import PixelStage
from .options import DateMode, DeidentifyOptions, IdentityMode
from .output_fingerprint import settings_fingerprint
from .pseudonyms import Pseudonymizer, patient_identity
from .results import SKIPPED, Change, FileResult, ReviewItem
from .tables import profile_table, safe_private_table
from .text_cleaner import IDENTIFYING_KEYWORDS, TextCleaner
from .uids import UidMapper, is_standard_uid, names_no_instance

logger = logging.getLogger(__name__)

# How free text not listed in Table E.1-1 is treated, depending on the sequence it sits in.
NORMAL, STRICT, CLEAN = "normal", "strict", "clean"

PATIENT_NAME, PATIENT_ID = 0x00100010, 0x00100020
IDENTITY_TAGS = frozenset({PATIENT_NAME, PATIENT_ID})
PIXEL_DATA = 0x7FE00010
# Coded-entry attributes are vocabulary, not free text: never replaced inside a D sequence.
CODE_KEYWORDS = frozenset({
    "CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning", "LongCodeValue",
    "URNCodeValue", "ContextIdentifier", "ContextUID", "MappingResource", "MappingResourceName",
    "ContextGroupVersion", "ContextGroupExtensionFlag", "ContextGroupLocalVersion",
    "ContextGroupExtensionCreatorUID", "MeasurementUnitsCodeSequence",
})
RETAIN_COLUMNS = frozenset({"retain_safe_private", "retain_uids", "retain_device_identity",
                            "retain_institution_identity", "retain_patient_characteristics",
                            "retain_long_full_dates"})
MAX_SHOWN = 200
# Removals a person should hear about: the column value the decision carries -> the review reason.
UNKNOWN, ENCRYPTED = "unknown public attribute", "encrypted original values"
REVIEWED_REMOVALS = {UNKNOWN: "attribute not in the DICOM dictionary; removed",
                     ENCRYPTED: "holds encrypted original values, which cannot be inspected; removed"}
STRING_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
                        "UI", "UR", "UT"})
CLEANABLE_VRS = TEXT_VRS | {"AE"}   # AE titles are free text too (a station named after a person)
# Top-level attributes the walk, the markers or the reader look at or write: always parsed.
CONTEXT_TAGS = frozenset(tag_for_keyword(k) for k in (
    "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
    "SeriesInstanceUID", "SOPClassUID", "SOPInstanceUID", "SpecificCharacterSet", "BurnedInAnnotation",
    "PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence",
    "LongitudinalTemporalInformationModified", "PatientSpeciesDescription", "PatientSpeciesCodeSequence",
    "ResponsiblePerson", "ResponsibleOrganization", "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel",
    "BitsAllocated", "PhotometricInterpretation",
    # what the burned-in text risk and the region rules look at (burned_in_risk, region_rules)
    "Modality", "ImageType", "ConversionType", "Manufacturer", "ManufacturerModelName",
    # what pydicom needs to resolve ambiguous VRs ('US or SS', 'OB or OW') when writing
    "PixelRepresentation", "WaveformBitsAllocated") + IDENTIFYING_KEYWORDS)


class Deidentifier:
    """De-identifies data sets with one profile and one key. Reuse it for many files."""

    def __init__(self, options: DeidentifyOptions, key: bytes, pixel_cache=None):
        """`pixel_cache`: a folder (pixel_cache.cache_folder, beside the key) where Clean Pixel Data
        keeps its results for the next run; None: nothing kept."""
        self.options = options
        self.hasher = KeyedHasher(key)
        self.pseudonymizer = Pseudonymizer(self.hasher)
        self.table = profile_table()
        self.safe_private = safe_private_table(options.extra_safe_private)
        self.resolver = A.ActionResolver(options)
        # Before/after records hold original values and cost time: reports need only a sample.
        self.record_changes = True
        cache = None
        if pixel_cache is not None and options.clean_pixel_data:
            from .pixel_cache import PixelCache
            cache = PixelCache(pixel_cache, self.hasher)
        self.pixel_stage = PixelStage(options, cache)   # burned-in text, per file (used by the pipeline)
        # Decisions depend on tag, VR and options only: made once per kind of element, not per file.
        self._decisions: dict = {}
        self._unparsed: dict = {}
        self._routes: dict = {}   # (tag, stored VR, mode) -> route()
        # The settings an output was made with, in its name (pipeline.output_path): a re-run finds its
        # output only when input, profile, key, region rules, tool and tables are the same.
        self.settings_digest = self.hasher.digest(
            "settings", settings_fingerprint(options, self.pixel_stage.rules)).hex()
        # Fixed values outside ASCII may need another character set: text is then parsed, not copied.
        self.refits_character_set = options.identity is IdentityMode.FIXED and not (
            options.fixed_patient_name.isascii() and options.fixed_patient_id.isascii())
        # Keyed hashes already computed, shared by the files of a run (see UidMapper, pseudonym).
        self.uid_cache: dict = {}
        self._pseudonyms: dict = {}
        self._contexts: dict = {}   # the identity's bytes -> its texts (_FileRun._context_key)

    def map_uid(self, uid: str) -> str:
        """The UID that `uid` becomes (itself under Retain UIDs)."""
        return uid if self.options.retain_uids or is_standard_uid(uid) else UidMapper(self.hasher).map(uid)

    def pseudonym(self, identity: str, sex: str):
        """The patient's pseudonym, computed once per patient and run (every file of a series asks)."""
        key = (identity, sex)
        found = self._pseudonyms.get(key)
        if found is None:
            if len(self._pseudonyms) >= 10_000:
                self._pseudonyms.clear()
            found = self._pseudonyms[key] = self.pseudonymizer.pseudonym(identity, sex, self.options.pseudonym_keeps_sex)
        return found

    def unparsed_action(self, tag: int, vr: str):
        """"keep" or "remove" for a top-level element whose value the walk would never look at,
        None when it must be parsed (changed, walked, reviewed, or read for context)."""
        key = (tag, vr)
        found = self._unparsed.get(key, _UNDECIDED)   # one look-up: this runs for every element read
        if found is _UNDECIDED:
            found = self._unparsed[key] = self._unparsed_action(tag, vr)
        return found

    def sampled_unparsed_action(self, tag: int, vr: str):
        """For files whose changes the report shows: every element is parsed (the report lists
        original values) except pixel data kept as it is, whose value no report shows."""
        return "keep" if tag == PIXEL_DATA and self.unparsed_action(tag, vr) == "keep" else None

    def _unparsed_action(self, tag: int, vr: str):
        if tag in CONTEXT_TAGS or tag >> 16 == 0x0002:
            return None
        if (tag >> 16) % 2:
            return None if self.options.retain_safe_private else "remove"
        if tag & 0xFFFF == 0:
            return "remove"   # group lengths
        if self.refits_character_set and vr in CHARACTER_SET_VRS:
            return None   # may have to be re-encoded for the fixed values (character_sets)
        if not vr or vr in ("SQ", "UN") or " " in vr or _stored_vr_differs(tag, vr):
            # sequences are walked; unknown or ambiguous VRs go the careful way, and pydicom
            # gives an element read as UN its dictionary VR, which the bytes would not have; an
            # element stored as another VR than its dictionary's is judged as what it is (_public)
            return None
        action, column = self.decide(tag, vr)
        if action == A.KEEP and column not in RETAIN_COLUMNS:
            return "keep"
        if action == A.REMOVE and column not in REVIEWED_REMOVALS:
            return "remove"
        if action == "overlay" and not self.options.clean_graphics:
            return "remove"
        return None

    def route(self, tag: int, stored_vr, mode: str) -> tuple:
        """(VR, action, column, keyword) of a public element from its tag and the VR it is stored
        with (None in implicit VR), as the walk judges it (_FileRun._public); action None when the
        element must first be decoded as its dictionary VR (stored as UN, as no VR, or as another
        VR than the dictionary's). Kept per (tag, stored VR, mode): the files of a series repeat them."""
        vr = _vr_of(_Stored(stored_vr), tag)
        if vr == "UN" or vr not in KNOWN_VRS or _stored_vr_differs(tag, vr):
            found = (vr, None, None, keyword_for_tag(tag))
        else:
            found = (vr, *self.decide(tag, vr, mode), keyword_for_tag(tag))
        if len(self._routes) >= 65536:
            self._routes.clear()
        self._routes[(tag, stored_vr, mode)] = found
        return found

    def decide(self, tag: int, vr: str, mode: str = "normal") -> tuple:
        """(action, column) for a public element, from its tag and VR alone (never its value).

        The file walk uses it for every element; the reader uses it to leave out, before
        parsing, top-level elements that are only kept or removed (see dicom_io.read_source).
        """
        key = (tag, vr, mode)
        found = self._decisions.get(key)
        if found is None:
            found = self._decisions[key] = self._decide(tag, vr, mode)
        return found

    def _decide(self, tag: int, vr: str, mode: str) -> tuple:
        if tag in IDENTITY_TAGS:
            return "identity", "identity"
        if _is_repeating_group(tag >> 16):
            return "overlay", "overlay"
        row = self.table.lookup(tag)
        if row is not None:
            action, column = self.resolver.resolve(row)
            if action == A.DUMMY and vr == "UI":
                # A dummy UID would be one value for every file (Annotation Group UID): a new
                # UID is as valid and keeps references between objects consistent.
                return A.NEW_UID, column
            if mode == CLEAN and action == A.DUMMY and vr in TEXT_VRS and keyword_for_tag(tag) not in CODE_KEYWORDS:
                # Free text inside a sequence an option cleans (text objects under Clean Graphics,
                # SR text under Clean Structured Content) is cleaned, not replaced by a dummy.
                return A.CLEAN, f"free text in a {mode} sequence"
            return action, column
        if tag in A.UNINSPECTABLE:
            return A.REMOVE, ENCRYPTED
        return self._unlisted_action(tag, vr, keyword_for_tag(tag), mode)

    def _unlisted_action(self, tag: int, vr: str, keyword: str, mode: str) -> tuple:
        if not keyword and tag != PIXEL_DATA:
            return A.REMOVE, UNKNOWN
        if vr == "SQ":
            return A.KEEP, "unlisted"
        if vr in DATE_TIME_VRS:
            # E.1.1: dates and times not in the table are handled by their VR.
            return {DateMode.FULL: A.KEEP, DateMode.MODIFIED: A.CLEAN}.get(self.options.dates, A.EMPTY), "date by VR"
        if vr == "UI":
            if self.options.retain_uids or names_no_instance(keyword):
                return A.KEEP, "unlisted"
            return A.NEW_UID, "UID by VR"
        if vr == "PN":
            return (A.EMPTY if mode == NORMAL else A.DUMMY), "person name by VR"
        if vr in TEXT_VRS and mode != NORMAL and keyword not in CODE_KEYWORDS:
            return (A.DUMMY if mode == STRICT else A.CLEAN), f"free text in a {mode} sequence"
        return A.KEEP, "unlisted"

    def deidentify(self, dataset: Dataset, source: str = "", protected=None) -> FileResult:
        """De-identify `dataset` in place (not its file meta: see dicom_io) and say what changed.
        `protected` (an output_check.ProtectedValues) is given every value removed or replaced."""
        result = FileResult(source)
        if self.options.skip_deidentified and str(dataset.get("PatientIdentityRemoved", "")).upper() == "YES":
            result.status, result.reason = SKIPPED, "already de-identified (Patient Identity Removed = YES)"
            return result
        _FileRun(self, dataset, result, protected).run()
        return result


_UNDECIDED = object()   # unparsed_action's cache: not yet decided (None is a decision)
_CONTEXT_IDENTITY_TAGS = tuple(tag_for_keyword(keyword) for keyword in (
    "PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "StudyInstanceUID", "PatientSex"))
CONTEXT_CACHE_SIZE = 10_000   # identities of a run's series (bounded: cleared when full)


class _FileRun:
    def __init__(self, engine: Deidentifier, dataset: Dataset, result: FileResult, protected=None):
        self.engine = engine
        self.options = engine.options
        self.dataset = dataset
        self.result = result
        self.protected = protected
        if protected is not None:
            protected.encoding = dataset._character_set
        self.uids = UidMapper(engine.hasher, engine.uid_cache)
        self.written: dict = {}   # keyword -> value written from the user (--identity fixed)
        self.written_nested: list = []   # (data sets from the top down, path, value) in sequence items
        self.cleaner = TextCleaner.from_dataset(dataset) if self._cleans_text() else None
        # The original identity, for the linkage store of key holders (never written to an output).
        # The files of a series hold the same bytes for it: decoded once (see _context_key).
        key = self._context_key()
        found = engine._contexts.get(key) if key is not None else None
        if found is None:
            original = {"patient_id": self._context_text("PatientID"),
                        "issuer": self._context_text("IssuerOfPatientID"),
                        "name": self._context_text("PatientName"),
                        "birth_date": self._context_text("PatientBirthDate")}
            identity = patient_identity(original["patient_id"], original["issuer"], original["name"],
                                        original["birth_date"], fallback=self._context_text("StudyInstanceUID"))
            found = (original, identity, self._context_text("PatientSex"))
            if key is not None:
                if len(engine._contexts) >= CONTEXT_CACHE_SIZE:
                    engine._contexts.clear()
                engine._contexts[key] = found
        self.original = dict(found[0])
        self.pseudonym = engine.pseudonym(found[1], found[2])

    def _context_key(self):
        """The bytes the identity is decoded from (the context elements as read, VR and value, and
        the character set), or None when one of them is not plainly raw: decoded already, or
        stored as another VR than its dictionary's or as UN (_context_text decodes such an element
        in place, which the walk then sees). The same key gives the same texts: pydicom's decoding
        depends on nothing else."""
        dataset, parts = self.dataset, []
        for tag in _CONTEXT_IDENTITY_TAGS:
            try:
                raw = dataset.get_item(tag)
            except KeyError:
                raw = None
            if raw is None:
                parts.append(None)
                continue
            if not getattr(raw, "is_raw", False) or (raw.value is None and raw.length):
                return None   # (a value not read yet, deferred: its bytes are not here to compare)
            vr = plain_vr(raw.VR)
            if vr and (vr == "UN" or vr not in KNOWN_VRS or _stored_vr_differs(tag, vr)):
                return None
            parts.append((vr, raw.value, raw.is_little_endian))
        charset = dataset._character_set
        return tuple(parts), tuple(charset) if isinstance(charset, (list, tuple)) else charset

    def _context_text(self, keyword: str) -> str:
        """A top-level value the run reads before the walk, as text. One stored as another VR than
        its dictionary's (a name as FD or OB) is decoded as the dictionary VR first, in place (the
        walk then judges it like any other); '' when its bytes are no value of that VR (the walk
        removes it with a review item) or pydicom cannot decode it."""
        dataset, tag = self.dataset, tag_for_keyword(keyword)
        if tag not in dataset:
            return ""
        raw = dataset.get_item(tag)
        vr = plain_vr(getattr(raw, "VR", None))
        if vr and vr != "UN" and vr in KNOWN_VRS and _stored_vr_differs(tag, vr):
            try:
                dataset[tag] = decode_as(raw, dictionary_vr_or_empty(tag), dataset._character_set, stored_as_un=False)
            except Undecodable:
                return ""
        try:
            return _text(dataset[tag].value)
        except Exception:   # undecodable: removed by the walk, which says so
            return ""

    def _cleans_text(self) -> bool:
        o = self.options
        return o.clean_descriptors or o.clean_structured_content or o.clean_graphics

    # -- the walk -------------------------------------------------------------------------
    def run(self) -> None:
        self._review_unimplemented_options()
        self._walk(self.dataset, "", NORMAL, [])
        method = add_deidentification_markers(self.dataset, self.options)
        self._fit_character_set()
        if self.protected is not None:   # what the markers say is ours, not the input's
            self.protected.wrote(method)
            self.protected.wrote([item.CodeMeaning for item in self.dataset.DeidentificationMethodCodeSequence])
        self.result.sop_class_uid = raw_values.text(self.dataset, 0x00080016)   # SOP Class UID, left raw
        self.result.uid_map = dict(self.uids.mapped)
        self.result.patient = {
            "pseudonym_name": self._identity_value(PATIENT_NAME),
            "pseudonym_id": self._identity_value(PATIENT_ID),
            "identity_hash": self.pseudonym.identity_hash,
            "date_offset_days": self.pseudonym.date_offset_days if self.options.dates is DateMode.MODIFIED else 0,
            "original": self.original,
        }

    def _walk(self, dataset: Dataset, path: str, mode: str, parents: list) -> None:
        used_blocks: set = set()   # (group, block) of private creators still needed here
        level = (dataset, used_blocks)
        creators = []
        chain = parents + [level]
        # items() as stored: raw elements stay undecoded until an action needs their value
        for tag, raw in list(dataset.items()):
            if (tag >> 16) & 1:   # private
                if 0x0010 <= tag & 0xFFFF <= 0x00FF:
                    creators.append(tag)   # decided once the block's elements are
                else:
                    self._private(dataset, tag, path, mode, chain)
                continue
            self._public(dataset, tag, raw, path, mode, chain)
        for tag in creators:
            if (tag.group, tag.element) not in used_blocks:
                self._removed(path, tag, "LO", "X", lambda: _shown_raw(dataset.get_item(tag)))
                del dataset[tag]

    def _public(self, dataset: Dataset, tag, raw, path: str, mode: str, parents: list) -> None:
        """Decide from the tag and VR alone; decode the value only when it is changed or walked."""
        number = int(tag)   # plain ints: pydicom's Tag comparisons are slow in a hot loop
        group = number >> 16
        if number & 0xFFFF == 0 or group == 0x0002:
            del dataset[tag]   # group lengths are recomputed; file meta is rebuilt by dicom_io
            return
        # What the tag and the stored VR alone decide, made once per kind of element (engine.route)
        route = self.engine._routes.get((number, raw.VR, mode))
        if route is None:
            route = self.engine.route(number, raw.VR, mode)
        vr, action, column, keyword = route
        if action is None:
            # Stored as UN, with VR bytes that are no VR ('LK'), or as any VR other than the
            # dictionary's (a date as OB, a name as FD, a text as SQ): judged as what it is (PS3.5
            # 6.2.2), not as it is stored, or removed when its bytes are no value of that VR (a tag
            # no dictionary knows is removed as unknown).
            vr = self._decode_un(dataset, tag, raw, path, stored_as_un=vr == "UN")
            if vr is None:
                return
            raw = dataset.get_item(tag)
            action, column = self.engine.decide(number, vr, mode)
        if action == A.REMOVE and number in A.TYPE_2_FOR_ANIMALS and self._is_animal():
            action = A.EMPTY
        if action == A.KEEP and vr != "SQ" and column not in RETAIN_COLUMNS:
            return   # kept as read: never decoded, written back byte for byte
        if action == A.REMOVE or (action == "overlay" and not self.options.clean_graphics):
            if column in REVIEWED_REMOVALS:
                self._review(path, tag, keyword, vr, REVIEWED_REMOVALS[column])
            self._removed(path, tag, vr, "X", lambda: _shown_raw(raw), keyword, raw)
            del dataset[tag]
            return
        if not self.engine.record_changes and vr in STRING_VRS and self._replaced_undecoded(
                dataset, tag, raw, vr, action, f"{path}{keyword or _tag_text(number)}", parents):
            return
        try:
            element = dataset[tag]
        except Exception as error:  # a value pydicom cannot decode: it can't be judged, so it goes
            del dataset[tag]
            problem = error_kind(error)   # never str(error): pydicom's texts quote the value
            self._removed(path, tag, vr, "X", lambda: f"<undecodable: {problem}>", keyword, raw)
            self._review(path, tag, keyword, vr, f"could not be decoded ({problem}); removed")
            return
        if action == "identity":
            self._replace_identity(element, path, parents)
        elif action == "overlay":
            self._overlay_or_curve(element, path)
        else:
            self._apply(dataset, element, action, column, path, mode, parents)

    def _decode_un(self, dataset: Dataset, tag, raw, path: str, stored_as_un: bool = True):
        """Put the dictionary-VR decoding of an element stored as UN (or as a VR other than
        the dictionary's) in its place and return that VR; '' for a tag no dictionary knows
        (removed as unknown by the caller's decision); None when it was removed because its
        bytes are not a value of that VR."""
        vr = dictionary_vr_or_empty(int(tag))
        if not vr or vr == "UN":
            return vr
        if " or " in vr:   # 'US or SS', 'OB or OW': pydicom settles these as in implicit VR files
            vr = ""
        try:
            element = decode_as(raw, vr, dataset._character_set, stored_as_un=stored_as_un)
        except Undecodable as error:
            keyword = keyword_for_tag(tag)
            problem = str(error)
            del dataset[tag]
            self._removed(path, tag, vr, "X", lambda: _shown_raw(raw), keyword, raw)
            stored = plain_vr(getattr(raw, "VR", None)) or "UN"
            self._review(path, tag, keyword, stored, f"stored as {stored} and not a valid {vr or 'value'} "
                         f"({problem}); removed")
            return None
        dataset[tag] = element
        return plain_vr(element.VR)

    def _replaced_undecoded(self, dataset: Dataset, tag, raw, vr: str, action: str, where: str,
                            parents: list) -> bool:
        """Replace a text element whose old value the action never looks at (Z, D, the identity,
        UIDs read straight from the bytes) without pydicom decoding it first: decoding is most
        of the engine's time on a typical image. False for anything else (then decoded as usual).
        Files sampled for the report take the usual way, which records the old values."""
        if action in (A.EMPTY, A.REMOVE_OR_EMPTY):
            value = None
        elif action == A.DUMMY:
            value = dummy_for(vr)
        elif action == "identity":
            value = self._written_identity(tag, where, parents)
        elif action in (A.NEW_UID, A.UIDS_INSIDE) and vr == "UI" and getattr(raw, "is_raw", False) and raw.value:
            values = _values(convert_UI(raw.value, raw.is_little_endian))   # as pydicom decodes a UI
            new = [v if is_standard_uid(v) else self.uids.map(v) for v in values]
            if new == values:
                return True   # nothing to change: the element stays as read
            value = new if len(new) != 1 else new[0]
        else:
            return False
        # Values made here (empty, dummies, pseudonyms, new UIDs) are valid for their VR by construction.
        if self.protected is not None:
            old = raw
            if dataset is not self.dataset and dataset._character_set != self.dataset._character_set:
                # an item with a character set of its own: the check decodes raw bytes as the top level's
                try:
                    old = dataset[tag].value
                except Exception:
                    pass
            self.protected.add(where, protected_kind(int(tag), vr), old)
            self.protected.wrote(value)
        data = plain_text_value(vr, value) if getattr(raw, "is_raw", False) else None
        if data is not None:
            # set as the bytes the writer would encode (dicom_writer.plain_text_value): pydicom
            # converts them only if something reads the value (the output's name does, for three)
            dataset[tag] = RawDataElement(BaseTag(tag), vr, len(data), data, 0, raw.is_implicit_VR,
                                          raw.is_little_endian)
        else:
            dataset[tag] = DataElement(tag, vr, value, validation_mode=config.IGNORE)
        self.result.replaced.append(where)
        return True

    def _is_animal(self) -> bool:
        return any(marker in self.dataset for marker in A.ANIMAL_MARKERS)

    def _apply(self, dataset, element, action, column, path, mode, parents) -> None:
        tag, vr = element.tag, plain_vr(element.VR)
        if action == A.KEEP:
            if vr == "SQ":
                self._recurse(element, path, mode, parents)
            if column in RETAIN_COLUMNS:
                self.result.kept.append(_path(path, element))
                if vr in TEXT_VRS or vr == "PN":
                    self._review(path, tag, element.keyword, vr, f"kept by option {column}; may carry free text",
                                 _shown(element.value), kept=True)
            return
        if vr == "SQ":
            if action == A.REMOVE_OR_EMPTY and tag not in A.TYPE_2_SEQUENCES:
                self._removed(path, tag, vr, "X", lambda: _shown(element.value), element.keyword, element)
                del dataset[tag]
                return
            self._sequence_action(element, action, path, mode, parents)
            return
        if action in (A.EMPTY, A.REMOVE_OR_EMPTY):
            self._set(element, path, "Z", None)
        elif action == A.DUMMY:
            self._set(element, path, "D", dummy_for(vr))
        elif action in (A.NEW_UID, A.UIDS_INSIDE):
            if vr == "UI":
                self._replace_uids(element, path)
            else:
                self._set(element, path, "Z", None)
        elif action == A.CLEAN:
            self._clean(element, path)
        else:
            raise ValueError(f"unknown action {action!r} for {tag}")

    def _sequence_action(self, element, action, path, mode, parents) -> None:
        if action in (A.EMPTY, A.REMOVE_OR_EMPTY):
            self._set(element, path, "Z", Sequence([]))
        elif action == A.DUMMY and is_code_sequence(int(element.tag)):
            # A code sequence's items are its value: a staff or institution code and the name in
            # its Code Meaning are what D replaces (PS3.15 E.1), not vocabulary to keep.
            self._set(element, path, "D", Sequence([_dummy_code_item()]))
        elif action == A.DUMMY:
            # A dummy sequence keeps its structure; free text inside is replaced.
            self.result.replaced.append(_path(path, element))
            self._recurse(element, path, STRICT, parents)
        elif action == A.CLEAN:
            self.result.replaced.append(_path(path, element))
            self._recurse(element, path, CLEAN, parents)
        else:  # U* (and U, which the table gives no sequence): UIDs inside are replaced by their rows
            self._recurse(element, path, mode, parents)

    def _recurse(self, element, path, mode, parents) -> None:
        base = _path(path, element)
        for index, item in enumerate(element.value or []):
            self._walk(item, f"{base}[{index}].", mode, parents)

    # -- actions ---------------------------------------------------------------------------
    def _set(self, element: DataElement, path: str, action: str, value) -> None:
        if self.protected is not None:
            vr = plain_vr(element.VR)
            # a sequence goes to the check as an element of its own (the items it held), since
            # this one gets the new items
            old = DataElement(element.tag, "SQ", element.value) if vr == "SQ" else element.value
            self.protected.add(_path(path, element), protected_kind(int(element.tag), vr), old)
            self.protected.wrote(_texts_written(value))
        original = _shown(element.value) if self.engine.record_changes else ""
        element.value = value
        self.result.replaced.append(_path(path, element))
        if self.engine.record_changes:
            self.result.changes.append(Change(_path(path, element), element.keyword, action, original,
                                              _shown(element.value)))

    def _replace_uids(self, element: DataElement, path: str) -> None:
        values = _values(element.value)
        new = [v if is_standard_uid(v) else self.uids.map(v) for v in values]
        if new != values:
            self._set(element, path, "U", new if len(new) != 1 else new[0])

    def _clean(self, element: DataElement, path: str) -> None:
        vr = plain_vr(element.VR)
        if vr in ("DA", "DT", "TM"):
            if self.options.dates is DateMode.MODIFIED:
                self._shift(element, path)
            elif self.options.dates is DateMode.REMOVE:
                self._set(element, path, "Z", None)
            return
        if vr == "PN":
            self._set(element, path, "D", dummy_for(vr))
            return
        if vr in CLEANABLE_VRS and self.cleaner is not None:
            values = _values(element.value)
            cleaned = [self.cleaner.clean(v) for v in values]
            if cleaned != values:
                self._set(element, path, "C", cleaned if len(cleaned) != 1 else cleaned[0])
            self._review(path, element.tag, element.keyword, vr, "free text kept after cleaning",
                         _shown(element.value), kept=True)
            return
        if vr in TEXT_VRS:   # C without a clean option can't happen from the table; be safe
            self._set(element, path, "D", dummy_for(vr))
            return
        self._review(path, element.tag, element.keyword, vr, "kept under a clean option; not free text",
                     _shown(element.value), kept=True)

    def _shift(self, element: DataElement, path: str) -> None:
        days = self.pseudonym.date_offset_days
        values = _values(element.value)
        shifted = [shift_value(element.VR, v, days) if v else v for v in values]
        if any(s is None for s in shifted):
            self._set(element, path, "Z", None)
            self._review(path, element.tag, element.keyword, plain_vr(element.VR), "date could not be shifted; emptied")
        elif shifted != values:
            self._set(element, path, "shift", shifted if len(shifted) != 1 else shifted[0])

    def _replace_identity(self, element: DataElement, path: str, parents: list) -> None:
        self._set(element, path, "identity", self._written_identity(element.tag, _path(path, element), parents))

    def _written_identity(self, tag, where: str, parents: list) -> str:
        """The identity value for `tag`, noted when it is the user's (the character set of the data
        set written into, `parents[-1]`, or of the item above it that declares one, must hold it)."""
        value = self._identity_value(tag)
        if self.options.identity is IdentityMode.FIXED:
            if len(parents) <= 1:
                self.written[keyword_for_tag(tag)] = value
            else:
                self.written_nested.append(([level[0] for level in parents], where, value))
        return value

    def _fit_character_set(self) -> None:
        """The user's fixed values in a character set that holds them (character_sets); raises
        CharacterSetError, which fails the file, when none can be declared."""
        if not self.written and not self.written_nested:
            return
        before = "\\".join(terms_of(self.dataset))
        changed = fit_character_set(self.dataset, self.written, self.written_nested)
        if changed:
            logger.debug("%s", changed)
            if self.engine.record_changes:
                self.result.changes.append(Change("(0008,0005)", "SpecificCharacterSet", "character set",
                                                  before, "\\".join(terms_of(self.dataset))))

    def _identity_value(self, tag) -> str:
        mode = self.options.identity
        if mode is IdentityMode.PSEUDONYM:
            return self.pseudonym.name if tag == PATIENT_NAME else self.pseudonym.patient_id
        if mode is IdentityMode.FIXED:
            return self.options.fixed_patient_name if tag == PATIENT_NAME else self.options.fixed_patient_id
        return ""

    def _overlay_or_curve(self, element: DataElement, path: str) -> None:
        """60xx and 50xx groups under Clean Graphics (without it they are removed whole, since
        an overlay without its data is invalid): text cleaned, bitmaps kept for review."""
        if element.VR in TEXT_VRS or element.VR == "PN":
            self._clean(element, path)
        elif element.tag.element == 0x3000 or element.tag.group & 0xFF00 == 0x5000:
            self._review(path, element.tag, element.keyword, plain_vr(element.VR),
                         "overlay/curve data kept under Clean Graphics: check it for burned-in text", kept=True)

    def _private(self, dataset: Dataset, tag, path: str, mode: str, parents: list) -> None:
        if tag.element >= 0x1000 and self.options.retain_safe_private:
            found = self._private_creator(dataset, tag, parents)
            if found is not None:
                creator, used_blocks = found
                if self.engine.safe_private.is_safe(tag.group, creator, tag.element):
                    raw = dataset.get_item(tag)
                    try:
                        element = self._safe_private_element(tag, raw, creator, dataset._character_set)
                    except Undecodable as error:
                        problem = str(error)
                        self._removed(path, tag, "", "X", lambda: _shown_raw(raw), "", raw)
                        self._review(path, tag, creator, plain_vr(getattr(raw, "VR", None)),
                                     f"safe private attribute (creator '{creator}') whose value could not be "
                                     f"parsed ({problem}); removed")
                        del dataset[tag]
                        return
                    dataset[tag] = element
                    used_blocks.add((tag.group, tag.element >> 8))
                    vr = plain_vr(element.VR)
                    self.result.kept.append(_path(path, element))
                    self._review(path, tag, creator, vr,
                                 f"private attribute kept as safe (Table E.3.10-1, creator '{creator}')",
                                 _shown(element.value), kept=True)
                    if vr == "SQ":
                        self._recurse(element, path, mode, parents)
                    return
        raw = dataset.get_item(tag)
        self._removed(path, tag, "", "X", lambda: _shown_raw(raw), "", raw)
        del dataset[tag]

    def _safe_private_element(self, tag, raw, creator: str, encoding) -> DataElement:
        """A safe private attribute decoded as what it is, never kept as bytes nobody parsed:
        the VR the file states (explicit VR), else the one Table E.3.10-1 gives (which wins
        over pydicom's private dictionary), else pydicom's; a value of undefined length, or
        bytes starting with an item where no VR is known, as a sequence. Raises Undecodable."""
        stored = plain_vr(getattr(raw, "VR", None))
        if not getattr(raw, "is_raw", False) and stored not in ("UN", ""):
            return raw   # decoded while read: a sequence of undefined length pydicom found items in
        if stored and stored != "UN":
            vr = stored
        else:
            vr = self.engine.safe_private.vr(tag.group, creator, tag.element)
            vr = {"OW/OB": "OB"}.get(vr, vr) or _private_dictionary_vr(tag, creator)
        bytes_stored = stored_bytes(raw)
        if bytes_stored is None:
            raise Undecodable("its value is not bytes")
        if vr in ("", "UN") and looks_like_sequence(bytes_stored[0], bytes_stored[1]):
            vr = "SQ"
        if not vr or vr == "UN" or " " in vr:
            raise Undecodable("no VR is known for it")
        return decode_as(raw, vr, encoding, stored_as_un=stored == "UN")

    def _private_creator(self, dataset: Dataset, tag, parents: list):
        """The private creator of tag's block, from the same item or (if allowed) an enclosing one."""
        creator_tag = Tag(tag.group, tag.element >> 8)
        levels = parents[::-1] if self.options.allow_creator_on_higher_level else parents[-1:]
        for level_dataset, used_blocks in levels:
            if creator_tag in level_dataset:
                value = level_dataset[creator_tag].value
                if isinstance(value, bytes):
                    value = value.decode("latin-1")
                return str(value).strip().rstrip("\x00"), used_blocks
        return None

    # -- bookkeeping -----------------------------------------------------------------------
    def _removed(self, path, tag, vr, action, original, keyword="", element=None) -> None:
        """`original` is a callable: the value is only formatted for the sampled files.
        `element` (as read) goes to the output check."""
        where = f"{path}{keyword or _tag_text(tag)}"
        self.result.removed.append(where)
        if element is not None and self.protected is not None:
            self.protected.add(where, protected_kind(int(tag), vr or plain_vr(getattr(element, "VR", None))),
                               element, private=bool((int(tag) >> 16) & 1))
        if self.engine.record_changes:
            self.result.changes.append(Change(where, keyword, action, original(), ""))

    def _review(self, path, tag, keyword, vr, reason, value="", kept=False) -> None:
        self.result.review.append(ReviewItem(f"{path}{keyword if keyword and not Tag(tag).is_private else _tag_text(tag)}",
                                             keyword or "", vr or "", reason, value, kept))

    def _review_unimplemented_options(self) -> None:
        # Burned-in text is judged per file by the pipeline's pixel stage (pixel_stage.py).
        for name in self.options.requested_but_not_implemented():
            self._review("", PIXEL_DATA, "PixelData", "", f"{name} was requested but is not implemented yet:"
                         " the option is not claimed")


def _dummy_code_item() -> Dataset:
    item = Dataset()
    for tag, vr, value in DUMMY_CODE:
        item[tag] = DataElement(tag, vr, value, validation_mode=config.IGNORE)
    return item


def _texts_written(value):
    """What the engine writes, as the output check's list of its own values: the text values of
    a new sequence's items, else the value itself."""
    if isinstance(value, Sequence):
        return [element.value for item in value for element in item.iterall() if element.VR != "SQ"]
    return value


def _is_repeating_group(group: int) -> bool:
    return (0x5000 <= group <= 0x501E or 0x6000 <= group <= 0x601E) and group % 2 == 0


def _values(value) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    return [str(value)]


def _text(value) -> str:
    return "" if value is None else str(value)


def _tag_text(tag) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _path(path: str, element: DataElement) -> str:
    return f"{path}{element.keyword or _tag_text(element.tag)}"


def _shown(value) -> str:
    """A short text form of a value for reports."""
    if isinstance(value, DataElement):
        value = value.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (Sequence, list)) and value and isinstance(value[0], Dataset):
        return f"<sequence of {len(value)} items>"
    text = "\\".join(_values(value))
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def _shown_raw(raw, vr: str = "") -> str:
    """A report form of a possibly undecoded element, without paying for pydicom's conversion."""
    value = getattr(raw, "value", raw)
    vr = vr or getattr(raw, "VR", "") or ""
    if isinstance(value, (bytes, bytearray)):
        if vr in STRING_VRS and len(value) <= 4 * MAX_SHOWN:
            return _shown(value.decode("latin-1").rstrip(" \x00"))
        return f"<{len(value)} bytes>"
    return _shown(value)


@lru_cache(maxsize=65536)
def _stored_vr_differs(tag: int, vr: str) -> bool:
    """True when a public tag the dictionary knows is stored as a VR its entry does not allow
    ('US or SS' allows both); False for unknown tags and for a VR not stated (implicit VR)."""
    known = dictionary_vr_or_empty(tag)
    if not vr or not known or known == "UN":
        return False
    return vr not in known.split(" or ")


def _private_dictionary_vr(tag, creator: str) -> str:
    try:
        return private_dictionary_VR(tag, creator)
    except KeyError:
        return ""


class _Stored:
    """An element's stored VR alone, for _vr_of."""
    __slots__ = ("VR",)

    def __init__(self, vr):
        self.VR = vr


def _vr_of(raw, tag) -> str:
    """The element's VR: explicit in the file, else the dictionary's ('' for unknown tags)."""
    vr = getattr(raw, "VR", None)
    if vr:
        return plain_vr(vr)
    try:
        return dictionary_VR(tag)
    except KeyError:
        return ""
