"""What the scene scrubber keeps: by default nothing of what DICOM loading put into the scene.

Two options, as issue 4 asks:
  * keep_uids: UIDs stay (DICOM.*UID(s) attributes, item UIDs of studies and series), so that
    modules that look instances up in the DICOM database still work. The patient item's
    "DICOM" UID is the Patient ID: it goes all the same.
  * date_offset_days: DICOM.*Date values move back by that many days instead of going
    (intervals are kept; use the offset the DICOM de-identification used for that patient).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from .phi_attributes import is_identifying_attribute

PATIENT_LEVEL = "Patient"


@dataclass(frozen=True)
class ScrubPolicy:
    """What scrubbing keeps. keep_uids: keep DICOM UIDs (never the patient item's, which is the Patient ID);
    date_offset_days: shift DICOM.*Date attributes back by this many days instead of removing them (one
    that is not a full YYYYMMDD date is still removed). Every other DICOM.* attribute is removed (phi_attributes.is_identifying_attribute)."""
    keep_uids: bool = False
    date_offset_days: int | None = None

    def attribute(self, name: str, value: str):
        """The value to keep for an attribute, or None to remove it."""
        if not is_identifying_attribute(name):
            return value
        if self.keep_uids and name.endswith(("UID", "UIDs")):
            return value
        if self.date_offset_days is not None and name.endswith("Date"):
            return shift_date(value, self.date_offset_days)
        return None

    def item_uid(self, uid_name: str, level: str) -> bool:
        """Whether an item's UID stays ("DICOM" of a patient is the Patient ID: never)."""
        return self.keep_uids and level != PATIENT_LEVEL


def shift_date(value: str, days: int):
    """'20240130' moved back by `days`, or None (removed) if it is not a full date."""
    try:
        date = datetime.datetime.strptime(value.strip(), "%Y%m%d").date()
    except ValueError:
        return None
    return (date - datetime.timedelta(days=days)).strftime("%Y%m%d")


def shift_days_setting(value) -> int:
    """The "shift dates by (days)" setting as stored (QSettings gives a string, an int or None) as a
    whole number of days >= 0; anything else is 0, which removes dates: never a reason for a save
    to fail (review N7), and the stricter choice."""
    try:
        days = int(str(value).strip()) if value is not None else 0
    except ValueError:
        return 0
    return days if days > 0 else 0


def policy_from_settings(keep_uids, shift_days) -> ScrubPolicy:
    """The ScrubPolicy for the panel's stored settings: keep_uids as QSettings stores a bool
    ("true"/"false", or a bool), shift_days as shift_days_setting reads it."""
    days = shift_days_setting(shift_days)
    return ScrubPolicy(keep_uids=keep_uids is True or str(keep_uids).lower() == "true", date_offset_days=days or None)
