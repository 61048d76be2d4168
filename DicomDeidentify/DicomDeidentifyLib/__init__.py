"""DicomDeidentifyLib: DICOM PS3.15 Annex E de-identification, without Slicer.

The Slicer module (DicomDeidentify.py) and the command line (cli.py) are thin
layers over this package. Entry points:

    from DicomDeidentifyLib import DeidentifyOptions, Deidentifier, deidentify_paths

The names are imported when first asked for (PEP 562): importing a submodule, as the
command line does, does not load pydicom and the engine before it has set itself up
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
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
