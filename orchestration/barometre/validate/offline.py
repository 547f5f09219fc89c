"""Make a Great Expectations Data Docs site render without network.

The stock pages load Bootstrap, bootstrap-table, jQuery, Font Awesome and Vega from CDNs
(unpkg, jsdelivr, cdnjs, …), and the index builds its tables in JavaScript from those
libraries. great_expectations 1.24 ships none of these files (only its own stylesheet,
which it already inlines), so they cannot be vendored. Instead every page is rewritten:

- the CDN `<link>` and `<script src>` tags are removed;
- a small stylesheet (the Bootstrap classes the pages use: grid, tables, cards, badges,
  navbar) is inlined in `<head>`;
- a small script is inlined before any page script: a jQuery-like `$` with just what the
  pages call (`$(fn)`, `.ready`, `.prepend`, `.on`, `.modal`, …) and a `bootstrapTable`
  that renders the table's `data` and `columns` into plain HTML rows (clickable rows
  keep their links), and a `vegaEmbed` that says the chart needs network.

Idempotent: a page already rewritten is left as is.
"""

from __future__ import annotations

import re
from pathlib import Path

MARKER = "barometre-offline"

_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*", re.I)
_EXTERNAL_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>\s*", re.I
)
_EXTERNAL_CSS_URL = re.compile(r"url\(\s*[\"']?(?:https?:)?//[^)]*\)", re.I)
_EXTERNAL_IMG_SRC = re.compile(r"(<img\b[^>]*?)\s+src\s*=\s*[\"'](?:https?:)?//[^\"']*[\"']", re.I)
# a remote asset left in a page: <script src=…>, <link href=…>, <img src=…> or a CSS
# url(…) to http(s) or protocol-relative //
REMOTE_ASSET = re.compile(
    r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//"
    r"|url\(\s*[\"']?(?:https?:)?//",
    re.I,
)

OFFLINE_CSS = """
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;
 font-size:.95rem;line-height:1.5;color:#212529;background:#fff}
a{color:#0b63c5;text-decoration:none}a:hover{text-decoration:underline}
h1,h2,h3,h4,h5,h6{margin:.5rem 0;font-weight:600;line-height:1.2}
.container-fluid{width:100%;padding:1rem 2rem}
.row{display:flex;flex-wrap:wrap;margin:0 -.75rem}
.row>*{padding:0 .75rem}
[class*="col-"]{flex:1 1 100%;max-width:100%}
@media (min-width:768px){.col-md-2{flex:0 0 16.66%;max-width:16.66%}
 .col-md-3{flex:0 0 25%;max-width:25%}.col-md-4{flex:0 0 33.33%;max-width:33.33%}
 .col-md-6{flex:0 0 50%;max-width:50%}.col-md-8{flex:0 0 66.66%;max-width:66.66%}
 .col-md-9{flex:0 0 75%;max-width:75%}.col-md-10{flex:0 0 83.33%;max-width:83.33%}
 .col-md-12{flex:0 0 100%;max-width:100%}}
.navbar{display:flex;align-items:center;justify-content:space-between;padding:.5rem 2rem;
 background:#f1f3f5;border-bottom:1px solid #dee2e6}
.navbar img{max-height:32px}
.navbar-nav,.nav,.list-unstyled{list-style:none;margin:0;padding:0}
.nav-link{display:block;padding:.25rem 0}
.card{border:1px solid #dee2e6;border-radius:.3rem;margin-bottom:1rem;background:#fff}
.card-header{padding:.5rem 1rem;background:#f8f9fa;border-bottom:1px solid #dee2e6}
.card-body{padding:1rem}
table,.table{width:100%;border-collapse:collapse;margin-bottom:1rem;font-size:.9rem}
th,td{padding:.4rem .6rem;border-top:1px solid #dee2e6;vertical-align:top;text-align:left}
thead th{border-bottom:2px solid #dee2e6;background:#f8f9fa}
tbody tr:nth-of-type(odd){background:rgba(0,0,0,.03)}
tr.clickable-row{cursor:pointer}tr.clickable-row:hover{background:#e7f1ff}
.badge{display:inline-block;padding:.2em .5em;font-size:80%;font-weight:600;
 border-radius:.25rem;background:#6c757d;color:#fff}
.badge-success,.bg-success{background:#198754;color:#fff}
.badge-danger,.bg-danger{background:#dc3545;color:#fff}
.badge-warning{background:#ffc107;color:#212529}.badge-info{background:#0dcaf0;color:#212529}
.text-success{color:#198754}.text-danger{color:#dc3545}.text-muted{color:#6c757d}
.alert{padding:.75rem 1rem;border:1px solid transparent;border-radius:.25rem;margin-bottom:1rem}
.alert-success{background:#d1e7dd}.alert-danger{background:#f8d7da}.alert-secondary{background:#e2e3e5}
.btn{display:inline-block;padding:.25rem .5rem;border:1px solid #6c757d;border-radius:.25rem;
 background:#fff;font-size:.85rem}
.collapse{display:block}.d-none{display:none}.sticky{position:sticky;top:0}
.float-right{float:right}.text-center{text-align:center}.text-right{text-align:right}
.mt-2{margin-top:.5rem}.mb-2{margin-bottom:.5rem}.mb-4{margin-bottom:1.5rem}
.p-2{padding:.5rem}.pt-4{padding-top:1.5rem}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;
 white-space:pre-wrap;word-break:break-word}
.fas,.far,.fa{font-style:normal}
.fa-check-circle::before{content:"\\2714";color:#198754}
.fa-times::before,.fa-times-circle::before{content:"\\2716";color:#dc3545}
.fa-exclamation-triangle::before{content:"\\26A0";color:#b58100}
.fa-question-circle::before{content:"?"}.fa-comment::before{content:"\\2026"}
.barometre-offline-note{color:#6c757d;font-style:italic}
"""

