"""A batch that survives what a disk may hold: special files, bombs, dying workers, shared folders.

Every special file is made in tmp_path; every process runs with a timeout, so a regression
fails the test instead of hanging it.
"""
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from support.data import data_file, read, save

CLI = Path(sys.executable).parent / "dicom-deidentify"
TIMEOUT = 120


def run(*args, env=None, **kwargs):
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=TIMEOUT, **kwargs)


def anonymize(inputs, out, secrets, *extra):
    inputs = inputs if isinstance(inputs, list) else [inputs]
    # --verbose: the summary names files by input path (what these tests look up)
    return run("anonymize", *inputs, "--output", out, "--key-file", secrets / "k", "--create-key", "--quiet",
               "--verbose", *extra)


def child_peak_rss_mb(*args) -> tuple:
    """Run the command in a fresh Python that waits for it: (completed process, peak RSS in MB of
    the command and its workers), from getrusage(RUSAGE_CHILDREN) of that Python alone."""
    probe = ("import json, resource, subprocess, sys;"
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=%d);"
             "print(json.dumps([p.returncode, p.stdout, p.stderr, "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))" % TIMEOUT)
    done = subprocess.run([sys.executable, "-c", probe, str(CLI), *map(str, args)], capture_output=True, text=True,
                          timeout=TIMEOUT + 10, env=os.environ)
    code, stdout, stderr, peak = json.loads(done.stdout)
    return subprocess.CompletedProcess(args, code, stdout, stderr), peak


def line_of(stdout: str, name: str) -> str:
    lines = [line for line in stdout.splitlines() if name in line]
    assert lines, f"{name} is not in the summary:\n{stdout}"
    return lines[0]


# -- 1. only regular files are read --------------------------------------------------------

def bind_socket(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    here = os.getcwd()
    os.chdir(path.parent)   # AF_UNIX paths are limited to ~108 bytes: bind the short name
    try:
        server.bind(path.name)
    finally:
        os.chdir(here)
    return server


def test_only_regular_files_are_read_and_every_other_kind_is_skipped_with_a_reason(tmp_path):
    inputs = tmp_path / "in"
    (inputs / "a").mkdir(parents=True)
    (inputs / "b").mkdir()
    (inputs / "a" / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    (inputs / "b" / "mr.dcm").write_bytes(data_file("MR_small.dcm").read_bytes())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "outside.dcm").write_bytes(data_file("rtdose.dcm").read_bytes())
    os.mkfifo(inputs / "a" / "pipe.dcm")
    os.symlink("/dev/zero", inputs / "a" / "zero.dcm")
    os.symlink(elsewhere / "outside.dcm", inputs / "a" / "outside-link.dcm")
    os.symlink(inputs / "b" / "mr.dcm", inputs / "a" / "inside-link.dcm")   # followed: inside the inputs
    os.symlink(tmp_path / "nothing", inputs / "a" / "broken.dcm")
    os.symlink(elsewhere, inputs / "a" / "folder-link")
    server = bind_socket(inputs / "a" / "sock")
    try:
        result = anonymize(inputs, tmp_path / "out", tmp_path / "s", "--jobs", "2")
    finally:
        server.close()
    assert result.returncode == 0, result.stdout + result.stderr   # skips only: nothing failed
    assert "Traceback" not in result.stderr
    assert "FIFO" in line_of(result.stdout, "pipe.dcm") and "not read" in line_of(result.stdout, "pipe.dcm")
    assert "a link to a character device: not read" in line_of(result.stdout, "zero.dcm")
    assert "outside the inputs: not followed" in line_of(result.stdout, "outside-link.dcm")
    assert "broken link" in line_of(result.stdout, "broken.dcm")
    assert "a link to a folder: not followed" in line_of(result.stdout, "folder-link")
    assert "socket" in line_of(result.stdout, "sock")
    # the link inside the inputs was read: the same instance as mr.dcm (one output for both)
    assert not [line for line in result.stdout.splitlines() if "inside-link.dcm" in line and "already present" not in line]
    written = list((tmp_path / "out").rglob("*.dcm"))
    assert len(written) == 2   # ct and mr; nothing from outside the inputs
    assert {pydicom.dcmread(p).Modality for p in written} == {"CT", "MR"}
    assert "9 files" in result.stdout and " 0 failed" in result.stdout
    assert len([line for line in result.stdout.splitlines() if line.startswith("skipped")]) in (6, 7)


def test_a_link_named_as_an_input_is_followed_to_a_regular_file_only(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    os.symlink(elsewhere / "ct.dcm", tmp_path / "named.dcm")
    os.symlink("/dev/zero", tmp_path / "zero.dcm")
    os.mkfifo(tmp_path / "pipe.dcm")
    result = anonymize([tmp_path / "named.dcm", tmp_path / "zero.dcm", tmp_path / "pipe.dcm"],
                       tmp_path / "out", tmp_path / "s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 written, 2 skipped, 0 failed" in result.stdout
    assert "character device" in line_of(result.stdout, "zero.dcm") and "FIFO" in line_of(result.stdout, "pipe.dcm")


def test_a_fifo_or_device_given_to_the_reader_directly_is_refused_without_blocking(tmp_path):
    """The belt under the walk: a FIFO swapped in after the walk, opened with O_NONBLOCK and refused by fstat."""
    os.mkfifo(tmp_path / "pipe")
    code = ("import sys; from pathlib import Path\n"
            "from DicomDeidentifyLib.bounded_read import InputRefused, check_input\n"
            "from DicomDeidentifyLib.dicom_io import DicomReadError, read_source\n"
            "for path in sys.argv[1:]:\n"
            "    for read in (check_input, read_source):\n"
            "        try:\n"
            "            read(Path(path))\n"
            "        except InputRefused as error:\n"
            "            print('refused', error.not_regular, error.reason)\n"
            "        except DicomReadError as error:\n"
            "            print('refused', error.not_dicom, error.reason)\n")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "pipe"), "/dev/zero"], capture_output=True,
                          text=True, timeout=60)
    lines = done.stdout.splitlines()
    assert len(lines) == 4, done.stdout + done.stderr
    assert all(line.startswith("refused True not a regular file") for line in lines)
    assert "FIFO" in lines[0] and "character device" in lines[3]


