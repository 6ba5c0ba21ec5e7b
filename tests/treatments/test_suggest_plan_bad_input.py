"""suggest_plan answers bad input with one line per problem and exit code 2, never a traceback."""

import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

PROFILE = {
    "today": "2026-11-22",
    "patient": {"birth_date": "1998-05-01", "sex": "female", "fitzpatrick": 2},
    "concerns": [{"concern": "acne_scars_atrophic", "areas": ["cheeks"], "severity": "moderate"}],
    "conditions": [],
}


def _run(*args, stdin=b""):
    # A real process: exit code and stderr exactly as a shell sees them.
    finished = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "suggest_plan", *args],
        cwd=settings.BASE_DIR,
        input=stdin,
        capture_output=True,
        check=False,
    )
    return finished.returncode, finished.stdout.decode(), finished.stderr.decode()


def _call(*args, capsys):
    try:
        call_command("suggest_plan", *args)
        code = 0
    except SystemExit as exited:
        code = exited.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _lines(err):
    return [line for line in err.splitlines() if line.strip()]


def test_a_missing_file_is_one_line_and_exit_2(tmp_path):
    code, out, err = _run(str(tmp_path / "nowhere.json"))
    assert code == 2 and out == ""
    assert _lines(err) == [f"{tmp_path / 'nowhere.json'}: cannot read (No such file or directory)"]


def test_invalid_utf8_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "profile.json"
    path.write_bytes(b'{"today": "2026-11-22", "note": "caf\xe9"}')
    code, _, err = _run(str(path))
    assert code == 2
    assert _lines(err) == [f"{path}: not valid UTF-8 (byte 0xe9 at offset 36)"]


def test_invalid_utf8_on_standard_input_is_one_line_too():
    code, _, err = _run("-", "--jsonl", stdin=b"\xff\xfe{}\n")
    assert code == 2
    assert _lines(err) == ["-: not valid UTF-8 (byte 0xff at offset 0)"]


@pytest.mark.django_db
def test_deeply_nested_json_is_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "profile.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = _call(str(path), capsys=capsys)
    assert code == 2
    assert _lines(err) == ["profile: JSON nested too deeply"]


@pytest.mark.django_db
def test_unknown_fields_are_refused_by_name(tmp_path, capsys):
    profile = {
        **PROFILE,
        "colour": "blue",
        "patient": {**PROFILE["patient"], "weight_kg": 60},
        "concerns": [{**PROFILE["concerns"][0], "severty": "mild"}],
    }
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    code, out, err = _call(str(path), capsys=capsys)
    lines = _lines(err)
    assert code == 2 and out == ""
    assert len(lines) == 3
    assert lines[0].startswith("colour: unknown field (known: ")
    assert lines[1].startswith("patient.weight_kg: unknown field")
    assert lines[2].startswith("concerns[0].severty: unknown field")
    assert "Traceback" not in err


@pytest.mark.django_db
def test_unknown_fields_in_jsonl_are_named_with_their_line(tmp_path, capsys):
    path = tmp_path / "profiles.jsonl"
    path.write_text(json.dumps(PROFILE) + "\n" + json.dumps({**PROFILE, "extra": 1}) + "\n")
    with pytest.raises(SystemExit) as exited:
        call_command("suggest_plan", str(path), "--jsonl")
    captured = capsys.readouterr()
    assert exited.value.code == 2
    assert captured.err.startswith("line 2: extra: unknown field")
    answers = [json.loads(line) for line in captured.out.splitlines()]
    assert "items" in answers[0] and "errors" in answers[1]
