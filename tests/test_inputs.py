"""What requests hand in, checked on its own: ids, numbers, uploaded files (web/inputs.py) and the text people
write (feed_store/text.py). The same rules are attacked through the running app in test_hostile_requests.py;
these tests pin each rule down without starting it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feed_store import InvalidInput
from feed_store.text import MAX_TEXT, checked_text, clean_text
from web.inputs import optional_whole_number, real_number, received_upload, upload_path, whole_number


@pytest.mark.parametrize("value, expected", [(3, 3), (3.0, 3), ("3", 3), (" 12 ", 12), (-2, -2), ("-2", -2),
                                             (2**40, 2**40)])
def test_whole_numbers_are_read_as_ints(value, expected):
    assert whole_number(value) == expected and type(whole_number(value)) is int


@pytest.mark.parametrize("value", [1.5, "1.5", -0.5, float("nan"), float("inf"), True, False, None, "", "one",
                                   "١٢", [1], {"id": 1}, "1e3", "0x10"])
def test_anything_else_is_refused_as_not_a_whole_number(value):
    with pytest.raises(InvalidInput, match="A post id is a whole number"):
        whole_number(value, "A post id")


def test_an_optional_number_may_be_left_empty_but_not_wrong():
    assert optional_whole_number(None, "A seed") is None and optional_whole_number("", "A seed") is None
    assert optional_whole_number(7.0, "A seed") == 7
    with pytest.raises(InvalidInput, match="A seed is a whole number"):
        optional_whole_number(7.5, "A seed")


@pytest.mark.parametrize("value, expected", [(0.6, 0.6), ("0.25", 0.25), (1, 1.0)])
def test_real_numbers_are_read_as_finite_floats(value, expected):
    assert real_number(value, "The strength") == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "-inf", "half", None, True, [0.5]])
def test_real_numbers_refuse_the_rest(value):
    with pytest.raises(InvalidInput, match="The strength is a number"):
        real_number(value, "The strength")


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    """Gradio's upload folder and the app's data directory, side by side."""
    uploads, data = tmp_path / "gradio", tmp_path / "data"
    (uploads / "abc123").mkdir(parents=True)
    (data / "media" / "videos").mkdir(parents=True)
    return uploads, data


def test_an_upload_is_read_from_a_private_copy_that_goes_afterwards(folders):
    uploads, data = folders
    original = uploads / "abc123" / "clip.MP4"
    original.write_bytes(b"the uploaded bytes")
    with received_upload({"path": str(original), "meta": {"_type": "gradio.FileData"}}, uploads, [data]) as copy:
        assert copy != original and copy.read_bytes() == b"the uploaded bytes" and copy.suffix == ".mp4"
        assert oct(copy.parent.stat().st_mode & 0o777) == "0o700"  # nobody else on the machine reads it
        copy.write_bytes(b"the handler may do what it likes with its copy")
    assert not copy.exists() and not copy.parent.exists()
    assert original.read_bytes() == b"the uploaded bytes"  # the original is never touched
    with received_upload(str(original), uploads, [data]) as copy:  # page events send a plain path
        assert copy.read_bytes() == b"the uploaded bytes"


def test_the_copy_is_removed_when_the_handler_fails(folders):
    uploads, data = folders
    original = uploads / "abc123" / "clip.mp4"
    original.write_bytes(b"x")
    with pytest.raises(RuntimeError):
        with received_upload(str(original), uploads, [data]) as copy:
            raise RuntimeError("the handler failed")
    assert not copy.exists() and original.exists()


def test_a_path_that_is_not_this_requests_upload_is_refused_before_it_is_read(folders, tmp_path):
    uploads, data = folders
    video = data / "media" / "videos" / "served.mp4"
    video.write_bytes(b"someone's video")
    secret = data / "secret.key"
    secret.write_bytes(b"key")
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(b"not uploaded")
    link = uploads / "abc123" / "link.mp4"
    link.symlink_to(video)
    inner = uploads / "abc123" / "data"
    os.symlink(data, inner)  # a folder link inside the upload folder
    hostile = [str(video), str(secret), str(outside), f"{uploads}/../data/secret.key",
               f"{uploads}/abc123/../../data/media/videos/served.mp4", str(link), str(inner / "secret.key"),
               os.path.relpath(video), str(uploads), str(uploads / "abc123"), str(uploads / "missing.mp4"),
               "relative/inside.mp4", "\0", str(uploads / "abc123" / "x\0.mp4")]
    for path in hostile:
        with pytest.raises(InvalidInput, match="not uploaded with this request"):
            with received_upload(path, uploads, [data]):
                pytest.fail(f"{path!r} reached the handler")
    assert video.read_bytes() == b"someone's video" and secret.read_bytes() == b"key" and link.is_symlink()


def test_the_data_directory_is_refused_even_inside_the_upload_folder(tmp_path):
    """A data directory configured inside Gradio's temp folder must stay out of reach all the same."""
    uploads = tmp_path / "gradio"
    data = uploads / "dreamreel-data"
    (data / "store").mkdir(parents=True)
    journal = data / "store" / "journal.jsonl"
    journal.write_bytes(b"{}")
    with pytest.raises(InvalidInput, match="not uploaded with this request"):
        with received_upload(str(journal), uploads, [data]):
            pass


