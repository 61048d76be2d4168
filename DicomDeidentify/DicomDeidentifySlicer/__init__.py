"""The parts of DicomDeidentify that need Slicer's Qt widgets and the DICOM module (imported inside Slicer only).

Decisions live in DicomDeidentifyLib; this package applies them to Slicer's own widgets.
"""
