"""`Plan.base`: the digest of everything every output of a build depends on (ecdigest's
version and code, the settings, the templates and assets, the Traditional conversion's
data, preview or not), and where the templates and assets are found.

Apart from the builder and the renderers because a no-change build needs only this digest
(with the manifest's check of every file): importing site/builder.py and what it imports
(the renderers, the search index's builder, the exports) cost every no-change build ~10 ms.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..archive import Archive

TEMPLATES_DIR = "templates"  # in the archive: ARCHIVE/templates/ overrides the shipped ones
PACKAGE_TEMPLATES = Path(__file__).with_name("templates")
PACKAGE_STATIC = Path(__file__).with_name("static")
STATIC_FILES = ("site.css", "search.js")


def parts_key(*parts: object) -> str:
    """A digest of `parts` (each as str, joined by U+001F): 32 hex characters."""
    text = "\x1f".join(map(str, parts))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def base_digest(archive: Archive, *, drafts: bool) -> str:
    """Everything every output depends on: ecdigest's version, the settings, the templates
    and assets, the Traditional conversion's data, preview or not."""
    from .. import __version__
    from ..codec import encode_settings

    parts: list[object] = [
        __version__,
        _code_digest(),
        encode_settings(archive.settings),
        templates_digest(archive.root),
        drafts,
    ]
    data = Path(__file__).resolve().parent.parent / "data"
    for name in ("zh_hant_fixes.tsv",):
        found = data / name
        parts.append(found.read_bytes() if found.exists() else b"")
    parts.append(_opencc_files())  # the cross-script key (every edition's search index), the editions' text
    return parts_key(*parts)


def _opencc_files() -> str:
    """OpenCC's installed files by name and size (its library and dictionaries, which
    change with its version): found without importing it, ~15 ms of every build that
    converts nothing (an archive without editions)."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("opencc")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        return ""
    lines = []
    for top in spec.submodule_search_locations:
        for folder, subfolders, names in os.walk(top):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(names):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    lines.append(f"{os.path.relpath(path, top)}\t{os.stat(path).st_size}")
    return "\n".join(lines)


_CODE: str | None = None


def _code_digest() -> str:
    """ecdigest's own code (3 ms to read): a changed renderer re-renders every page, even
    under the same version number."""
    global _CODE
    if _CODE is None:
        digest = hashlib.blake2b(digest_size=16)
        package = Path(__file__).resolve().parent.parent
        for path in sorted(package.rglob("*.py")):
            digest.update(path.read_bytes())
        _CODE = digest.hexdigest()
    return _CODE


def template_dirs(archive_root: Path | None) -> list[Path]:
    """Where templates are looked up, first match wins: the archive's, then ours."""
    dirs = []
    if archive_root is not None and (archive_root / TEMPLATES_DIR).is_dir():
        dirs.append(archive_root / TEMPLATES_DIR)
    dirs.append(PACKAGE_TEMPLATES)
    return dirs


def static_file(archive_root: Path | None, name: str) -> bytes:
    """An asset (site.css, search.js): `ARCHIVE/templates/static/NAME` if there, else ours."""
    if archive_root is not None:
        own = archive_root / TEMPLATES_DIR / "static" / name
        if own.is_file():
            return own.read_bytes()
    return (PACKAGE_STATIC / name).read_bytes()


def templates_digest(archive_root: Path | None) -> str:
    """A digest of every template and asset in use: any change re-renders every page."""
    digest = hashlib.blake2b(digest_size=16)
    for folder in template_dirs(archive_root):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    for name in STATIC_FILES:
        digest.update(static_file(archive_root, name) + b"\0")
    return digest.hexdigest()