@pytest.mark.parametrize("upload", [None, ""])
def test_no_file_asks_for_one(folders, upload):
    uploads, data = folders
    with pytest.raises(InvalidInput, match="Choose a file"):
        with received_upload(upload, uploads, [data]):
            pass


@pytest.mark.parametrize("upload", [{"url": "/x"}, {"path": 5}, {"path": ""}, 42, ["a"]])
def test_a_malformed_file_argument_is_refused(upload):
    with pytest.raises(InvalidInput):
        upload_path(upload)


# -- text people write -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, line, lines", [
    ("  a red ball  ", "a red ball", "a red ball"),
    ("tab\there", "tab here", "tab here"),
    ("one\ntwo", "one two", "one\ntwo"),
    ("one\r\ntwo\rthree", "one two three", "one\ntwo\nthree"),
    ("bell\x07 nul\x00 esc\x1b[0m", "bell nul esc[0m", "bell nul esc[0m"),
    ("right\u202eto left\u2066x\u2069", "rightto leftx", "rightto leftx"),
    ("a\n\n\n\n\nb", "a b", "a\n\nb"),
    ("emoji 👩‍👩‍👧 stays", "emoji 👩‍👩‍👧 stays", "emoji 👩‍👩‍👧 stays"),  # the zero-width joiner is kept
    ("lone \ud800 surrogate", "lone  surrogate", "lone  surrogate"),
])
def test_control_characters_go_and_newlines_stay_only_where_allowed(raw, line, lines):
    assert clean_text(raw) == line
    assert clean_text(raw, multiline=True) == lines


def test_text_of_control_characters_only_is_refused_and_empty_text_too():
    with pytest.raises(InvalidInput, match="only control characters"):
        checked_text("\x01\x02\x1b", "A comment")
    with pytest.raises(InvalidInput, match="1 to 500 characters"):
        checked_text("   ", "A comment")
    assert checked_text(None, "Restrictions", optional=True) == ""
    assert checked_text("  ", "Restrictions", optional=True) == ""


def test_length_is_counted_after_cleaning():
    assert checked_text("x" * MAX_TEXT + "\x00" * 10, "A comment") == "x" * MAX_TEXT
    with pytest.raises(InvalidInput, match="1 to 500 characters \\(it is 501\\)"):
        checked_text("x" * (MAX_TEXT + 1), "A comment")
    with pytest.raises(InvalidInput, match="A display name must be 1 to 50"):
        checked_text("y" * 51, "A display name", 50)
    with pytest.raises(InvalidInput, match="must be text"):
        checked_text(["a list"], "A comment")


def test_a_custom_events_fields_are_read_only_from_its_data():
    from types import SimpleNamespace

    from web.inputs import event_field

    assert event_field(SimpleNamespace(_data={"id": 7}), "id") == 7
    assert event_field(SimpleNamespace(_data={"id": 7}), "tab") is None
    for odd in (None, SimpleNamespace(), SimpleNamespace(_data=None), SimpleNamespace(_data=["id"])):
        assert event_field(odd, "id") is None  # nothing sent, or not a mapping: no field, no error
