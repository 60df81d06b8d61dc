"""The interactive comparison page: compare.html beside the report, and compare/ with the decodes
it shows.

For each chosen image and rate, every curve's decode at its setting nearest the rate (as the
crops choose), with that measurement's bytes and scores from the run itself. The page needs no
network: its script and styles are inline, the images are files beside it. A reader picks an
image, a rate and two decodes (or the original), and compares them with a slider or side by
side, zoomed and panned together.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from sparsepix.benchmarks.codecs import CurveSpec, make_codec
from sparsepix.codec.imageio import as_rgb, load_image

FOLDER = "compare"
PAGE = "compare.html"


def decode_path(out: Path, image: str, curve: str, rate: float) -> Path:
    return out / FOLDER / Path(image).stem / f"{curve}_{rate:g}bpp.png"


def nearest(results: list[dict], curve: str, image: str, rate: float) -> dict | None:
    """A curve's measurement of an image at the setting whose rate is nearest `rate` (in log)."""
    mine = [r for r in results if r["curve"] == curve and r["image"] == image]
    return min(mine, key=lambda r: abs(np.log(r["bpp"] / rate))) if mine else None


def decodes(
    specs: dict[str, CurveSpec], results: list[dict], images: list[Path], rates: list[float], out: Path
) -> list[dict]:
    """Encode and decode each image with every curve at each rate; save the PNGs under
    out/compare/ (emptied first: it holds this run's decodes only) and return the page's
    entries (paths relative to `out`)."""
    shutil.rmtree(out / FOLDER, ignore_errors=True)
    entries = []
    for path in images:
        image = as_rgb(load_image(path))
        folder = out / FOLDER / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / "original.png")
        entry = {"image": path.name, "width": image.shape[1], "height": image.shape[0]}
        entry["original"] = f"{FOLDER}/{path.stem}/original.png"
        entry["rates"] = {}
        for rate in rates:
            shown = []
            for name, spec in specs.items():
                best = nearest(results, name, path.name, rate)
                if best is None:
                    continue
                codec = make_codec(spec)
                data = codec.encode(image, best["setting"])
                file = decode_path(out, path.name, name, rate)
                Image.fromarray(codec.decode(data)).save(file)
                scores = {k: best[k] for k in ("bytes", "bpp", "psnr", "ms_ssim", "haarpsi")}
                file = str(file.relative_to(out))
                shown.append({"curve": name, "setting": best["setting"], "file": file, **scores})
            entry["rates"][f"{rate:g}"] = shown
        entries.append(entry)
    return entries


def write_page(out: Path, title: str, entries: list[dict]) -> Path:
    """compare.html: the entries as inline JSON and the viewer's script."""
    data = json.dumps(entries).replace("</", "<\\/")  # no early end of the script element
    page = TEMPLATE.replace("__TITLE__", html.escape(title)).replace("__DATA__", data)
    (out / PAGE).write_text(page)
    return out / PAGE


TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><title>__TITLE__: compare</title>
<style>
body{font-family:sans-serif;margin:1em 2em}
#controls label{margin-right:1.2em}
#view{position:relative;overflow:hidden;border:1px solid #888;width:min(100%,1000px);height:600px;
  cursor:grab;background:#222;user-select:none}
