"""What files make up a saved scene, read defensively: a scene folder, an .mrb bundle, or a .mrml file.

A scene source names its files by paths relative to the scene ('case.mrml',
'Data/Volume_1.nrrd', 'case_Private/x.nrrd') and opens them as binary streams.

  * A folder: every regular file under it. A link or a special file (device,
    pipe, socket) anywhere in it refuses the scene: nothing is followed.
  * An .mrb (a zip archive): its members, by their normalised names
    ('scene/./scene.png' is 'scene/scene.png'). A member whose name is absolute,
    contains '..', is a link, or appears twice once normalised (letter case and
    Unicode normalisation aside, NFC: Windows and macOS extract both to one file),
    or is both a file and a folder ('X/Data' and 'X/Data/vol.nrrd') is refused, and so is an
    archive that does not open or whose content would exceed a size limit.
  * A .mrml file: the file, the screenshot Slicer writes beside it ('<scene>.png'),
    the '<scene>_Private' folder of hidden nodes, and every data file its storage
    nodes reference.

Only files that belong to the scene are read: a storage node's file that resolves
outside the scene's folder (a folder source, or the .mrml's own folder) is
refused unless the caller names a folder that holds it as allowed
(`allowed_folders`); then it is named by its path relative to the scene, '..'
included ('../Patients/DOE_JOHN/3 Axial.nrrd'), and the scrubber moves it into
'Data/'. Whatever the allowance, nothing under /proc, /sys or /dev, nothing in the
de-identifier's key folder (DicomDeidentifyLib.keys.secrets_home) and nothing
reached through a link is read, and only regular files are opened (O_NOFOLLOW,
O_NONBLOCK: a file swapped for a link or a pipe after listing is refused too; a hard
link to a file of the key folder is refused by its inode).
A bundle's references are never followed on disk.

Every read error of a member (bad CRC, corrupt deflate data, encryption, an
unsupported compression method, a truncated archive) becomes a SceneError, so
that callers report a reason instead of a traceback. Messages name no file of
the scene (file names can carry the patient's name): they say what and where in
neutral terms.
"""
from __future__ import annotations

import errno
import os
import posixpath
import re
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import vtk_references
from .detached_headers import MAX_HEADER_BYTES, data_files, is_detached_header
from .mrml_scrubber import SceneError, parse_mrml, scene_reference, storage_paths

MAX_BUNDLE_BYTES = 64 * 1024 ** 3   # uncompressed: a zip bomb is refused before anything is written
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")
MAX_NESTING = 3   # bundles inside bundles: a scene's '.seq.mrb' is one level
# What reading a damaged or unusual archive member raises (zipfile's own, zlib's, encryption's
# RuntimeError, an unsupported method's NotImplementedError, a truncated stream's EOFError).
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError,
                OSError, ValueError)


def key_folder() -> Path | None:
    """The de-identifier's secrets folder (pseudonym key, linkage, reports), or None if that
    library is not installed alongside."""
    try:
        from DicomDeidentifyLib.keys import secrets_home
    except ImportError:
        return None
    return secrets_home()


class _GuardedStream:
    """A member's or file's binary stream whose read errors are SceneErrors (see the module's text)."""

    def __init__(self, stream, what: str):
        self._stream, self._what = stream, what

    @property
    def what(self) -> str:
        """The file in neutral words, for messages: 'file 3 (.nii.gz) of the scene'."""
        return self._what

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except _READ_ERRORS as error:
            raise SceneError(f"{self._what} cannot be read: {_reason(error)}") from None

    def close(self) -> None:
        try:
            self._stream.close()
        except _READ_ERRORS:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _reason(error: BaseException) -> str:
    """A read error's reason without the member name zipfile puts into some messages."""
    text = str(error)
    if "CRC" in text:
        return "bad CRC (damaged archive)"
    if "encrypted" in text or "password" in text:
        return "encrypted member (not supported)"
    if isinstance(error, NotImplementedError):
        return "unsupported compression method"
    if isinstance(error, zlib.error):
        return "corrupt compressed data"
    if isinstance(error, EOFError):
        return "truncated archive"
    if isinstance(error, OSError) and error.errno:
        return os.strerror(error.errno)
    return described(error)


