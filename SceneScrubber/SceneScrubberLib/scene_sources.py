"""What files make up a saved scene, read defensively: a scene folder, an .mrb bundle, or a .mrml file.

A scene source names its files by paths relative to the scene ('case.mrml',
'Data/Volume_1.nrrd', 'case_Private/x.nrrd') and opens them as binary streams.

  * A folder: every file under it (links are refused, never followed).
  * An .mrb (a zip archive): its members. A member whose name is absolute,
    contains '..', is a link, or appears twice is refused, and so is an archive
    that does not open or whose content would exceed a size limit.
  * A .mrml file: the file, the screenshot Slicer writes beside it ('<scene>.png'),
    the '<scene>_Private' folder of hidden nodes, and every data file its storage
    nodes reference, also outside its folder ('../Patients/DOE_JOHN/3 Axial.nrrd'):
    these are named by their path relative to the scene, '..' included, and the
    scrubber moves them into 'Data/'. References are followed only for a .mrml on
    the user's own disk, never for a bundle.
"""
from __future__ import annotations

import os
import posixpath
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from .mrml_scrubber import SceneError, parse_mrml, storage_paths

MAX_BUNDLE_BYTES = 64 * 1024 ** 3   # uncompressed: a zip bomb is refused before anything is written


@dataclass
class SceneSource:
    """The files of one saved scene. `names` in a stable order; `open(name)` gives a binary stream."""
    origin: Path
    names: list = field(default_factory=list)
    paths: dict = field(default_factory=dict)       # name -> file on disk (folder and .mrml sources)
    archive: zipfile.ZipFile | None = None
    members: list = field(default_factory=list)     # zip members, directories included (bundle sources)

    def open(self, name: str):
        if self.archive is not None:
            return self.archive.open(name)
        return open(self.paths[name], "rb")

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    def scene_names(self) -> list:
        return [name for name in self.names if name.lower().endswith(".mrml")]

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_scene(source: Path) -> SceneSource:
    """The files of a scene folder, an .mrb or a .mrml (see the module's text); SceneError if unusable."""
    source = Path(source)
    if source.is_dir():
        scene = _folder(source)
    elif source.suffix.lower() == ".mrb":
        scene = _bundle(source)
    elif source.suffix.lower() == ".mrml":
        scene = _mrml_with_references(source)
    else:
        raise SceneError(f"{source}: not a .mrml file, a scene folder or an .mrb bundle")
    if not scene.scene_names():
        scene.close()
        raise SceneError(f"{source}: no .mrml scene file in the {'bundle' if scene.archive else 'folder'}")
    return scene


def _folder(source: Path) -> SceneSource:
    scene = SceneSource(source)
    for path in sorted(source.rglob("*")):
        if path.is_symlink():
            raise SceneError(f"{path.relative_to(source)}: a link in a scene folder is not followed")
        if path.is_file():
            name = path.relative_to(source).as_posix()
            scene.names.append(name)
            scene.paths[name] = path
    return scene


def _bundle(source: Path) -> SceneSource:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise SceneError(f"{source}: not a readable .mrb (zip) archive: {error}") from None
    try:
        members = checked_members(archive, source)
    except BaseException:
        archive.close()
        raise
    return SceneSource(source, [m.filename for m in members if not m.is_dir()], archive=archive, members=members)


def checked_members(archive: zipfile.ZipFile, source: Path) -> list:
    members, seen, total = archive.infolist(), set(), 0
    for member in members:
        name = member.filename
        path = PurePosixPath(name.replace("\\", "/"))
        if path.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
            raise SceneError(f"{source}: member {name!r} would be written outside the bundle: refused")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise SceneError(f"{source}: member {name!r} is a link: refused")
        if name in seen:
            raise SceneError(f"{source}: member {name!r} appears twice: refused")
        seen.add(name)
        total += member.file_size
        if total > MAX_BUNDLE_BYTES:
            raise SceneError(f"{source}: content larger than {MAX_BUNDLE_BYTES} bytes: refused")
    return members


def _mrml_with_references(source: Path) -> SceneSource:
    scene = SceneSource(source)
    folder = source.parent

    def add(name: str, path: Path) -> None:
        if name not in scene.paths and path.is_file() and not path.is_symlink():
            scene.names.append(name)
            scene.paths[name] = path

    add(source.name, source)
    add(source.with_suffix(".png").name, source.with_suffix(".png"))
    private = folder / f"{source.stem}_Private"
    if private.is_dir():
        for path in sorted(private.rglob("*")):
            add(path.relative_to(folder).as_posix(), path)
    for reference in storage_references(source.read_bytes()):
        path = Path(reference) if os.path.isabs(reference) else folder / reference
        add(reference if os.path.isabs(reference) else posixpath.normpath(reference), path)
    return scene


def storage_references(mrml: bytes) -> list:
    """Every file path the storage nodes of a scene name (fileName, fileListMember<n>), decoded."""
    root = parse_mrml(mrml)
    return [unquote(value) for element in root for _key, value in storage_paths(element)]
