"""Writes sample letters (PDF and .docx) and a PNG of every PDF page for a person to look at.

    .venv/bin/python -m tongban.proposals.letters.samples [--out docs/letters] [--no-images]

The letters are the replies of seeds 000 and 003 (``tests/proposals/letter_seeds.py``). Nothing on
this machine rasterises PDF by itself (no poppler), so the pages are photographed in Chromium's PDF
viewer through Playwright (``/usr/bin/chromium`` or ``TONGBAN_CHROMIUM``); without a browser only
the PDFs and .docx files are written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tongban.proposals.letters.render import render_docx, render_pdf

REPO = Path(__file__).resolve().parents[3]
PAGE_PX = (794, 1123)  # A4 at 96 dpi


def seed_letters():
    sys.path.insert(0, str(REPO))
    from tests.proposals.letter_seeds import SEEDS

    return SEEDS


def page_images(pdf: Path, out_prefix: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    pages = len(PdfReader(str(pdf)).pages)
    written = []
    chromium = os.environ.get("TONGBAN_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": PAGE_PX[0], "height": PAGE_PX[1]})
            for n in range(1, pages + 1):
                page.goto("about:blank")
                page.goto(f"{pdf.resolve().as_uri()}#page={n}&toolbar=0&navpanes=0&view=Fit")
                page.wait_for_timeout(2500)
                target = out_prefix.with_name(f"{out_prefix.name}-p{n}.png")
                page.screenshot(path=str(target))
                written.append(target)
        finally:
            browser.close()
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "letters"))
    parser.add_argument("--no-images", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for key, letter in seed_letters().items():
        pdf = out / f"seed-{key}-reply.pdf"
        pdf.write_bytes(render_pdf(letter))
        (out / f"seed-{key}-reply.docx").write_bytes(render_docx(letter))
        print(pdf)
        if not args.no_images:
            for image in page_images(pdf, out / f"seed-{key}-reply"):
                print(image)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
