"""A small article store for the export and annotation tests, built directly (no crawl, no
tagger): story clusters, several forms and sources, a child case whose persons must all be
masked, an adult case with a named victim, and a perpetrator whose name may stay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pantau.models import (
    Entity,
    ExtractedArticle,
    LocationMention,
    ModelInfo,
    Perpetrators,
    Region,
    TaggedArticle,
    Victims,
)
from pantau.store import ArticleStore

CHILD_VICTIM = "Siti Aminah"
CHILD_CASE_OTHER = "Budi Santoso"  # the child's teacher: a PERSON in a child case
ADULT_VICTIM = "Rina Marlina"
PERPETRATOR = "Hendra Gunawan"  # adult case, not a victim: stays
# In an incident about a woman, written "Name (age)" but not tagged: the export's net
# (web.masking.protected_persons) protects it.
UNTAGGED_RELATIVE = "Sri Wahyuni"
PROTECTED = (CHILD_VICTIM, CHILD_CASE_OTHER, ADULT_VICTIM, UNTAGGED_RELATIVE)
MODEL = ModelInfo(name="test-model", version="1.0")
KOTA_JAMBI = Region(name="Kota Jambi", code="15.71", level="kabupaten_kota", province_code="15")
MERANGIN = Region(
    name="Kabupaten Merangin", code="15.02", level="kabupaten_kota", province_code="15"
)
SOURCES = ("Jambi Ekspres", "Tribun Jambi", "Antara Jambi")


def entity(
    title: str,
    text: str,
    surface: str,
    label: str,
    field: str = "text",
    role: str | None = None,
    nth: int = 0,
) -> Entity:
    value = title if field == "title" else text
    start = -1
    for _ in range(nth + 1):
        start = value.index(surface, start + 1)
    return Entity.model_validate(
        {
            "field": field,
            "start": start,
            "end": start + len(surface),
            "label": label,
            "text": surface,
            "role": role,
        }
    )


def add(
    store: ArticleStore,
    slug: str,
    title: str,
    text: str,
    story: str,
    day: int,
    source: str,
    tagged: dict[str, object],
    entities: list[tuple[str, str, str, str | None]],
) -> str:
    url = f"https://berita.example/{slug}"
    article = ExtractedArticle(
        url=url,
        canonical_url=url,
        source=source,
        title=title,
        text=text,
        published=datetime(2026, 10, day, 3, 0, tzinfo=UTC),
    )
    store.upsert_article(article)
    record = TaggedArticle.model_validate(
        {
            "id": article.id,
            "language": "id",
            "model": MODEL,
            "entities": [
                entity(title, text, surface, label, field, role)
                for surface, label, field, role in entities
            ],
            **tagged,
        }
    )
    store.save_tag(record, article.content_hash)
    store.save_story(article.id, story, b"", [])
    return article.id


def build_store(path: Path) -> dict[str, str]:
    """Returns name → article id of the articles tests refer to."""
    ids: dict[str, str] = {}
    with ArticleStore(path) as store:
        child_text = (
            f"JAMBI - Seorang siswi SMP bernama {CHILD_VICTIM} (14) dicabuli ayah tirinya di "
            f"Kota Jambi. Wali kelasnya, {CHILD_CASE_OTHER}, melapor ke Polresta Jambi.\n\n"
            f"Korban {CHILD_VICTIM.split()[0]} kini didampingi DPMPPA Kota Jambi."
        )
        child = {
            "relevance": "incident",
            "categories": ["kekerasan_seksual"],
            "victim_groups": ["anak", "perempuan"],
            "domestic": True,
            "victims": Victims(count=1, children=1, female=1),
            "perpetrators": Perpetrators(count=1, relation="keluarga"),
            "primary_location": KOTA_JAMBI,
            "locations": [LocationMention(**KOTA_JAMBI.model_dump(), role="incident")],
            "scores": {"incident": 0.97, "kekerasan_seksual": 0.9},
        }
        for n, source in enumerate(SOURCES[:2]):
            ids[f"child-{n}"] = add(
                store,
                f"siti-aminah-dicabuli-{n}",
                f"Siswi SMP {CHILD_VICTIM} dicabuli",
                child_text + (" (copy)" if n else ""),
                "story-child",
                16 + n,
                source,
                child,
                [
                    (CHILD_VICTIM, "PERSON", "text", "victim"),
                    (CHILD_CASE_OTHER, "PERSON", "text", "other"),
                    (CHILD_VICTIM, "PERSON", "title", "victim"),
                    ("Polresta Jambi", "ORGANIZATION", "text", None),
                    ("Kota Jambi", "LOCATION", "text", None),
                ],
            )
        adult_text = (
            f"MERANGIN - {ADULT_VICTIM} (24), warga Bangko, dianiaya suaminya {PERPETRATOR} "
            f"(30). Polisi menahan {PERPETRATOR} pada Senin (12/10). Ibu korban, "
            f"{UNTAGGED_RELATIVE} (50), melapor."
        )
        ids["adult"] = add(
            store,
            "rina-marlina-dianiaya-suami",
            "Istri dianiaya suami di Bangko",
            adult_text,
            "story-adult",
            13,
            SOURCES[2],
            {
                "relevance": "incident",
                "categories": ["kekerasan_fisik"],
                "victim_groups": ["perempuan"],
                "domestic": True,
                "victims": Victims(count=1, female=1),
                "primary_location": MERANGIN,
                "scores": {"incident": 0.9, "kekerasan_fisik": 0.8},
            },
            [
                (ADULT_VICTIM, "PERSON", "text", "victim"),
                (PERPETRATOR, "PERSON", "text", "perpetrator"),
                ("Senin (12/10)", "TIME", "text", None),
            ],
        )
        # Clusters of trafficking, aggregate and irrelevant news, with uncertain scores.
        for n in range(12):
            form = ["tppo", "eksploitasi", "kekerasan_psikis"][n % 3]
            relevance = ["incident", "aggregate", "none"][n % 3] if n < 9 else "incident"
            text = (
                f"JAMBI - Berita nomor {n} tentang {form} di Kota Jambi. Dewi Lestari dari "
                f"DPMPPA menyampaikan {n + 2} korban didampingi."
            )
            tag = {
                "relevance": relevance,
                "categories": [form] if relevance != "none" else [],
                "victim_groups": ["perempuan"] if relevance != "none" else [],
                "primary_location": KOTA_JAMBI,
                "scores": {"incident": round(0.05 + n * 0.04, 2)},
            }
            for copy in range(1 + (n % 4 == 0)):
                ids[f"news-{n}-{copy}"] = add(
                    store,
                    f"berita-{n}-{copy}",
                    f"Berita {form} nomor {n}",
                    text + (" Salinan." if copy else ""),
                    f"story-{n}",
                    1 + n + copy,
                    SOURCES[(n + copy) % 3],
                    tag,
                    [
                        ("Dewi Lestari", "PERSON", "text", "other"),
                        ("DPMPPA", "ORGANIZATION", "text", None),
                    ],
                )
    return ids
