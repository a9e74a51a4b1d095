"""The weekly digest's content: typed, built by pure functions from tagged articles.

What the three renderings (HTML e-mail, PDF, JSON) read is one `Digest`; it holds only
masked text (victims' names replaced before anything is extracted), so no renderer can leak
a name. Counting rules (also in the digest's footer, `METHOD_NOTES`):

- an incident is a story cluster (`articles.story_id`: one case reported by several
  outlets) with at least one article tagged `incident`; a week counts the incidents that
  were reported in it (Monday–Sunday in the configured time zone, Asia/Jakarta), each
  once however many articles it had; a case still in the news the next week counts there
  too, marked as a follow-up (not new);
- its place is the kabupaten/kota most of its articles name as the primary location; it
  is in the scope when that place lies in the scope's region; a story without a place is
  left out (and counted in `Digest.unplaced`);
- its forms are the union of its articles' forms; its victims the largest number any of
  its articles reports (outlets report the same victims), at least 1; children likewise,
  or all of its victims when the only victim group named is children.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, computed_field

from index.embedded import CATEGORY_LABELS
from pantau.models import (
    CATEGORIES,
    TaggedArticle,
    majority_place,
    regency_code,
    within_region,
)
from web.masking import mask_victims, names_to_mask

WEEKS_IN_CHART = 12
WEEKS_COMPARED = 4
SUMMARY_SENTENCES = 3
SUMMARY_CHARS = 520
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


# -- weeks -------------------------------------------------------------------------------


class Week(BaseModel):
    """An ISO week, Monday to Sunday (local days of the digest's time zone)."""

    iso: str = Field(description="e.g. '2026-W47'")
    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> Week:
        match = _ISO_WEEK.match(text.strip())
        if not match:
            raise ValueError(f"week {text!r}: expected an ISO week such as 2026-W47")
        year, number = int(match.group(1)), int(match.group(2))
        try:
            start = date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise ValueError(f"week {text!r}: {year} has no week {number}") from exc
        return cls.of(start)

    @classmethod
    def of(cls, day: date) -> Week:
        year, number, weekday = day.isocalendar()
        start = day - timedelta(days=weekday - 1)
        return cls(iso=f"{year:04d}-W{number:02d}", start=start, end=start + timedelta(days=6))

    @classmethod
    def last_complete(cls, now: datetime, timezone: str) -> Week:
        """The latest week that has ended at `now` in `timezone` (on a Monday: last week)."""
        today = now.astimezone(ZoneInfo(timezone)).date()
        return cls.of(today - timedelta(days=today.isoweekday()))

    def shifted(self, weeks: int) -> Week:
        return Week.of(self.start + timedelta(weeks=weeks))

    @property
    def label(self) -> str:
        return f"{_day_month(self.start)} – {_day_month(self.end)} {self.end.year}"


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]


def _day_month(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]}"


def indonesian_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


# -- the content -------------------------------------------------------------------------


class Change(BaseModel):
    """A count this week against the mean of the weeks before."""

    current: int
    previous_mean: float
    change: float = Field(description="current - previous_mean")

    @classmethod
    def of(cls, current: int, previous: Sequence[int]) -> Change:
        mean = sum(previous) / len(previous) if previous else 0.0
        return cls(current=current, previous_mean=round(mean, 2), change=round(current - mean, 2))


class FormChange(Change):
    form: str
    label: str


class Headline(BaseModel):
    incidents: Change
    victims: Change
    children: Change
    by_form: list[FormChange]


class WeekCounts(BaseModel):
    week: str
    start: date
    incidents: int
    victims: int
    children: int
    by_form: dict[str, int]


class RegionCount(BaseModel):
    code: str
    name: str
    count: int


class SourceLink(BaseModel):
    source: str
    title: str = Field(description="Masked.")
    url: str | None = Field(description="None when the address itself names a masked person.")
    published: datetime | None
    day: date | None = Field(description="The local day of publication.")


class Story(BaseModel):
    story_id: str
    title: str = Field(description="Masked.")
    summary: str = Field(description="2–3 sentences of the first report, masked.")
    place: str | None
    place_code: str | None
    first_reported: date
    forms: list[str]
    form_labels: list[str]
    victim_groups: list[str]
    victims: int
    children: int
    new: bool = Field(description="First reported this week (else a follow-up of an older case).")
    sources: list[SourceLink]


class AggregateItem(BaseModel):
    title: str
    source: str
    url: str | None
    published: date


