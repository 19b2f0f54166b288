"""Opening a Garmin Connect export ("Export Your Data", garmin-export.md §2): the `.zip` Garmin sends, the
unpacked folder, or a folder whose inner `UploadedFiles_*.zip` are unpacked too. Its files with their
family, read lazily: the JSON families the importer reads, and the FIT files, also those inside the
nested `DI-Connect-Uploaded-Files/UploadedFiles_*.zip` (older exports: `DI-Connect-Fitness-Uploaded-Files`).

File names carry the user's email and numeric user id (`user@example.com_0_summarizedActivities.json`,
`…_119317109_sleepData.json`): `shown()` is the only form of a name that reaches a log, metadata or
an error line.
"""

import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# JSON file families read (matched on the base name, case-insensitively; folders vary by export age)
FAMILIES: dict[str, re.Pattern[str]] = {
    "uds": re.compile(r"^udsfile_.*\.json$", re.I),
    "sleep": re.compile(r".*_sleepdata\.json$", re.I),
    "health_status": re.compile(r".*_healthstatusdata\.json$", re.I),
    "activities": re.compile(r".*_summarizedactivities\.json$", re.I),
    "biometrics": re.compile(r".*_userbiometrics\.json$", re.I),
}
FIT = "fit"
_UPLOADS = re.compile(r"di-connect(-fitness)?-uploaded-files", re.I)
_EMAIL = re.compile(r"[^/_\s]+@[^/_\s]+")
_USER_ID = re.compile(r"(?<![^/_.-])\d{6,}(?=_[^/]*\.json$)")  # a user id before a JSON name's family
_NUMBER = re.compile(r"_(\d+)\.fit$", re.I)


class ArchiveError(Exception):
    """The export cannot be read at all (not found, not a zip, not a Garmin export): one line."""


class FileError(Exception):
    """One file of the export cannot be read (truncated, corrupt, not what its name says): one line naming it."""


def shown(name: str) -> str:
    """A file name as it may be shown: the email and the numeric user id in it replaced."""
    return _USER_ID.sub("<user>", _EMAIL.sub("<email>", name))


def upload_number(name: str) -> str | None:
    """The upload number of a FIT file's name (`<email>_<NUMBER>.fit`: not the activity id)."""
    found = _NUMBER.search(name)
    return found.group(1) if found else None


@dataclass(frozen=True)
class Entry:
    """One file of the export the importer reads."""

    name: str  # path inside the export, as shown (no email, no user id)
    family: str  # a key of FAMILIES, or "fit"
    size: int
    read: Callable[[], bytes]
    number: str | None = None  # a FIT file's upload number

    @property
    def base(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass
class Export:
    """An opened export: its JSON files (in name order), its FIT files and what it holds but is not read."""

    path: Path
    files: list[Entry]
    fits: list[Entry]
    skipped: int
    failed: list[str]  # nested archives that cannot be opened, one line each
    _stack: ExitStack

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> "Export":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


Raw = tuple[str, int, Callable[[], bytes]]


def _reader(where: str, read: Callable[[], bytes]) -> Callable[[], bytes]:
    def guarded() -> bytes:
        try:
            return read()
        except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile, ValueError) as err:
            raise FileError(f"{shown(where)}: cannot be read ({err})") from None
    return guarded


def _zip_entries(archive: zipfile.ZipFile, prefix: str) -> Iterator[Raw]:
    for info in archive.infolist():
        if not info.is_dir():
            yield (prefix + info.filename.replace("\\", "/"), info.file_size,
                   _reader(prefix + info.filename, lambda info=info: archive.read(info)))


def _open_zip(source: Path | IO[bytes], stack: ExitStack, what: str) -> zipfile.ZipFile:
    try:
        return stack.enter_context(zipfile.ZipFile(source))
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise FileError(f"{shown(what)}: not a readable zip archive ({err})") from None


def _inner(name: str, read: Callable[[], bytes] | Path, stack: ExitStack) -> Iterator[Raw]:
    """The files of a nested `UploadedFiles_*.zip`, copied to a temporary file first (it may be
    hundreds of MB: never whole in memory)."""
    if isinstance(read, Path):
        archive = _open_zip(read, stack, name)
    else:
        spool = stack.enter_context(tempfile.TemporaryFile())
        spool.write(read())
        spool.seek(0)
        archive = _open_zip(spool, stack, name)  # type: ignore[arg-type]
    yield from _zip_entries(archive, name + "/")


def open_export(path: Path) -> Export:
    """Open the export at `path`; `ArchiveError` if it is not a Garmin export that can be read at all."""
    path = path.expanduser()
    if not path.exists():
        raise ArchiveError(f"{path}: no such file or folder")
    stack = ExitStack()
    try:
        outer: list[Raw | tuple[str, int, Path]] = []
        if path.is_file():
            try:
                archive = stack.enter_context(zipfile.ZipFile(path))
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                raise ArchiveError(f"{path}: not a readable zip archive ({err})") from None
            outer += _zip_entries(archive, "")
        else:
            outer += [(f.relative_to(path).as_posix(), f.stat().st_size, f)
                      for f in sorted(path.rglob("*")) if f.is_file()]
        files, fits, failed, skipped = [], [], [], 0
        for name, size, read in sorted(outer, key=lambda e: e[0]):
            base = name.rsplit("/", 1)[-1]
            if base.lower().endswith(".zip") and _UPLOADS.search(name):
                try:
                    inner = list(_inner(name, read, stack))  # type: ignore[arg-type]
                except FileError as err:
                    failed.append(str(err))
                    continue
                for inner_name, inner_size, inner_read in inner:
                    if inner_name.lower().endswith(".fit"):
                        fits.append(Entry(shown(inner_name), FIT, inner_size, inner_read, upload_number(inner_name)))
                    else:
                        skipped += 1
                continue
            if isinstance(read, Path):
                read = _reader(name, read.read_bytes)  # type: ignore[assignment]
            if base.lower().endswith(".fit"):
                fits.append(Entry(shown(name), FIT, size, read, upload_number(name)))  # type: ignore[arg-type]
                continue
            family = next((f for f, pattern in FAMILIES.items() if pattern.match(base)), None)
            if family is None:
                skipped += 1
            else:
                files.append(Entry(shown(name), family, size, read))  # type: ignore[arg-type]
        if not files and not fits and not failed:
            shown_top = ", ".join(sorted({shown(str(n).split("/")[0]) for n, _, _ in outer})[:5]) or "nothing"
            raise ArchiveError(f"{path}: not a Garmin Connect export (no DI_CONNECT daily summaries, sleep, "
                               f"activities, weigh-ins or FIT files); found {shown_top}")
        return Export(path, files, fits, skipped, failed, stack)
    except BaseException:
        stack.close()
        raise
