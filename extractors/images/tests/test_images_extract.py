"""zsl extract: splits, formats, resume, determinism, progress and every bad input."""

from __future__ import annotations

import io
import json
import re

import h5py
import numpy as np
import pytest
from click.testing import CliRunner
from images_testkit import write_attributes
from zsl_images.cli import extract as extract_cmd
from zsl_images.extract import extract
from zsl_images.semantics import read_attributes
from zsl_images.writers import read_image_files

from zsl_toolkit.data.hdf5 import load_h5
from zsl_toolkit.errors import ConfigError, DataError


def _run(small, out, **kw):
    kw.setdefault("unseen", ["d"])
    return extract(
        small["images"],
        out,
        read_attributes(small["attributes"]),
        backbone="tiny",
        workers=0,
        batch_size=4,
        progress=io.StringIO(),
        **kw,
    )


def test_store_splits_and_records(tiny_backbone, small):
    out = small["root"] / "s.h5"
    report = _run(small, out)
    data = load_h5(out)
    assert data.class_names == list("abcde")
    assert data.features.shape == (24, 8)
    assert data.unseen_classes.tolist() == [3]  # 'e' has no images: unseen, no test rows
    assert report.imageless == ["e"]
    for k in range(3):  # 20% of each seen class's 6 images -> 1 held out
        rows = np.flatnonzero(data.labels == k)
        assert np.isin(rows, data.splits["test_seen"]).sum() == 1
    train, val = data.splits["train"], data.splits["val"]
    assert np.array_equal(np.sort(np.concatenate([train, val])), data.splits["trainval"])
    assert not set(data.labels[train]) & set(data.labels[val])
    assert len(set(data.labels[val])) == 1  # round(3 / 3) validation classes
    assert data.extra["semantics"] == "attributes" and data.extra["backbone"] == "tiny"
    files = read_image_files(out)
    assert files[0] == "a/000.png" and len(files) == 24
    assert not list(small["root"].glob(".s.h5*"))  # work folder and temporaries gone


def test_fraction_rule_is_seeded(tiny_backbone, small):
    a = _run(small, small["root"] / "a.h5", unseen=None, unseen_fraction=0.5, seed=3).data
    b = _run(small, small["root"] / "b.h5", unseen=None, unseen_fraction=0.5, seed=3).data
    assert a.unseen_classes.tolist() == b.unseen_classes.tolist()
    assert len(a.unseen_classes) == 2  # round(0.5 * 4) drawn (image-less "e" has no rows)
    assert np.array_equal(a.features, b.features)  # deterministic


def test_resume_after_interrupt_gives_the_same_store(tiny_backbone, small, monkeypatch):
    import zsl_images.extract as ex
    from zsl_images.progress import Progress

    monkeypatch.setattr(ex, "BATCHES_PER_CHUNK", 1)
    full = _run(small, small["root"] / "full.h5").data
    calls = {"n": 0}
    original = Progress.update

    def stop_on_third(self, n):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        original(self, n)

    monkeypatch.setattr(Progress, "update", stop_on_third)
    out = small["root"] / "r.h5"
    with pytest.raises(KeyboardInterrupt):
        _run(small, out)
    assert not out.exists()
    assert len(list((small["root"] / ".r.h5.partial").glob("chunk-*.npz"))) == 2
    monkeypatch.setattr(Progress, "update", original)
    report = _run(small, out)
    assert report.resumed_rows == 8
    assert np.array_equal(load_h5(out).features, full.features)


def test_mat_format_reads_back_with_train_val(tiny_backbone, small):
    from zsl_toolkit.data.xlsa17 import load_xlsa17

    h5 = _run(small, small["root"] / "s.h5").data
    _run(small, small["root"] / "mat", fmt="mat")
    data = load_xlsa17(small["root"] / "mat")
    assert data.class_names == list("abcd")  # the loader drops the image-less class
    np.testing.assert_array_equal(data.features, h5.features)
    for k in ("trainval", "test_seen", "test_unseen", "train", "val"):
        np.testing.assert_array_equal(data.splits[k], h5.splits[k])


