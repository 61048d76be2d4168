"""DicomDeidentifyLib: DICOM PS3.15 Annex E de-identification, without Slicer.

The Slicer module (DicomDeidentify.py) and the command line (cli.py) are thin
layers over this package. Entry points:

    from DicomDeidentifyLib import DeidentifyOptions, Deidentifier, deidentify_paths

They are imported on first use (PEP 562 module __getattr__): importing a light submodule, such as
import_routing, which the DICOM module's import hook loads at Slicer's start, must not load the
engine, pydicom and numpy (review NC1); nor must the command line before it has set itself up
(a Ctrl-C during start-up must not show a traceback).
"""
import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "DeidentifyOptions": "options", "IdentityMode": "options", "DateMode": "options",
    "Deidentifier": "engine", "FileResult": "results", "ReviewItem": "results", "RunSummary": "results",
    "deidentify_paths": "batch",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
