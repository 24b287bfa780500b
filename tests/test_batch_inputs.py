"""fer-batch inputs: folders, globs, CSV and JSONL manifests with carried columns, and bad manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.batch.cli import main as batch_main
from runtime.batch.inputs import SHARE_PREFIX, SUMMARY_COLUMNS, read_inputs, read_manifest
from runtime.batch.results import VideoRow
from tests.batch_helpers import corrupt_video


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    """A folder with two videos below it (one in a subfolder) and a file that is not a video."""
    (tmp_path / "day2").mkdir()
    for name in ("a.mp4", "day2/b.avi"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a video")
    return tmp_path


def test_folder_is_searched_recursively_and_reports_mirror_it(videos):
    jobs = read_inputs([videos])
    assert [job.path for job in jobs] == [(videos / "a.mp4").resolve(), (videos / "day2" / "b.avi").resolve()]
    assert [str(job.report) for job in jobs] == ["a.mp4.json", "day2/b.avi.json"]
    assert all(job.carried == {} for job in jobs)


def test_glob_and_single_video(videos):
    assert [job.path.name for job in read_inputs([str(videos / "**" / "*.avi")])] == ["b.avi"]
    assert [job.path.name for job in read_inputs([videos / "a.mp4"])] == ["a.mp4"]


def test_csv_manifest_carries_the_other_columns_and_reads_paths_from_its_folder(videos):
    manifest = videos / "list.csv"
    manifest.write_text("candidate,path,date\nc-17,a.mp4,2026-12-01\nc-18,day2/b.avi,\n\n")
    jobs = read_inputs([manifest])
    assert [job.path for job in jobs] == [(videos / "a.mp4").resolve(), (videos / "day2/b.avi").resolve()]
    assert jobs[0].carried == {"candidate": "c-17", "date": "2026-12-01"}
    assert jobs[1].carried == {"candidate": "c-18", "date": ""}
    assert jobs[1].origin == "list.csv line 3"


def test_jsonl_manifest_with_another_path_column(videos):
    manifest = videos / "list.jsonl"
    manifest.write_text(json.dumps({"file": "a.mp4", "id": 17, "tags": ["x"]}) + "\n\n"
                        + json.dumps({"file": str(videos / "missing.mp4"), "id": None}) + "\n")
    jobs = read_inputs([manifest], path_column="file")
    assert jobs[0].carried == {"id": "17", "tags": '["x"]'}
    assert jobs[1].path == (videos / "missing.mp4").resolve()  # a missing video fails later, as a row
    assert jobs[1].carried == {"id": None}


@pytest.mark.parametrize(("name", "text", "message"), [
    ("empty.csv", "", "is empty"),
    ("header.csv", "path\n", "lists no videos"),
    ("nocol.csv", "video,candidate\na.mp4,1\n", "has no column 'path' (columns: video, candidate)"),
    ("blank.csv", "path,candidate\n,1\n", "blank.csv line 2: no video in column 'path'"),
    ("extra.csv", "path\na.mp4,1\n", "extra.csv line 2: more fields than the header has"),
    ("empty.jsonl", "\n\n", "lists no videos"),
    ("bad.jsonl", '{"path": "a.mp4"}\n{"path": "b.mp4"\n', "bad.jsonl line 2: invalid JSON"),
    ("list.jsonl", '{"path": "a.mp4"}\n["a.mp4"]\n', "list.jsonl line 2: expected a JSON object, got list"),
    ("nokey.jsonl", '{"path": "a.mp4"}\n{"video": "b.mp4"}\n', "nokey.jsonl line 2: no video in column 'path'"),
])
def test_bad_manifests_name_the_file_and_line(tmp_path, name, text, message):
    manifest = tmp_path / name
    manifest.write_text(text)
    with pytest.raises(ValueError) as raised:
        read_manifest(manifest)
    assert message in str(raised.value)


@pytest.mark.parametrize(("name", "text", "path_column", "clashing"), [
    ("hr.csv", "path,status,error,candidate\na.mp4,hired,none,c1\n", "path", "status, error"),
    ("shares.jsonl", '{"path": "a.mp4", "share_Happy": 1}\n', "path", "share_Happy"),
    ("video.csv", "video,path\na.mp4,b.mp4\n", "video", "path"),
], ids=["csv", "jsonl-share", "another-path-column"])
def test_manifest_columns_named_like_the_summarys_own_are_refused(tmp_path, name, text, path_column, clashing):
    manifest = tmp_path / name
    manifest.write_text(text)
    with pytest.raises(ValueError, match=f"{name} line [12]: the summary has its own columns named {clashing};"):
        read_manifest(manifest, path_column)


def test_a_clashing_column_stops_fer_batch_before_any_work(tmp_path, caplog):
    corrupt_video(tmp_path / "a.mp4")  # would be a failed row; its status must not read "hired"
    (tmp_path / "list.csv").write_text("path,status,candidate\na.mp4,hired,c1\n")
    assert batch_main([str(tmp_path / "list.csv"), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "status" in caplog.text and not (tmp_path / "out").exists()


def test_the_reserved_names_are_the_summarys_columns():
    row = VideoRow("a.mp4", None, "failed", "ValueError: x", emotion_distribution={"Happy": 1.0},
                   carried={"candidate": "c1"})
    columns = list(row.flat(["Happy"]))
    assert columns[-1] == "candidate" and set(columns[:-1]) == SUMMARY_COLUMNS | {f"{SHARE_PREFIX}Happy"}


def test_bad_inputs(videos, tmp_path):
    with pytest.raises(FileNotFoundError, match="input not found"):
        read_inputs([tmp_path / "nowhere"])
    with pytest.raises(ValueError, match=r"no videos .* match"):
        read_inputs([str(tmp_path / "*.mkv")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no videos .* in folder"):
        read_inputs([videos / "a.mp4", tmp_path / "empty"])
    with pytest.raises(ValueError, match=r"unsupported input .notes\.txt."):
        read_inputs([videos / "notes.txt"])
    with pytest.raises(ValueError, match="listed twice"):
        read_inputs([videos, videos / "a.mp4"])
    with pytest.raises(ValueError, match="no inputs"):
        read_inputs([])
