"""The JSONL contract of `pantau tag` (../shared/contracts/README.md), without the I/O.

`tag_jsonl` reads input lines and yields one result per line, in the same order: the output
JSON line, and for a line that could not be tagged an error message for stderr. The command
line only opens files, writes `result.output` and a newline per result, prints
`result.error` to stderr, and exits with status 3 when any result has an error.

Line rules:
- Lines are numbered from 1. A line's own trailing "\\n" or "\\r\\n" is not part of it, so a
  file that ends with a newline has no extra empty last line.
- Every other line yields exactly one output line; nothing is silently dropped. A blank line
  (empty or only whitespace) is therefore reported as an error line, like any other line
  that is not an article.
- A line that is not valid JSON, not a JSON object, has no non-empty string `id`, or has no
  string `text` gives `{"id": <the id if it is a non-empty string, else null>, "error":
  "<reason>"}`. So does a line whose other fields do not match article.schema.json (e.g. a
  numeric `title`) and, as a last resort, a line on which the tagger itself fails: one bad
  article must not stop a batch.
- A UTF-8 byte order mark at the start of the first line is ignored.
- An article whose `published` is not an ISO 8601 date is tagged all the same, with a
  warning for stderr: without its publication date, "Senin (16/9)" and "kemarin" cannot
  be resolved, so its `incident_date` may be missing. The exit status stays 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from nlp.tagger import RuleTagger, parse_published
from pantau.models import ArticleIn, TagError

_BYTE_ORDER_MARK = "\ufeff"


@dataclass(frozen=True)
class TagLineResult:
    """The outcome of one input line."""

    line_number: int  # 1-based
    output: str  # one JSON object, without a newline
    error: str | None = None  # "line 3: not valid JSON (...)", for stderr; None when tagged
    warning: str | None = None  # for stderr, on a line that was tagged all the same

    @property
    def ok(self) -> bool:
        return self.error is None


def tag_jsonl(lines: Iterable[str], tagger: RuleTagger) -> Iterator[TagLineResult]:
    """Tag JSONL input lazily, one result per line, in input order."""
    for line_number, raw_line in enumerate(lines, start=1):
        line = raw_line.removesuffix("\n").removesuffix("\r")
        if line_number == 1:
            line = line.removeprefix(_BYTE_ORDER_MARK)
        yield _tag_line(line_number, line, tagger)


def _tag_line(line_number: int, line: str, tagger: RuleTagger) -> TagLineResult:
    if not line.strip():
        return _error_line(line_number, None, "blank line")
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        return _error_line(line_number, None, f"not valid JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return _error_line(line_number, None, "not valid JSON (nested too deeply)")
    if not isinstance(data, dict):
        return _error_line(line_number, None, f"not a JSON object (got {_json_type(data)})")

    raw_id = data.get("id")
    article_id = raw_id if isinstance(raw_id, str) and raw_id else None
    if article_id is None:
        return _error_line(line_number, None, "missing or invalid 'id' (a non-empty string)")
    if not isinstance(data.get("text"), str):
        return _error_line(line_number, article_id, "missing or invalid 'text' (a string)")
    try:
        article = ArticleIn.model_validate(data)
    except ValidationError as exc:
        return _error_line(line_number, article_id, f"invalid article: {_first_problem(exc)}")

    try:
        tagged = tagger.tag(article)
    except Exception as exc:  # a bug must cost one line, not the batch; it is reported
        return _error_line(line_number, article_id, f"tagging failed: {type(exc).__name__}")
    warning = None
    if article.published and parse_published(article.published) is None:
        warning = (
            f"line {line_number}: article {article_id}: 'published' is not an ISO 8601 date "
            f"({article.published!r}); dates without a year and days named without a date "
            "were not resolved"
        )
    return TagLineResult(line_number, _dumps(tagged.model_dump(mode="json")), warning=warning)


def _error_line(line_number: int, article_id: str | None, reason: str) -> TagLineResult:
    output = _dumps(TagError(id=article_id, error=reason).model_dump(mode="json"))
    return TagLineResult(line_number, output, f"line {line_number}: {reason}")


def _dumps(value: dict[str, Any]) -> str:
    """Compact JSON, UTF-8 text kept as is. Lone surrogates from the input (JSON allows
    "\\ud800") cannot be written as UTF-8, so such a line falls back to ASCII escapes:
    still valid JSON with the same content."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array"


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "article"
    return f"'{where}': {error.get('msg', 'invalid')}"
