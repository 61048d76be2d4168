"""Checking a written scene: where do identifying values stand in any of its files?"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .mrml_scrubber import scrub_mrml
from .phi_attributes import search_forms
from .scene_sources import open_scene

CHUNK_BYTES = 4 << 20


@dataclass
class Finding:
    file: str
    term: str
    offset: int


def identifying_terms(source: Path, policy=None) -> set:
    """The identifying values a scene's own .mrml files hold (what scrubbing with `policy` takes out)."""
    terms = set()
    with open_scene(source) as scene:
        for name in scene.scene_names():
            terms |= scrub_mrml(scene.read(name), policy)[1].identifying_values
    return terms


def check_scene(source: Path, terms) -> list:
    """Every file of the scene (see scene_sources: a .mrml's data files, screenshot and private folder
    included) in which one of `terms` stands, in any letter case; each file is read in chunks."""
    needles = {}
    for term in terms:
        for variant in search_forms(term):
            needles.setdefault(variant.lower().encode("utf-8"), term)
    findings = []
    with open_scene(source) as scene:
        for name in scene.names:
            findings += _find_in(name, scene, needles)
            findings += [Finding(name, term, -1) for needle, term in needles.items()
                         if needle in name.lower().encode("utf-8")]   # a file named after a value
    return findings


def _find_in(name: str, scene, needles: dict) -> list:
    found, overlap, position, tail = {}, max((len(n) for n in needles), default=1) - 1, 0, b""
    with scene.open(name) as stream:
        while True:
            chunk = stream.read(CHUNK_BYTES)
            if not chunk:
                break
            window = tail + chunk.lower()
            for needle, term in needles.items():
                if needle not in found:
                    offset = window.find(needle)
                    if offset >= 0:
                        found[needle] = Finding(name, term, position - len(tail) + offset)
            tail = window[-overlap:] if overlap else b""
            position += len(chunk)
    return list(found.values())
