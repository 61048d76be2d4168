"""The parts of SceneScrubber that need Slicer's Qt widgets (imported inside Slicer only).

Decisions live in SceneScrubberLib; this package applies them to Slicer's own widgets.
"""
