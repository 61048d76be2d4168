#!/usr/bin/env python3
"""Make Resources/Screenshots/DicomDeidentifyReport.png, the Extensions Index screenshot: the HTML report
of `dicom-deidentify demo` (pydicom's sample files), rendered by a headless Chromium, its header and its
failures/skipped/review sections put together (1440x850).

Needs `chromium` (Debian package) and Pillow (the `pixels` extra). Usage:
    python Resources/Tools/make_report_screenshot.py [--output PATH]
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1440
HEADER = (0, 150)          # title, "key holders only", times, table editions
SECTIONS = (1000, 1700)    # Failures, Skipped, Held back, Needs review, start of What changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=str(ROOT / "Resources" / "Screenshots" / "DicomDeidentifyReport.png"))
    args = parser.parse_args(argv)
    # a fixed, neutral folder name: it shows in the report's paths
    work = Path(tempfile.gettempdir()) / "DicomDeidentifyDemo"
    subprocess.run([sys.executable, "-m", "DicomDeidentifyLib.cli", "demo", "--workdir", str(work)], check=True,
                   env={"PYTHONPATH": str(ROOT / "DicomDeidentify"), "PATH": "/usr/bin:/bin"},
                   stdout=subprocess.DEVNULL)
    report = sorted(work.glob("secrets/reports/*/report.html"))[-1]
    with tempfile.TemporaryDirectory() as scratch:
        tall = Path(scratch) / "tall.png"
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--window-size={WIDTH},4000", f"--screenshot={tall}", report.as_uri()],
                       check=True, capture_output=True)
        page = Image.open(tall).convert("RGB")
        header = page.crop((0, HEADER[0], WIDTH, HEADER[1]))
        sections = page.crop((0, SECTIONS[0], WIDTH, SECTIONS[1]))
    shot = Image.new("RGB", (WIDTH, header.height + sections.height), "white")
    shot.paste(header, (0, 0))
    shot.paste(sections, (0, header.height))
    shot.save(args.output, optimize=True)
    print(args.output, shot.size)


if __name__ == "__main__":
    main()
