"""Unpacking an upload into a scratch folder, counting real bytes against limits.

The sizes held to the limits are the bytes written, not what a zip's header declares: a zip
whose directory under-declares a member's size is stopped at the limit, not inflated in
memory first. Limits: the whole upload unpacked, one file, the number of files and of zip
entries, and the inflation ratio of a zip member over its packed size as the header gives it
(a ledger deflates 5–15×; a member that inflates 200× past its first mebibyte is a zip bomb,
not a ledger). A workbook (itself a zip, which the loader will inflate) is held to the same
limits from its declared sizes before a sheet is read: Python's zip reader stops at the size
a member declares. Every refusal is a problem naming the file.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

from api.files import FILE_MODE
from api.problems import Problem, issue_entry
from integrity.errors import InputIssue

ACCEPTED = (".csv", ".xlsx", ".xlsm", ".zip")
TABLE_FILES = (".csv", ".xlsx", ".xlsm")
CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    total: int  # bytes unpacked, all files together
    member: int  # bytes of one file
    files: int = 200  # table files in one upload
    entries: int = 10_000  # members of one zip (an upload's or a workbook's)
    inflation: int = 4  # a workbook's sheets may unpack to this many times the total limit
    ratio: int = 200  # a zip member's unpacked size over its packed size
    ratio_floor: int = 1 << 20  # the ratio is judged past this many bytes

    @classmethod
    def of(cls, max_bytes: int) -> Limits:
        return cls(total=max_bytes, member=max_bytes)


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the client gave it and a readable, seekable stream."""

    filename: str
    stream: BinaryIO


def file_error(file: str, zh: str, en: str, code: str = "upload") -> dict[str, Any]:
    return issue_entry(InputIssue("error", code, file, zh, en))


def _refuse(status: int, file: str, zh: str, en: str, code: str = "upload") -> Problem:
    return Problem(status, f"{file}：{zh} / {file}: {en}", errors=[file_error(file, zh, en, code)])


MAX_NAME_BYTES = 200  # a file name the file system takes (255 bytes) with room to spare


