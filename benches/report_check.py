#!/usr/bin/env python3
"""Look at `loadline report` pages in a real browser (headless chromium).

    python3 benches/report_check.py [--widths 1280,800,480] [--height 1200]
                                    [--out DIR] REPORT.html [REPORT.html...]

For each report and window width:

1. Screenshot: `chromium --headless --screenshot` at WIDTH x the page's
   height (measured in step 2, at least HEIGHT) into
   DIR/NAME-WIDTH.png, then check the picture. The report is centred with
   a margin (or padding) on each side, so the rightmost STRIP pixels must be
   the page's background: a table, plot or line of text that runs past its
   box, or makes the page wider than the window, paints there. The bottom
   STRIP rows must be background too (the shot held the whole page), and
   enough of the page must not be (a blank render does not pass).
2. Layout: a copy of the report with a small script appended (the report
   itself has none) is loaded with `--dump-dom`; the script measures every
   element's box and writes the result into the page. Nothing outside a
   table's scroll box may reach past the window's right edge, and the page
   may not be wider than the window (headless chromium lays such a page
   out at least 500 px wide; a narrower window's edge is still checked).
   Each table's scroll box is listed as
   fitting or scrolling (scrolling inside its box is allowed).

Prints one line per check and exits 1 when any fails. Needs chromium
(Debian: chromium) and Pillow (Debian: python3-pil).
"""

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from PIL import Image

# body { background: #f6f8fa } in src/report/mod.rs.
BACKGROUND = (0xF6, 0xF8, 0xFA)
STRIP = 16
TOLERANCE = 6

CHROMIUM = os.environ.get("CHROMIUM", "chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]

# Appended to a copy of the report before </body>.
MEASURE = """<script>
(function () {
  // The window asked for: headless chromium lays out --dump-dom pages at
  // least 500 px wide, so a narrower window is measured against its width.
  var w = Math.min(document.documentElement.clientWidth, WIDTH);
  var out = {width: w, client: document.documentElement.clientWidth,
             height: document.documentElement.scrollHeight,
             page: document.documentElement.scrollWidth, off: [], boxes: []};
  var all = document.querySelectorAll("main *");
  for (var i = 0; i < all.length; i++) {
    var e = all[i];
    var box = e.parentElement && e.parentElement.closest(".scroll");
    if (box) continue;
    var r = e.getBoundingClientRect();
    if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5)) {
      var id = e.id ? "#" + e.id : "";
      var cls = e.getAttribute("class") ? "." + e.getAttribute("class").split(" ").join(".") : "";
      out.off.push(e.tagName.toLowerCase() + id + cls + " " + Math.round(r.left) + ".." + Math.round(r.right));
    }
  }
  var boxes = document.querySelectorAll(".scroll");
  for (var j = 0; j < boxes.length; j++) {
    var b = boxes[j], t = b.querySelector("table");
    out.boxes.push({table: t ? t.getAttribute("class") : "", box: b.clientWidth, content: b.scrollWidth});
  }
  var pre = document.createElement("pre");
  pre.id = "layout-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def is_background(px):
    return all(abs(a - b) <= TOLERANCE for a, b in zip(px[:3], BACKGROUND))


def check_png(path):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    px = img.load()
    problems = []
    right = [(x, y) for y in range(h) for x in range(w - STRIP, w) if not is_background(px[x, y])]
    if right:
        ys = sorted({y for _, y in right})
        problems.append(
            f"{len(right)} pixels in the right {STRIP} px are not background "
            f"(rows {ys[0]}..{ys[-1]}): something runs off the page"
        )
    bottom = sum(1 for y in range(h - STRIP, h) for x in range(w) if not is_background(px[x, y]))
    if bottom:
        problems.append(
            f"{bottom} pixels in the bottom {STRIP} rows are not background: "
            "the page is taller than the shot"
        )
    content = sum(1 for y in range(0, h, 4) for x in range(0, w, 4) if not is_background(px[x, y]))
    if content < 2000:
        problems.append(f"only {content} sampled pixels are not background: a blank page?")
    return problems


def chromium(args):
    return subprocess.run(
        [CHROMIUM, *FLAGS, *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def check_layout(report, width, height):
    with open(report, encoding="utf-8") as f:
        page = f.read()
    if "</body>" not in page:
        return [f"{report}: no </body>"], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "measure.html")
        with open(copy, "w", encoding="utf-8") as f:
            f.write(page.replace("</body>", MEASURE.replace("WIDTH", str(width)) + "</body>", 1))
        dom = chromium([f"--window-size={width},{height}", "--dump-dom", "file://" + copy])
    m = re.search(r'<pre id="layout-check">(.*?)</pre>', dom, re.S)
    if not m:
        return ["the measuring script did not run"], [], 0
    out = json.loads(html.unescape(m.group(1)))
    problems = []
    if out["page"] > out["client"]:
        problems.append(f"the page is {out['page']} px wide in a {out['client']} px window")
    if out["off"]:
        problems.append(f"{len(out['off'])} elements reach past the right edge: " + "; ".join(out["off"][:6]))
    notes = []
    for b in out["boxes"]:
        if b["content"] > b["box"] + 1:
            notes.append(f"table {b['table']} scrolls in its box ({b['content']} px in {b['box']})")
        else:
            notes.append(f"table {b['table']} fits ({b['content']} px in {b['box']})")
    return problems, notes, int(out["height"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", default="1280,800,480")
    ap.add_argument("--height", type=int, default=1200, help="the least height of a shot (it grows to hold the page)")
    ap.add_argument("--out", default=None, help="where the screenshots go (default: beside each report)")
    ap.add_argument("reports", nargs="+")
    a = ap.parse_args()
    if shutil.which(CHROMIUM) is None:
        print(f"{CHROMIUM} is not installed (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    failed = 0
    for report in a.reports:
        report = os.path.abspath(report)
        name = os.path.splitext(os.path.basename(report))[0]
        out_dir = a.out or os.path.dirname(report)
        os.makedirs(out_dir, exist_ok=True)
        for width in [int(w) for w in a.widths.split(",")]:
            png = os.path.join(out_dir, f"{name}-{width}.png")
            layout, notes, page_h = check_layout(report, width, a.height)
            # Tall enough for the whole page (more when the layout was
            # measured wider than the window, so taller than the shot's).
            shot_h = max(a.height, int(page_h * (1.3 if width < 500 else 1.0)) + 64)
            chromium([f"--window-size={width},{shot_h}", f"--screenshot={png}", "file://" + report])
            problems = check_png(png) + layout
            status = "FAIL" if problems else "ok"
            failed += bool(problems)
            print(f"{status} {name} at {width} px: {png}")
            for p in problems:
                print(f"    {p}")
            for n in notes:
                print(f"    {n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