OFFLINE_JS = r"""
(function () {
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); }
    else { document.addEventListener("DOMContentLoaded", fn); }
  }
  function Q(nodes) { this.nodes = nodes; this.length = nodes.length; }
  function $(arg) {
    if (typeof arg === "function") { ready(arg); return new Q([]); }
    if (typeof arg === "string") {
      try { return new Q(Array.prototype.slice.call(document.querySelectorAll(arg))); }
      catch (e) { return new Q([]); }
    }
    return new Q(arg ? [arg] : []);
  }
  var noop = function () { return this; };
  ["on", "off", "modal", "tooltip", "popover", "collapse", "tab", "dropdown",
   "datepicker"].forEach(function (name) { Q.prototype[name] = noop; });
  Q.prototype.ready = function (fn) { ready(fn); return this; };
  Q.prototype.each = function (fn) {
    this.nodes.forEach(function (n, i) { fn.call(n, i, n); }); return this;
  };
  Q.prototype.prepend = function (html) {
    this.nodes.forEach(function (n) { n.insertAdjacentHTML("afterbegin", html); });
    return this;
  };
  Q.prototype.append = function (html) {
    this.nodes.forEach(function (n) { n.insertAdjacentHTML("beforeend", html); });
    return this;
  };
  function call(name, args) {
    var fn = typeof name === "function" ? name : window[name];
    return typeof fn === "function" ? fn.apply(null, args) : undefined;
  }
  function render(table, o) {
    var columns = (o.columns || []).filter(function (c) { return c.visible !== false; });
    var head = "<thead><tr>" + columns.map(function (c) {
      return "<th>" + (c.title || "") + "</th>"; }).join("") + "</tr></thead>";
    table.innerHTML = head + "<tbody></tbody>";
    var body = table.querySelector("tbody");
    var data = (o.data || []).slice();
    if (o.sortName) {
      var sortColumn = (o.columns || []).filter(function (c) { return c.field === o.sortName; })[0];
      var key = (sortColumn && sortColumn.sortName) || o.sortName;
      var sign = o.sortOrder === "desc" ? -1 : 1;
      data.sort(function (a, b) {
        return a[key] < b[key] ? -sign : a[key] > b[key] ? sign : 0;
      });
    }
    data.forEach(function (row, i) {
      var tr = document.createElement("tr");
      var attrs = o.rowAttributes ? call(o.rowAttributes, [row, i]) : null;
      if (attrs) {
        Object.keys(attrs).forEach(function (k) { tr.setAttribute(k, attrs[k]); });
      }
      var href = tr.getAttribute("data-href");
      if (href) {
        tr.addEventListener("click", function () { window.location = href; });
      }
      tr.innerHTML = columns.map(function (c) {
        var v = row[c.field];
        if (c.formatter) { var f = call(c.formatter, [v, row, i]); if (f !== undefined) v = f; }
        return "<td>" + (v === undefined || v === null ? "" : v) + "</td>";
      }).join("");
      body.appendChild(tr);
    });
    table.classList.add("table");
  }
  Q.prototype.bootstrapTable = function (options) {
    if (options && typeof options === "object") {
      this.nodes.forEach(function (t) { render(t, options); });
    }
    return this;
  };
  window.$ = window.jQuery = $;
  window.vegaEmbed = function (el) {
    var n = typeof el === "string" ? document.querySelector(el) : el;
    if (n) {
      n.innerHTML = '<p class="barometre-offline-note">Chart not rendered: ' +
        "it needs the Vega library from the network.</p>";
    }
    return Promise.resolve({});
  };
})();
"""

_HEAD_INJECTION = (
    f'<style id="{MARKER}-css">{OFFLINE_CSS}</style>\n'
    f'<script id="{MARKER}-js">{OFFLINE_JS}</script>\n'
)


def rewrite_page(html: str) -> str:
    """One page without remote assets, with the offline stylesheet and script inlined."""
    if f'id="{MARKER}-js"' in html:
        return html
    html = _EXTERNAL_SCRIPT.sub("", html)
    html = _EXTERNAL_LINK.sub("", html)
    html = _EXTERNAL_IMG_SRC.sub(r"\1", html)
    html = _EXTERNAL_CSS_URL.sub("none", html)
    head = re.search(r"<head\b[^>]*>", html, re.I)
    if head:
        return html[: head.end()] + "\n" + _HEAD_INJECTION + html[head.end() :]
    return _HEAD_INJECTION + html


def make_offline(site_dir: Path) -> list[Path]:
    """Rewrite every HTML page of the site in place; returns the pages rewritten."""
    rewritten = []
    for page in sorted(Path(site_dir).rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        new = rewrite_page(text)
        if new != text:
            page.write_text(new, encoding="utf-8")
            rewritten.append(page)
    return rewritten


def remote_assets(site_dir: Path) -> dict[Path, list[str]]:
    """Pages that still reference a remote script, stylesheet or image (should be empty)."""
    found: dict[Path, list[str]] = {}
    for page in sorted(Path(site_dir).rglob("*.html")):
        hits = [m.group(0) for m in REMOTE_ASSET.finditer(page.read_text(encoding="utf-8"))]
        if hits:
            found[page] = hits
    return found
