"""Make docs/report.png: a report made without any CJK font, as Chromium shows it.

The report is built on a synthetic district with the policy of
``examples/bureau_policy.toml``, while matplotlib is shown no CJK font at all (as
on a server that has none: the charts are laid out with DejaVu Sans only). The
page is then opened in headless Chromium on this machine, which has a Chinese
font (Debian: ``apt-get install chromium fonts-wqy-microhei``), and screenshotted.

Run from the repository root::

    PYTHONPATH=src python docs/_tools/report_screenshot.py [--out docs/report.png]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from creditsup import build_plan, load_policy, synthetic_district
from creditsup.report import plots, render_report

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    ap.add_argument("--size", default="1200,2000", help="browser window, pixels")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed (Debian: apt-get install chromium)")

    # matplotlib sees no CJK font, as on a server without one
    plots.CJK_FAMILIES = ()
    plots._FILE_HINTS = ("no-such-font-file",)
    assert plots.resolve_fonts().cjk is None

    ds = synthetic_district(2000, 40, seed="report-picture")
    policy = load_policy(ROOT / "examples" / "bureau_policy.toml")
    plan = build_plan(
        ds,
        policy,
        year=2026,
        seed="2025-12-31 lottery 07 12 19",
        operator="planning office",
        created_at="2026-01-05T01:30:00+00:00",
    )
    with tempfile.TemporaryDirectory() as tmp:
        html = render_report(plan, Path(tmp) / "report.html", dataset=ds)
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                f"--user-data-dir={Path(tmp) / 'profile'}",
                f"--window-size={args.size}",
                f"--screenshot={args.out.resolve()}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