# -- 2. bounded reading ----------------------------------------------------------------------

def deflated_bomb(path: Path, inflated_mb: int) -> None:
    """A real deflated-transfer-syntax file (PS3.5 A.5) whose body inflates to `inflated_mb` MB:
    CT_small's header, then Pixel Data of zeros."""
    dataset = read("CT_small.dcm")
    del dataset.PixelData
    dataset.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    body = pydicom.filebase.DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, False
    pydicom.filewriter.write_dataset(body, dataset)
    header = body.getvalue()
    size = inflated_mb * 1024 * 1024
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = [compressor.compress(header + b"\xe0\x7f\x10\x00OB\x00\x00" + size.to_bytes(4, "little"))]
    zeros = bytes(1 << 20)
    for _ in range(inflated_mb):
        parts.append(compressor.compress(zeros))
    parts.append(compressor.flush())
    meta = pydicom.filebase.DicomBytesIO()
    meta.is_little_endian, meta.is_implicit_VR = True, False
    pydicom.filewriter.write_file_meta_info(meta, dataset.file_meta, enforce_standard=True)
    path.write_bytes(b"\x00" * 128 + b"DICM" + meta.getvalue() + b"".join(parts))


def test_a_deflated_body_that_inflates_past_the_limit_fails_in_bounded_memory(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    deflated_bomb(inputs / "bomb.dcm", 600)   # well under 1 MB on disk
    assert (inputs / "bomb.dcm").stat().st_size < 1024 * 1024
    result, peak = child_peak_rss_mb("anonymize", "--verbose", inputs, "--output", tmp_path / "out", "--key-file",
                                     tmp_path / "s" / "k", "--create-key", "--quiet", "--max-inflated-size", "64")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "inflates to more than 64 MB" in line_of(result.stdout, "bomb.dcm")
    assert peak < 400, f"{peak:.0f} MB for a 1 MB file"
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*"))


def test_a_deflated_file_within_the_limit_is_read(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    deflated_bomb(inputs / "small.dcm", 2)
    result = anonymize(inputs, tmp_path / "out", tmp_path / "s")
    assert result.returncode == 0, result.stdout + result.stderr
    written = next((tmp_path / "out").rglob("*.dcm"))
    assert len(pydicom.dcmread(written).PixelData) == 2 * 1024 * 1024


def test_a_file_larger_than_the_limit_fails_unread(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    data = data_file("CT_small.dcm").read_bytes()
    (inputs / "ct.dcm").write_bytes(data)
    with open(inputs / "huge.dcm", "wb") as handle:   # sparse: 20 GB declared, nothing on disk
        handle.write(data)
        handle.truncate(20 * 1024 ** 3)
    (inputs / "big.dcm").write_bytes(data + bytes(3 * 1024 * 1024))
    result = anonymize(inputs, tmp_path / "out", tmp_path / "s", "--max-file-size", "2")
    assert result.returncode == 1
    assert "too large: 20480 MB, the limit is 2 MB" in line_of(result.stdout, "huge.dcm")
    assert "too large: 3 MB" in line_of(result.stdout, "big.dcm")
    assert "1 written, 0 skipped, 2 failed" in result.stdout
    default = anonymize([inputs / "huge.dcm"], tmp_path / "out2", tmp_path / "s")   # the default limit: 16 GB
    assert default.returncode == 1 and "the limit is 16384 MB" in default.stdout


@pytest.mark.parametrize("shape, megabytes", [("DICM then zeros", 50), ("DICM then zeros", 150),
                                              ("a real header then zeros", 50),
                                              ("an implicit VR header then zeros", 50),
                                              ("an implicit VR header then zeros", 150),
                                              ("a data set without preamble then zeros", 50)])
def test_a_pathological_body_is_refused_in_linear_time_and_bounded_memory(tmp_path, shape, megabytes):
    inputs = tmp_path / "in"
    inputs.mkdir()
    head = {"DICM then zeros": b"\x00" * 128 + b"DICM",
            "a real header then zeros": data_file("CT_small.dcm").read_bytes(),
            # the reader's own header walk reads zeros as ascending-tag-free empty elements: its order check refuses
            "an implicit VR header then zeros": data_file("MR_small_implicit.dcm").read_bytes(),
            "a data set without preamble then zeros": b"\x08\x00\x05\x00\x0a\x00\x00\x00ISO_IR 100"}[shape]
    with open(inputs / "zeros.dcm", "wb") as handle:   # the zeros are a hole: nothing on disk
        handle.write(head)
        handle.truncate(len(head) + megabytes * 1024 * 1024)
    result, peak = child_peak_rss_mb("anonymize", "--verbose", inputs, "--output", tmp_path / "out", "--key-file",
                                     tmp_path / "s" / "k", "--create-key", "--quiet")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "out of order" in line_of(result.stdout, "zeros.dcm")
    assert peak < 400, f"{peak:.0f} MB for a {megabytes} MB file"


def test_the_corpus_passes_the_input_checks_including_the_tag_order_scan():
    from DicomDeidentifyLib.bounded_read import ReadLimits, _check_body, check_input
    from support.data import corpus_files
    for path in corpus_files():
        check_input(path)   # raises InputRefused for a file it would refuse
        _check_body(path.read_bytes(), ReadLimits(), scan_order=True)   # the scan, also on small files


def test_a_small_deflated_bomb_is_caught_too(tmp_path):
    """The tag order scan starts at 256 kB; the inflate limit holds for every size."""
    from DicomDeidentifyLib.bounded_read import InputRefused, ReadLimits, check_input
    deflated_bomb(tmp_path / "bomb.dcm", 150)
    assert (tmp_path / "bomb.dcm").stat().st_size < 256 * 1024
    with pytest.raises(InputRefused, match="inflates to more than 100 MB"):
        check_input(tmp_path / "bomb.dcm", ReadLimits(max_inflated_bytes=100 * 1024 * 1024))


# -- 3. a worker that dies --------------------------------------------------------------------

def test_the_pool_fails_the_item_a_killed_worker_held_and_goes_on():
    import multiprocessing
    from DicomDeidentifyLib.worker_pool import run_unordered

    def work(item):
        if item in (3, 11):
            os.kill(os.getpid(), signal.SIGKILL)   # what the out-of-memory killer does
        return item * 10

    results = list(run_unordered(range(20), work, jobs=2, context=multiprocessing.get_context("fork"),
                                 died=lambda item, code: ("died", item, code)))
    assert sorted(r for r in results if not isinstance(r, tuple)) == [i * 10 for i in range(20) if i not in (3, 11)]
    assert sorted(r for r in results if isinstance(r, tuple)) == [("died", 3, -9), ("died", 11, -9)]


def test_the_pool_hands_out_again_what_retry_gives_for_a_dead_workers_item():
    import multiprocessing
    from DicomDeidentifyLib.worker_pool import run_unordered

    def work(item):
        if 3 in item:
            os.kill(os.getpid(), signal.SIGKILL)
        return list(item)

    results = list(run_unordered([(0, 1), (2, 3, 4), (5,)], work, jobs=2, context=multiprocessing.get_context("fork"),
                                 died=lambda item, code: ("died", item, code),
                                 retry=lambda item: [(i,) for i in item] if len(item) > 1 else None))
    assert sorted(r for r in results if isinstance(r, list)) == [[0, 1], [2], [4], [5]]
    assert [r for r in results if isinstance(r, tuple)] == [("died", (3,), -9)]   # alone, it fails


def test_the_pool_stops_handing_out_items_once_cancelled():
    import multiprocessing
    import threading
    from DicomDeidentifyLib.worker_pool import run_unordered
    cancel = threading.Event()
    results = []
    for result in run_unordered(range(1000), lambda i: i, jobs=2, context=multiprocessing.get_context("fork"),
                                died=lambda item, code: None, cancel=cancel):
        results.append(result)
        if len(results) == 5:
            cancel.set()
    assert 5 <= len(results) <= 7   # the items under way when it was set finish; no new one starts


def many_inputs(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    base = read("CT_small.dcm")
    for n in range(count):
        base.SOPInstanceUID = generate_uid()
        save(base, folder / f"img{n:04d}.dcm")


def children_of(pid: int) -> list:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_workers_killed_during_a_run_lose_no_file_their_series_units_are_done_again(tmp_path):
    """Each worker holds a unit of one series (work_units): killed, its files are done again one by one
    by new workers (those it had written are found already present); no file fails or is missing."""
    many_inputs(tmp_path / "in", 300)
    out = tmp_path / "out"
    process = subprocess.Popen([str(CLI), "anonymize", str(tmp_path / "in"), "--output", str(out), "--key-file",
                                str(tmp_path / "s" / "k"), "--create-key", "--jobs", "2", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(out.rglob("*.dcm"))) < 30:
            time.sleep(0.02)
        workers = children_of(process.pid)
        assert len(workers) == 2
        for worker in workers:   # both at once: each holds a unit nearly all the time
            os.kill(worker, signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 0, stdout + stderr
    assert "worker died" not in stdout
    assert "300 files" in stdout and " 0 failed" in stdout
    assert len(list(out.rglob("*.dcm"))) == 300
    assert not [p for p in out.rglob("*") if p.name.endswith(".partial")]


# From the command's first line on (before it, the interpreter's own start-up: ~0.15 s here):
# importing the engine, creating the key, starting the workers.
@pytest.mark.parametrize("delay", [0.5, 0.8, 1.1, 1.4, 1.8, 2.2])
def test_ctrl_c_during_start_up_prints_no_traceback(tmp_path, delay):
    many_inputs(tmp_path / "in", 20)
    process = subprocess.Popen([str(CLI), "anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                                "--key-file", str(tmp_path / "s" / "k"), "--create-key", "--jobs", "2", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=TIMEOUT)
    assert "Traceback" not in stderr, stderr
    if process.returncode != 0:   # it may have finished before the signal came
        assert process.returncode in (130, -signal.SIGINT), stderr
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".partial")]


# -- 4. every input that cannot be read is a failure --------------------------------------------

def as_an_ordinary_user(command: list) -> list:
    """Root reads everything: drop the capabilities that bypass file modes (util-linux setpriv),
    so that a mode-000 folder is unreadable as it is for any user. Root stays the owner of the
    interpreter's files, so the command still starts."""
    if os.geteuid() != 0:
        return command
    capabilities = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={capabilities}", f"--bounding-set={capabilities}", *command]


def test_an_unreadable_folder_or_file_is_a_failure_counted_in_the_summary_and_exit_code(tmp_path):
    inputs = tmp_path / "in"
    for name in ("ok", "locked", "locked-too"):
        (inputs / name).mkdir(parents=True)
    (inputs / "ok" / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    (inputs / "ok" / "unreadable.dcm").write_bytes(data_file("MR_small.dcm").read_bytes())
    (inputs / "locked" / "inside.dcm").write_bytes(data_file("MR_small.dcm").read_bytes())
    named = tmp_path / "named-locked"
    named.mkdir()
    os.chmod(inputs / "ok" / "unreadable.dcm", 0)
    for folder in (inputs / "locked", inputs / "locked-too", named):
        os.chmod(folder, 0)
    try:
        for jobs in ("1", "2"):
            out = tmp_path / f"out{jobs}"
            done = subprocess.run(as_an_ordinary_user(
                [str(CLI), "anonymize", str(inputs), str(named), "--output", str(out), "--key-file",
                 str(tmp_path / "s" / "k"), "--create-key", "--quiet", "--verbose", "--jobs", jobs]),
                capture_output=True, text=True, timeout=TIMEOUT)
            assert done.returncode == 1, done.stdout + done.stderr
            assert "folder cannot be read: Permission denied" in line_of(done.stdout, "in/locked:")
            assert "folder cannot be read: Permission denied" in line_of(done.stdout, "in/locked-too:")
            assert "folder cannot be read: Permission denied" in line_of(done.stdout, "named-locked:")
            assert "cannot be read: Permission denied" in line_of(done.stdout, "unreadable.dcm")
            assert "5 files" in done.stdout and "1 written, 0 skipped, 4 failed" in done.stdout
            report = json.loads(next((tmp_path / "s" / "reports").glob("*/report.json")).read_text()) if jobs == "1" \
                else None
            if report:
                assert report["totals"]["failed"] == 4
                assert all(f["reason"] for f in report["files"] if f["status"] == "failed")
    finally:
        for folder in (inputs / "locked", inputs / "locked-too", named):
            os.chmod(folder, 0o700)


# -- 5. modes: only what the tool creates ---------------------------------------------------------

def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def one_input(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    return folder


def test_an_existing_report_folder_is_used_as_it_is_and_an_unsafe_one_is_refused(tmp_path, one_input):
    shared = tmp_path / "shared-reports"
    shared.mkdir()
    os.chmod(shared, 0o755)
    result = anonymize(one_input, tmp_path / "out", tmp_path / "s", "--report-dir", shared)
    assert result.returncode == 0, result.stderr
    assert mode_of(shared) == 0o755                      # not made owner-only
    run_folder = next(shared.iterdir())
    assert mode_of(run_folder) == 0o700 and mode_of(run_folder / "report.json") == 0o600   # created: owner-only
    sticky = tmp_path / "tmp-like"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)                             # a world-writable sticky folder, like /tmp
    refused = anonymize(one_input, tmp_path / "out2", tmp_path / "s", "--report-dir", sticky)
    assert refused.returncode == 2 and "can be written by others (mode 1777)" in refused.stderr
    assert mode_of(sticky) == 0o1777 and list(sticky.iterdir()) == []
    assert not (tmp_path / "out2").exists()


def test_the_folder_of_a_new_key_is_created_owner_only_or_used_only_if_safe_for_key_material(tmp_path, one_input):
    deep = tmp_path / "new" / "deeper"
    assert anonymize(one_input, tmp_path / "o1", deep).returncode == 0
    assert mode_of(tmp_path / "new") == 0o700 and mode_of(deep) == 0o700 and mode_of(deep / "k") == 0o600
    for mode, why in ((0o755, "can be read by others (mode 0755)"), (0o1777, "can be written by others (mode 1777)"),
                      (0o770, "can be written by others (mode 0770)")):
        folder = tmp_path / f"keys-{mode:o}"
        folder.mkdir()
        os.chmod(folder, mode)
        result = anonymize(one_input, tmp_path / f"o-{mode:o}", folder)
        assert result.returncode == 2 and why in result.stderr, result.stderr
        assert mode_of(folder) == mode and not (folder / "k").exists()
    private = tmp_path / "keys-700"
    private.mkdir(mode=0o700)
    assert anonymize(one_input, tmp_path / "o-700", private).returncode == 0 and (private / "k").exists()


def test_a_key_readable_by_others_is_refused_not_silently_changed(tmp_path, one_input):
    assert anonymize(one_input, tmp_path / "o1", tmp_path / "s").returncode == 0
    os.chmod(tmp_path / "s" / "k", 0o644)
    result = anonymize(one_input, tmp_path / "o2", tmp_path / "s")
    assert result.returncode == 2 and "can be read by others (mode 0644)" in result.stderr
    assert mode_of(tmp_path / "s" / "k") == 0o644


def test_export_mapping_uses_an_existing_folder_as_it_is_and_refuses_a_shared_writable_one(tmp_path, one_input):
    assert anonymize(one_input, tmp_path / "out", tmp_path / "s").returncode == 0
    folder = tmp_path / "mapping"
    folder.mkdir()
    os.chmod(folder, 0o750)
    result = run("export-mapping", "--into", tmp_path / "out", "--output", folder, "--key-file", tmp_path / "s" / "k")
    assert result.returncode == 0, result.stderr
    assert mode_of(folder) == 0o750 and mode_of(folder / "uid_mapping.csv") == 0o600
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    refused = run("export-mapping", "--into", tmp_path / "out", "--output", sticky, "--key-file", tmp_path / "s" / "k")
    assert refused.returncode == 2 and "can be written by others" in refused.stderr
    assert mode_of(sticky) == 0o1777 and list(sticky.iterdir()) == []


# -- 6. destinations ------------------------------------------------------------------------------

def test_destinations_inside_slicers_database_at_any_depth_are_refused(tmp_path, one_input):
    database = tmp_path / "SlicerDICOMDatabase"
    (database / "dicom").mkdir(parents=True)
    (database / "ctkDICOM.sql").write_bytes(b"")
    before = sorted(database.rglob("*"))
    for flag, destination in (("--into", database), ("--into", database / "sub"), ("--output", database / "dicom"),
                              ("--output", database / "a" / "b" / "c")):
        result = run("anonymize", one_input, flag, destination, "--key-file", tmp_path / "s" / "k", "--create-key")
        assert result.returncode == 2, (destination, result.stdout)
        assert "a DICOM database of Slicer's" in result.stderr and f"{database} holds ctkDICOM.sql" in result.stderr
    assert sorted(database.rglob("*")) == before     # nothing was written into it
    assert not (tmp_path / "s").exists()             # refused before any key was made


def test_a_side_database_is_a_destination_but_not_a_folder_inside_it(tmp_path, one_input):
    side = tmp_path / "side"
    assert run("anonymize", one_input, "--into", side, "--key-file", tmp_path / "s" / "k",
               "--create-key").returncode == 0
    (side / "ctkDICOM.sql").write_bytes(b"")          # Slicer indexed it
    assert run("anonymize", one_input, "--into", side, "--key-file", tmp_path / "s" / "k").returncode == 0
    inside = run("anonymize", one_input, "--into", side / "nested", "--key-file", tmp_path / "s" / "k")
    assert inside.returncode == 2 and "is inside the side database" in inside.stderr


def test_a_destination_inside_an_input_and_an_input_inside_the_destination_are_refused(tmp_path, one_input):
    inside = run("anonymize", one_input, "--output", one_input / "deidentified", "--key-file", tmp_path / "s" / "k",
                 "--create-key")
    assert inside.returncode == 2 and "is inside the input" in inside.stderr
    assert not (one_input / "deidentified").exists()
    outer = tmp_path / "outer"
    (outer / "in").mkdir(parents=True)
    (outer / "in" / "ct.dcm").write_bytes(data_file("CT_small.dcm").read_bytes())
    holds = run("anonymize", outer / "in", "--output", outer, "--key-file", tmp_path / "s" / "k", "--create-key")
    assert holds.returncode == 2 and "is inside the output folder" in holds.stderr


# -- 7. --no-linkage: nothing that maps back ---------------------------------------------------------

def test_no_linkage_leaves_no_original_path_name_or_value_in_any_file_the_run_writes(tmp_path):
    inputs = tmp_path / "in" / "DOE_JOHN_MRN12345"          # folder names carry PHI in real life
    inputs.mkdir(parents=True)
    originals = set()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        (inputs / f"Doe-{name}").write_bytes(data_file(name).read_bytes())
        dataset = read(name)
        originals |= {str(dataset.PatientName), str(dataset.PatientID), dataset.StudyInstanceUID,
                      dataset.SeriesInstanceUID, dataset.SOPInstanceUID}
    (inputs / "Doe-truncated.dcm").write_bytes(data_file("MR_truncated.dcm").read_bytes())   # a failure
    os.mkfifo(inputs / "Doe-pipe")                                                           # a skip
    secrets, out = tmp_path / "secrets", tmp_path / "out"
    result = run("anonymize", tmp_path / "in", "--into", out, "--key-file", secrets / "k", "--create-key",
                 "--no-linkage", "--quiet", "--jobs", "2")
    assert result.returncode == 1, result.stdout + result.stderr     # the truncated file failed
    written = [p for p in [*secrets.rglob("*"), *out.rglob("*")] if p.is_file() and p.name != "k"]
    assert any(p.name == "report.json" for p in written) and any(p.name == "linkage.sqlite" for p in written)
    needles = [str(tmp_path / "in"), "DOE_JOHN", "MRN12345", "Doe-", *originals]
    for path in written:
        data = path.read_bytes()
        found = [n for n in needles if n.encode() in data]
        assert not found, f"{path} holds {found}"
    report = json.loads(next(secrets.rglob("report.json")).read_text())
    assert report["irreversible"] is True and report["linkage"] is False
    assert report["inputs"] == [] and report["input_count"] == 1
    assert sorted(f["source"] for f in report["files"]) == ["input #1", "input #2", "input #3", "input #4"]
    assert all(f["reason"] for f in report["files"] if f["status"] in ("failed", "skipped"))
    assert "Irreversible run" in next(secrets.rglob("report.html")).read_text()


# -- 8. key creation under a race -----------------------------------------------------------------

def test_processes_creating_the_key_at_once_all_get_the_one_finished_key(tmp_path):
    """Eight processes, released at the same moment, create one key: one creates it, the others
    read it, none fails or reads a partial key."""
    code = ("import sys, time\n"
            "from pathlib import Path\n"
            "from DicomDeidentifyLib.keys import load_or_create_key\n"
            "start = float(sys.argv[2])\n"
            "while time.time() < start: pass\n"
            "key, created = load_or_create_key(Path(sys.argv[1]), create=True)\n"
            "print(key.hex(), created)\n")
    for attempt in range(5):
        path = tmp_path / f"race{attempt}" / "secrets" / "k"
        start = time.time() + 1.5
        processes = [subprocess.Popen([sys.executable, "-c", code, str(path), str(start)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(8)]
        outcomes = [process.communicate(timeout=60) for process in processes]
        assert all(process.returncode == 0 for process in processes), [err for _, err in outcomes]
        answers = [stdout.split() for stdout, _ in outcomes]
        assert len({key for key, _ in answers}) == 1 and len(answers[0][0]) == 64
        assert [created for _, created in answers].count("True") == 1
        assert path.read_text().strip() == answers[0][0] and mode_of(path) == 0o600
        assert mode_of(path.parent) == 0o700
        assert [p.name for p in path.parent.iterdir()] == ["k"]   # no temporary file left


def test_write_key_never_replaces_an_existing_key(tmp_path):
    from DicomDeidentifyLib.keys import write_key
    path = tmp_path / "k"
    assert write_key(path, bytes(range(32))) is True
    assert write_key(path, bytes(32)) is False               # never over an existing key
    assert path.read_text() == bytes(range(32)).hex() + "\n"


# -- fuzzing ---------------------------------------------------------------------------------------

FUZZ_SEED, FUZZ_FILES = 20261203, 300


def mutate(data: bytes, random) -> bytes:
    """One to three mutations of the kinds that break readers: bit flips, a length field set to a
    huge or odd value, a cut, a run of zeros, a repeated or deleted span."""
    data = bytearray(data)
    for _ in range(random.randint(1, 3)):
        where = random.randrange(len(data))
        kind = random.randrange(6)
        if kind == 0:
            for _ in range(random.randint(1, 16)):
                position = random.randrange(len(data))
                data[position] ^= 1 << random.randrange(8)
        elif kind == 1:   # a 16- or 32-bit length somewhere in the header area
            where = random.randrange(128, min(len(data), 4096)) if len(data) > 132 else where
            value = random.choice([0xFFFFFFFF, 0x7FFFFFFF, 0xFFFFFFFE, 0x10000, 1, 3]).to_bytes(4, "little")
            data[where:where + 4] = value
        elif kind == 2:
            del data[random.randint(min(len(data), 132), len(data)):]
        elif kind == 3:
            data[where:where] = bytes(random.choice([8, 100, 4096, 65536]))
        elif kind == 4:
            span = data[where:where + random.randint(1, 512)]
            data[where:where] = span * random.randint(1, 20)
        else:
            del data[where:where + random.randint(1, 256)]
        if not data:
            data = bytearray(b"\x00")
    return bytes(data)


def test_fuzzed_corpus_files_fail_with_a_reason_never_a_traceback_nor_a_partial_output(tmp_path):
    import random as random_module
    from support.data import corpus_files
    random = random_module.Random(FUZZ_SEED)
    sources = [p for p in corpus_files() if p.stat().st_size < 200_000]
    inputs = tmp_path / "in"
    inputs.mkdir()
    for n in range(FUZZ_FILES):
        source = random.choice(sources)
        (inputs / f"{n:03d}-{source.name}").write_bytes(mutate(source.read_bytes(), random))
    out, secrets = tmp_path / "out", tmp_path / "s"
    result = anonymize(inputs, out, secrets, "--jobs", "2")
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    report = json.loads(next(secrets.rglob("report.json")).read_text())
    totals = report["totals"]
    assert totals["files"] == FUZZ_FILES and not report["cancelled"]
    assert result.returncode == (1 if totals["failed"] else 0), result.stdout[-2000:]   # as cli.py documents
    assert totals["failed"] > 0 and totals["written"] > 0   # the mutations did break some, not all
    assert all(f["reason"] for f in report["files"] if f["status"] in ("failed", "skipped"))
    assert not [p for p in out.rglob("*") if p.name.endswith(".partial")]
    written = [Path(f["output"]) for f in report["files"] if f["status"] == "written"]
    assert sorted(written) == sorted(p for p in out.rglob("*.dcm"))
    from DicomDeidentifyLib.bounded_read import inflate_bounded
    from DicomDeidentifyLib.structure_check import body_offset, check_buffer
    for path in written:   # every output is a whole file: it parses, and every length in it fits
        dataset = pydicom.dcmread(path)
        syntax, data = dataset.file_meta.TransferSyntaxUID, path.read_bytes()
        if syntax == pydicom.uid.DeflatedExplicitVRLittleEndian:
            data = data[:body_offset(data)] + inflate_bounded(data, body_offset(data), 1 << 30)
        check_buffer(data, syntax == pydicom.uid.ImplicitVRLittleEndian, syntax != pydicom.uid.ExplicitVRBigEndian)
        # (Decoding every value is the output check's job, not this test's: with this seed, one
        # output keeps an element whose VR the mutation made unknown, 'LK'; see the report.)


def test_options_no_worker_can_start_with_raise_before_any_worker_starts(tmp_path):
    """A region rule file that is not one: the run raises the same ValueError with two jobs as with
    one, before any worker starts (before, each worker died on it and every file said 'worker died')."""
    import pytest
    from pydicom.data import get_testdata_file
    from DicomDeidentifyLib import DeidentifyOptions, deidentify_paths
    rules = tmp_path / "rules.json"
    rules.write_text("[1,2")
    files = [get_testdata_file(name) for name in ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm")]
    options = DeidentifyOptions(clean_pixel_data=True, pixel_rules_file=str(rules))
    for jobs in (1, 2):
        with pytest.raises(ValueError, match="not a region rule file"):
            deidentify_paths(files, tmp_path / f"out{jobs}", options, bytes(range(32)), jobs=jobs)
        assert not (tmp_path / f"out{jobs}").exists() or not list((tmp_path / f"out{jobs}").rglob("*.dcm"))
