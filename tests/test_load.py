"""Tests of `pipeline.load`: a build folder or a release zip as typed DataFrames, read safely."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import pipeline
from pipeline.engine.build import build
from pipeline.errors import PipelineError
from pipeline.release.archive import sha256sums, zip_bytes

DATE = (2026, 1, 1, 0, 0, 0)


@pytest.fixture(scope="module")
def mini_dist(tmp_path_factory) -> Path:
    from tests.conftest import FIXTURES

    dist = tmp_path_factory.mktemp("load") / "dist"
    build(FIXTURES / "mini" / "raw", dist)
    return dist


def _release(dist: Path, path: Path, **changed: bytes) -> Path:
    files = {p.name: p.read_bytes() for p in dist.iterdir() if p.suffix in (".csv", ".json")}
    files.update(changed)
    files["SHA256SUMS"] = sha256sums(files)
    path.write_bytes(zip_bytes(files, DATE))
    return path


def test_a_build_folder_loads_typed_and_indexed(mini_dist):
    tables = pipeline.load(mini_dist)
    events, casualties = tables["events"], tables["casualties"]
    assert events.index.name == "event_id" and list(events.index) == ["krasny-strike-1962"]
    assert isinstance(casualties["category"].dtype, pd.CategoricalDtype)
    assert list(casualties["qualifier"].cat.categories)[:3] == ["exact", "at_least", "more_than"]
    assert str(casualties["count_min"].dtype) == "Int64" and str(casualties["count_max"].dtype) == "Int64"
    assert casualties.loc["mini-killed-12-killed", "count_max"] is pd.NA  # "at least 12": no upper bound
    assert events.loc["krasny-strike-1962", "earliest_date"] == pd.Timestamp("1962-06-02")
    assert str(tables["casualty_estimates"]["open_ended"].dtype) == "boolean"
    assert str(tables["event_summary"]["lat"].dtype) == "Float64"
    assert tables["spans"]["quote"].dtype == "string"
    # Composite keys stay columns: a MultiIndex helps nobody here.
    assert list(tables["event_actors"].index) == [0]


def test_the_answers_in_the_readme_run(mini_dist):
    tables = pipeline.load(mini_dist)
    events = tables["events"]
    per_year = events.groupby(events["earliest_date"].dt.year).size()
    assert per_year.to_dict() == {1962: 1}
    summary = tables["event_summary"]
    assert summary.loc["krasny-strike-1962", ["killed_low", "killed_high", "n_sources"]].tolist() == [3, 12, 1]


def test_a_release_zip_loads_like_its_folder(mini_dist, tmp_path):
    from_zip = pipeline.load(_release(mini_dist, tmp_path / "r.zip"))
    from_folder = pipeline.load(mini_dist / "datapackage.json")
    assert from_zip.keys() == from_folder.keys()
    for name in from_zip:
        pd.testing.assert_frame_equal(from_zip[name], from_folder[name])


def test_a_resource_path_leading_out_of_the_package_is_refused(mini_dist, tmp_path):
    descriptor = json.loads((mini_dist / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][0]["path"] = "../secrets.csv"
    zipped = _release(mini_dist, tmp_path / "r.zip", **{"datapackage.json": json.dumps(descriptor).encode()})
    with pytest.raises(PipelineError, match=r"resource 'sources' has path '\.\./secrets\.csv'; only a file name"):
        pipeline.load(zipped)


def test_a_link_out_of_the_folder_is_refused(mini_dist, tmp_path):
    folder = tmp_path / "dist"
    folder.mkdir()
    for p in mini_dist.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    (tmp_path / "outside.csv").write_bytes((folder / "actors.csv").read_bytes())
    (folder / "actors.csv").unlink()
    (folder / "actors.csv").symlink_to(tmp_path / "outside.csv")
    with pytest.raises(PipelineError, match="actors.csv: points outside"):
        pipeline.load(folder)


def test_an_unknown_category_is_an_error_not_a_missing_value(mini_dist, tmp_path):
    csv = (mini_dist / "casualties.csv").read_bytes().replace(b",at_least,", b",roughly,")
    zipped = _release(mini_dist, tmp_path / "r.zip", **{"casualties.csv": csv})
    with pytest.raises(PipelineError, match="casualties.csv: column qualifier does not hold string values: 'roughly'"):
        pipeline.load(zipped, verify=False)


def test_a_changed_member_fails_the_checksums(mini_dist, tmp_path):
    zipped = _release(mini_dist, tmp_path / "r.zip")
    with zipfile.ZipFile(zipped) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["actors.csv"] = files["actors.csv"].replace(b"Soldiers", b"Sailors")
    zipped.write_bytes(zip_bytes(files, DATE))
    with pytest.raises(PipelineError, match="actors.csv"):
        pipeline.load(zipped)


def test_something_else_is_refused(tmp_path):
    with pytest.raises(PipelineError, match="not a release zip, a build folder or its datapackage.json"):
        pipeline.load(tmp_path / "nothing-here")


def test_the_one_line_answers_of_the_readme_run_in_pandas_and_sql(tmp_path):
    import re
    import sqlite3

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    answers = re.findall(r"^\| [^|]+ \| `(.+?)` \| `(.+?)` \|$", readme, re.MULTILINE)
    assert len(answers) == 3
    # The real corpus: the mini one has no scope written, and these questions need it.
    build(ROOT / "raw", tmp_path / "dist")
    t = pipeline.load(tmp_path / "dist")
    s = t["event_summary"]
    con = sqlite3.connect(tmp_path / "dist" / "soviet-bloc-revolts.sqlite")
    per_year, tolls, claims = (
        (eval(python, {}, {"s": s, "t": t}), con.execute(sql).fetchall()) for python, sql in answers
    )
    assert per_year[0].to_dict() == dict((int(year), n) for year, n in per_year[1])
    assert sorted(tolls[0].index) == sorted(row[0] for row in tolls[1]) and tolls[0]["killed_high"].notna().all()
    assert len(claims[0]) == len(claims[1]) == (t["casualties"]["category"] == "killed").sum()
