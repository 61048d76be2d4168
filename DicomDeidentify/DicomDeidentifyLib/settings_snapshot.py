"""Put a user's settings back exactly after a self-test: the values, and which keys existed.

Works on any object with QSettings' allKeys(), contains(key), value(key), setValue(key, value),
remove(key) and sync() (slicer.app.userSettings() returns a QSettings*: Slicer 5.8.0
Base/QTCore/qSlicerCoreApplication.h:403). Restoring a key that did not exist means removing it
again, not writing an empty value, and keys a test added under a snapshotted group go too.
"""
from __future__ import annotations


class SettingsSnapshot:
    """A snapshot of some keys of a QSettings-like object (`settings`), taken at construction, that
    restore() puts back: values of keys that existed, absence of keys that did not."""
    def __init__(self, settings, groups=(), keys=()):
        """Remember every key under `groups` ("DicomDeidentify" covers "DicomDeidentify/...") and the
        named `keys` (None entries ignored), present or not."""
        self.settings = settings
        self.prefixes = tuple(group.rstrip("/") + "/" for group in groups)
        names = {key for key in keys if key} | set(self._keysUnderGroups())
        self.saved = {key: (bool(settings.contains(key)), settings.value(key)) for key in names}

    def _keysUnderGroups(self):
        if not self.prefixes:
            return []
        return [key for key in self.settings.allKeys() if key.startswith(self.prefixes)]

    def restore(self) -> None:
        """Put the snapshotted keys back as they were: values rewritten, keys that did not exist removed
        (also keys added since under a snapshotted group), then sync()."""
        for key in self._keysUnderGroups():
            if key not in self.saved:
                self.settings.remove(key)
        for key, (present, value) in self.saved.items():
            if present:
                self.settings.setValue(key, value)
            else:
                self.settings.remove(key)
        self.settings.sync()
