"""An image folder in the ImageFolder convention: one sub-folder per class.

Class names are the sub-folder names; files are every regular, non-hidden file below a class
folder (nested folders included), in sorted relative-path order, so the same folder always
gives the same rows. Whether a file is an image is decided by decoding it, not by its
extension: undecodable files are skipped and listed at extraction time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zsl_toolkit.errors import DataError


@dataclass(frozen=True)
class ImageFolder:
    """Files (relative to ``root``, POSIX separators) and their class folder names."""

    root: Path
    classes: list[str]
    files: list[str]
    labels: list[int]

    def path(self, row: int) -> Path:
        return self.root / self.files[row]


def _visible_files(folder: Path) -> list[Path]:
    out = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file():
            out.append(path)
    return out


def scan(root: str | Path) -> ImageFolder:
    """Read the layout of ``root``; an empty class folder or no class at all is an error."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: no such image folder (expected one sub-folder per class)")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{root}: no class sub-folders (expected one sub-folder per class)")
    files: list[str] = []
    labels: list[int] = []
    for k, name in enumerate(classes):
        found = sorted(p.relative_to(root).as_posix() for p in _visible_files(root / name))
        if not found:
            raise DataError(f"{root / name}: class folder '{name}' holds no files")
        files += found
        labels += [k] * len(found)
    return ImageFolder(root=root, classes=classes, files=files, labels=labels)