def test_corrupt_files_are_skipped_and_listed_or_refused(tiny_backbone, small):
    (small["images"] / "a" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    (small["images"] / "b" / "notes.txt").write_text("hello")
    report = _run(small, small["root"] / "s.h5")
    assert report.skipped == ["a/broken.jpg", "b/notes.txt"]
    assert len(report.data.labels) == 24
    with pytest.raises(DataError, match=r"broken\.jpg: not a readable image \(2 such"):
        _run(small, small["root"] / "t.h5", strict=True)
    assert not (small["root"] / "t.h5").exists()


def test_descriptions_are_embedded_and_recorded(tiny_backbone, small):
    from zsl_images.semantics import embed_descriptions

    texts = {
        "a": "a red square",
        "b": "a blue circle",
        "c": "a green star",
        "d": "a yellow triangle",
    }
    path = small["root"] / "desc.json"
    path.write_text(json.dumps(texts))
    sem = embed_descriptions(path, "wordllama")
    assert sem.vectors.shape == (4, 256)
    report = extract(
        small["images"],
        small["root"] / "t.h5",
        sem,
        unseen=["d"],
        backbone="tiny",
        workers=0,
        progress=io.StringIO(),
    )
    extra = load_h5(report.output).extra
    assert extra["semantics"] == "text" and extra["text_encoder"] == "wordllama"


def test_progress_lines_when_not_a_terminal(tiny_backbone, small):
    stream = io.StringIO()
    extract(
        small["images"],
        small["root"] / "s.h5",
        read_attributes(small["attributes"]),
        unseen=["d"],
        backbone="tiny",
        workers=1,
        batch_size=4,
        progress=stream,
        interval=0,
    )
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 6 and all("images/s" in ln for ln in lines)
    assert lines[-1].startswith("extract: 24/24 images")


def _cli(small, *args):
    base = [str(small["images"]), str(small["root"] / "o.h5")]
    return CliRunner().invoke(extract_cmd, base + list(args), standalone_mode=False)


@pytest.mark.parametrize(
    "text, match",
    [
        ("class,a0\na,1\nb,0\nc,1\n", r"x\.csv: no row for class folder\(s\) d"),
        ("class,a0\na,1\nb,2\nc,3\nd,4\na,5\n", r"x\.csv: line 6: duplicate class name 'a'"),
        ("class,a0,a1\na,1,2\nb,2\nc,3,1\nd,4,1\n", r"x\.csv: line 3: 2 columns, the header has 3"),
        (
            "class,a0\na,1\nb,nan\nc,3\nd,4\n",
            r"x\.csv: line 3: attribute 'a0' is nan \(not finite\)",
        ),
        ("class,a0\na,1\nb,big\nc,3\nd,4\n", r"x\.csv: line 3: attribute 'a0' is 'big', expected"),
        ("", r"x\.csv: empty file"),
    ],
    ids=["folder_without_row", "duplicate", "width", "nan", "text", "empty"],
)
def test_bad_attributes(tiny_backbone, small, text, match):
    path = small["root"] / "x.csv"
    path.write_text(text)
    result = _cli(small, "--attributes", str(path), "--unseen", str(small["unseen"]))
    assert isinstance(result.exception, DataError)
    assert re.search(match, str(result.exception)), str(result.exception)
    assert not (small["root"] / "o.h5").exists()


def test_bad_layout_and_options(tiny_backbone, small):
    (small["images"] / "empty").mkdir()
    write_attributes(small["root"] / "y.csv", {c: [1.0] for c in ["a", "b", "c", "d", "empty"]})
    result = _cli(
        small, "--attributes", str(small["root"] / "y.csv"), "--unseen", str(small["unseen"])
    )
    assert "class folder 'empty' holds no files" in str(result.exception)
    (small["images"] / "empty").rmdir()
    bad_unseen = small["root"] / "u.txt"
    bad_unseen.write_text("zebra\n")
    result = _cli(small, "--attributes", str(small["attributes"]), "--unseen", str(bad_unseen))
    assert "--unseen: class(es) zebra have no row" in str(result.exception)
    result = _cli(small, "--attributes", str(small["attributes"]))
    assert "exactly one of --unseen FILE and --unseen-fraction" in str(result.exception)
    result = _cli(small, "--attributes", str(small["attributes"]), "--unseen-fraction", "0.01")
    assert "gives 0 unseen classes" in str(result.exception)
    assert not (small["root"] / "o.h5").exists()


def test_zsl_extract_through_the_zsl_command(tiny_backbone, small):
    from zsl_toolkit.cli import cli

    out = small["root"] / "z.h5"
    result = CliRunner().invoke(
        cli,
        [
            "extract",
            str(small["images"]),
            str(out),
            "--attributes",
            str(small["attributes"]),
            "--unseen",
            str(small["unseen"]),
            "--workers",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 class(es) without images, unseen with no test images: e" in result.output
    with h5py.File(out) as h5:
        assert len(h5["image_files"]) == 24
    missing = CliRunner().invoke(
        cli,
        [
            "extract",
            str(small["root"] / "nope"),
            str(small["root"] / "z2.h5"),
            "--attributes",
            str(small["attributes"]),
            "--unseen",
            str(small["unseen"]),
        ],
    )
    assert missing.exit_code != 0
    assert missing.output.startswith("error: ") and "nope: no such image folder" in missing.output


def test_bad_descriptions(tmp_path):
    from zsl_images.semantics import read_descriptions

    dup = tmp_path / "d.json"
    dup.write_text('{"a": "one", "b": "two", "a": "three"}')
    with pytest.raises(DataError, match=r"d\.json: duplicate class name 'a'"):
        read_descriptions(dup)
    empty = tmp_path / "e.csv"
    empty.write_text("class,description\na,round\nb,\n")
    with pytest.raises(DataError, match=r"e\.csv: line 3: empty description for 'b'"):
        read_descriptions(empty)


def test_existing_output_is_refused_unless_forced(tiny_backbone, small):
    out = small["root"] / "s.h5"
    _run(small, out)
    before = out.stat().st_mtime_ns
    with pytest.raises(ConfigError, match=r"s\.h5: already exists \(use --force to replace it\)"):
        _run(small, out)
    assert out.stat().st_mtime_ns == before
    _run(small, out, force=True)
    assert load_h5(out).features.shape == (24, 8)
    mat = small["root"] / "m"
    _run(small, mat, fmt="mat")
    with pytest.raises(ConfigError, match="already exists"):
        _run(small, mat, fmt="mat")
    _run(small, mat, fmt="mat", force=True)
    assert sorted(p.name for p in mat.iterdir()) == ["att_splits.mat", "res101.mat"]


def test_store_is_named_after_the_output_file(tiny_backbone, small):
    out = small["root"] / "My_Shapes.h5"
    assert _run(small, out).data.name == "my_shapes"
    assert load_h5(out).name == "my_shapes"


def _no_decoding(monkeypatch):
    """Any image decoded fails the test: the checks must come before extraction."""
    import zsl_images.extract as ex

    def refuse(*args, **kwargs):
        raise AssertionError("extraction started before the class files were checked")

    monkeypatch.setattr(ex, "extract_features", refuse)


def test_unseen_names_are_checked_before_extraction_with_a_spelling_hint(
    tiny_backbone, small, monkeypatch
):
    _no_decoding(monkeypatch)
    with pytest.raises(
        DataError, match=r"--unseen: class\(es\) D have no row .*did you mean 'd'\?"
    ):
        _run(small, small["root"] / "u.h5", unseen=["D"])
    with pytest.raises(DataError, match=r"--unseen: class\(es\) zebra have no row"):
        _run(small, small["root"] / "u.h5", unseen=["zebra"])


def test_attribute_rows_are_checked_before_extraction_with_a_spelling_hint(
    tiny_backbone, small, monkeypatch
):
    _no_decoding(monkeypatch)
    attrs = write_attributes(
        small["root"] / "cased.csv",
        {c: [float(i == j) for j in range(5)] for i, c in enumerate("aBcde")},
    )
    with pytest.raises(
        DataError, match=r"cased\.csv: no row for class folder\(s\) b \(did you mean 'B'\?\)"
    ):
        extract(
            small["images"],
            small["root"] / "c.h5",
            read_attributes(attrs),
            unseen=["d"],
            backbone="tiny",
        )


def test_a_csv_without_header_row_says_so(tiny_backbone, small, monkeypatch):
    from zsl_images.semantics import Semantics

    _no_decoding(monkeypatch)
    fractional = small["root"] / "noheader.csv"
    fractional.write_text("a,0.5,0.1\nb,0.2,0.9\n")
    with pytest.raises(
        DataError, match=r"noheader\.csv: line 1 looks like data .*header row is missing"
    ):
        read_attributes(fractional)
    binary = small["root"] / "binary.csv"  # 0/1 values could be column names: caught by folder
    binary.write_text("".join(f"{c},{int(c == 'a')},1\n" for c in "abcde"))
    with pytest.raises(
        DataError, match=r"binary\.csv: line 1 is the row of class 'a': the header row is missing"
    ):
        extract(
            small["images"],
            small["root"] / "b.h5",
            read_attributes(binary),
            unseen=["d"],
            backbone="tiny",
        )
    texts = small["root"] / "texts.csv"
    texts.write_text("".join(f"{c},a thing called {c}\n" for c in "abcde"))
    from zsl_images.semantics import read_descriptions

    described = read_descriptions(texts)  # the first row was taken for the header
    semantics = Semantics(list(described), np.zeros((len(described), 2), np.float32), "text", texts)
    with pytest.raises(DataError, match=r"texts\.csv: line 1 is the row of class 'a'.*class, text"):
        extract(small["images"], small["root"] / "t.h5", semantics, unseen=["d"], backbone="tiny")


def test_onnxruntime_engine_agrees_with_torch(tiny_backbone, small):
    by_ort = _run(small, small["root"] / "o.h5", engine="onnxruntime").data.features
    by_torch = _run(small, small["root"] / "t.h5", engine="torch").data.features
    scale = np.abs(by_torch).max()
    assert np.abs(by_ort - by_torch).max() <= 1e-5 * scale
    assert not np.array_equal(by_ort, np.zeros_like(by_ort))


def test_semantics_built_in_memory_need_no_file(tiny_backbone, small):
    from pathlib import Path

    from zsl_images.semantics import Semantics

    sem = Semantics(list("abcd"), np.eye(4, dtype=np.float32), "attributes", Path("-"))
    report = extract(
        small["images"], small["root"] / "mem.h5", sem, unseen=["d"], backbone="tiny",
        workers=0, progress=io.StringIO(),
    )  # fmt: skip
    assert report.data.class_names == list("abcd")