class Digest(BaseModel):
    """Everything a digest says; the HTML, text, PDF and JSON renderings read only this."""

    week: Week
    region_code: str
    region_name: str
    timezone: str
    generated_at: datetime
    headline: Headline
    weekly: list[WeekCounts] = Field(description=f"The last {WEEKS_IN_CHART} weeks, oldest first.")
    regions: list[RegionCount] = Field(description="Incidents this week per kabupaten/kota.")
    tppo: list[Story] = Field(description="Trafficking (TPPO) cases: new ones first.")
    other: list[Story] = Field(description="Other incidents: new ones first.")
    aggregate: list[AggregateItem] = Field(description="Statistics, policy: not single cases.")
    unplaced: int = Field(description="Incidents of the week with no recognised place.")
    method: list[str]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def empty(self) -> bool:
        return not (self.tppo or self.other)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def subject(self) -> str:
        count = self.headline.incidents.current
        what = f"{count} insiden" if count else "tidak ada insiden"
        return (
            f"Pantau: ringkasan mingguan {self.week.iso} ({self.week.label}), "
            f"{self.region_name}: {what}"
        )


METHOD_NOTES = [
    "Angka ini dihitung dari berita media daring lokal yang dibaca Pantau, bukan data resmi "
    "kasus: kasus yang tidak diberitakan tidak terhitung, dan satu berita bisa salah ditandai.",
    "Satu insiden = satu kasus (klaster berita) yang diberitakan pada minggu itu (Senin–"
    "Minggu, WIB): kasus yang diberitakan beberapa media dihitung sekali; kasus yang masih "
    "diberitakan minggu berikutnya dihitung lagi di minggu itu, ditandai sebagai lanjutan.",
    "Korban = jumlah terbesar yang disebut berita kasus itu (minimal 1); korban anak = jumlah "
    "anak yang disebut, atau semua korban bila hanya anak yang disebut sebagai korban.",
    "Wilayah = kabupaten/kota lokasi utama yang disebut berita; kasus tanpa lokasi yang "
    "dikenali tidak masuk hitungan wilayah mana pun.",
    "Perbandingan: selisih dengan rata-rata 4 minggu sebelumnya.",
    "Nama korban, dan semua nama orang dalam kasus dengan korban anak, disamarkan.",
    "Ringkasan kasus diambil dari kalimat berita pertama (ekstraktif), tanpa diubah.",
]


# -- input -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestArticle:
    """One stored article with its (corrected) tag, as the digest reads it."""

    id: str
    story_id: str
    source: str
    url: str
    title: str
    text: str
    published: datetime | None
    tagged: TaggedArticle


# -- building ----------------------------------------------------------------------------


@dataclass
class _Cluster:
    story_id: str
    articles: list[DigestArticle]  # oldest first
    first_reported: date
    place_code: str | None
    days: set[date]  # local days its articles were published on


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _clusters(articles: Iterable[DigestArticle], zone: ZoneInfo) -> list[_Cluster]:
    """Story clusters of incident articles that have a publication date."""
    stories: dict[str, list[DigestArticle]] = {}
    for article in articles:
        if article.tagged.relevance == "incident" and article.published is not None:
            stories.setdefault(article.story_id, []).append(article)
    clusters = []
    for story_id, members in stories.items():
        members.sort(key=lambda a: (a.published or datetime.min, a.id))
        place = majority_place(
            [
                regency_code(a.tagged.primary_location.code if a.tagged.primary_location else None)
                for a in members
            ]
        )
        first = members[0].published
        assert first is not None
        days = {_local_day(a.published, zone) for a in members if a.published is not None}
        clusters.append(_Cluster(story_id, members, _local_day(first, zone), place, days))
    return clusters


def _victims(cluster: _Cluster) -> tuple[int, int]:
    counts = [a.tagged.victims.count for a in cluster.articles if a.tagged.victims.count]
    children = [a.tagged.victims.children for a in cluster.articles if a.tagged.victims.children]
    victims = max(counts, default=1)
    groups = {g for a in cluster.articles for g in a.tagged.victim_groups}
    if children:
        child_count = min(max(children), victims) if counts else max(children)
        victims = max(victims, child_count)
    elif groups == {"anak"}:
        child_count = victims
    else:
        child_count = 0
    return victims, child_count


def _forms(cluster: _Cluster) -> list[str]:
    found = {form for a in cluster.articles for form in a.tagged.categories}
    return [form for form in CATEGORIES if form in found]


def _reported_in(cluster: _Cluster, week: Week) -> bool:
    return any(week.start <= day <= week.end for day in cluster.days)


