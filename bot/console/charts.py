"""Server-side SVG bar charts: no script, no external asset, readable by screen readers."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from markupsafe import Markup, escape

_ids = count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    css: str = "bar"  # a class in console.css (the level colours, or the default)
    note: str = ""  # shown after the value, e.g. "(42%)"


def bar_chart(bars: list[Bar], *, title: str, width: int = 640, label_width: int = 190) -> Markup:
    """Horizontal bars, one per row, with the label on the left and the figure after the bar."""
    row, gap, top = 26, 10, 8
    height = top * 2 + max(1, len(bars)) * (row + gap)
    scale = (width - label_width - 110) / max([b.value for b in bars] + [1])
    title_id = f"chart-{next(_ids)}"
    summary = "; ".join(f"{b.label} {_figure(b.value)}{' ' + b.note if b.note else ''}" for b in bars)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-labelledby="{title_id}" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="{title_id}">{escape(title + ": " + summary)}</title>']
    if not bars:
        parts.append(f'<text x="0" y="{top + row * 0.7}" class="chart-empty">No data for this period</text>')
    for i, bar in enumerate(bars):
        y = top + i * (row + gap)
        length = max(bar.value * scale, 2 if bar.value else 0)
        parts.append(f'<text x="{label_width - 10}" y="{y + row * 0.68:.1f}" text-anchor="end" class="chart-label">'
                     f"{escape(bar.label)}</text>")
        parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{row}" rx="3" '
                     f'class="{escape(bar.css)}"/>')
        parts.append(f'<text x="{label_width + length + 8:.1f}" y="{y + row * 0.68:.1f}" class="chart-value">'
                     f"{escape(_figure(bar.value))}{escape(' ' + bar.note) if bar.note else ''}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def _figure(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"
