"""The extension's metadata keeps passing the Extensions Index's automated checks (issue 11, point 5).

The same rules as Slicer/ExtensionsIndex scripts/check_description_files.py at 07f1d1b (2026-08-07), read
there, checked here offline: the description file (Resources/ExtensionsIndex/Deidentify.json, the file
submitted to the Index as Deidentify.json) and the top-level CMakeLists.txt, LICENSE and images. What
needs the network there (the icon and screenshot URLs must serve PNGs, the GitHub topic) is checked here
as: each URL names a file of this repository, on the main branch of github.com/SlicerDeidentify/SlicerDeidentify.
"""
import json
import re
import struct
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTION = ROOT / "Resources" / "ExtensionsIndex" / "Deidentify.json"
CMAKE = (ROOT / "CMakeLists.txt").read_text()
RAW_MAIN = "https://raw.githubusercontent.com/SlicerDeidentify/SlicerDeidentify/main/"
# Keys of Slicer's Schemas/slicer-extension-catalog-entry-schema-v1.0.1.json (additionalProperties: false)
SCHEMA_KEYS = {"$schema", "category", "scm_url", "scm_revision", "scm_type", "build_dependencies",
               "build_subdirectory", "enabled", "tier"}
SCHEMA_REQUIRED = {"$schema", "category", "scm_url"}
# Two of ACCEPTED_EXTENSION_CATEGORIES in check_description_files.py 07f1d1b (the ones that fit this extension)
ACCEPTED_CATEGORIES_USED = {"DICOM", "Utilities"}
LICENSE_FILE_NAMES = ["LICENSE", "LICENCE", "License.txt", "license.txt", "LICENSE.txt", "COPYING", "COPYING.txt"]


def cmake_value(name):
    """set(NAME "value") of the top-level CMakeLists.txt, with the checker's own patterns."""
    patterns = {"EXTENSION_ICONURL": r'set\s*\(EXTENSION_ICONURL\s*"([^"]+)"[ ]*\)',
                "EXTENSION_SCREENSHOTURLS": r'set\s*\(EXTENSION_SCREENSHOTURLS\s*"([^"]+)"\)'}
    pattern = patterns.get(name, r'set\s*\(' + name + r'\s*"([^"]*)"\s*\)')
    found = re.findall(pattern, CMAKE, re.IGNORECASE | re.MULTILINE)
    return found[0].strip() if found else None


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def repository_file(url):
    """The file of this repository a raw.githubusercontent.com main-branch URL names."""
    assert url.startswith(RAW_MAIN), f"{url} is not a raw URL of the repository's main branch"
    return ROOT / url[len(RAW_MAIN):]


def test_description_file_follows_the_schema_and_is_lf_only():
    raw = DESCRIPTION.read_bytes()
    assert b"\r" not in raw   # check_json_file_format
    metadata = json.loads(raw)
    assert SCHEMA_REQUIRED <= set(metadata) <= SCHEMA_KEYS
    assert metadata["$schema"].startswith("https://raw.githubusercontent.com/Slicer/Slicer/main/Schemas/"
                                          "slicer-extension-catalog-entry-schema-v1.0.1.json")
    assert isinstance(metadata["tier"], int) and 1 <= metadata["tier"] <= 5
    assert metadata["build_dependencies"] == [] and metadata["build_subdirectory"] == "."


def test_extension_name_does_not_start_with_slicer_and_matches_project():
    name = DESCRIPTION.stem
    assert not name.lower().startswith("slicer")   # check_extension_name
    project = re.findall(r'project\s*\(\s*([^\s\)\n\r]+)', CMAKE, re.IGNORECASE | re.MULTILINE)
    assert project and project[0].strip("\"'") == name   # check_cmakelists_content


def test_repository_name_starts_with_slicer_and_url_is_https():
    url = json.loads(DESCRIPTION.read_text())["scm_url"]
    assert urlsplit(url).scheme in ("git", "https")   # check_scm_url_syntax
    repository = Path(urlsplit(url).path).stem
    assert repository.startswith("Slicer")   # check_git_repository_name
    assert url.rstrip("/") == "https://github.com/SlicerDeidentify/SlicerDeidentify"


def test_category_is_accepted_and_the_same_in_both_files():
    category = json.loads(DESCRIPTION.read_text())["category"]
    assert category in ACCEPTED_CATEGORIES_USED
    assert cmake_value("EXTENSION_CATEGORY") == category


def test_icon_is_a_128_pixel_png_at_the_path_its_url_names():
    url = cmake_value("EXTENSION_ICONURL")
    assert url, "No EXTENSION_ICONURL"
    icon = repository_file(url)
    assert icon.is_file()
    assert png_size(icon) == (128, 128)


def test_at_least_one_screenshot_and_each_is_a_png_of_the_repository():
    urls = (cmake_value("EXTENSION_SCREENSHOTURLS") or "").split()
    assert urls, "No EXTENSION_SCREENSHOTURLS"
    for url in urls:
        width, height = png_size(repository_file(url))
        assert width >= 640 and height >= 400


def test_homepage_description_and_contributors():
    assert cmake_value("EXTENSION_HOMEPAGE").startswith("https://github.com/SlicerDeidentify/SlicerDeidentify")
    assert len(cmake_value("EXTENSION_DESCRIPTION")) > 40
    assert cmake_value("EXTENSION_CONTRIBUTORS")
    assert cmake_value("EXTENSION_DEPENDS") == "NA"


def test_license_file_at_the_root_is_the_bsd_3_clause_pyproject_declares():
    found = [ROOT / n for n in LICENSE_FILE_NAMES if (ROOT / n).is_file()]
    assert found, "No license file found in repository root"   # check_license_file
    text = found[0].read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder nor the names of its" in text
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^license\s*=\s*\{\s*text\s*=\s*"BSD-3-Clause"\s*\}', pyproject, re.M)


def test_nema_notice_for_the_standard_tables_is_beside_the_license():
    notice = (ROOT / "NOTICE").read_text()
    assert "National Electrical Manufacturers Association (NEMA)" in notice
    for table in ("ps315_profile.json", "ps315_safe_private.json"):
        assert table in notice
        assert (ROOT / "DicomDeidentify" / "DicomDeidentifyLib" / "data" / table).is_file()


def test_repository_stays_under_the_index_size_limit():
    skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis"}
    total = sum(p.stat().st_size for p in ROOT.rglob("*")
                if p.is_file() and not (set(p.relative_to(ROOT).parts) & skip)
                and not p.relative_to(ROOT).parts[0].startswith(".venv"))
    assert total < 100 * 1024 * 1024   # check_repository_size
