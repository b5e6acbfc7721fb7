"""`pipeline site`: exit codes and the exact error lines."""

from __future__ import annotations

from pipeline.cli import cli
from tests.site.conftest import FIXTURE_BUILD


def test_site_writes_the_folder_and_says_what(runner, tmp_path):
    result = runner.invoke(cli, ["site", "--dist-dir", str(FIXTURE_BUILD), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == f"wrote {tmp_path / 'site'}: 10 pages, {sum(1 for p in (tmp_path / 'site').rglob('*') if p.is_file())} files\n"
    )


def test_no_build_is_exit_1_with_one_line(runner, tmp_path):
    result = runner.invoke(cli, ["site", "--dist-dir", str(tmp_path), "--out", str(tmp_path / "site")])
    assert result.exit_code == 1
    assert (
        result.output
        == f"Error: {tmp_path / 'datapackage.json'}: no build here: run `pipeline build` or pass --dist-dir\n"
    )
    assert not (tmp_path / "site").exists()


def test_foreign_output_folder_is_exit_1_and_untouched(runner, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("mine")
    result = runner.invoke(cli, ["site", "--dist-dir", str(FIXTURE_BUILD), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {tmp_path / 'out'} exists and was not written by `pipeline site`: "
        "choose another --out or move it away\n"
    )
    assert (tmp_path / "out" / "x").read_text() == "mine"