def _safe_name(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name.strip()
    if not base or base.startswith(".") or base in {"..", "."}:
        raise _refuse(422, name[:100] or "（无名）", "文件名无效", "invalid file name")
    if len(base.encode()) > MAX_NAME_BYTES or "\x00" in base:
        raise _refuse(
            422, base[:60] + "…", "文件名过长或含非法字符", "the file name is too long or invalid"
        )
    return base


def _member_path(raw: str, shown: str) -> PurePosixPath:
    """A zip member's path, refused when it climbs out of the archive or is absolute
    (``../../x.csv``, ``..\\..\\x.csv``, ``/etc/x.csv``, ``C:\\x.csv``)."""
    path = PurePosixPath(raw.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise _refuse(
            422,
            shown,
            "压缩包中的文件路径不安全（绝对路径或含“..”），整个上传已拒收",
            "unsafe path in the zip (absolute or with '..'); the upload was refused",
            "unsafe_path",
        )
    return path


class Unpacker:
    """Writes the files of one upload into ``folder``, flat, each counted as written."""

    def __init__(self, folder: Path, limits: Limits) -> None:
        self.folder = folder
        self.limits = limits
        self.total = 0
        self.written: set[str] = set()

    def _target(self, name: str) -> Path:
        safe = _safe_name(name)
        if safe in self.written:
            raise _refuse(422, safe, "上传中有两个同名文件", "two uploaded files share a name")
        if len(self.written) >= self.limits.files:
            raise _refuse(
                413,
                safe,
                f"上传的数据文件超过 {self.limits.files} 个",
                f"more than {self.limits.files} data files in the upload",
                "too_many_files",
            )
        self.written.add(safe)
        return self.folder / safe

    def _copy(self, src: IO[bytes], name: str, packed: int | None = None) -> None:
        target = self._target(name)
        self._write(src, target, name, packed)
        if target.suffix.lower() in (".xlsx", ".xlsm"):
            self._check_workbook(target, name)

    def _check_workbook(self, path: Path, name: str) -> None:
        """A workbook is a zip the loader will inflate: its members are held to the same
        limits before any sheet is read (a few hundred kilobytes of workbook can declare
        gigabytes of sheet XML). Not a zip at all: left to the loader to report."""
        lim = self.limits
        try:
            with zipfile.ZipFile(path) as book:
                infos = book.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return
        if len(infos) > lim.entries:
            raise _refuse(
                413, name, "工作簿内部文件过多", "the workbook holds too many parts", "too_large"
            )
        declared = sum(i.file_size for i in infos)
        if declared > lim.total * lim.inflation:
            raise _refuse(
                413,
                name,
                f"工作簿解压后超过 {lim.total * lim.inflation} 字节",
                f"the workbook unpacks to over {lim.total * lim.inflation} bytes",
                "too_large",
            )
        for i in infos:
            if i.file_size > lim.ratio_floor and i.file_size > lim.ratio * max(i.compress_size, 1):
                raise _refuse(
                    413,
                    name,
                    f"工作簿压缩比超过 {lim.ratio} 倍，疑似压缩炸弹，已拒收",
                    f"a part of the workbook inflates more than {lim.ratio} times (a zip bomb?)",
                    "zip_ratio",
                )

    def _write(self, src: IO[bytes], target: Path, name: str, packed: int | None) -> None:
        size = 0
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                self.total += len(chunk)
                self._check(name, size, packed)
                out.write(chunk)

    def _check(self, name: str, size: int, packed: int | None) -> None:
        lim = self.limits
        if size > lim.member:
            raise _refuse(
                413,
                name,
                f"单个文件超过 {lim.member} 字节",
                f"one file is over {lim.member} bytes",
                "too_large",
            )
        if self.total > lim.total:
            raise _refuse(
                413,
                name,
                f"上传（解压后）合计超过 {lim.total} 字节",
                f"the upload (unpacked) is over {lim.total} bytes",
                "too_large",
            )
        if packed is not None and size > lim.ratio_floor and size > lim.ratio * max(packed, 1):
            raise _refuse(
                413,
                name,
                f"压缩比超过 {lim.ratio} 倍，疑似压缩炸弹，已拒收",
                f"inflates more than {lim.ratio} times its packed size (a zip bomb?); refused",
                "zip_ratio",
            )

    def add(self, upload: Upload) -> None:
        suffix = PurePosixPath(upload.filename.replace("\\", "/")).suffix.lower()
        if suffix not in ACCEPTED:
            raise _refuse(
                422,
                upload.filename,
                f"不支持的文件类型，只接受 {'、'.join(ACCEPTED)} 文件",
                f"unsupported file type; only {', '.join(ACCEPTED)} files are accepted",
            )
        upload.stream.seek(0)
        if suffix == ".zip":
            self._add_zip(upload)
        else:
            self._copy(upload.stream, upload.filename)

    def _add_zip(self, upload: Upload) -> None:
        try:
            archive = zipfile.ZipFile(upload.stream)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise _refuse(422, upload.filename, "压缩包无法读取", "the zip cannot be read") from exc
        with archive:
            infos = archive.infolist()
            if len(infos) > self.limits.entries:
                raise _refuse(
                    413,
                    upload.filename,
                    f"压缩包内文件超过 {self.limits.entries} 个",
                    f"more than {self.limits.entries} entries in the zip",
                    "too_many_files",
                )
            for info in infos:
                name = info.filename
                # zips made on Chinese Windows carry GBK names without the UTF-8 flag
                if not info.flag_bits & 0x800:
                    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                        name = name.encode("cp437").decode("gbk")
                shown = f"{upload.filename}/{name}"
                path = _member_path(name, shown)
                if info.is_dir() or not path.parts:
                    continue
                base = path.name
                if base.startswith((".", "~$")) or "__MACOSX" in path.parts:
                    continue  # a system's bookkeeping (macOS resource forks, Office locks)
                if PurePosixPath(base).suffix.lower() not in TABLE_FILES:
                    continue
                try:
                    with archive.open(info) as src:
                        self._copy(src, base, packed=info.compress_size)
                except Problem:
                    raise
                except (
                    zipfile.BadZipFile,
                    zlib.error,
                    EOFError,
                    OSError,
                    NotImplementedError,
                    RuntimeError,  # an encrypted member
                    ValueError,
                ) as exc:
                    raise _refuse(
                        422,
                        shown,
                        "压缩包中的文件无法解压（已损坏、加密或使用不支持的压缩方式）",
                        "a file in the zip cannot be unpacked (damaged, encrypted or an "
                        "unsupported compression)",
                    ) from exc


def unpack(uploads: list[Upload], folder: Path, limits: Limits) -> None:
    """Write the uploaded files (a zip's members flattened) into ``folder``; a refusal
    leaves the folder for the caller to remove."""
    unpacker = Unpacker(folder, limits)
    for up in uploads:
        unpacker.add(up)
    if not unpacker.written:
        raise Problem(
            422,
            "没有可读取的数据文件 / no data file in the upload",
            errors=[file_error("upload", "上传中没有 csv 或 xlsx 文件", "no csv or xlsx file")],
        )
