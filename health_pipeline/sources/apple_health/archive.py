"""Finding `export.xml` in what a person hands over: the `export.zip` the Health app shares, the folder
it unpacks to, or the XML itself; and counting the side files the importer leaves alone.

The XML is found by its content (a `<HealthData` element near its start), not by its name: the phone
names it in its own language (`导出.xml`). `export_cda.xml` (the clinical subset, often not even valid
XML), clinical records, electrocardiograms and workout routes are counted, not imported; `__MACOSX`
entries a Mac adds when re-zipping are ignored.
"""

import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PEEK = 1 << 16  # the DTD of every version seen is under 20 KB


class ExportError(Exception):
    """The export cannot be read (not found, not an export, a broken zip, a truncated XML): one line naming it."""


@dataclass
class Located:
    """The export's XML (how to open it, its name and size) and what else the export holds."""

    name: str
    size: int
    open: "Opener"
    side_files: Counter[str] = field(default_factory=Counter)  # family -> files, counted not imported


class Opener:
    """Opens the XML as a binary stream (the zip entry decompressed as it is read)."""

    def __init__(self, path: Path, member: str | None = None) -> None:
        self.path, self.member = path, member

    @contextmanager
    def __call__(self) -> Iterator[IO[bytes]]:
        if self.member is None:
            with open(self.path, "rb") as stream:
                yield stream
            return
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as stream:
                yield stream
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            raise ExportError(f"{self.path.name}: the zip is broken or truncated ({err})") from None


def side_family(name: str) -> str | None:
    """The family of a file the importer counts and leaves alone, or None for anything else."""
    lowered = name.lower()
    if lowered.rsplit("/", 1)[-1] == "export_cda.xml":
        return "export_cda.xml"
    for family in ("clinical-records", "electrocardiograms", "workout-routes"):
        if f"{family}/" in lowered:
            return family
    if lowered.endswith(".csv"):  # the ECG folder's name is localised on some phones
        return "electrocardiograms"
    return None


def _looks_like_export(head: bytes) -> bool:
    return b"<HealthData" in head


def locate(path: Path) -> Located:
    """Find the export's XML in `path` (a .zip, a folder or the .xml), or say why it is not there."""
    if not path.exists():
        raise ExportError(f"{path}: no such file or folder")
    if path.is_dir():
        return _in_folder(path)
    if zipfile.is_zipfile(path):
        return _in_zip(path)
    with open(path, "rb") as stream:
        head = stream.read(PEEK)
    if head.startswith(b"PK"):
        raise ExportError(f"{path.name}: the zip is broken or truncated (its directory cannot be read)")
    if not _looks_like_export(head):
        raise ExportError(f"{path.name}: not an Apple Health export (no <HealthData> element)")
    return Located(path.name, path.stat().st_size, Opener(path))


def _in_folder(folder: Path) -> Located:
    side: Counter[str] = Counter()
    found: list[Path] = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and "__MACOSX" not in p.parts):
        family = side_family(file.relative_to(folder).as_posix())
        if family is not None:
            side[family] += 1
        elif file.suffix.lower() == ".xml" and not file.name.startswith("._"):
            with open(file, "rb") as stream:
                if _looks_like_export(stream.read(PEEK)):
                    found.append(file)
    return _one(folder, [(f.relative_to(folder).as_posix(), f.stat().st_size, Opener(f)) for f in found], side)


def _in_zip(path: Path) -> Located:
    side: Counter[str] = Counter()
    found = []
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                name = info.filename
                if info.is_dir() or name.startswith("__MACOSX/") or name.rsplit("/", 1)[-1].startswith("._"):
                    continue
                family = side_family(name)
                if family is not None:
                    side[family] += 1
                elif name.lower().endswith(".xml"):
                    with archive.open(info) as stream:
                        head = stream.read(PEEK)
                    if _looks_like_export(head):
                        found.append((name, info.file_size, Opener(path, name)))
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise ExportError(f"{path.name}: the zip is broken or truncated ({err})") from None
    return _one(path, found, side)


def _one(where: Path, found: list[tuple[str, int, Opener]], side: Counter[str]) -> Located:
    if not found:
        raise ExportError(f"{where.name}: no Apple Health export.xml in it")
    if len(found) > 1:
        raise ExportError(f"{where.name}: more than one export XML ({', '.join(f[0] for f in found)}); name one")
    name, size, opener = found[0]
    return Located(name, size, opener, side)
