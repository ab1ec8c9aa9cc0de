"""Font discovery for the letters: the official faces where installed, a documented fallback
where not (docs/letters.md, ADR 0008).

For each role (小标宋, 仿宋, 黑体, 楷体, 宋体) the PDF uses the first of:

1. the official TrueType file (e.g. ``simfang.ttf`` for 仿宋) found in ``TONGBAN_LETTER_FONT_DIR``
   (one or more directories, ``os.pathsep``-separated) or the usual font directories;
2. another TrueType-outline Chinese font found there (WenQuanYi, Droid Sans Fallback, AR PL,
   Noto Sans/Serif SC as .ttf);
3. reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1; always available, not embedded; every
   PDF reader draws it with its own Chinese font). Headings in 黑体 and titles in 小标宋 are then drawn
   with a stroked outline (fake bold) so they still stand out.

A face is used only if it has a glyph for every character it must draw; otherwise the next one is
tried, so the letter never shows boxes. Debian's ``fonts-noto-cjk`` (.ttc with PostScript/CFF
outlines) cannot be embedded by reportlab and is skipped by step 2 (PDF readers still use it to
draw ``STSong-Light``). Fonts are parsed and registered once per process.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from tongban.proposals.letters.content import FANGSONG, HEI, KAI, SONG, XBS

CID_FALLBACK = "STSong-Light"

# What the .docx declares (w:eastAsia) and what the PDF looks for first.
OFFICIAL_NAMES = {
    XBS: "方正小标宋简体",
    FANGSONG: "仿宋_GB2312",
    HEI: "黑体",
    KAI: "楷体_GB2312",
    SONG: "宋体",
}
# Fallback names for Word, in w:rFonts/w:altName-like order (documented; Word itself substitutes).
OFFICIAL_FILES = {
    XBS: ("FZXBSJW.TTF", "FZXBSJW--GB1-0.ttf", "方正小标宋简体.ttf", "方正小标宋_GBK.ttf", "FZXBSK.TTF"),
    FANGSONG: (
        "仿宋_GB2312.ttf",
        "FangSong_GB2312.ttf",
        "fsgb2312.ttf",
        "simfang.ttf",
        "仿宋.ttf",
        "STFANGSO.TTF",
    ),
    HEI: ("simhei.ttf", "黑体.ttf", "FZHTJW.TTF", "STHEITI.TTF"),
    KAI: ("楷体_GB2312.ttf", "KaiTi_GB2312.ttf", "kaiti_gb2312.ttf", "simkai.ttf", "楷体.ttf", "STKAITI.TTF"),
    SONG: ("simsun.ttc", "simsun.ttf", "宋体.ttf", "STSONG.TTF"),
}
# Other TrueType-outline Chinese fonts (step 2), serif-like first for the serif roles.
_SERIF_FALLBACKS = ("uming.ttc", "NotoSerifSC-Regular.ttf", "simsun.ttc", "DroidSansFallbackFull.ttf")
_SANS_FALLBACKS = (
    "wqy-zenhei.ttc",
    "wqy-microhei.ttc",
    "NotoSansSC-Regular.ttf",
    "DroidSansFallbackFull.ttf",
)
GENERIC_FILES = {
    XBS: _SERIF_FALLBACKS + _SANS_FALLBACKS,
    FANGSONG: _SERIF_FALLBACKS + _SANS_FALLBACKS,
    HEI: _SANS_FALLBACKS + _SERIF_FALLBACKS,
    KAI: ("ukai.ttc", *_SERIF_FALLBACKS, *_SANS_FALLBACKS),
    SONG: _SERIF_FALLBACKS + _SANS_FALLBACKS,
}
# Roles whose official face is heavier than the fallback: drawn with a stroked outline then.
EMBOLDEN_ON_FALLBACK = (XBS, HEI)


def font_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("TONGBAN_LETTER_FONT_DIR", "").split(os.pathsep) if p.strip()]
    home = Path.home()
    dirs += [
        home / ".fonts",
        home / ".local/share/fonts",
        Path("/usr/local/share/fonts"),
        Path("/usr/share/fonts"),
        Path("C:/Windows/Fonts"),
        home / "Library/Fonts",
        Path("/Library/Fonts"),
        Path("/System/Library/Fonts"),
    ]
    return dirs


@dataclass(frozen=True)
class FontChoice:
    role: str
    pdf_name: str  # the name registered with reportlab
    official_name: str  # what the .docx declares
    path: str = ""  # the TrueType file, "" for the CID font
    official: bool = False  # the official face itself
    embolden: bool = False  # draw with a stroked outline (fake bold)

    @property
    def embedded(self) -> bool:
        return bool(self.path)


_lock = threading.Lock()
_index: dict[str, dict[str, Path]] = {}  # font dirs key → lower-case file name → path
_loaded: dict[str, TTFont | None] = {}  # path → registered font (None: unusable)
_cid_registered = False


def reset() -> None:
    """Forget the font index and the choices (tests change ``TONGBAN_LETTER_FONT_DIR``)."""
    with _lock:
        _index.clear()


def _files() -> dict[str, Path]:
    dirs = font_dirs()
    key = os.pathsep.join(str(d) for d in dirs)
    with _lock:
        if key not in _index:
            found: dict[str, Path] = {}
            for d in dirs:
                if not d.is_dir():
                    continue
                for root, _subdirs, names in os.walk(d):
                    for name in names:
                        if name.lower().endswith((".ttf", ".ttc")):
                            found.setdefault(name.lower(), Path(root) / name)
            _index[key] = found
        return _index[key]


def _load(path: Path) -> TTFont | None:
    key = str(path)
    with _lock:
        if key not in _loaded:
            try:
                font = TTFont(f"TB-{path.stem}-{len(_loaded)}", key, subfontIndex=0)
                pdfmetrics.registerFont(font)
                _loaded[key] = font
            except (TTFError, OSError, ValueError):  # PostScript outlines, broken or unreadable files
                _loaded[key] = None
        return _loaded[key]


def _register_cid() -> None:
    global _cid_registered
    with _lock:
        if not _cid_registered:
            pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
            _cid_registered = True


def cid_covers(ch: str) -> bool:
    """STSong-Light (Adobe-GB1) draws every GBK character and ASCII."""
    if ch.isascii():
        return ch.isprintable()
    try:
        ch.encode("gbk")
    except UnicodeEncodeError:
        return False
    return True


def missing(font: TTFont | None, chars: set[str]) -> set[str]:
    if font is None:
        return set(chars)
    cmap = font.face.charToGlyph
    return {c for c in chars if ord(c) not in cmap}


def resolve(role: str, chars: set[str]) -> FontChoice:
    """The face that draws ``chars`` (whitespace aside) for ``role``; raises nothing: the caller checks
    :func:`uncovered` on the CID fallback."""
    chars = {c for c in chars if not c.isspace()}
    files = _files()
    for official, names in ((True, OFFICIAL_FILES[role]), (False, GENERIC_FILES[role])):
        for name in names:
            path = files.get(name.lower())
            if path is None:
                continue
            font = _load(path)
            if font is not None and not missing(font, chars):
                return FontChoice(
                    role,
                    font.fontName,
                    OFFICIAL_NAMES[role],
                    path=str(path),
                    official=official,
                    embolden=not official and role in EMBOLDEN_ON_FALLBACK,
                )
    _register_cid()
    return FontChoice(role, CID_FALLBACK, OFFICIAL_NAMES[role], embolden=role in EMBOLDEN_ON_FALLBACK)


def uncovered(choice: FontChoice, chars: set[str]) -> set[str]:
    """Characters of ``chars`` that ``choice`` cannot draw (empty: no boxes)."""
    chars = {c for c in chars if not c.isspace()}
    if choice.path:
        return missing(_load(Path(choice.path)), chars)
    return {c for c in chars if not cid_covers(c)}
