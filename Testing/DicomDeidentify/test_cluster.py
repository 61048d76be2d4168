"""De-identification on a Dask cluster (cluster.py): a real LocalCluster of 2 worker processes.

The same run as a local one, only elsewhere: byte-identical files, the same linkage rows and report
entries; a worker killed mid-run loses no file; the key never reaches the destination or the output.
"""
import io
import os
import secrets
import shutil
import signal
import sqlite3
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import distributed
import pytest
from pydicom.uid import generate_uid

from DicomDeidentifyLib import DeidentifyOptions
from DicomDeidentifyLib.cli import main
from DicomDeidentifyLib.cluster import DaskCluster
from DicomDeidentifyLib.keys import load_key, write_key
from DicomDeidentifyLib.linkage import linkage_path
from DicomDeidentifyLib.runs import deidentify_folder
from support.cluster_probe import key_holders
from support.data import KEY, corpus_files, instance_rounds, read, save

CLI = Path(sys.executable).parent / "dicom-deidentify"


@pytest.fixture(scope="module")
def scheduler():
    """A LocalCluster of 2 worker processes (one thread each), reached as a scheduler address."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def key_file(folder: Path) -> Path:
    path = folder / "secrets" / "pseudonym.key"
    path.parent.mkdir(parents=True)
    write_key(path, KEY)
    return path


def files_of(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def differences(left: dict, right: dict, only_left: bool = False) -> list:
    """What differs between two files_of() maps, readably: each path missing on one side, and for each
    path whose bytes differ, the elements that differ (keyword, left value, right value)."""
    import pydicom
    found = [("only in the run", path) for path in sorted(set(left) - set(right))]
    if not only_left:
        found += [("only in the reference", path) for path in sorted(set(right) - set(left))]
    for path in sorted(set(left) & set(right)):
        if left[path] == right[path]:
            continue
        if path.name.startswith("."):
            found.append(("differs", path))
            continue
        a, b = (pydicom.dcmread(io.BytesIO(side[path]), force=True) for side in (left, right))
        elements = [(e.keyword or str(e.tag), repr(e.value)[:80], repr(b[e.tag].value)[:80] if e.tag in b else None)
                    for e in a if e.tag not in b or b[e.tag].value != e.value]
        found.append(("differs", path, elements or "same elements, other bytes"))
    return found


def linkage_rows(key: Path, destination: Path) -> dict:
    """The linkage store's rows, with the destination's path and the times taken out."""
    db = sqlite3.connect(linkage_path(key))
    try:
        return {
            "patients": sorted(db.execute("SELECT identity_hash, pseudonym_id, pseudonym_name, date_offset_days, "
                                          "original_patient_id, original_issuer, original_name, original_birth_date "
                                          "FROM patients").fetchall()),
            "uids": sorted(db.execute("SELECT original, new FROM uids").fetchall()),
            "files": sorted((source, output.replace(str(destination), "<dest>"), status, reason, identity, sop)
                            for source, output, status, reason, identity, sop in
                            db.execute("SELECT source, output, status, reason, identity_hash, sop_instance_uid "
                                       "FROM files").fetchall()),
        }
    finally:
        db.close()


def order_free(rows: list, output_of, status_fields: tuple) -> list:
    """Rows (dicts or tuples) with the outcome blanked where several inputs give one output: two copies
    of one instance in one encoding (the corpus has two) are one file; which of them is written and
    which is "already present", or whether both are written at once, depends on which worker gets
    there first, in a local pool of 2 workers too."""
    outputs = [output_of(row) for row in rows]
    shared = {o for o in outputs if o and outputs.count(o) > 1}
    assert len(shared) <= 2
    if isinstance(rows[0], dict):
        return sorted(json.dumps({**row, **({f: "*" for f in status_fields} if output_of(row) in shared else {})},
                                 sort_keys=True) for row in rows)
    return sorted(tuple("*" if output_of(row) in shared and n in status_fields else v for n, v in enumerate(row))
                  for row in rows)


def test_a_cluster_run_of_the_corpus_equals_a_local_run(tmp_path, scheduler):
    # every test file but later versions of an instance (one destination holds one version of an
    # instance, kept by whichever is recorded first: an order local and cluster runs need not share),
    # in folders of 40 (several tasks, several folders)
    corpus, files = tmp_path / "corpus", instance_rounds(corpus_files())[0]
    for n, path in enumerate(files):
        target = corpus / f"part{n // 40}" / f"{n:04d}_{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    options = DeidentifyOptions(retain_safe_private=True, clean_descriptors=True)
    runs = {}
    for where in ("local", "cluster"):
        key = key_file(tmp_path / where)
        destination = tmp_path / where / "out"
        if where == "local":
            run = deidentify_folder([corpus], destination, options, key_file=key, jobs=1)
        else:
            with DaskCluster(scheduler) as cluster:
                run = deidentify_folder([corpus], destination, options, key_file=key, cluster=cluster)
        runs[where] = (run, key, destination)
    local, cluster = runs["local"][0], runs["cluster"][0]
    totals = [run.summary.totals() for run in (local, cluster)]
    assert totals[0]["failed"] > 0 and totals[0]["written"] > 150
    for counts in totals:   # one copy of the instance the corpus holds twice may be written or skipped
        counts["written+skipped"] = counts.pop("written") + counts.pop("skipped")
    assert totals[0] == totals[1]
    assert not cluster.summary.cancelled
    written = files_of(runs["local"][2])
    assert files_of(runs["cluster"][2]) == written   # byte for byte, under the same names
    local_rows, cluster_rows = (linkage_rows(key, destination) for _, key, destination in runs.values())
    # a patient's original name is the first one recorded: one patient ID with two names in the corpus
    # gives either, by the order results come back in
    first_seen_free = [sorted(row[:6] + row[7:] for row in rows["patients"]) for rows in (local_rows, cluster_rows)]
    assert first_seen_free[0] == first_seen_free[1] and local_rows["uids"] == cluster_rows["uids"]
    assert len(local_rows["patients"]) == len(cluster_rows["patients"])
    assert order_free(local_rows["files"], lambda row: row[1], (2, 3)) == \
        order_free(cluster_rows["files"], lambda row: row[1], (2, 3))
    assert len(cluster_rows["files"]) == len(files) and len(cluster_rows["uids"]) > 300
    reports = [json.loads(run.report_json.read_text()) for run in (local, cluster)]
    # ("number", and "uncleaned_image", an image's number among the uncleaned ones: the order in which results
    # came back, which differs between the two by nature; whether a row has an uncleaned image is compared)
    entries = [order_free([{**{k: (v if k != "uncleaned_image" else "*") for k, v in e.items() if k != "number"},
                            "output": e["output"].replace(str(d), "<dest>")} for e in report["files"]],
                          lambda e: e["output"], ("status", "reason", "attention", "needs_review", "review"))
               for report, (_, _, d) in zip(reports, runs.values())]
    assert entries[0] == entries[1] and len(entries[0]) == len(files)
    assert reports[0]["attributes"] == reports[1]["attributes"]
    assert [(i["path"], i["reason"], i["count"]) for i in reports[0]["review"]] == \
           [(i["path"], i["reason"], i["count"]) for i in reports[1]["review"]]


def ct_series(folder: Path, count: int, patient: str) -> list:
    folder.mkdir(parents=True)
    ds = read("CT_small.dcm")
    ds.PatientID, ds.PatientName = patient, f"Doe^{patient}"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    paths = []
    for n in range(count):
        ds.SOPInstanceUID = generate_uid()
        paths.append(folder / f"{patient}_{n:04d}.dcm")
        save(ds, paths[-1])
    return paths


def test_a_worker_killed_mid_run_loses_no_file_and_the_rerun_completes_the_same_output(tmp_path, scheduler):
    inputs = ct_series(tmp_path / "in" / "a", 150, "P1") + ct_series(tmp_path / "in" / "b", 150, "P2")
    reference_key = key_file(tmp_path / "reference")
    deidentify_folder([tmp_path / "in"], tmp_path / "reference" / "out", key_file=reference_key, jobs=1)
    key = key_file(tmp_path / "run")
    out = tmp_path / "run" / "out"
    killed = []
    with DaskCluster(scheduler) as cluster:
        pids = cluster.client.run(os.getpid)
        assert len(pids) == 2

        def progress(done, total, result):
            if done >= 40 and not killed:
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)   # what the out-of-memory killer does, to a busy worker
                killed.append(victim)
        run = deidentify_folder([tmp_path / "in"], out, key_file=key, cluster=cluster, progress=progress)
        assert killed and killed[0] not in cluster.client.run(os.getpid).values()   # it died, a new one runs
    results = run.summary.results
    assert sorted(r.source for r in results) == sorted(map(str, inputs))   # each file once: none vanished
    for result in results:
        assert result.status in ("written", "skipped", "failed"), result
        if result.status == "failed":
            assert result.reason.startswith("worker died"), result.reason
        elif result.status == "skipped":
            assert result.reason == "already present (same input, same profile and key)"   # retried elsewhere
        if result.status != "failed":
            assert Path(result.output).is_file()
    assert not [p for p in out.rglob("*") if ".partial" in p.name or ".cluster-probe" in p.name]
    rows = linkage_rows(key, out)["files"]
    assert sorted(row[0] for row in rows) == sorted(map(str, inputs))   # every file recorded, once
    # what the run wrote is the reference's, byte for byte; a rerun (local, as after a crash) completes it
    reference = files_of(tmp_path / "reference" / "out")
    assert not differences(files_of(out), reference, only_left=True)
    rerun = deidentify_folder([tmp_path / "in"], out, key_file=key, jobs=1)
    assert rerun.summary.totals()["failed"] == 0
    assert files_of(out) == reference


def test_a_cancelled_cluster_run_records_what_it_finished_and_resumes(tmp_path, scheduler):
    ct_series(tmp_path / "in" / "a", 120, "P3")
    key = key_file(tmp_path)
    out = tmp_path / "out"
    cancel = threading.Event()
    with DaskCluster(scheduler) as cluster:
        run = deidentify_folder([tmp_path / "in"], out, key_file=key, cluster=cluster, cancel=cancel,
                                progress=lambda done, total, result: cancel.set())
    assert run.summary.cancelled
    finished = [r for r in run.summary.results if r.status == "written"]
    assert 0 < len(finished) < 120
    assert len(list(out.rglob("*.dcm"))) == len(finished)   # every file written is recorded, and no other
    assert not [p for p in out.rglob("*") if ".partial" in p.name]
    with DaskCluster(scheduler) as cluster:
        resumed = deidentify_folder([tmp_path / "in"], out, key_file=key, cluster=cluster)
    totals = resumed.summary.totals()
    assert (totals["written"], totals["skipped"], totals["failed"]) == (120 - len(finished), len(finished), 0)


def test_the_command_line_on_local_2_equals_a_local_run_and_the_key_stays_out(tmp_path):
    ct_series(tmp_path / "in" / "a", 12, "P4")
    ct_series(tmp_path / "in" / "b", 12, "P5")
    key = key_file(tmp_path / "s")
    outputs = {}
    for where, extra in (("local", ["--jobs", "2"]), ("cluster", ["--scheduler", "local:2"])):
        result = subprocess.run([str(CLI), "anonymize", str(tmp_path / "in"), "--into", str(tmp_path / where),
                                 "--key-file", str(key), *extra], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "24 files" in result.stdout and "24 written, 0 skipped, 0 failed" in result.stdout
        secret = load_key(key)
        for text in (result.stdout, result.stderr):   # neither the key nor a patient in what is shown
            assert secret.hex() not in text and "Doe^" not in text
        outputs[where] = files_of(tmp_path / where)
        for data in outputs[where].values():
            assert secret not in data and secret.hex().encode() not in data
    assert outputs["local"] == outputs["cluster"]
    assert not [p for p in outputs["cluster"] if ".cluster-probe" in str(p)]


def test_a_destination_the_workers_cannot_write_is_refused_before_anything_is_made(tmp_path, scheduler, capsys):
    ct_series(tmp_path / "in", 2, "P6")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    status = main(["anonymize", str(tmp_path / "in"), "--output", str(blocker / "out"), "--key-file",
                   str(tmp_path / "s" / "k"), "--create-key", "--scheduler", scheduler])
    captured = capsys.readouterr()
    assert status == 2, captured.err
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: worker ") and "cannot write into" in lines[0]
    assert "shared" in lines[0] or "every worker" in lines[0]
    assert not (tmp_path / "s").exists()   # no key, no linkage store, no report


def test_a_scheduler_on_another_machine_without_tls_is_refused(tmp_path, capsys):
    ct_series(tmp_path / "in", 1, "P7")
    status = main(["anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--key-file",
                   str(tmp_path / "s" / "k"), "--create-key", "--scheduler", "tcp://192.0.2.7:8786"])
    captured = capsys.readouterr()
    assert status == 2
    assert len(captured.err.splitlines()) == 1 and "unencrypted" in captured.err and "--tls-cert" in captured.err
    assert not (tmp_path / "s").exists() and not (tmp_path / "out").exists()
    status = main(["anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--key-file",
                   str(tmp_path / "s" / "k"), "--create-key", "--scheduler", "local:0"])
    assert status == 2 and "local:N" in capsys.readouterr().err


def test_ctrl_c_on_local_2_records_what_came_back_and_the_rerun_resumes(tmp_path):
    inputs = ct_series(tmp_path / "in" / "a", 800, "P8")
    key = key_file(tmp_path / "s")
    out = tmp_path / "out"
    command = [str(CLI), "anonymize", str(tmp_path / "in"), "--output", str(out), "--key-file", str(key), "--quiet",
               "--scheduler", "local:2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        # polled gently: a busy loop on 2 cores slows the test's own clock more than the run
        while process.poll() is None and len(list(out.rglob("*.dcm"))) < 50:
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGINT)   # Ctrl-C in a terminal: the client and its workers alike
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, stdout + stderr
    assert stderr.strip().splitlines()[-1].startswith("cancelled: no partial file was left")
    assert "Traceback" not in stderr   # the workers ignored it; the client stopped
    written = sorted(out.rglob("*.dcm"))
    assert 50 <= len(written) < 800
    assert not [p for p in out.rglob("*") if ".partial" in p.name]
    db = sqlite3.connect(linkage_path(key))
    recorded = db.execute("SELECT output FROM files WHERE status = 'written'").fetchall()
    db.close()
    assert sorted(Path(o) for o, in recorded) == written   # every file written is recorded, and no other
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert (f"{800 - len(written)} written, {len(written)} skipped ({len(written)} already present, not written "
            "again), 0 failed") in rerun.stdout
    assert len(list(out.rglob("*.dcm"))) == len(inputs)


def certificates(folder: Path) -> dict:
    """A certificate authority and one certificate for 127.0.0.1 it signed (openssl), as a TLS cluster has."""
    folder.mkdir()
    openssl = ["openssl"]
    steps = [["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
              "-subj", "/CN=test cluster CA"],
             ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr",
              "-subj", "/CN=127.0.0.1"],
             ["x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
              "node.pem", "-days", "2", "-extfile", "ext.cnf"]]
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    for step in steps:
        subprocess.run(openssl + step, cwd=folder, check=True, capture_output=True)
    return {"ca": folder / "ca.pem", "cert": folder / "node.pem", "key": folder / "node.key"}


def test_a_tls_scheduler_is_reached_with_the_certificate_files_given(tmp_path, capsys):
    ct_series(tmp_path / "in", 6, "P9")
    tls = certificates(tmp_path / "tls")
    files = {f"tls_{role}_{part}": str(tls[part]) for role in ("scheduler", "worker", "client")
             for part in ("cert", "key")}
    security = distributed.Security(tls_ca_file=str(tls["ca"]), require_encryption=True, **files)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  protocol="tls", security=security, dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        status = main(["anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--key-file",
                       str(tmp_path / "s" / "k"), "--create-key", "--quiet", "--scheduler",
                       cluster.scheduler_address, "--tls-ca-file", str(tls["ca"]), "--tls-cert", str(tls["cert"]),
                       "--tls-key", str(tls["key"])])
    out = capsys.readouterr().out
    assert status == 0 and "6 written, 0 skipped, 0 failed" in out, out
    assert len(list((tmp_path / "out").rglob("*.dcm"))) == 6
    status = main(["anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--key-file",
                   str(tmp_path / "s" / "k"), "--scheduler", "tls://127.0.0.1:1", "--tls-cert", str(tls["cert"])])
    assert status == 2 and "all three of --tls-ca-file, --tls-cert and --tls-key" in capsys.readouterr().err


def test_values_in_pydicoms_warnings_do_not_reach_the_workers_log(tmp_path):
    """A worker's stderr is the cluster's log: pydicom's warnings quote the values they are about."""
    (tmp_path / "in").mkdir()
    ds = read("CT_small.dcm")
    ds.StudyInstanceUID = "1.2.840.99.MRN4471123.DOE.JOHN"   # not a valid UID: pydicom warns with the value
    save(ds, tmp_path / "in" / "ct.dcm")
    result = subprocess.run([str(CLI), "anonymize", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                             "--key-file", str(tmp_path / "s" / "k"), "--create-key", "--scheduler", "local:2"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "1 written" in result.stdout, result.stdout + result.stderr
    assert "MRN4471123" not in result.stdout + result.stderr


def test_workers_on_other_machines_without_tls_are_refused():
    from DicomDeidentifyLib.cluster import ClusterError, _refuse_remote_workers
    _refuse_remote_workers({"tcp://127.0.0.1:40123": {}, "tcp://localhost:40124": {}})   # all here: accepted
    with pytest.raises(ClusterError, match="workers on other machines .1, e.g. tcp://192.0.2.2:4000"):
        _refuse_remote_workers({"tcp://127.0.0.1:40123": {}, "tcp://192.0.2.2:4000": {}})


NOTHING_OF_THE_KEY = {"engines": 0, "deidentifiers": 0, "holders": 0, "tasks": 0}
CLIENT = """
import sys
from DicomDeidentifyLib.cluster import DaskCluster
from DicomDeidentifyLib.runs import deidentify_folder
with DaskCluster(sys.argv[1]) as cluster:
    deidentify_folder([sys.argv[2]], sys.argv[3], key_file=sys.argv[4], cluster=cluster)
"""


def test_a_client_killed_mid_run_leaves_no_key_on_the_workers_of_a_cluster_that_outlives_it(tmp_path, scheduler):
    ct_series(tmp_path / "in" / "a", 400, "P10")
    key = tmp_path / "s" / "pseudonym.key"   # a key of its own: no module of the workers holds it already
    key.parent.mkdir()
    write_key(key, secrets.token_bytes(32))
    secret = load_key(key)
    out = tmp_path / "out"
    client = distributed.Client(scheduler)   # this test's own, to look at the workers: it never sees the key
    try:
        pids = client.run(os.getpid)
        assert list(client.run(key_holders, secret.hex()).values()) == [NOTHING_OF_THE_KEY] * 2
        path = os.pathsep.join([str(Path(__file__).resolve().parents[2] / "DicomDeidentify"),
                                os.environ.get("PYTHONPATH", "")])
        process = subprocess.Popen([sys.executable, "-c", CLIENT, scheduler, str(tmp_path / "in"), str(out), str(key)],
                                   env={**os.environ, "PYTHONPATH": path}, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            while process.poll() is None and len(list(out.rglob("*.dcm"))) < 40:
                time.sleep(0.05)
            # mid-run: both workers de-identify with the run's key
            during = client.run(key_holders, secret.hex())
            assert all(answer["engines"] == 1 and answer["holders"] > 0 for answer in during.values()), during
            process.kill()   # SIGKILL: the client cannot tell the workers anything
            output = process.communicate(timeout=60)[0]
        finally:
            process.kill()
        assert process.returncode == -signal.SIGKILL, output
        assert len(list(out.rglob("*.dcm"))) < 400   # killed mid-run, not after
        # the scheduler sees the client gone and releases its tasks; each worker then drops the run's
        # de-identifiers once the task under way is done (a few seconds at most, on a busy machine)
        deadline = time.monotonic() + 60
        while True:
            after = client.run(key_holders, secret.hex())
            if list(after.values()) == [NOTHING_OF_THE_KEY] * 2 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert list(after.values()) == [NOTHING_OF_THE_KEY] * 2, after
        assert client.run(os.getpid) == pids   # the same workers: not restarted, which would have dropped it too
    finally:
        client.close()
