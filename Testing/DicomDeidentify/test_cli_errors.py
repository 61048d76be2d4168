"""What a person sees when a command is wrong: one line naming the problem and what to do, exit 2,
no traceback unless --debug (issue 18). Each case runs the command line in a real process."""
import json
import os
import subprocess
import sys

import pytest

from DicomDeidentifyLib import cli
from support.data import data_file


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "DicomDeidentifyLib", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ}, timeout=120)


def one_line_error(result) -> str:
    """The only stderr line of a usage error; asserts exit 2, nothing on stdout, no traceback."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    return lines[0]


@pytest.fixture
def ct(tmp_path):
    path = tmp_path / "CT_small.dcm"
    path.write_bytes(data_file("CT_small.dcm").read_bytes())
    return path


def anonymize(tmp_path, source, *args):
    return run("anonymize", source, "--output", tmp_path / "out", "--key-file", tmp_path / "secrets" / "k",
               "--create-key", *args)


def test_a_missing_input_is_named_and_nothing_is_made(tmp_path, ct):
    line = one_line_error(anonymize(tmp_path, tmp_path / "no-such-folder"))
    assert line == (f"error: input {tmp_path / 'no-such-folder'} does not exist: check the path "
                    "(give DICOM files or folders)")
    assert not (tmp_path / "secrets").exists() and not (tmp_path / "out").exists()   # no key, no output
    # one missing among good inputs stops the run before any file is written
    line = one_line_error(run("anonymize", ct, tmp_path / "gone.dcm", "--output", tmp_path / "out",
                              "--key-file", tmp_path / "secrets" / "k", "--create-key"))
    assert "gone.dcm does not exist" in line and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, content, expected", [
    ("typo.json", '{"retain_uid": true}',
     "unknown profile settings: retain_uid (did you mean retain_uids?); fix the file"),
    ("syntax.json", '{"retain_uids": true,\n}', "is not valid JSON (Expecting property name enclosed in double quotes "
                                                 "at line 2, column 1): fix the file"),
    ("value.json", '{"dates": "shift"}', "dates must be one of remove, full, modified, not 'shift'; fix the file"),
    ("type.json", '{"retain_uids": "yes"}', "retain_uids must be true or false, not 'yes'; fix the file"),
    ("list.json", '[{"retain_uids": true}]', "a profile is a table of settings (a JSON object), not list"),
    ("private.json", '{"extra_safe_private": ["0019"]}', "extra safe private attribute '0019' is not GGGG,CREATOR,EE"),
    ("identity.toml", 'identity = "secret"\n', "identity must be one of pseudonym, clear, fixed, not 'secret'"),
    ("syntax.toml", "retain_uids = \n", "is not valid TOML (Invalid value (at line 1, column 15)): fix the file"),
    ("binary.json", b"\xff\xfe\x00garbage", "is not a text file (UTF-8)"),
])
def test_a_bad_profile_file_is_one_line_naming_the_file_and_the_setting(tmp_path, ct, name, content, expected):
    profile = tmp_path / name
    profile.write_bytes(content if isinstance(content, bytes) else content.encode())
    line = one_line_error(anonymize(tmp_path, ct, "--profile", profile))
    assert line.startswith(f"error: profile file {profile}") and expected in line, line
    assert not (tmp_path / "out").exists()


def test_a_missing_or_folder_profile(tmp_path, ct):
    assert one_line_error(anonymize(tmp_path, ct, "--profile", tmp_path / "nope.json")) == \
        f"error: profile file {tmp_path / 'nope.json'} does not exist: check the path"
    assert "is a folder" in one_line_error(anonymize(tmp_path, ct, "--profile", tmp_path))


@pytest.mark.parametrize("args, expected", [
    (["--identity", "secret"],
     "argument --identity: invalid choice: 'secret' (choose from 'pseudonym', 'clear', 'fixed')"),
    (["--retain-dates", "forever"], "argument --dates/--retain-dates: invalid choice: 'forever'"),
    (["--burned-in", "ignore"], "argument --burned-in: invalid choice: 'ignore'"),
    (["--jobs", "many"], "argument --jobs: 'many' is not a whole number"),
    (["--jobs", "0"], "argument --jobs: 0 is less than 1"),
    (["--retain-everything"], "unrecognized arguments: --retain-everything"),
])
def test_an_unknown_option_value_is_one_line_pointing_at_the_help(tmp_path, ct, args, expected):
    line = one_line_error(anonymize(tmp_path, ct, *args))
    assert line.startswith(f"error: {expected}") and line.endswith("; see dicom-deidentify anonymize --help"), line


def test_other_usage_errors_are_one_line(tmp_path, ct):
    assert "invalid choice: 'anonymise'" in one_line_error(run("anonymise", ct))
    assert one_line_error(run()) == "error: the following arguments are required: command; see dicom-deidentify --help"
    line = one_line_error(anonymize(tmp_path, ct, "--extra-safe-private", "SIEMENS"))
    assert line.startswith("error: --extra-safe-private: extra safe private attribute 'SIEMENS' is not GGGG,CREATOR,EE")
    assert "0019,SIEMENS CT VA0  COAD,0C" in line   # the example keeps the creator's two spaces
    # an error after a note-worthy option is still the only line
    line = one_line_error(anonymize(tmp_path, ct, "--keep-sex", "--clean-pixel-data", "--pixel-rules", tmp_path))
    assert "--pixel-rules file" in line
    line = one_line_error(anonymize(tmp_path, ct, "--clean-pixel-data", "--pixel-rules", tmp_path / "rules.json"))
    assert line == f"error: --pixel-rules file {tmp_path / 'rules.json'} does not exist: check the path"
    (tmp_path / "rules.json").write_text('{"rules": ')
    line = one_line_error(anonymize(tmp_path, ct, "--clean-pixel-data", "--pixel-rules", tmp_path / "rules.json"))
    assert line.startswith("error: --pixel-rules: ") and line.endswith("fix the file or leave the option out")
    assert one_line_error(run("compare", tmp_path / "a", ct)).startswith(f"error: {tmp_path / 'a'} does not exist")


@pytest.mark.parametrize("content", ["not a key\n", b"\x89PNG\r\n\x1a\n\x00\xff", "00ff\n", None])
def test_an_unreadable_key_is_one_line_saying_which_key_to_use(tmp_path, ct, content):
    key = tmp_path / "pseudonym.key"
    if content is None:
        key.mkdir()   # a folder where the key should be
    else:
        key.write_bytes(content if isinstance(content, bytes) else content.encode())
    line = one_line_error(run("anonymize", ct, "--output", tmp_path / "out", "--key-file", key))
    assert line.startswith(f"error: key file {key} ")
    assert line.endswith("use the key file of the earlier runs, or restore it from its backup"), line
    assert not (tmp_path / "out").exists()
    if content is not None:
        assert key.read_bytes() == (content if isinstance(content, bytes) else content.encode())   # never replaced


def test_key_commands_say_what_to_do(tmp_path):
    assert one_line_error(run("key", "import", tmp_path / "moved.key")) == \
        f"error: key file to import {tmp_path / 'moved.key'} does not exist: check the path"
    assert one_line_error(run("key", "export", tmp_path / "out.key", "--key-file", tmp_path / "none.key")) == \
        f"error: no key at {tmp_path / 'none.key'} to export: pass the --key-file the runs used"
    key = tmp_path / "k"
    key.write_text("ab" * 32 + "\n")
    (tmp_path / "taken").write_text("something\n")
    line = one_line_error(run("key", "export", tmp_path / "taken", "--key-file", key))
    assert "already exists: name a new file" in line and (tmp_path / "taken").read_text() == "something\n"


def test_debug_adds_the_traceback_before_or_after_the_command(tmp_path, ct):
    profile = tmp_path / "typo.json"
    profile.write_text(json.dumps({"retain_uid": True}))
    for result in (anonymize(tmp_path, ct, "--profile", profile, "--debug"),
                   run("--debug", "anonymize", ct, "--output", tmp_path / "out", "--key-file", tmp_path / "k",
                       "--create-key", "--profile", profile)):
        assert result.returncode == 2
        assert result.stderr.startswith("Traceback (most recent call last):") and "options.py" in result.stderr
        assert result.stderr.splitlines()[-1].startswith(f"error: profile file {profile}: unknown profile settings")


def test_an_unexpected_error_is_one_line_exit_3_and_debug_shows_where(tmp_path, ct, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("pipeline\nbroke")
    monkeypatch.setattr(cli, "run_anonymize", broken)
    argv = ["anonymize", str(ct), "--output", str(tmp_path / "out"), "--key-file", str(tmp_path / "k")]
    assert cli.main(argv) == 3
    captured = capsys.readouterr()
    assert captured.err == ("error: unexpected RuntimeError: pipeline broke (a bug: run again with --debug to see "
                            "where, and report it)\n")
    assert cli.main(argv + ["--debug"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "in broken" in err and err.splitlines()[-1].startswith("error: unexpected")
