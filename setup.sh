#!/usr/bin/env bash
# Set up a fresh Debian machine for SlicerDeidentify, from the repo root (as root, or with sudo):
#   - Debian's DICOM validators: dicom3tools (dciodvfy, dcentvfy) and dcmtk (dcmdump, dsrdump);
#   - Debian's tesseract-ocr (English): Clean Pixel Data's second reader; the DejaVu font the tests draw text with;
#   - Debian's libgdcm-tools (gdcmanon, GDCM's C++ anonymizer): the benchmark compares with it;
#   - Debian's chromium and chromium-driver: the tests render the report and compare pages headless (selenium);
#   - the text detector rapidocr-onnxruntime (its models ship in the wheel) with headless OpenCV;
#     tesserocr (the pixels extra) reads with Tesseract in process, with the Debian package's data;
#   - .venv/: the package (console script dicom-deidentify), pydicom 3, the test dependencies,
#     slicer-core (Slicer's MRML libraries, for scene tests) and dask.distributed (cluster runs);
#   - .venv-pydicom2/: the same with pydicom 2.4, the version Slicer 5.8 and 5.10 bundle.
# Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dciodvfy >/dev/null || ! command -v dcmdump >/dev/null || ! command -v tesseract >/dev/null \
   || ! command -v gdcmanon >/dev/null || ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
   || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    dicom3tools dcmtk tesseract-ocr tesseract-ocr-eng fonts-dejavu-core libgdcm-tools openssl chromium chromium-driver >/dev/null
fi

# Clean Pixel Data's text detector (rapidocr-onnxruntime) comes with the "pixels" extra, as for any pip
# user; pip also brings the GUI build of OpenCV its metadata names (harmless outside Slicer, whose own
# install leaves it out: Resources' requirements, --no-deps) beside the headless one.

make_venv() {  # make_venv DIR EXTRAS [extra pip requirement...]
  local dir=$1 extras=$2; shift 2
  [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check -e ".[$extras]" "$@" 2>&1 | grep -v '^WARNING: Location' || true
  "$dir/bin/python" -c 'import rapidocr_onnxruntime, cv2, tesserocr' # the detector, headless OpenCV, Tesseract in process
  "$dir/bin/python" -c 'import DicomDeidentifyLib, SceneScrubberLib, defusedxml, jinja2, pydicom, pytest, selenium, distributed' # fails loudly if the install did not work
}

make_venv .venv test,scene,surfaces,pixels,cluster
.venv/bin/python -c 'import slicer; slicer.vtkMRMLScene()'
make_venv .venv-pydicom2 test,pixels,cluster 'pydicom>=2.4,<2.5'
echo "setup done: $(.venv/bin/python -c 'import pydicom; print("pydicom", pydicom.__version__)') in .venv," \
     "$(.venv-pydicom2/bin/python -c 'import pydicom; print("pydicom", pydicom.__version__)') in .venv-pydicom2"
