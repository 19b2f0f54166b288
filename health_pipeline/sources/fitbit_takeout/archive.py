"""Opening a Fitbit export: a `.zip`, a folder of `.zip` parts (`takeout-…-001.zip`, `-002.zip`), or
an unpacked folder; its entries with normalised names, its layout, and each importable file's kind."""

import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from health_pipeline.sources.fitbit_takeout.formats import LAYOUT_NAMES, Kind, Layout, kind_of, layout_of, normalise


class ArchiveError(Exception):
    """The export cannot be read at all (not found, not a zip, not a Fitbit export): one line."""


class FileError(Exception):
    """One file of the export cannot be read (truncated, corrupt, not what its name says): one line naming it."""


@dataclass(frozen=True)
class Entry:
    """One importable file of the export."""

    name: str  # normalised path inside the export (`Takeout/Google Health/Global Export Data/heart_rate-….json`)
    kind: Kind
    size: int
    read: Callable[[], bytes]

    @property
    def base(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass
class Export:
    """An opened export: its layout, its importable files (in name order) and the names it skipped."""

    path: Path
    layout: Layout
    entries: list[Entry]
    skipped: list[str]
    _stack: ExitStack

    @property
    def layout_name(self) -> str:
        return LAYOUT_NAMES[self.layout]

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> "Export":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _zip_entries(path: Path, stack: ExitStack) -> Iterator[tuple[str, int, Callable[[], bytes]]]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, OSError) as err:
        raise ArchiveError(f"{path}: not a readable zip archive ({err})") from None
    for info in archive.infolist():
        if info.is_dir():
            continue

        def read(info: zipfile.ZipInfo = info) -> bytes:
            try:
                return archive.read(info)
            except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as err:
                raise FileError(f"{path}: {normalise(info.filename)}: cannot be read from the zip ({err})") from None
        yield info.filename, info.file_size, read


def _folder_entries(root: Path) -> Iterator[tuple[str, int, Callable[[], bytes]]]:
    for file in sorted(root.rglob("*")):
        if not file.is_file():
            continue

        def read(file: Path = file) -> bytes:
            try:
                return file.read_bytes()
            except OSError as err:
                raise FileError(f"{file}: cannot be read ({err.strerror or err})") from None
        yield file.relative_to(root).as_posix(), file.stat().st_size, read


def open_export(path: Path) -> Export:
    """Open the export at `path` and classify its files; `ArchiveError` if it is not a Fitbit export."""
    path = path.expanduser()
    if not path.exists():
        raise ArchiveError(f"{path}: no such file or folder")
    stack = ExitStack()
    try:
        raw: list[tuple[str, int, Callable[[], bytes]]] = []
        if path.is_file():
            raw += _zip_entries(path, stack)
        else:
            parts = sorted(p for p in path.iterdir() if p.suffix.lower() == ".zip")
            for part in parts:  # a split Takeout: every part is one export
                raw += _zip_entries(part, stack)
            raw += [e for e in _folder_entries(path) if not e[0].lower().endswith(".zip")]
        names = [normalise(name) for name, _, _ in raw]
        layout = layout_of(names)
        if layout is None:
            shown = ", ".join(sorted({n.split("/")[0] for n in names})[:5]) or "nothing"
            raise ArchiveError(f"{path}: not a Fitbit export in a known layout (user-site-export, a fitbit.com "
                               f"account archive, Takeout/Fitbit or Takeout/Google Health); found {shown}")
        entries, skipped = [], []
        for name, (_, size, read) in sorted(zip(names, raw), key=lambda item: item[0]):
            parts_of = name.split("/")
            kind = kind_of(parts_of[-1], parts_of[-2] if len(parts_of) > 1 else "")
            if kind is None:
                skipped.append(name)
            else:
                entries.append(Entry(name, kind, size, read))
        return Export(path, layout, entries, skipped, stack)
    except BaseException:
        stack.close()
        raise
