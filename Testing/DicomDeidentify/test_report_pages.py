"""The pages people act on (issue 18): the run report opens with every held, to-review, failed and skipped
file, each linked to its entry; the console names the same files by number and output name (input paths only
with --verbose); cleaned images are shown at full resolution, whole and as a crop of every blanked region,
colour kept; compare --html shows both images; neither page goes inside a destination. Both pages are
rendered in a real browser (Debian's headless Chromium, driven by selenium) and every image must load."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from PIL import Image

from DicomDeidentifyLib.cli import main
from DicomDeidentifyLib.keys import load_or_create_key
from support.burned_in import burned_in_dataset
from support.data import data_file, read, save

CLI = Path(sys.executable).parent / "dicom-deidentify"


def make_inputs(folder: Path) -> dict:
    """A burned-in colour ultrasound, a CT whose name is markup, a truncated MR and a text file."""
    folder.mkdir(parents=True)
    paths = {"us": folder / "DOE_JANE_us.dcm", "ct": folder / "DOE_JANE_ct.dcm",
             "truncated": folder / "DOE_JANE_mr.dcm", "text": folder / "DOE_JANE_notes.txt"}
    save(burned_in_dataset(color=True), paths["us"])
    ct = read("CT_small.dcm")
    ct.PatientName = "<b>Doe</b>^<script>Jane</script>"   # must reach the page as text, never as markup
    save(ct, paths["ct"])
    paths["truncated"].write_bytes(data_file("MR_truncated.dcm").read_bytes())
    paths["text"].write_text("Doe Jane, MRN 48151623\n")
    return paths


def report_of(key: Path, newest: bool = True) -> tuple:
    pages = sorted((key.parent / "reports").glob("*/report.html"), key=lambda p: p.stat().st_mtime)
    page = pages[-1] if newest else pages[0]
    return page, json.loads(page.with_name("report.json").read_text())


@pytest.fixture
def browser():
    """Headless Chromium (Debian's chromium and chromium-driver, setup.sh) under selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1024"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


def images_on(browser, page: Path) -> list:
    """[(src, naturalWidth, naturalHeight)] of every <img> once the page has loaded (load event)."""
    browser.get(page.as_uri())
    return browser.execute_script(
        "return Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth, i.naturalHeight])")


def attention_links(browser) -> list:
    """[(link text, text of the entry it points to)] of the report's attention section."""
    from selenium.webdriver.common.by import By
    links = browser.find_elements(By.CSS_SELECTOR, "#attention a")
    return [(link.text, browser.find_element(By.ID, link.get_attribute("href").split("#")[1]).text)
            for link in links]


def test_the_report_and_the_console_name_the_same_files_and_the_console_no_input_path(tmp_path, capsys):
    paths = make_inputs(tmp_path / "in")
    key = tmp_path / "secrets" / "pseudonym.key"
    status = main(["anonymize", str(tmp_path / "in"), "--into", str(tmp_path / "side"), "--key-file", str(key),
                   "--create-key", "--quiet", "--jobs", "1"])
    assert status == 1   # the truncated MR failed
    out = capsys.readouterr().out
    assert "DOE_JANE" not in out and str(tmp_path / "in") not in out    # nothing identifying in a shared log
    page, report = report_of(key)
    by_kind = {kind: [f for f in report["files"] if f["attention"] == kind]
               for kind in ("held", "review", "failed", "skipped")}
    assert [f["source"] for f in by_kind["held"]] == [str(paths["us"])]   # held in the console and the report
    assert [f["source"] for f in by_kind["failed"]] == [str(paths["truncated"])]
    assert [f["source"] for f in by_kind["skipped"]] == [str(paths["text"])]
    held = by_kind["held"][0]
    assert f"held     #{held['number']} {Path(held['output']).name}: held back" in out
    for kind in ("failed", "skipped"):
        assert f"{kind:8} #{by_kind[kind][0]['number']}: " in out
    html = page.read_text()
    assert "Held back for review (not in the destination until released) (1)" in html
    assert f'<a href="#file-{held["number"]}">#{held["number"]} {paths["us"]}</a>' in html
    assert f'<tr id="file-{held["number"]}" class="held">' in html
    assert "&lt;b&gt;Doe&lt;/b&gt;^&lt;script&gt;Jane&lt;/script&gt;" in html and "<script>" not in html
    # --verbose: the input paths and full reasons, for a key holder at their own terminal
    main(["anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--key-file", str(key),
          "--quiet", "--jobs", "1", "--verbose"])
    out = capsys.readouterr().out
    assert f"review   #{held['number']} {paths['us']} -> " in out and "NEEDS REVIEW" in out
    assert f"failed   #{by_kind['failed'][0]['number']} {paths['truncated']}: truncated" in out


def test_help_does_not_load_jinja2_and_a_report_does(tmp_path):
    help_ = subprocess.run([sys.executable, "-X", "importtime", "-m", "DicomDeidentifyLib", "--help"],
                           capture_output=True, text=True, timeout=120)
    assert help_.returncode == 0 and "anonymize" in help_.stdout
    assert " DicomDeidentifyLib.cli" in help_.stderr and "jinja2" not in help_.stderr
    save(read("CT_small.dcm"), tmp_path / "ct.dcm")
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "DicomDeidentifyLib", "anonymize",
                          str(tmp_path / "ct.dcm"), "--output", str(tmp_path / "out"), "--key-file",
                          str(tmp_path / "k" / "key"), "--create-key", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and " jinja2" in run.stderr


def test_neither_page_is_written_inside_a_destination(tmp_path):
    make_inputs(tmp_path / "in")
    key = tmp_path / "secrets" / "key"
    first = subprocess.run([str(CLI), "anonymize", str(tmp_path / "in" / "DOE_JANE_ct.dcm"), "--into",
                            str(tmp_path / "side"), "--key-file", str(key), "--create-key", "--quiet"],
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    [output] = (tmp_path / "side").rglob("*.dcm")
    original = tmp_path / "in" / "DOE_JANE_ct.dcm"
    for page in (tmp_path / "side" / "compare.html", output.parent / "compare.html"):   # in a side database
        refused = subprocess.run([str(CLI), "compare", str(original), str(output), "--key-file", str(key),
                                  "--html", str(page)], capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2 and not page.exists()
        assert refused.stderr.count("\n") == 1 and "inside the destination folder" in refused.stderr
        assert "Traceback" not in refused.stderr
    # an earlier run's --output folder (recorded by the linkage store) takes no report either
    assert subprocess.run([str(CLI), "anonymize", str(original), "--output", str(tmp_path / "out"), "--key-file",
                           str(key), "--quiet"], capture_output=True, timeout=300).returncode == 0
    again = subprocess.run([str(CLI), "anonymize", str(original), "--output", str(tmp_path / "other"),
                            "--key-file", str(key), "--report-dir", str(tmp_path / "out" / "reports"), "--quiet"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "inside the destination folder" in again.stderr
    assert not (tmp_path / "out" / "reports").exists() and not (tmp_path / "other").exists()
    # nor a compare page in the de-identified folder given to compare
    folder = subprocess.run([str(CLI), "compare", str(tmp_path / "in"), str(tmp_path / "out"), "--key-file",
                             str(key), "--html", str(tmp_path / "out" / "c.html")], capture_output=True, text=True)
    assert folder.returncode == 2 and not (tmp_path / "out" / "c.html").exists()


@pytest.mark.slow   # Clean Pixel Data on an image, two runs and a browser: about 20 s
def test_both_pages_render_in_chromium_with_every_image_loaded(tmp_path, browser):
    paths = make_inputs(tmp_path / "in")
    key = tmp_path / "secrets" / "key"
    assert main(["anonymize", str(tmp_path / "in"), "--into", str(tmp_path / "side"), "--key-file", str(key),
                 "--create-key", "--quiet", "--jobs", "1"]) == 1
    held_page, held_report = report_of(key)
    assert main(["anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--key-file", str(key),
                 "--clean-pixel-data", "--retain-device-identity", "--quiet", "--jobs", "1"]) == 1
    page, report = report_of(key)
    assert page != held_page

    # the report of the side database run: its attention section links to each held, failed, skipped file
    # held for burned-in risk without cleaning: shown whole, as written, and the picture loads (review 18d)
    assert images_on(browser, held_page) == [["images/u1.png", 480, 320]]
    linked = attention_links(browser)
    wanted = {str(paths["us"]), str(paths["truncated"]), str(paths["text"])}
    assert {text.split(" ", 1)[1] for text, _ in linked} == wanted
    assert all(text.split(" ", 1)[1] in entry for text, entry in linked)   # each link lands on its file's row
    assert "held back" in dict((t.split(" ", 1)[1], e) for t, e in linked)[str(paths["us"])]

    # the report of the pixel run: the cleaned ultrasound whole and per region, before and after, all loaded
    shown = images_on(browser, page)
    [cleaned] = report["pixels"]
    assert cleaned["source"] == str(paths["us"]) and cleaned["regions"] and len(cleaned["crops"]) == len(
        cleaned["regions"])
    assert shown and all(width > 0 and height > 0 for _, width, height in shown), shown
    sizes = {src: (width, height) for src, width, height in shown}
    rows, columns = 320, 480   # burned_in_dataset's frame: shown at full resolution, not as a thumbnail
    assert sizes[cleaned["before_image"]] == sizes[cleaned["after_image"]] == (columns, rows)
    for crop in cleaned["crops"]:
        assert sizes[crop["before"]] == sizes[crop["after"]] == (crop["width"], crop["height"])
    assert Image.open(page.parent / cleaned["before_image"]).mode == "RGB"   # colour kept
    before = Image.open(page.parent / cleaned["before_image"])
    after = Image.open(page.parent / cleaned["after_image"])
    assert before.tobytes() != after.tobytes()                               # the blanks show
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in (page.parent / "images").iterdir())
    # the CT kept a device attribute under --retain-device-identity: to review, listed first thing
    linked = dict((t.split(" ", 1)[1], e) for t, e in attention_links(browser))
    assert str(paths["ct"]) in linked and "may carry free text" in linked[str(paths["ct"])]
    assert str(paths["us"]) not in linked                                    # cleaned and proven: nothing to do
    browser.set_window_size(1024, 900)   # the full-resolution pictures and crops scale into a 1024-pixel window
    browser.get(page.as_uri())
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    browser.set_window_size(1280, 1024)

    # compare --html: both images of each pair, at full resolution, loaded
    [output] = [f["output"] for f in report["files"] if f["source"] == str(paths["us"])]
    compare_page = tmp_path / "secrets" / "compare.html"
    compared = subprocess.run([str(CLI), "compare", str(paths["us"]), output, "--key-file", str(key), "--html",
                               str(compare_page)], capture_output=True, text=True, timeout=120)
    assert compared.returncode == 0, compared.stderr
    shown = images_on(browser, compare_page)
    assert [src for src, _, _ in shown] == ["compare_images/1-original.png", "compare_images/1-deidentified.png"]
    assert all((width, height) == (columns, rows) for _, width, height in shown)
    assert "Doe^Jane" in compare_page.read_text()   # the original name: a key holders' page
    assert pydicom.dcmread(output).BurnedInAnnotation == "NO"
    assert oct(os.stat(compare_page).st_mode & 0o777) == "0o600"


def test_a_run_without_jinja2_writes_its_json_report_and_says_the_page_is_missing(tmp_path):
    """Slicer does not bundle Jinja2: a run there must still finish, with report.json, and say why no page."""
    (tmp_path / "in").mkdir()
    save(read("CT_small.dcm"), tmp_path / "in" / "ct.dcm")
    code = ("import sys; sys.modules['jinja2'] = None\n"   # import jinja2 now raises ImportError
            "from DicomDeidentifyLib.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    run = subprocess.run([sys.executable, "-c", code, "anonymize", str(tmp_path / "in"), "--output",
                          str(tmp_path / "out"), "--key-file", str(tmp_path / "k" / "key"), "--create-key"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the HTML report needs Jinja2" in run.stderr and "1 written" in run.stdout
    reports = list((tmp_path / "k" / "reports").glob("*/report.json"))
    assert len(reports) == 1 and json.loads(reports[0].read_text())["totals"]["written"] == 1
    assert not list((tmp_path / "k" / "reports").glob("*/report.html"))
    assert f"Report (key holders only): {reports[0]}" in run.stdout


def test_a_compare_page_is_refused_in_a_destination_no_linkage_store_recorded(tmp_path):
    """compare with another key (or none) than the run's: the output layout shows where the destination is
    (review of issue 18, finding 1: the page went beside a de-identified file, or into the output root)."""
    make_inputs(tmp_path / "in")
    original = tmp_path / "in" / "DOE_JANE_ct.dcm"
    run = subprocess.run([str(CLI), "anonymize", str(original), "--output", str(tmp_path / "out"), "--key-file",
                          str(tmp_path / "run-secrets" / "key"), "--create-key", "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    [output] = (tmp_path / "out").rglob("*.dcm")
    other_key = tmp_path / "other-secrets" / "key"   # a key whose linkage store never saw tmp_path/out
    load_or_create_key(other_key, create=True)
    for deidentified, page in ((output, output.parent / "c.html"), (output, tmp_path / "out" / "c.html"),
                               (output.parents[2], tmp_path / "out" / "c.html")):
        refused = subprocess.run([str(CLI), "compare", str(original), str(deidentified), "--key-file",
                                  str(other_key), "--html", str(page)],
                                 capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2 and "inside the destination folder" in refused.stderr, refused.stderr
        assert not page.exists() and refused.stderr.count("\n") == 1
    allowed = tmp_path / "pages" / "c.html"   # outside: written
    done = subprocess.run([str(CLI), "compare", str(original), str(output), "--key-file", str(other_key),
                           "--html", str(allowed)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and allowed.exists(), done.stderr


def test_a_compare_page_whose_images_folder_links_into_the_destination_is_refused(tmp_path):
    """The page's <name>_images folder, where compare writes the original pixels, made a link into the
    destination: refused before anything is written (second review of issue 18, finding 1)."""
    make_inputs(tmp_path / "in")
    original = tmp_path / "in" / "DOE_JANE_ct.dcm"
    key = tmp_path / "secrets" / "key"
    run = subprocess.run([str(CLI), "anonymize", str(original), "--output", str(tmp_path / "out"), "--key-file",
                          str(key), "--create-key", "--quiet"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "c_images").symlink_to(tmp_path / "out")
    before = sorted(p.name for p in (tmp_path / "out").rglob("*"))
    refused = subprocess.run([str(CLI), "compare", str(original), str(tmp_path / "out"), "--key-file", str(key),
                              "--html", str(tmp_path / "pages" / "c.html")], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "is a link: refused" in refused.stderr, refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == before   # no original picture in the destination
    assert not (tmp_path / "pages" / "c.html").exists()


def test_pages_with_long_paths_are_no_wider_than_a_1024_pixel_window(tmp_path, browser):
    # a path with no space to break at, longer than the window: its cells must wrap
    folder = tmp_path / "in" / ("in_" + "x" * 150) / ("series_" + "y" * 150)
    folder.mkdir(parents=True)
    source = folder / ("DOE_JANE_" + "z" * 120 + ".dcm")
    source.write_bytes(data_file("CT_small.dcm").read_bytes())
    (folder / ("DOE_JANE_notes_" + "w" * 120 + ".txt")).write_text("not DICOM\n")   # skipped: an attention row
    key = tmp_path / "secrets" / "key"
    assert main(["anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--key-file", str(key),
                 "--create-key", "--quiet", "--jobs", "1"]) == 0
    page, report = report_of(key)
    [output] = [f["output"] for f in report["files"] if f["output"]]
    compare_page = tmp_path / "secrets" / "compare.html"
    assert main(["compare", str(source), output, "--key-file", str(key), "--html", str(compare_page)]) == 0
    browser.set_window_size(1024, 900)
    for shown in (page, compare_page):
        browser.get(shown.as_uri())
        inner, scroll = browser.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth]")
        assert inner <= 1024 and scroll <= inner, (shown.name, inner, scroll)
        assert str(source) in shown.read_text() or source.name in shown.read_text()
        # every in-page link names an element of the page
        assert browser.execute_script(
            "return Array.from(document.querySelectorAll('a[href^=\"#\"]'))"
            ".map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id))") == []


def multi_frame_with_text(path: Path, text_frame: int = 2, frames: int = 5) -> None:
    """pydicom's CT_small as `frames` frames, the patient's name and ID drawn (DejaVu Sans) on one frame only."""
    import numpy as np
    from PIL import ImageDraw, ImageFont
    ds = read("CT_small.dcm")
    ds.PatientName, ds.PatientID = "ROE^JANE", "MRN777888"
    pixels = ds.pixel_array
    mask = Image.new("L", (pixels.shape[1], pixels.shape[0]), 0)
    ImageDraw.Draw(mask).text((2, 100), "ROE JANE MRN777888", fill=255,
                              font=ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 9))
    stack = np.stack([pixels] * frames)
    stack[text_frame][np.array(mask) > 100] = pixels.max() + 500
    ds.NumberOfFrames = frames
    ds.PixelData = stack.astype(pixels.dtype).tobytes()
    save(ds, path)


@pytest.mark.slow   # Clean Pixel Data on five frames, compare and a browser: about 20 s
def test_crops_and_the_whole_view_come_from_the_frame_the_text_was_on(tmp_path, browser):
    """Review 18c finding 5: text on frame 3 of 5 only; the report's whole view and every crop show frame 3
    (labelled), not frame 1, and so does the compare page; every image loads in Chromium."""
    import numpy as np
    from selenium.webdriver.common.by import By
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / "mf.dcm"
    multi_frame_with_text(source)
    key = tmp_path / "secrets" / "key"
    assert main(["anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--key-file", str(key),
                 "--create-key", "--clean-pixel-data", "--quiet", "--jobs", "1"]) in (0, 1)
    page, report = report_of(key)
    [cleaned] = report["pixels"]
    assert cleaned["regions"] and {r["frame"] for r in cleaned["regions"]} == {2}
    assert cleaned["shown_frame"] == 2 and {c["frame"] for c in cleaned["crops"]} == {2}
    # the "before" crop holds the drawn text (its brightest value), which frame 1 does not have there
    for crop in cleaned["crops"]:
        before = np.asarray(Image.open(page.parent / crop["before"]))
        assert np.count_nonzero(before == 255) > 20, crop
    shown = images_on(browser, page)
    assert shown and all(width > 0 and height > 0 for _, width, height in shown), shown
    assert browser.find_element(By.CSS_SELECTOR, ".shown-frame").text == "frame 3 of 5 shown"
    assert {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".crop-frame")} == {"frame 3"}
    # compare --html: the pair is shown at the frame where the two differ most
    [output] = [f["output"] for f in report["files"]]
    compare_page = tmp_path / "secrets" / "compare.html"
    assert main(["compare", str(source), output, "--key-file", str(key), "--html", str(compare_page)]) == 0
    shown = images_on(browser, compare_page)
    assert len(shown) == 2 and all(width > 0 for _, width, _ in shown)
    assert {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".shown-frame")} == {"frame 3"}
    original = np.asarray(Image.open(compare_page.parent / "compare_images" / "1-original.png"))
    assert np.count_nonzero(original == 255) > 20   # the text, as on frame 3
