"""radsarc._files: atomic outputs, contained paths, CSV table shape."""

from __future__ import annotations

import errno

import pytest

from radsarc._files import OutputSet, atomic_write, check_csv_table, contained


@pytest.mark.parametrize(
    "name", ["..", ".", "", "a/b", "../x", "/etc/passwd", "a\\b", "C:x", "a\0b"]
)
def test_contained_refuses_names_that_leave_the_folder(tmp_path, name):
    with pytest.raises(ValueError, match="Refusing the case id .* outside"):
        contained(tmp_path, name, what="case id")


def test_contained_accepts_plain_names(tmp_path):
    assert contained(tmp_path, "STS-001", "T1..x.json") == (
        tmp_path / "STS-001" / "T1..x.json"
    )


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old\n")

    def write_half():
        with atomic_write(path) as tmp:
            tmp.write_text("half")
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match=f"Cannot write {path}: No space left") as info:
        write_half()
    assert info.value.errno == errno.ENOSPC
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
    with atomic_write(path) as tmp:
        tmp.write_text("new\n")
    assert path.read_text() == "new\n"


def test_output_set_renames_nothing_unless_every_file_was_written(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("old a\n")

    def fail(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    def write_both():
        with OutputSet() as outputs:
            outputs.add_text(a, "new a\n")
            outputs.add(b, fail)
            outputs.commit()

    with pytest.raises(OSError, match=f"Cannot write {b}"):
        write_both()
    assert a.read_text() == "old a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a;b;c\n1;2;3\n", "is semicolon-separated"),
        ("a\tb\n1\t2\n", "is tab-separated"),
        ("a,b,a\n1,2,3\n", r"repeated column names \['a'\]"),
        ("a,b,c\n1,2,3\n4,5\n", r"line 3: 2 field\(s\) where the header has 3"),
        ("a,b\n1,2,3\n", r"line 2: 3 field\(s\) .*more than expected"),
        ("", "is empty; expected a header row"),
    ],
)
def test_check_csv_table_refuses(tmp_path, text, match):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        check_csv_table(path, what="Table")


def test_check_csv_table_last_line_break(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2.25")
    assert check_csv_table(path, what="Table") == ["a", "b"]
    with pytest.raises(ValueError, match="does not end with a line break"):
        check_csv_table(path, what="Table", complete_last_row=True)
    path.write_bytes(b"a,b\r\n1,\xff\r\n")
    with pytest.raises(ValueError, match="is not UTF-8 text"):
        check_csv_table(path, what="Table")


def test_output_set_flushes_every_file_before_renaming_any(tmp_path, monkeypatch):
    """commit() fsyncs every staged file (in parallel); one failed flush leaves
    every final path as it was and names the file."""
    import radsarc._files as files

    (tmp_path / "b.csv").write_text("old b")
    flushed = []

    def fsync(path):
        flushed.append(path.name)
        if path.read_text() == "new b":
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_fsync", fsync)
    with OutputSet() as outputs:
        outputs.add_text(tmp_path / "a.csv", "new a")
        outputs.add_text(tmp_path / "b.csv", "new b")
        outputs.add_text(tmp_path / "c.csv", "new c")
        with pytest.raises(OSError, match=r"b\.csv"):
            outputs.commit()
    assert len(flushed) == 3
    assert not (tmp_path / "a.csv").exists()
    assert (tmp_path / "b.csv").read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv"]  # no temporaries

    flushed.clear()
    monkeypatch.setattr(files, "_fsync", lambda path: flushed.append(path.read_text()))
    with OutputSet() as outputs:
        outputs.add_text(tmp_path / "a.csv", "A")
        outputs.add_text(tmp_path / "b.csv", "B")
        outputs.commit()
    assert sorted(flushed) == ["A", "B"]
    assert (tmp_path / "b.csv").read_text() == "B"


@pytest.mark.parametrize("exchange", [True, False])
def test_replacing_an_existing_file_swaps_atomically(tmp_path, monkeypatch, exchange):
    """An existing output is replaced whole (by a name exchange on Linux, else
    os.replace); a directory in the way is never swapped; no temporary stays."""
    import radsarc._files as files

    monkeypatch.setitem(files._EXCHANGE, "works", exchange and files._EXCHANGE["works"])
    target = tmp_path / "f.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    with OutputSet() as outputs:
        outputs.add_text(target, "new")
        outputs.add_text(tmp_path / "fresh.csv", "fresh")
        outputs.commit()
    assert target.read_text() == "new"
    assert (tmp_path / "fresh.csv").read_text() == "fresh"
    with atomic_write(link) as tmp:
        tmp.write_text("via link")
    assert link.is_symlink()  # written through the link, as before
    assert target.read_text() == "via link"
    (tmp_path / "d.csv").mkdir()
    with (
        pytest.raises(OSError, match=r"d\.csv"),
        atomic_write(tmp_path / "d.csv") as tmp,
    ):
        tmp.write_text("x")
    assert (tmp_path / "d.csv").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "d.csv",
        "f.csv",
        "fresh.csv",
        "link.csv",
    ]