#view canvas{position:absolute;left:0;top:0}
#divider{position:absolute;top:0;bottom:0;width:2px;background:#fff;pointer-events:none}
.names{display:flex;justify-content:space-between;width:min(100%,1000px);font-size:90%}
table{border-collapse:collapse;margin-top:1em}td,th{border:1px solid #ccc;padding:2px 8px}
td{text-align:right}td:first-child,th{text-align:left}tr.picked{background:#eef}
</style></head><body>
<h1>__TITLE__</h1>
<p>Pick an image, a rate and two decodes. Drag the divider with the slider, or show them side
by side; scroll or use the zoom buttons to zoom, drag to pan (both halves move together). Each
decode is its curve's setting nearest the rate; bytes and scores are the run's own.</p>
<div id="controls">
<label>image <select id="image"></select></label>
<label>rate <select id="rate"></select></label>
<label>left <select id="left"></select></label>
<label>right <select id="right"></select></label>
<label><input type="radio" name="mode" value="slider" checked> slider</label>
<label><input type="radio" name="mode" value="side"> side by side</label>
<label>zoom <button id="out">-</button> <span id="zoom">1</span>x <button id="in">+</button></label>
</div>
<div class="names"><span id="leftname"></span><span id="rightname"></span></div>
<div id="view"><canvas id="canvas"></canvas><div id="divider"></div></div>
<input id="split" type="range" min="0" max="1000" value="500" style="width:min(100%,1000px)">
<table id="scores"></table>
<script id="data" type="application/json">__DATA__</script>
<script>
"use strict";
const entries = JSON.parse(document.getElementById("data").textContent);
const $ = (id) => document.getElementById(id);
const cache = {};
const state = {zoom: 1, scale: 1, x: 0, y: 0, split: 0.5};
function picture(src) {
  if (!cache[src]) { cache[src] = new Image(); cache[src].onload = draw; cache[src].src = src; }
  return cache[src];
}
function fill(select, options) {
  const keep = select.value;
  select.innerHTML = "";
  for (const [value, text] of options) select.add(new Option(text, value));
  if (options.some(([v]) => v === keep)) select.value = keep;
}
function entry() { return entries[Number($("image").value)]; }
function decodes() { return entry().rates[$("rate").value] || []; }
function source(choice) {
  if (choice === "original") return {file: entry().original, curve: "original"};
  return decodes().find((d) => d.curve === choice);
}
function refresh() {
  fill($("rate"), Object.keys(entry().rates).map((r) => [r, r + " bpp"]));
  const names = [["original", "original"], ...decodes().map((d) => [d.curve, d.curve])];
  fill($("left"), names);
  fill($("right"), names);
  if ($("left").value === $("right").value && names.length > 1) $("right").value = names[1][0];
  const rows = decodes().map((d) =>
    `<tr data-curve="${d.curve}"><td>${d.curve}</td><td>${d.setting}</td><td>${d.bytes}</td>` +
    `<td>${d.bpp.toFixed(3)}</td><td>${d.psnr.toFixed(2)}</td><td>${d.ms_ssim.toFixed(4)}</td>` +
    `<td>${d.haarpsi.toFixed(3)}</td></tr>`);
  $("scores").innerHTML = "<tr><th>decode</th><th>setting</th><th>bytes</th><th>bpp</th>" +
    "<th>PSNR dB</th><th>MS-SSIM</th><th>HaarPSI</th></tr>" + rows.join("");
  draw();
}
function draw() {
  const view = $("view"), canvas = $("canvas"), ctx = canvas.getContext("2d");
  const e = entry(), side = document.querySelector("input[name=mode]:checked").value === "side";
  const pane = side ? view.clientWidth / 2 : view.clientWidth;
  // Zoom 1 fits the image to its pane; higher zooms magnify that, pixels kept sharp.
  view.style.height = Math.min(720, Math.round(pane * e.height / e.width)) + "px";
  canvas.width = view.clientWidth; canvas.height = view.clientHeight;
  ctx.imageSmoothingEnabled = false;
  const left = source($("left").value), right = source($("right").value);
  if (!left || !right) return;
  $("leftname").textContent = left.curve; $("rightname").textContent = right.curve;
  for (const tr of $("scores").rows) tr.classList.toggle("picked",
    [left.curve, right.curve].includes(tr.dataset.curve));
  const w = canvas.width, h = canvas.height;
  const scale = Math.min(pane / e.width, h / e.height) * state.zoom;
  state.scale = scale;
  const paint = (img, x0, x1, offset) => {
    if (!img.complete) return;
    ctx.save(); ctx.beginPath(); ctx.rect(x0, 0, x1 - x0, h); ctx.clip();
    ctx.drawImage(img, offset - state.x * scale, -state.y * scale, e.width * scale, e.height * scale);
    ctx.restore();
  };
  const cut = side ? w / 2 : Math.round(state.split * w);
  paint(picture(left.file), 0, cut, 0);
  paint(picture(right.file), cut, w, side ? w / 2 : 0);
  $("divider").style.left = cut + "px";
  $("zoom").textContent = state.zoom;
}
function zoomBy(factor) {
  const old = state.scale || 1, view = $("view");
  state.zoom = Math.min(32, Math.max(1, state.zoom * factor));
  if (state.zoom === 1) { state.x = 0; state.y = 0; draw(); return; }
  draw();  // sets the new scale; then keep the view's centre where it was
  state.x += view.clientWidth / 2 / old - view.clientWidth / 2 / state.scale;
  state.y += view.clientHeight / 2 / old - view.clientHeight / 2 / state.scale;
  draw();
}
fill($("image"), entries.map((e, i) => [String(i), e.image]));
for (const id of ["image", "rate"]) $(id).onchange = refresh;
for (const id of ["left", "right"]) $(id).onchange = draw;
for (const r of document.querySelectorAll("input[name=mode]")) r.onchange = draw;
$("split").oninput = () => { state.split = $("split").value / 1000; draw(); };
$("in").onclick = () => zoomBy(2);
$("out").onclick = () => zoomBy(0.5);
$("view").onwheel = (e) => { e.preventDefault(); zoomBy(e.deltaY < 0 ? 2 : 0.5); };
let drag = null;
$("view").onmousedown = (e) => { drag = [e.clientX, e.clientY, state.x, state.y]; };
window.onmouseup = () => { drag = null; };
window.onmousemove = (e) => {
  if (!drag) return;
  state.x = drag[2] - (e.clientX - drag[0]) / state.scale;
  state.y = drag[3] - (e.clientY - drag[1]) / state.scale;
  draw();
};
window.onresize = draw;
refresh();
</script></body></html>
"""
