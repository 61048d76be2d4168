"""The self-tests put the user's Slicer settings back exactly (review M10): SettingsSnapshot against a
stand-in with QSettings' methods (allKeys, contains, value, setValue, remove, sync)."""
from DicomDeidentifyLib.settings_snapshot import SettingsSnapshot


class FakeQSettings:
    def __init__(self, values):
        self.values, self.synced = dict(values), 0

    def allKeys(self):
        return list(self.values)

    def contains(self, key):
        return key in self.values

    def value(self, key, default=None):
        return self.values.get(key, default)

    def setValue(self, key, value):
        self.values[key] = value

    def remove(self, key):
        self.values.pop(key, None)

    def sync(self):
        self.synced += 1


USER = {"DicomDeidentify/KeyFile": "/home/u/.slicer-deidentify/pseudonym.key",
        "DicomDeidentify/AnonymizeOnImport": "true",
        "DatabaseDirectory_0.8": "/home/u/DICOM", "Other/Key": "kept"}


def test_changed_added_and_removed_keys_all_come_back():
    settings = FakeQSettings(USER)
    snapshot = SettingsSnapshot(settings, ["DicomDeidentify", "DicomDeidentifySelfTest"],
                                ["DatabaseDirectoryTest_0.8", "DicomDeidentify/MainDatabaseDirectory", None])
    settings.setValue("DicomDeidentify/KeyFile", "/tmp/test/pseudonym.key")          # changed
    settings.remove("DicomDeidentify/AnonymizeOnImport")                              # removed
    settings.setValue("DicomDeidentify/MainDatabaseDirectory", "/tmp/test/main")     # added, named
    settings.setValue("DicomDeidentifySelfTest/Profile", "{}")                        # added under a group
    settings.setValue("DatabaseDirectoryTest_0.8", "/tmp/test/main")                 # added, named
    snapshot.restore()
    assert settings.values == USER
    assert settings.synced == 1


def test_a_key_outside_the_snapshot_is_left_alone():
    settings = FakeQSettings(USER)
    snapshot = SettingsSnapshot(settings, ["DicomDeidentify"])
    settings.setValue("Other/Key", "changed by the user meanwhile")
    snapshot.restore()
    assert settings.values["Other/Key"] == "changed by the user meanwhile"
