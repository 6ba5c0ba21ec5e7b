import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PROFILE = {
    "today": "2026-11-22",
    "patient": {"birth_date": "1998-05-01", "sex": "female", "fitzpatrick": 2},
    "concerns": [{"concern": "acne_scars_atrophic", "areas": ["cheeks"], "severity": "moderate"}],
    "conditions": [],
}


def _run(tmp_path, capsys, text, *args):
    path = tmp_path / "profile.json"
    path.write_text(text)
    try:
        call_command("suggest_plan", str(path), *args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_valid_profile_prints_the_plan(tmp_path, capsys):
    code, out, _ = _run(tmp_path, capsys, json.dumps(PROFILE))
    plan = json.loads(out)
    assert code == 0
    assert plan["today"] == "2026-11-22"
    assert plan["items"][0]["concern"] == "acne_scars_atrophic"
    assert {"items", "visits"} <= set(plan)


def test_an_invalid_profile_exits_2_with_one_line_per_problem(tmp_path, capsys):
    bad = {
        **PROFILE,
        "patient": {**PROFILE["patient"], "fitzpatrick": 9},
        "concerns": [{"concern": "nope", "areas": []}],
    }
    code, out, err = _run(tmp_path, capsys, json.dumps(bad))
    lines = [line for line in err.splitlines() if line]
    assert code == 2
    assert out == ""
    assert any(line.startswith("patient.fitzpatrick") for line in lines)
    assert any(line.startswith("concerns[0].concern") for line in lines)


def test_broken_json_exits_2(tmp_path, capsys):
    code, _, err = _run(tmp_path, capsys, "{not json")
    assert code == 2
    assert "not valid JSON" in err


def test_jsonl_answers_one_line_per_profile(tmp_path, capsys):
    lines = [json.dumps(PROFILE), json.dumps({**PROFILE, "today": "yesterday"}), json.dumps(PROFILE)]
    code, out, err = _run(tmp_path, capsys, "\n".join(lines), "--jsonl")
    answers = [json.loads(line) for line in out.splitlines()]
    assert code == 2
    assert len(answers) == 3
    assert "items" in answers[0] and "errors" in answers[1] and "items" in answers[2]
    assert err.startswith("line 2: today")
