"""The readable record of a run: one summary dict (what the store's `runs` table keeps), and
its Markdown (the Prefect artifact) and log-line renderings. No Prefect import here, so
`pantau status` can render a stored record quickly."""

from __future__ import annotations

from typing import Any


def _counts(values: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(values.items(), key=lambda kv: -kv[1])) or "-"


def run_status(summary: dict[str, Any]) -> str:
    """ok, failed (a source could not be crawled at all) or interrupted (Ctrl-C)."""
    sources = summary.get("sources", [])
    if any(s.get("finish_reason") == "shutdown" for s in sources):
        return "interrupted"
    if any(s.get("status") == "failed" for s in sources):
        return "failed"
    return "ok"


def render_markdown(run_id: int, kind: str, status: str, summary: dict[str, Any]) -> str:
    """The Prefect artifact: per source, what was fetched and stored, what the tagger found,
    what failed and why, and how long each stage took."""
    lines = [
        f"# Pantau {kind} run {run_id}: {status}",
        "",
        f"{summary.get('seconds', 0):.1f} s in all"
        + (f" · Prefect flow run `{summary['flow_run_id']}`" if summary.get("flow_run_id") else ""),
        "",
    ]
    sources = summary.get("sources", [])
    details: dict[str, Any] = summary.get("per_source", {})
    if sources:
        lines += [
            "| source | status | pages | new | updated | unchanged | duplicate | failed "
            "| incidents | crawl s | tag s |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for s in sources:
            d = details.get(s["source"], {})
            incidents = d.get("tagging", {}).get("by_relevance", {}).get("incident", 0)
            lines.append(
                f"| {s['label']} (`{s['source']}`) | {s['status']} | {s['pages_fetched']} "
                f"| {s['new']} | {s['updated']} | {s['unchanged']} | {s['duplicates']} "
                f"| {s['failed']} | {incidents} | {d.get('crawl_seconds', 0):.1f} "
                f"| {d.get('tag_seconds', 0):.1f} |"
            )
        lines.append("")
        lines.append("## Incidents found")
        lines.append("")
        for s in sources:
            tagging = details.get(s["source"], {}).get("tagging", {})
            lines.append(
                f"- **{s['label']}**: by form: {_counts(tagging.get('incidents_by_form', {}))}; "
                f"by region: {_counts(tagging.get('incidents_by_region', {}))}"
            )
        lines.append("")
        errors = [
            (s, reason, count)
            for s in sources
            for reason, count in sorted(s.get("failures", {}).items(), key=lambda kv: -kv[1])
        ]
        crashes = [(name, d["error"]) for name, d in details.items() if d.get("error")]
        lines.append("## Errors")
        lines.append("")
        if not errors and not crashes:
            lines.append("none")
        for s, reason, count in errors:
            lines.append(f"- {s['label']}: {count} × {reason}")
        for name, error in crashes:
            lines.append(f"- {name}: {error}")
        lines.append("")
    tagging = summary.get("tagging", {})
    if tagging:
        lines.append(
            f"**Tagging**: {tagging.get('tagged', 0)} tagged, {tagging.get('failed', 0)} failed;"
            f" relevance: {_counts(tagging.get('by_relevance', {}))}"
        )
        for error in tagging.get("errors", [])[:20]:
            lines.append(f"- {error}")
        lines.append("")
    indexing = summary.get("indexing", {})
    if indexing:
        lines.append(
            f"**Index**: {indexing.get('indexed', 0)} written, {indexing.get('removed', 0)} "
            f"removed, {indexing.get('total', 0)} searchable"
            + (f" ({summary['index_seconds']:.1f} s)" if "index_seconds" in summary else "")
        )
    return "\n".join(lines) + "\n"


def render_log_lines(run_id: int, kind: str, status: str, summary: dict[str, Any]) -> list[str]:
    """The same record as a few log lines (for the flow run's log and `pantau status`)."""
    lines = [f"{kind} run {run_id} {status} in {summary.get('seconds', 0):.1f} s"]
    details: dict[str, Any] = summary.get("per_source", {})
    for s in summary.get("sources", []):
        d = details.get(s["source"], {})
        tagging = d.get("tagging", {})
        line = (
            f"  {s['source']}: {s['status']}, {s['pages_fetched']} pages, new {s['new']}, "
            f"updated {s['updated']}, duplicate {s['duplicates']}, failed {s['failed']}; "
            f"incidents by form: {_counts(tagging.get('incidents_by_form', {}))}; "
            f"by region: {_counts(tagging.get('incidents_by_region', {}))}; "
            f"crawl {d.get('crawl_seconds', 0):.1f} s, tag {d.get('tag_seconds', 0):.1f} s"
        )
        lines.append(line)
        for reason, count in sorted(s.get("failures", {}).items(), key=lambda kv: -kv[1]):
            lines.append(f"    {count} × {reason}")
        if d.get("error"):
            lines.append(f"    error: {d['error']}")
    indexing = summary.get("indexing", {})
    if indexing:
        lines.append(
            f"  index: {indexing.get('indexed', 0)} written, {indexing.get('removed', 0)} "
            f"removed, {indexing.get('total', 0)} searchable"
        )
    return lines
