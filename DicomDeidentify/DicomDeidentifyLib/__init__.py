"""DicomDeidentifyLib: DICOM PS3.15 Annex E de-identification, without Slicer.

The Slicer module (DicomDeidentify.py) and the command line (cli.py) are thin
layers over this package. Entry points:

    from DicomDeidentifyLib import DeidentifyOptions, Deidentifier, deidentify_paths
"""
from .options import DeidentifyOptions, IdentityMode, DateMode
from .engine import Deidentifier
from .results import FileResult, ReviewItem, RunSummary
from .batch import deidentify_paths

__version__ = "0.1.0"

__all__ = [
    "DeidentifyOptions", "IdentityMode", "DateMode", "Deidentifier",
    "FileResult", "ReviewItem", "RunSummary", "deidentify_paths", "__version__",
]
