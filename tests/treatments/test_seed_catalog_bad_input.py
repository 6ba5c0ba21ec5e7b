"""seed_catalog answers bad input with one line per problem and exit code 2, and writes nothing."""

import pytest
from django.core.management import call_command

from treatments.models import Treatment
from treatments.services.catalog_seeding import CATALOG_FILE, VOCABULARY_FILE

pytestmark = pytest.mark.django_db


def _seed(capsys, *, vocabulary=VOCABULARY_FILE, catalog=CATALOG_FILE):
    try:
        call_command("seed_catalog", "--vocabulary", str(vocabulary), "--catalog", str(catalog))
        code = 0
    except SystemExit as exited:
        code = exited.code
    captured = capsys.readouterr()
    return code, [line for line in captured.err.splitlines() if line.strip()]


def _catalog(tmp_path, text):
    path = tmp_path / "catalog.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_a_missing_file_is_one_line(tmp_path, capsys):
    code, lines = _seed(capsys, catalog=tmp_path / "nowhere.yaml")
    assert code == 2
    assert lines == [f"{tmp_path / 'nowhere.yaml'}: cannot read (No such file or directory)"]


def test_invalid_utf8_is_one_line(tmp_path, capsys):
    path = _catalog(tmp_path, b"treatments:\n- {slug: mn, name: Micro\xe9}\n")
    code, lines = _seed(capsys, catalog=path)
    offset = b"treatments:\n- {slug: mn, name: Micro".__len__()
    assert code == 2 and lines == [f"{path}: not valid UTF-8 (byte 0xe9 at offset {offset})"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("treatments: [\n", "not valid YAML"),
        ("- just\n- a list\n", "must hold sections"),
        ("groups:\n- slug: a\n  slug: b\n", "key 'slug' written twice"),
        ("[" * 5000 + "]" * 5000, "not valid YAML"),
    ],
)
def test_broken_yaml_is_one_line(tmp_path, capsys, text, expected):
    path = _catalog(tmp_path, text)
    code, lines = _seed(capsys, catalog=path)
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"{path}: ") and expected in lines[0]


def test_unknown_sections_and_fields_are_refused_by_name(tmp_path, capsys):
    path = _catalog(
        tmp_path,
        "treatment:\n- {slug: x}\n"
        "groups:\n- {slug: peels2, name: Peels, members: [], colour: red}\n"
        "areas:\n- {slug: face, name: Face, children: [{slug: nose, name: Nose, surface: 1}]}\n",
    )
    names = set(Treatment.objects.values_list("name", flat=True))
    code, lines = _seed(capsys, catalog=path)
    assert code == 2 and len(lines) == 3
    starts = {line.split(": unknown")[0] for line in lines}
    assert starts == {"treatment", "groups[0] (peels2).colour", "areas[0] (face).children[0] (nose).surface"}
    assert all("(known: " in line for line in lines)
    assert set(Treatment.objects.values_list("name", flat=True)) == names


def test_a_reference_to_an_undefined_slug_is_one_line_and_writes_nothing(tmp_path, capsys):
    path = _catalog(
        tmp_path,
        "treatments:\n- {slug: mn, name: Renamed microneedling, kind: microneedling}\n"
        "groups:\n- {slug: g, name: G, members: [mn, nowhere]}\n",
    )
    code, lines = _seed(capsys, catalog=path)
    assert code == 2
    assert lines == ["groups: refers to 'nowhere', which the seed does not define"]
    # One transaction: the treatment renamed before the bad group is back as it was.
    assert Treatment.objects.get(slug="mn").name == "Microneedling"


def test_the_shipped_seed_files_are_accepted(capsys):
    code, lines = _seed(capsys)
    assert code == 0 and lines == []
