"""Reply letters (答复函): how long rendering one letter as .docx and as PDF takes.

In one run (``python -m bench.letters``, or :func:`main` from ``bench/run_all.py``), in a fresh child
process (so the first call pays for imports and font registration, as a new worker would):

(a) the first ``render_docx`` and ``render_pdf`` of seed 000's reply (9 pages) — first-call cost;
(b) then ``RUNS`` more of each for seeds 000 and 003 (6 pages): p50 / p95 / max per letter, and the
    combined docx + pdf time per letter, target ≤ 1 s.

Rendering touches no database, so the child needs no PostgreSQL; the machine section says so.
Results go to ``docs/benchmarks-letters.md``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.machine import run_child

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks-letters.md"
RUNS = 50
TARGET_S = 1.0


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def child() -> dict:
    sys.path.insert(0, str(REPO))
    from bench.machine import _lscpu_model, _memory_gib, load_average

    before = load_average()
    t0 = time.perf_counter()
    from tests.proposals.letter_seeds import SEEDS
    from tongban.proposals.letters.fonts import font_dirs
    from tongban.proposals.letters.pdf_letter import choose_fonts
    from tongban.proposals.letters.render import render_docx, render_pdf

    imports = time.perf_counter() - t0
    first = {}
    for name, fn in (("docx", render_docx), ("pdf", render_pdf)):
        t = time.perf_counter()
        fn(SEEDS["000"])
        first[name] = time.perf_counter() - t
    results = {"imports_s": imports, "first": first, "seeds": {}}
    for key, letter in SEEDS.items():
        times = {"docx": [], "pdf": [], "both": []}
        sizes = {"docx": len(render_docx(letter)), "pdf": len(render_pdf(letter))}
        for _ in range(RUNS):
            t = time.perf_counter()
            render_docx(letter)
            t1 = time.perf_counter()
            render_pdf(letter)
            t2 = time.perf_counter()
            times["docx"].append(t1 - t)
            times["pdf"].append(t2 - t1)
            times["both"].append(t2 - t)
        import io

        from pypdf import PdfReader

        pages = len(PdfReader(io.BytesIO(render_pdf(letter))).pages)
        results["seeds"][key] = {
            "pages": pages,
            "bytes": sizes,
            **{
                f"{k}_{stat}": fn(v)
                for k, v in times.items()
                for stat, fn in (
                    ("p50", statistics.median),
                    ("p95", lambda v: _pct(v, 0.95)),
                    ("max", max),
                )
            },
        }
    fonts = choose_fonts(SEEDS["000"])
    results["fonts"] = {role: f.pdf_name + (" (embedded)" if f.embedded else "") for role, f in fonts.items()}
    results["font_dirs"] = [str(d) for d in font_dirs() if d.is_dir()]
    results["load_average_before"] = before
    results["load_average_after"] = load_average()
    import docx
    import reportlab

    results["machine"] = {
        "cpu_model": _lscpu_model(),
        "cores": os.cpu_count() or 0,
        "memory_gib": round(_memory_gib(), 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "reportlab": reportlab.Version,
        "python_docx": getattr(docx, "__version__", "?"),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    return results


def table(r: dict) -> str:
    ms = lambda s: f"{s * 1000:,.0f} ms"  # noqa: E731
    lines = [
        "| measure | p50 | p95 | max | target | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for key, s in r["seeds"].items():
        for kind, label in (("docx", ".docx"), ("pdf", "PDF"), ("both", ".docx + PDF")):
            target = f"≤ {TARGET_S:g} s" if kind == "both" else "—"
            verdict = ("met" if s["both_max"] <= TARGET_S else "missed") if kind == "both" else "—"
            lines.append(
                f"| seed {key} ({s['pages']} pages): {label} | {ms(s[f'{kind}_p50'])} | "
                f"{ms(s[f'{kind}_p95'])} | {ms(s[f'{kind}_max'])} | {target} | {verdict} |"
            )
    first = r["first"]
    total = r["imports_s"] + first["docx"] + first["pdf"]
    lines.append(
        f"| first call in a fresh process (imports {ms(r['imports_s'])}, .docx {ms(first['docx'])}, "
        f"PDF {ms(first['pdf'])}) | {ms(total)} | | | ≤ {TARGET_S:g} s | "
        f"{'met' if total <= TARGET_S else 'missed'} |"
    )
    return "\n".join(lines)


def write_doc(r: dict) -> None:
    m = r["machine"]
    DOC.write_text(
        "# Benchmarks: reply letters (答复函)\n\n"
        "Written by `python -m bench.letters` (see its docstring for what is measured and how).\n\n"
        f"{table(r)}\n\n"
        f"- {RUNS} runs per seed after the first call, one thread, in a fresh child process; "
        "the first call includes importing python-docx and reportlab and registering the fonts.\n"
        f"- Fonts used for the PDF: {', '.join(f'{k} → {v}' for k, v in r['fonts'].items())}.\n"
        f"- Font directories searched that exist: {', '.join(r['font_dirs']) or 'none'}.\n"
        f"- Load average before / after: {r['load_average_before']} / {r['load_average_after']} "
        "(the machine is shared; other processes were running).\n\n"
        "## Machine\n\n"
        f"- CPU: {m['cpu_model']}, {m['cores']} cores; memory {m['memory_gib']} GiB; Linux {m['kernel']}\n"
        f"- Python {m['python']}, reportlab {m['reportlab']}, python-docx {m['python_docx']}; "
        f"no database involved; run {m['date']}\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> dict:
    """Runs the benchmark in a child process, prints a markdown table, writes the docs page and
    returns the results."""
    argv = sys.argv[1:] if argv is None else argv
    results = run_child("bench.letters")
    print(table(results))
    print(f"load average before / after: {results['load_average_before']} / {results['load_average_after']}")
    if "--no-docs" not in argv:
        write_doc(results)
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        print(json.dumps(child(), ensure_ascii=False, default=str))
    else:
        main()