def described(error: BaseException) -> str:
    """What an unexpected error while reading a file means, in words (never only its class, never
    its message, which can quote the file's content or name)."""
    if isinstance(error, RecursionError):
        return "it nests too deeply to be read (damaged file)"
    if isinstance(error, MemoryError):
        return "it is too large to be read in memory"
    if isinstance(error, (OverflowError, ValueError, ArithmeticError)):
        return "a number or value in it is out of range or malformed (damaged file)"
    if isinstance(error, UnicodeError):
        return "its text is in no encoding the scrubber reads (damaged file)"
    if isinstance(error, (zipfile.BadZipFile, EOFError)):
        return "it is a damaged or truncated archive"
    if isinstance(error, zlib.error):
        return "its compressed data is corrupt"
    return f"an unexpected error stopped reading it (damaged file; {type(error).__name__})"


def named_errors(what: str):
    """A context in which an unexpected error (not a SceneError, not the output's OSError) becomes a
    SceneError naming the file as `what` says, with `described`'s reason."""
    from contextlib import contextmanager

    @contextmanager
    def context():
        try:
            yield
        except (SceneError, OSError, KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except Exception as error:
            raise SceneError(f"{what} cannot be read: {described(error)}: refused") from None
    return context()


@dataclass
class SceneSource:
    """The files of one saved scene. `names` in a stable order; `open(name)` gives a binary stream."""
    origin: Path
    names: list = field(default_factory=list)
    paths: dict = field(default_factory=dict)       # name -> file on disk (folder and .mrml sources)
    archive: zipfile.ZipFile | None = None
    members: list = field(default_factory=list)     # (normalised name, ZipInfo), directories included (bundles)
    key_files: frozenset = frozenset()              # (device, inode) never opened: the key folder's files
    brought_in: set = field(default_factory=set)    # names of files read from an allowed folder outside the scene's

    def open(self, name: str):
        """A binary stream of the named file of the scene. Raises SceneError, naming the file by its position and
        suffix only, if it cannot be read; key files and special files are never opened (open_regular)."""
        what = f"file {self._position(name)} of the scene"
        try:
            if self.archive is not None:
                return _GuardedStream(self.archive.open(self._info[name]), what)
            return _GuardedStream(open_regular(self.paths[name], self.key_files), what)
        except SceneError:
            raise
        except _READ_ERRORS as error:
            raise SceneError(f"{what} cannot be read: {_reason(error)}") from None

    def read(self, name: str) -> bytes:
        """The named file's bytes (see open for errors)."""
        with self.open(name) as stream:
            return stream.read()

    def scene_names(self) -> list:
        """The names of the scene's .mrml files, in the source's order."""
        return [name for name in self.names if name.lower().endswith(".mrml")]

    @property
    def _info(self) -> dict:
        if not hasattr(self, "_info_by_name"):
            self._info_by_name = {name: info for name, info in self.members}
        return self._info_by_name

    def _position(self, name: str) -> str:
        try:
            return f"{self.names.index(name) + 1} ({_suffix(name)})"
        except ValueError:
            return f"({_suffix(name)})"

    def close(self) -> None:
        """Close the bundle's zip file, if any. Calling it again does nothing."""
        if self.archive is not None:
            self.archive.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _suffix(name: str) -> str:
    """A file's kind for messages, without its name: '.nrrd', '.mrml', 'no suffix'."""
    base = posixpath.basename(name)
    match = re.search(r"(\.[A-Za-z0-9]{1,8}){1,2}$", base)
    return match.group(0).lower() if match else "no suffix"


def open_regular(path, refused_files=frozenset()) -> object:
    """A regular file opened for reading without following a link in its last component and
    without blocking on a pipe; anything else (a link, a device, a pipe, a socket) is refused."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                             | getattr(os, "O_BINARY", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SceneError("a file of the scene became a link: refused") from None
        raise
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        os.close(descriptor)
        raise SceneError("a file of the scene is not a regular file (device, pipe or socket): refused")
    if (status.st_dev, status.st_ino) in refused_files:
        os.close(descriptor)
        raise SceneError("a file of the scene is a file of the key folder (a hard link): refused")
    return os.fdopen(descriptor, "rb")


MAX_KEY_FILES = 10000


def key_files() -> set:
    """(device, inode) of the files in the key folder: a hard link to the key anywhere in a scene is
    the key itself, whatever its name."""
    folder = key_folder()
    found = set()
    if folder is None or not os.path.isdir(folder):
        return found
    for parent, _subfolders, files in os.walk(folder, followlinks=False):
        for entry in files:
            try:
                status = os.lstat(os.path.join(parent, entry))
            except OSError:
                continue
            found.add((status.st_dev, status.st_ino))
            if len(found) >= MAX_KEY_FILES:
                return found
    return found


def open_scene(source: Path, allowed_folders=(), depth: int = 0) -> SceneSource:
    """The files of a scene folder, an .mrb or a .mrml (see the module's text); SceneError if unusable.
    `allowed_folders`: folders outside the scene's own from which its storage nodes may bring data in;
    `depth`: how many bundles enclose this scene (a bundle inside one deeper than MAX_NESTING is refused)."""
    source = Path(source)
    allowed = [Path(os.path.abspath(folder)) for folder in allowed_folders]
    kind = {".mrb": "an .mrb bundle", ".mrml": "a .mrml scene", "": "a scene folder"}.get(source.suffix.lower())
    if not os.path.lexists(source):
        # the path is not printed: it can carry the patient's name, and nothing is known yet to mask it
        raise SceneError(f"the input was not found: no file or folder at the path given ({kind} by its suffix)"
                         if kind else
                         f"the input was not found, and its suffix '{_suffix(source.name)}' is not a scene's: "
                         "give a .mrml file, a scene folder or an .mrb bundle")
    mode = os.lstat(source).st_mode
    if stat.S_ISLNK(mode):
        raise SceneError("the input is a link: refused (links are never followed)")
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise SceneError("the input is not a regular file or folder (device, pipe or socket): refused")
    if source.is_dir():
        scene = _folder(source, allowed, frozenset(key_files()))
    elif source.suffix.lower() == ".mrb":
        scene = _bundle(source)
    elif source.suffix.lower() == ".mrml":
        scene = _mrml_with_references(source, allowed, frozenset(key_files()))
    else:
        raise SceneError(f"the input is a file whose suffix '{_suffix(source.name)}' is not a scene's: "
                         "give a .mrml file, a scene folder or an .mrb bundle")
    if not scene.scene_names():
        scene.close()
        raise SceneError(f"no .mrml scene file in the {'bundle' if scene.archive else 'input'}")
    unsupported = _unsupported(scene.names, depth)
    if unsupported:
        scene.close()
        raise SceneError(unsupported)
    return scene


def _unsupported(names: list, depth: int = 0) -> str:
    """Why a scene holds files the scrubber refuses (rather than copy them as they are), or ''. A
    bundle inside the scene (a sequence saved as '.seq.mrb') holds a scene of its own, scrubbed in
    turn; bundles nested more than MAX_NESTING deep are refused (Slicer writes one level: a
    sequence inside a scene)."""
    if depth >= MAX_NESTING and any(name.lower().endswith(".mrb") for name in names):
        return f"bundles nested more than {MAX_NESTING} deep (a bundle inside a bundle inside ...): refused"
    return ""


def _folder(source: Path, allowed: list, refused_files: frozenset) -> SceneSource:
    scene = SceneSource(source, key_files=refused_files)
    root = Path(os.path.abspath(source))
    for folder, subfolders, files in os.walk(root, followlinks=False):
        subfolders.sort()
        for entry in sorted(subfolders + files):
            path = Path(folder) / entry
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise SceneError("a link in the scene folder: refused (links are never followed)")
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise SceneError("a special file (device, pipe or socket) in the scene folder: refused")
            name = path.relative_to(root).as_posix()
            scene.names.append(name)
            scene.paths[name] = path
    scene.names.sort()
    for name in scene.scene_names():
        _add_references(scene, root, root / posixpath.dirname(name), scene.read(name), allowed, name)
    return scene


def _bundle(source: Path) -> SceneSource:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise SceneError(f"the input is not a readable .mrb (zip) archive: {_reason(error)}") from None
    try:
        members = checked_members(archive, source)
    except BaseException:
        archive.close()
        raise
    scene = SceneSource(source, [name for name, info in members if not info.is_dir()], archive=archive,
                        members=members)
    try:
        _refuse_headers_leaving_bundle(scene)
    except BaseException:
        archive.close()
        raise
    return scene


def _refuse_headers_leaving_bundle(scene: SceneSource) -> None:
    """A bundle's detached header whose data file lies outside the bundle ('../../etc/x.raw', an
    absolute path) is refused as any outside reference is: a bundle's references are never
    followed on disk, and the scrubbed bundle would hold a header pointing at nothing. So is a VTK
    composite file (by content, vtk_references) naming a piece outside its folder."""
    for name in scene.names:
        if is_detached_header(name):
            for reference in _header_references(scene, name):
                _refuse_leaving_bundle(scene, name, reference.replace("\\", "/"))
        elif not name.lower().endswith(".mrml"):   # a VTK composite file, by content: every one, so every level
            with scene.open(name) as stream:
                head = stream.read(vtk_references.HEAD_BYTES)
                if not vtk_references.names_files(head):
                    continue
                data = head + stream.read(vtk_references.MAX_COMPOSITE_BYTES + 1 - len(head))
            what = f"file {scene._position(name)} of the scene"
            for reference in vtk_references.references(data, what):
                vtk_references.inside(reference, what)


def _header_references(scene: SceneSource, name: str) -> list:
    """Every data file a detached header names (detached_headers.data_files: one, a LIST, a pattern's
    files); SceneError for a pattern that cannot be followed."""
    with scene.open(name) as stream:
        try:
            found = data_files(stream.read(MAX_HEADER_BYTES), name)
        except ValueError:
            raise SceneError(f"the data file pattern of header {scene._position(name)} cannot be followed: "
                             "refused") from None
    return list(found.files) if found else []


def _refuse_leaving_bundle(scene: SceneSource, name: str, reference: str) -> None:
    if reference and (reference.startswith("/") or re.match(r"^[A-Za-z]:", reference) or posixpath.normpath(
            posixpath.join(posixpath.dirname(name), reference)).split("/")[0] == ".."):
        raise SceneError(f"the data file of header {scene._position(name)} is outside the bundle: refused "
                         "(a bundle's references are never followed on disk)")


def member_name(raw: str) -> str:
    """A member's name as an extractor writes it: '\\' as '/', './' and '//' gone, no trailing '/'."""
    return posixpath.normpath(raw.replace("\\", "/")).lstrip("/") if raw.strip("/.") else ""


def checked_members(archive: zipfile.ZipFile, source: Path = None) -> list:
    """[(normalised name, ZipInfo)] of every member; SceneError for a member that would be written
    outside the bundle, is a link, or duplicates another once normalised (any letter case)."""
    members, seen, total, files, folders = [], set(), 0, set(), set()
    for index, member in enumerate(archive.infolist(), 1):
        raw = member.filename
        path = PurePosixPath(raw.replace("\\", "/"))
        if path.is_absolute() or re.match(r"^[A-Za-z]:", raw) or ".." in path.parts:
            raise SceneError(f"member {index} of the bundle would be written outside the bundle: refused")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise SceneError(f"member {index} of the bundle is a link: refused")
        name = member_name(raw)
        if not name:
            continue   # the archive's own root ('./')
        # one name as an extractor on macOS or Windows sees it: NFC (macOS writes NFD) and any case
        folded = unicodedata.normalize("NFC", name).casefold()
        if folded in seen:
            raise SceneError(f"member {index} of the bundle appears twice (once its name is normalised): refused")
        seen.add(folded)
        if not member.is_dir():
            files.add(folded)
        folders.update(_parents(folded))
        total += member.file_size
        if total > MAX_BUNDLE_BYTES:
            raise SceneError(f"the bundle's content is larger than {MAX_BUNDLE_BYTES} bytes: refused")
        members.append((name, member))
    if files & folders:   # 'X/Data' a file and 'X/Data/vol.nrrd' under it: no extractor can write both
        raise SceneError("a member of the bundle is both a file and a folder: refused (damaged bundle)")
    return members


def _parents(name: str) -> list:
    """'a/b/c' -> ['a', 'a/b']: the folders a member's path needs."""
    parts = name.split("/")
    return ["/".join(parts[:count]) for count in range(1, len(parts))]


def _mrml_with_references(source: Path, allowed: list, refused_files: frozenset) -> SceneSource:
    scene = SceneSource(source, key_files=refused_files)
    folder = Path(os.path.abspath(source.parent))

    def add(name: str, path: Path) -> None:
        if name not in scene.paths and _is_regular(path):
            scene.names.append(name)
            scene.paths[name] = path

    if not source.exists():
        raise SceneError("the input does not exist")
    add(source.name, folder / source.name)
    add(source.with_suffix(".png").name, folder / source.with_suffix(".png").name)
    private = folder / f"{source.stem}_Private"
    if private.is_dir() and not private.is_symlink():
        for parent, subfolders, files in os.walk(private, followlinks=False):
            for entry in sorted(subfolders + files):
                path = Path(parent) / entry
                if path.is_symlink():
                    raise SceneError("a link in the scene's private folder: refused (links are never followed)")
                if entry in files:
                    add(path.relative_to(folder).as_posix(), path)
    if source.name in scene.paths:
        _add_references(scene, folder, folder, scene.read(source.name), allowed, source.name)
    return scene


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _add_references(scene: SceneSource, root: Path, scene_folder: Path, mrml: bytes, allowed: list,
                    scene_name: str) -> None:
    """Add the data files a scene file's storage nodes reference, by their path relative to the
    scene file: inside `root` (a folder source lists them already), or brought in from an allowed
    folder; any other is refused (see the module's text). Missing files are left to the scrubber,
    which reports them."""
    for node_id, reference in storage_references_by_node(mrml):
        reference = reference.replace("\\", "/")   # a Windows scene's separators: the same rules
        lexical = Path(os.path.normpath(reference if os.path.isabs(reference) else scene_folder / reference))
        base = _containing(lexical, [root])
        if base is None:
            base = _containing(lexical, allowed)
            if base is None:
                raise SceneError(f"storage node {node_id} references a file outside the scene's folder: refused "
                                 "(name the folder that holds it as allowed to bring it in)")
        _refuse_unsafe(lexical, base, node_id)
        if _is_regular(lexical):   # else missing: the scrubber reports it
            name = reference if os.path.isabs(reference) else posixpath.normpath(
                posixpath.join(posixpath.dirname(scene_name), reference.replace("\\", "/")))
            if name not in scene.paths:
                scene.names.append(name)
                scene.paths[name] = lexical
                if base != root:
                    scene.brought_in.add(name)
            _add_data_file(scene, root, allowed, name, lexical, node_id)
    for name in list(scene.names):   # headers and VTK composite files (by content) a folder source lists itself
        if name in scene.paths and not os.path.isabs(name) and not name.lower().endswith(".mrml"):
            _add_data_file(scene, root, allowed, name, scene.paths[name], "?")


def _add_data_file(scene: SceneSource, root: Path, allowed: list, name: str, path: Path, node_id: str,
                   _chain: tuple = ()) -> None:
    """A detached header's data file (detached_headers) or the pieces of a VTK composite file
    (vtk_references: decided by content, not by suffix, and followed at every level: a piece that
    is itself composite has its pieces checked too), with the rules of storage nodes' files: inside
    `root` or an allowed folder, no link, no system or key file, only regular files; else refused.
    Nothing here lets VTK open a file."""
    if is_detached_header(name):
        references = _header_references(scene, name)
    elif _is_regular(path) and vtk_references.names_files(
            vtk_references.read_regular(path, vtk_references.HEAD_BYTES)):
        what = f"file {scene._position(name)} of the scene"
        if len(_chain) > vtk_references.MAX_LEVELS:
            raise SceneError(f"{what} nests VTK composite files more than {vtk_references.MAX_LEVELS} deep: refused")
        references = vtk_references.references(vtk_references.read_regular(path), what)
    else:
        return
    for reference in references:
        if not reference:
            continue
        reference = reference.replace("\\", "/")
        lexical = Path(os.path.normpath(reference if os.path.isabs(reference) else path.parent / reference))
        base = _containing(lexical, [root]) or _containing(lexical, allowed)
        if base is None:
            raise SceneError(f"a data file of storage node {node_id}'s file is outside the scene's folder: "
                             "refused (name the folder that holds it as allowed to bring it in)")
        _refuse_unsafe(lexical, base, node_id)
        data_name = reference if os.path.isabs(reference) else posixpath.normpath(
            posixpath.join(posixpath.dirname(name), reference))
        if _is_regular(lexical) and data_name not in scene.paths:
            scene.names.append(data_name)
            scene.paths[data_name] = lexical
            if base not in (root,):
                scene.brought_in.add(data_name)
        if not is_detached_header(name) and _is_regular(lexical):
            if data_name in _chain + (name,):
                raise SceneError(f"file {scene._position(name)} of the scene names itself as a piece, directly or "
                                 "through another file (a cycle): refused (damaged file)")
            _add_data_file(scene, root, allowed, data_name, lexical, node_id, _chain + (name,))


def _containing(path: Path, folders: list):
    for folder in folders:
        if path == folder or folder in path.parents:
            return folder
    return None


def _refuse_unsafe(path: Path, base: Path, node_id: str) -> None:
    """No link between `base` and the file, nothing in system or key folders, only a regular file."""
    real_base = Path(os.path.realpath(base))
    system = [Path(folder) for folder in SYSTEM_FOLDERS]
    keys = key_folder()
    forbidden = system + ([Path(os.path.realpath(keys))] if keys is not None else [])
    target = real_base / path.relative_to(base)
    mode = os.lstat(base).st_mode if os.path.lexists(base) else 0
    if _containing(target, forbidden) is not None or _containing(path, forbidden) is not None:
        raise SceneError(f"storage node {node_id} references a system or key file: refused")
    current = base
    for part in path.relative_to(base).parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return   # missing: reported by the scrubber, never read
        if stat.S_ISLNK(mode):
            raise SceneError(f"storage node {node_id} references a file through a link: refused "
                             "(links are never followed)")
    if not stat.S_ISREG(mode):
        raise SceneError(f"storage node {node_id} references something that is not a regular file: refused")


def storage_references(mrml: bytes) -> list:
    """Every file path the storage nodes of a scene name (fileName, fileListMember<n>), decoded."""
    return [reference for _node, reference in storage_references_by_node(mrml)]


def storage_references_by_node(mrml: bytes) -> list:
    """(node id, decoded path) of every file a storage node of the scene names, scene views' included."""
    root = parse_mrml(mrml)
    return [(element.get("id", "?"), scene_reference(element, key, value)) for element in root.iter()
            for key, value in storage_paths(element)]