def _week_counts(week: Week, clusters: Sequence[_Cluster]) -> WeekCounts:
    inside = [c for c in clusters if _reported_in(c, week)]
    by_form: Counter[str] = Counter()
    victims = children = 0
    for cluster in inside:
        by_form.update(_forms(cluster))
        v, ch = _victims(cluster)
        victims += v
        children += ch
    return WeekCounts(
        week=week.iso,
        start=week.start,
        incidents=len(inside),
        victims=victims,
        children=children,
        by_form={form: by_form[form] for form in CATEGORIES if by_form[form]},
    )


# -- masking and summaries ---------------------------------------------------------------


def _story_names(articles: Sequence[DigestArticle]) -> set[str]:
    """Every name masked in any article of the story is masked in all of them: the
    outlets of one case name the same people, and only some tag them."""
    names: set[str] = set()
    for article in articles:
        names |= names_to_mask(article.tagged, (), article.title, article.text)
    return names


def _masked(article: DigestArticle, names: set[str]) -> tuple[str, str]:
    title = mask_victims(article.title, article.tagged, names, field="title")
    text = mask_victims(article.text, article.tagged, names, field="text")
    return title, text


def _slug(name: str) -> str:
    return "-".join(re.findall(r"\w+", name.lower()))


def _safe_url(url: str, names: set[str]) -> str | None:
    """The link, unless its address spells a masked name (news slugs often do): the name's
    slug ("siti-aminah") or its words run together ("sitiaminah") as whole words of the
    address, so initials ("AS") do not match inside other words ("kasus")."""
    lowered = url.lower()
    for name in names:
        words = re.findall(r"\w+", name.lower())
        if len(name) < 2 or not words:
            continue
        for form in {_slug(name), "".join(words)}:
            if re.search(r"(?<![0-9a-z])" + re.escape(form) + r"(?![0-9a-z])", lowered):
                return None
    return url


