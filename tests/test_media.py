"""Media names never become paths outside the media folder."""

from __future__ import annotations

import pytest

from feed_store.media import MediaFolder


@pytest.mark.parametrize("name", ["../secret", "videos/../../etc/passwd", "/etc/passwd", "", "a\\b", "v/\x00x",
                                  ".", "videos/.."])
def test_a_name_that_would_leave_the_folder_is_refused(tmp_path, name):
    media = MediaFolder(tmp_path / "media")
    with pytest.raises(ValueError, match="Not a media name"):
        media.path(name)


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    media = MediaFolder(tmp_path / "media")
    (tmp_path / "media").mkdir()
    (tmp_path / "outside.txt").write_text("private")
    (tmp_path / "media" / "link.txt").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(ValueError):
        media.path("link.txt")


def test_new_names_are_unguessable_and_erase_removes_them(tmp_path):
    media = MediaFolder(tmp_path / "media")
    names = {media.new_name("videos", ".mp4") for _ in range(100)}
    assert len(names) == 100 and all(n.startswith("videos/") and len(n) > 25 for n in names)
    name = names.pop()
    media.path(name).write_bytes(b"x")
    assert media.name_of(media.path(name)) == name
    media.erase(name, None)
    assert not media.path(name).exists()
    with pytest.raises(ValueError):
        media.name_of(tmp_path / "elsewhere.mp4")
