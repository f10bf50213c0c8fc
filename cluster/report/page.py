"""The HTML page: sections, figures with captions, tables, and the one inline stylesheet.

The page is self-contained: styles are inline, plots are inline SVG, and a
Content-Security-Policy forbids every fetch, so opening it makes no network request
(the browser test checks this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Omitted", "Section", "figure_html", "render_page", "table_html"]


@dataclass(frozen=True)
class Section:
    """A section of the report.

    Attributes
    ----------
    anchor : str
        Its id in the page (for the table of contents).
    title : str
        Heading.
    intro : str
        A sentence or two of plain text saying what the section shows.
    blocks : tuple of str
        HTML made by :func:`figure_html` and :func:`table_html`.
    """

    anchor: str
    title: str
    intro: str
    blocks: tuple[str, ...]


@dataclass(frozen=True)
class Omitted:
    """A section left out because its data is not in the dataset, with the reason."""

    title: str
    note: str


def figure_html(svg: str, caption: str) -> str:
    """A ``<figure>`` holding an inline SVG and its caption (plain text, escaped)."""
    return f'<figure>\n{svg}\n<figcaption>{escape(caption)}</figcaption>\n</figure>'


def _heading(text: str) -> str:
    """``label (unit)`` with the unit on a second, quieter line: narrower columns."""
    label, sep, unit = text.rpartition(" (")
    if not sep or not unit.endswith(")"):
        return escape(text)
    return f'{escape(label)}<br><span class="unit">({escape(unit)}</span>'


def _cell(text: str) -> str:
    """A cell; the ``± half-width`` of ``mean ± half-width`` is set smaller and muted."""
    mean, sep, half = text.partition(" ± ")
    return f'{escape(mean)}<span class="ci"> ± {escape(half)}</span>' if sep else escape(text)


def table_html(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool],
               caption: str = "", row_classes: Sequence[str] | None = None) -> str:
    """A table of already formatted cells (escaped here); ``numeric`` columns align right.

    Parameters
    ----------
    headers : sequence of str
        Column headings, units included (``mean wait (h)``).
    rows : sequence of sequence of str
        Cell texts.
    numeric : sequence of bool
        Per column: right-aligned with tabular figures.
    caption : str
        Shown above the table.
    row_classes : sequence of str, optional
        A CSS class per row (``"failed"`` greys a failed scenario).
    """
    def cls(j: int) -> str:
        return ' class="num"' if numeric[j] else ""

    head = "".join(f"<th{cls(j)}>{_heading(h)}</th>" for j, h in enumerate(headers))
    body = []
    for i, row in enumerate(rows):
        row_cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{row_cls}>" + "".join(f"<td{cls(j)}>{_cell(c)}</td>" for j, c in enumerate(row)) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


_CSS = """
:root { --ink: #1d2329; --muted: #5f6b76; --rule: #dde2e7; --accent: #0072B2; --bg: #ffffff; --panel: #f6f8fa; }
* { box-sizing: border-box; }
html { font-size: 16px; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
  line-height: 1.5; -webkit-font-smoothing: antialiased; }
header.top { background: #16324f; color: #fff; padding: 28px 0 22px; }
.wrap { max-width: 1080px; margin: 0 auto; padding: 0 28px; }
header.top h1 { margin: 0 0 6px; font-size: 1.75rem; font-weight: 650; letter-spacing: -0.01em; }
header.top .lede { margin: 0 0 14px; color: #d4e1ee; max-width: 52rem; }
dl.facts { display: flex; flex-wrap: wrap; gap: 6px 26px; margin: 0; font-size: 0.85rem; }
dl.facts div { display: flex; gap: 6px; }
dl.facts dt { color: #9fb6cc; }
dl.facts dd { margin: 0; color: #fff; font-variant-numeric: tabular-nums; }
nav.toc { border-bottom: 1px solid var(--rule); background: var(--panel); font-size: 0.9rem; }
nav.toc ol { list-style: none; margin: 0; padding: 10px 0; display: flex; flex-wrap: wrap; gap: 4px 22px; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
main { padding: 8px 0 40px; }
section { padding: 22px 0 10px; border-bottom: 1px solid var(--rule); }
section:last-of-type { border-bottom: none; }
h2 { font-size: 1.3rem; margin: 0 0 6px; font-weight: 650; letter-spacing: -0.005em; }
p.intro { margin: 0 0 14px; color: var(--muted); max-width: 52rem; }
figure { margin: 0 0 22px; }
svg.plot { display: block; width: 100%; height: auto; }
figcaption { margin-top: 6px; font-size: 0.88rem; color: var(--muted); max-width: 52rem; }
.table-wrap { overflow-x: auto; margin: 0 0 18px; }
table { border-collapse: collapse; font-size: 0.84rem; min-width: 50%; }
caption { text-align: left; color: var(--muted); font-size: 0.86rem; padding-bottom: 6px; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--rule); text-align: left; white-space: nowrap; }
th { font-weight: 600; background: var(--panel); border-bottom: 2px solid #c9d1d9; vertical-align: bottom;
  white-space: normal; min-width: 4.5em; }
th .unit { font-weight: 400; color: var(--muted); }
td .ci { color: var(--muted); font-size: 0.8em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fbfcfd; }
tr.failed td { color: #a33; }
details { margin: 0 0 18px; }
details summary { cursor: pointer; color: var(--accent); font-size: 0.9rem; margin-bottom: 8px; }
aside.omitted { margin: 26px 0 0; padding: 14px 18px; background: var(--panel); border-radius: 6px;
  font-size: 0.88rem; color: var(--muted); }
aside.omitted h2 { font-size: 1rem; color: var(--ink); }
aside.omitted ul { margin: 6px 0 0; padding-left: 18px; }
footer { color: var(--muted); font-size: 0.8rem; padding: 0 0 30px; }
"""


def render_page(title: str, lede: str, facts: Sequence[tuple[str, str]], sections: Sequence[Section | Omitted],
                footer: str) -> str:
    """The whole HTML document.

    Parameters
    ----------
    title : str
        Page title and main heading.
    lede : str
        One line under the title.
    facts : sequence of (str, str)
        Key facts shown in the header (dataset path, version, ...).
    sections : sequence of Section or Omitted
        In page order; omitted ones are listed, with their reasons, after the rest.
    footer : str
        Small print at the bottom.
    """
    shown = [s for s in sections if isinstance(s, Section)]
    omitted = [s for s in sections if isinstance(s, Omitted)]
    toc = "".join(f'<li><a href="#{s.anchor}">{escape(s.title)}</a></li>' for s in shown)
    fact_html = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    parts = []
    for s in shown:
        intro = f'<p class="intro">{escape(s.intro)}</p>' if s.intro else ""
        parts.append(f'<section id="{s.anchor}">\n<h2>{escape(s.title)}</h2>\n{intro}\n' + "\n".join(s.blocks)
                     + "\n</section>")
    if omitted:
        items = "".join(f"<li><strong>{escape(o.title)}</strong>: {escape(o.note)}</li>" for o in omitted)
        parts.append(f'<aside class="omitted"><h2>Not in this report</h2><ul>{items}</ul></aside>')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{escape(title)} · cpnsim report</title>
<style>{_CSS}</style>
</head>
<body>
<header class="top"><div class="wrap">
<h1>{escape(title)}</h1>
<p class="lede">{escape(lede)}</p>
<dl class="facts">{fact_html}</dl>
</div></header>
<nav class="toc"><div class="wrap"><ol>{toc}</ol></div></nav>
<main><div class="wrap">
{chr(10).join(parts)}
</div></main>
<footer><div class="wrap">{escape(footer)}</div></footer>
</body>
</html>
"""
