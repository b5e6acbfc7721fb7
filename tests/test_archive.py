"""Reading release archives safely: zip-slip, links, limits, corruption and checksum mismatches."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from pipeline.cli import cli
from pipeline.release.archive import ArchiveInvalid, Limits, read_archive, sha256sums, zip_bytes

DATE = (2026, 1, 1, 0, 0, 0)


def good_files() -> dict[str, bytes]:
    files = {"datapackage.json": b'{"resources": []}\n', "events.csv": b"event_id\nx\n"}
    files["SHA256SUMS"] = sha256sums(files)
    return files


def write_zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return path


def codes(err: pytest.ExceptionInfo) -> list[str]:
    return [p.code for p in err.value.problems]


def test_a_good_archive_reads_back(tmp_path):
    path = tmp_path / "ok.zip"
    path.write_bytes(zip_bytes(good_files(), DATE))
    assert read_archive(path).files == good_files()


def test_zip_bytes_are_deterministic():
    files = good_files()
    assert zip_bytes(files, DATE) == zip_bytes(dict(reversed(list(files.items()))), DATE)


@pytest.mark.parametrize("name", ["../evil.csv", "a/../../evil.csv", "/etc/evil", "C:/evil.csv", "..\\evil.csv"])
def test_zip_slip_members_are_refused(tmp_path, name):
    path = write_zip(tmp_path / "slip.zip", [*good_files().items(), (name, b"x")])
    with pytest.raises(ArchiveInvalid) as err:
        read_archive(path)
    assert codes(err) == ["archive-unsafe"]
    assert f"member '{name}'" in str(err.value)
    assert not (tmp_path.parent / "evil.csv").exists()


def test_symlink_member_is_refused(tmp_path):
    link = zipfile.ZipInfo("events.csv", DATE)
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = write_zip(tmp_path / "link.zip", [("datapackage.json", b"{}"), (link, b"/etc/passwd")])
    with pytest.raises(ArchiveInvalid) as err:
        read_archive(path)
    assert str(err.value).splitlines()[0] == f"{path}: member 'events.csv' is a symbolic link; refusing the archive"


def test_limits_on_members_size_and_ratio(tmp_path):
    path = write_zip(tmp_path / "many.zip", [(f"f{i}.csv", b"x") for i in range(5)])
    with pytest.raises(ArchiveInvalid, match=r"has 5 members \(limit 4\)"):
        read_archive(path, Limits(max_members=4))
    with pytest.raises(ArchiveInvalid, match=r"would unpack to 5 bytes \(limit 4\)"):
        read_archive(path, Limits(max_total_bytes=4))
    bomb = write_zip(tmp_path / "bomb.zip", [("zeros.csv", b"\0" * 2_000_000)])
    with pytest.raises(ArchiveInvalid, match=r"member 'zeros.csv' expands \d+ times \(limit 200\): a zip bomb\?"):
        read_archive(bomb, Limits(ratio_floor_bytes=1_000_000))


def test_corrupted_member_is_reported_as_corrupted(tmp_path):
    path = tmp_path / "bad.zip"
    files = good_files()
    files["events.csv"] = b"event_id\n" + b"abcdefgh" * 200
    files["SHA256SUMS"] = sha256sums({k: v for k, v in files.items() if k != "SHA256SUMS"})
    data = bytearray(zip_bytes(files, DATE))
    path.write_bytes(bytes(data))
    info = zipfile.ZipFile(path).getinfo("events.csv")
    at = info.header_offset + 30 + len(info.filename) + 5  # past the local header: inside the compressed data
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArchiveInvalid) as err:
        read_archive(path)
    assert codes(err) == ["archive-corrupt"]
    assert str(err.value).startswith(f"{path}: member 'events.csv' is corrupted: ")


def test_truncated_or_foreign_file_is_reported_as_corrupted(tmp_path):
    path = tmp_path / "cut.zip"
    path.write_bytes(zip_bytes(good_files(), DATE)[:-30])
    with pytest.raises(ArchiveInvalid) as err:
        read_archive(path)
    assert str(err.value).splitlines()[0] == f"{path}: not a zip archive or corrupted: File is not a zip file"


def test_checksum_mismatch_missing_and_unlisted_files(tmp_path):
    files = good_files()
    files["events.csv"] = b"event_id\ny\n"
    files["extra.ttl"] = b"# not listed\n"
    files["SHA256SUMS"] += b"0" * 64 + b"  gone.csv\n"
    path = tmp_path / "sums.zip"
    path.write_bytes(zip_bytes(files, DATE))
    with pytest.raises(ArchiveInvalid) as err:
        read_archive(path)
    assert sorted(codes(err)) == ["checksum-mismatch", "checksum-missing-file", "checksum-unlisted"]
    assert str(err.value).splitlines()[-1] == f"{path}: verification failed: 3 problems"


def test_cli_verify_reports_a_checksum_mismatch(tmp_path, runner):
    files = good_files()
    files["events.csv"] = b"event_id\ny\n"
    path = tmp_path / "sums.zip"
    path.write_bytes(zip_bytes(files, DATE))
    result = runner.invoke(cli, ["verify", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(f"Error: {path}: events.csv: checksum mismatch: SHA256SUMS says ")
    assert result.output.splitlines()[-1] == f"{path}: verification failed: 1 problem"


def test_cli_verify_of_a_missing_archive(tmp_path, runner):
    result = runner.invoke(cli, ["verify", str(tmp_path / "nope.zip")])
    assert (result.exit_code, result.output) == (1, f"Error: {tmp_path / 'nope.zip'}: no such archive\n")