_DATELINE = re.compile(r"^\s*[A-Z][A-Z .,/()'-]{1,60}?(?:,\s*[\w.]+)?\s*[-–—]{1,2}\s+")
# A full stop after these does not end a sentence (titles, ranks, abbreviations).
_ABBREVIATIONS = {
    "no",
    "dr",
    "drs",
    "ir",
    "h",
    "hj",
    "st",
    "jl",
    "kol",
    "pol",
    "brigjen",
    "kombes",
    "akbp",
    "kompol",
    "iptu",
    "ipda",
    "aiptu",
    "bripka",
    "prof",
    "sdr",
    "tsk",
    "kec",
    "kab",
    "rp",
    "dkk",
    "dll",
    "a.n",
    "u.p",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”']?\s+(?=[\"“A-Z0-9(])")
_KEY_WORDS = re.compile(
    r"\b(korban|pelaku|tersangka|ditangkap|diamankan|dilaporkan|melapor|polisi|polres|polda|"
    r"polresta|anak|perempuan|siswi|remaja|dijual|diperdagangkan|disekap|dianiaya|dicabuli|"
    r"diperkosa|pekerja migran|pmi|tahun\)|\(\d+\))",
    re.IGNORECASE,
)


def sentences(text: str) -> list[str]:
    """Indonesian news text split into sentences (dateline removed, abbreviations kept)."""
    found: list[str] = []
    for number, paragraph in enumerate(p.strip() for p in text.split("\n") if p.strip()):
        if number == 0:
            paragraph = _DATELINE.sub("", paragraph, count=1)
        pending = ""
        for piece in _SENTENCE_END.split(paragraph):
            pending = f"{pending} {piece}".strip() if pending else piece.strip()
            last_word = re.findall(r"([\w.]+)\.$", pending)
            if last_word and last_word[0].lower().rstrip(".") in _ABBREVIATIONS:
                continue
            found.append(pending)
            pending = ""
        if pending:
            found.append(pending)
    return found


def extractive_summary(text: str) -> str:
    """2–3 sentences of the article as written: the lead, then the sentences that say most
    about the case (victims, perpetrators, police), in the article's order. Quotes are left
    out: they are someone's words, not the facts."""
    candidates = [s for s in sentences(text) if 30 <= len(s) <= 400 and s[0] not in "\"“'"]
    if not candidates:
        return text.strip()[:SUMMARY_CHARS]
    chosen = [0]
    scored = sorted(
        range(1, len(candidates)),
        key=lambda n: (-len(_KEY_WORDS.findall(candidates[n])), n),
    )
    length = len(candidates[0])
    for n in scored:
        if len(chosen) >= SUMMARY_SENTENCES:
            break
        if len(chosen) >= 2 and not _KEY_WORDS.search(candidates[n]):
            break
        if length + len(candidates[n]) > SUMMARY_CHARS:
            continue
        chosen.append(n)
        length += len(candidates[n])
    return " ".join(candidates[n] for n in sorted(chosen))


# -- the digest --------------------------------------------------------------------------


def _story(
    cluster: _Cluster, week: Week, place_name: Callable[[str], str], zone: ZoneInfo
) -> Story:
    names = _story_names(cluster.articles)
    masked = [_masked(article, names) for article in cluster.articles]
    title, text = masked[0]
    victims, children = _victims(cluster)
    forms = _forms(cluster)
    return Story(
        story_id=cluster.story_id,
        title=title,
        summary=extractive_summary(text),
        place=place_name(cluster.place_code) if cluster.place_code else None,
        place_code=cluster.place_code,
        first_reported=cluster.first_reported,
        forms=forms,
        form_labels=[CATEGORY_LABELS.get(form, form) for form in forms],
        victim_groups=sorted({g for a in cluster.articles for g in a.tagged.victim_groups}),
        victims=victims,
        children=children,
        new=cluster.first_reported >= week.start,
        sources=[
            SourceLink(
                source=article.source,
                title=article_title,
                url=_safe_url(article.url, names),
                published=article.published,
                day=_local_day(article.published, zone) if article.published else None,
            )
            for article, (article_title, _) in zip(cluster.articles, masked, strict=True)
        ],
    )


def build_digest(
    articles: Sequence[DigestArticle],
    week: Week,
    region_code: str,
    region_name: str,
    place_name: Callable[[str], str],
    generated_at: datetime,
    timezone: str = "Asia/Jakarta",
) -> Digest:
    """The digest of `week` for the region `region_code`, from every stored article (the
    weeks before are needed for the trend and to tell new cases from follow-ups)."""
    zone = ZoneInfo(timezone)
    clusters = _clusters(articles, zone)
    scoped = [c for c in clusters if within_region(c.place_code, region_code)]
    weeks = [week.shifted(n) for n in range(-(WEEKS_IN_CHART - 1), 1)]
    weekly = [_week_counts(w, scoped) for w in weeks]
    current, previous = weekly[-1], weekly[-1 - WEEKS_COMPARED : -1]
    headline = Headline(
        incidents=Change.of(current.incidents, [w.incidents for w in previous]),
        victims=Change.of(current.victims, [w.victims for w in previous]),
        children=Change.of(current.children, [w.children for w in previous]),
        by_form=[
            FormChange(
                form=form,
                label=CATEGORY_LABELS.get(form, form),
                **Change.of(
                    current.by_form.get(form, 0), [w.by_form.get(form, 0) for w in previous]
                ).model_dump(),
            )
            for form in CATEGORIES
            if current.by_form.get(form) or any(w.by_form.get(form) for w in previous)
        ],
    )
    reported = sorted(
        (c for c in scoped if _reported_in(c, week)),
        # New cases first, each group oldest first.
        key=lambda c: (c.first_reported < week.start, c.first_reported, c.story_id),
    )
    stories = [_story(c, week, place_name, zone) for c in reported]
    regions = Counter(c.place_code for c in reported if c.place_code)
    unplaced = sum(1 for c in clusters if _reported_in(c, week) and c.place_code is None)
    return Digest(
        week=week,
        region_code=region_code,
        region_name=region_name,
        timezone=timezone,
        generated_at=generated_at,
        headline=headline,
        weekly=weekly,
        regions=[
            RegionCount(code=code, name=place_name(code), count=count)
            for code, count in sorted(regions.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        tppo=[s for s in stories if "tppo" in s.forms],
        other=[s for s in stories if "tppo" not in s.forms],
        aggregate=_aggregate(articles, week, region_code, zone),
        unplaced=unplaced,
        method=METHOD_NOTES,
    )


def _aggregate(
    articles: Sequence[DigestArticle], week: Week, region_code: str, zone: ZoneInfo
) -> list[AggregateItem]:
    """Statistics and policy news of the week in the scope (or with no place), one per
    story, oldest first."""
    seen: set[str] = set()
    items = []
    for article in sorted(articles, key=lambda a: (a.published or datetime.min, a.id)):
        if article.tagged.relevance != "aggregate" or article.published is None:
            continue
        day = _local_day(article.published, zone)
        location = article.tagged.primary_location
        code = location.code if location else None
        if not (week.start <= day <= week.end) or (code and not within_region(code, region_code)):
            continue
        if article.story_id in seen:
            continue
        seen.add(article.story_id)
        names = names_to_mask(article.tagged)
        items.append(
            AggregateItem(
                title=mask_victims(article.title, article.tagged, names, field="title"),
                source=article.source,
                url=_safe_url(article.url, names),
                published=day,
            )
        )
    return items
