"""Charts drawn on the server as inline SVG: no JavaScript library, no network, readable
without scripts, and printable. Every label passes through `escape`."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

# One colour per form, distinguishable in colour-blind palettes (Okabe–Ito).
FORM_COLOURS = {
    "tppo": "#D55E00",
    "kekerasan_seksual": "#CC79A7",
    "kekerasan_fisik": "#0072B2",
    "kekerasan_psikis": "#009E73",
    "eksploitasi": "#E69F00",
    "penelantaran": "#56B4E9",
}
OTHER_COLOUR = "#999999"


def weekly_forms_svg(
    periods: list[str], counts: list[dict[str, int]], labels: dict[str, str], title: str
) -> Markup:
    """Stacked bars: one bar per period, one segment per form of violence."""
    width, height, left, bottom, top = 720, 260, 36, 48, 12
    forms = [form for form in FORM_COLOURS if any(c.get(form) for c in counts)]
    peak = max((sum(c.get(f, 0) for f in forms) for c in counts), default=0) or 1
    plot_h = height - bottom - top
    slot = (width - left - 8) / max(len(periods), 1)
    bar = max(min(slot * 0.7, 48), 2)
    parts = [
        f'<svg class="chart" id="chart-weekly" viewBox="0 0 {width} {height + 22 * len(forms)}"'
        f' role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}"'
        ' stroke="#444"/>',
    ]
    for tick in sorted({0, peak // 2, peak}):
        y = top + plot_h - plot_h * tick / peak
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick}</text>'
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="#ddd"/>'
        )
    for n, (period, count) in enumerate(zip(periods, counts, strict=True)):
        x = left + n * slot + (slot - bar) / 2
        y = top + plot_h
        for form in forms:
            value = count.get(form, 0)
            if not value:
                continue
            h = plot_h * value / peak
            y -= h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}"'
                f' fill="{FORM_COLOURS[form]}"><title>{escape(period)}: '
                f"{escape(labels.get(form, form))} {value}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle"'
            f' font-size="10">{escape(period.split("-")[-1])}</text>'
        )
    for n, form in enumerate(forms):
        y = height + 22 * n
        parts.append(
            f'<rect x="{left}" y="{y - 10}" width="12" height="12" fill="{FORM_COLOURS[form]}"/>'
            f'<text x="{left + 18}" y="{y}" font-size="12">{escape(labels.get(form, form))}'
            "</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def region_bars_svg(rows: list[tuple[str, int]], title: str) -> Markup:
    """Horizontal bars, one per kabupaten/kota, longest first."""
    row_h, label_w, width = 24, 230, 720
    peak = max((count for _, count in rows), default=0) or 1
    height = row_h * len(rows) + 8
    parts = [
        f'<svg class="chart" id="chart-regions" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for n, (name, count) in enumerate(rows):
        y = 4 + n * row_h
        w = (width - label_w - 40) * count / peak
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(name)}</text>"
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}"'
            f' fill="#0072B2"/><text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12">'
            f"{count}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
