"""The one atomic-write helper: complete files or none, the previous copy kept on request,
plain permissions, no temporary files left behind."""

from __future__ import annotations

import os

import pytest

from amlz_compile.atomic import atomic_file, atomic_write_text


def test_text_and_bytes_replace_the_target(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two", keep_previous=tmp_path / "a.prev")
    assert target.read_text() == "two"
    assert (tmp_path / "a.prev").read_text() == "one"
    with atomic_file(tmp_path / "b.bin", "wb") as fh:
        fh.write(b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(target).st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.prev", "a.txt", "b.bin"]


def test_a_failing_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_file(target) as fh:
        fh.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    with pytest.raises(ValueError, match="mode"), atomic_file(target, "a"):
        pass
