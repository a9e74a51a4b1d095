"""Renderings of a `Digest`: charts (PNG), HTML e-mail, plain text, PDF, JSON and the MIME
message. Pure: a digest in, bytes or text out; reading and writing files, and sending,
happen in flows/digest.py.

The e-mail's HTML uses tables and inline styles only (mail clients drop stylesheets and
scripts) and shows the charts as inline images (`cid:`), with their numbers also as text,
so a client that shows no images still tells everything; a text/plain part comes first.
The PDF is the same HTML drawn by WeasyPrint with the charts as `data:` URIs.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from flows.digest_model import Digest, indonesian_date
from index.embedded import CATEGORY_LABELS
from pantau.models import CATEGORIES
from web.charts import FORM_COLOURS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TEMPLATES = Path(__file__).parent / "digest_templates"
CHART_WEEKLY = "chart-weekly"
CHART_REGIONS = "chart-regions"


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    png: bytes


@dataclass(frozen=True)
class RenderedDigest:
    """What is saved and sent."""

    html_email: str  # images as cid:<name>@pantau
    html_print: str  # images as data: URIs (what the PDF is drawn from)
    text: str
    json: str
    pdf: bytes
    charts: list[Chart]


# -- charts ------------------------------------------------------------------------------


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    # The object API with the Agg canvas, not pyplot: no global state, safe in threads
    # and in a process without a display.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def weekly_chart(digest: Digest) -> Chart:
    """Stacked bars: incidents per week by form, the last 12 weeks (forms overlap: a case
    of two forms counts in both, so a bar can be taller than the week's incidents)."""
    from matplotlib.ticker import MaxNLocator

    figure, axes = _figure(7.2, 3.0)
    weeks = digest.weekly
    labels = [w.week.split("-")[-1] for w in weeks]
    bottoms = [0] * len(weeks)
    for form in CATEGORIES:
        values = [w.by_form.get(form, 0) for w in weeks]
        if not any(values):
            continue
        axes.bar(
            labels,
            values,
            bottom=bottoms,
            color=FORM_COLOURS[form],
            label=CATEGORY_LABELS[form],
            width=0.7,
        )
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_title(f"Insiden per minggu menurut bentuk, {digest.region_name}", fontsize=10)
    axes.set_ylabel("insiden", fontsize=9)
    axes.tick_params(labelsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    if any(bottoms):
        axes.legend(fontsize=7, frameon=False, loc="upper left")
    else:
        axes.set_ylim(0, 1)
        axes.text(
            0.5, 0.5, "tidak ada insiden", ha="center", transform=axes.transAxes, color="#666"
        )
    figure.tight_layout()
    return Chart(CHART_WEEKLY, "Insiden per minggu menurut bentuk (12 minggu)", _png(figure))


def regions_chart(digest: Digest) -> Chart:
    """Horizontal bars: this week's incidents per kabupaten/kota."""
    from matplotlib.ticker import MaxNLocator

    rows = digest.regions or []
    figure, axes = _figure(7.2, max(1.2, 0.32 * len(rows) + 0.8))
    if rows:
        names = [r.name for r in reversed(rows)]
        counts = [r.count for r in reversed(rows)]
        bars = axes.barh(names, counts, color="#0072B2", height=0.6)
        axes.bar_label(bars, fontsize=8, padding=3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        axes.set_yticks([])
        axes.text(
            0.5, 0.5, "tidak ada insiden", ha="center", transform=axes.transAxes, color="#666"
        )
    axes.set_title("Insiden minggu ini per kabupaten/kota", fontsize=10)
    axes.tick_params(labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return Chart(CHART_REGIONS, "Insiden minggu ini per kabupaten/kota", _png(figure))


# -- text and HTML -----------------------------------------------------------------------


def _signed(value: float) -> str:
    text = f"{value:+.1f}".replace(".", ",")
    return text.replace(",0", "") if text.endswith(",0") else text


def _decimal(value: float) -> str:
    text = f"{value:.1f}".replace(".", ",")
    return text[:-2] if text.endswith(",0") else text


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2.html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["signed"] = _signed
    environment.filters["decimal"] = _decimal
    environment.filters["tanggal"] = indonesian_date
    environment.globals["group_labels"] = {"anak": "anak", "perempuan": "perempuan"}
    return environment


def render_text(digest: Digest) -> str:
    return _environment().get_template("digest.txt").render(d=digest)


def render_html(digest: Digest, image_src: dict[str, str], for_print: bool = False) -> str:
    return (
        _environment()
        .get_template("digest.html")
        .render(d=digest, image_src=image_src, for_print=for_print)
    )


def render_pdf(html_print: str) -> bytes:
    # Its INFO lines narrate every layout step (from the import on); Pantau's log is
    # about the digest.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    from weasyprint import HTML  # imported here: it loads Pango, slow to import

    pdf = HTML(string=html_print, base_url=str(TEMPLATES)).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def render(digest: Digest) -> RenderedDigest:
    charts = [weekly_chart(digest), regions_chart(digest)]
    cids = {chart.name: f"cid:{chart.name}@pantau" for chart in charts}
    data_uris = {
        chart.name: "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")
        for chart in charts
    }
    html_print = render_html(digest, data_uris, for_print=True)
    return RenderedDigest(
        html_email=render_html(digest, cids),
        html_print=html_print,
        text=render_text(digest),
        json=digest.model_dump_json(indent=2),
        pdf=render_pdf(html_print),
        charts=charts,
    )


def email_message(
    digest: Digest,
    rendered: RenderedDigest,
    sender: str,
    recipients: list[str],
    pdf_name: str,
) -> EmailMessage:
    """multipart/mixed: [multipart/alternative: text/plain, multipart/related: text/html +
    the charts as inline PNGs], then the PDF as an attachment."""
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(digest.generated_at)
    message["Message-ID"] = make_msgid(domain="pantau")
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html_email, subtype="html", charset="utf-8")
    html_part = message.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)
    for chart in rendered.charts:
        html_part.add_related(
            chart.png,
            maintype="image",
            subtype="png",
            cid=f"<{chart.name}@pantau>",
            filename=f"{chart.name}.png",
            disposition="inline",
        )
    message.add_attachment(rendered.pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return message
