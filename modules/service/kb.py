"""Knowledge base: categories and articles in Persian and English, public or internal.

Every article keeps a ``search_key``: the normalised titles and bodies of both languages
(``core.i18n.normalize``), so «ي»/«ی», «ك»/«ک» and ZWNJ spellings find the same article.

    article = create_article(title_fa="...", body_fa="...", public=True, by=user)
    search_articles("گارانتی", public_only=True, limit=5)   # the portal's suggestions
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from core.extensions import db
from core.i18n import normalize
from modules.service.models.kb import KbArticle, KbCategory

FIELDS = ("title_fa", "title_en", "body_fa", "body_en")


class KbError(ValueError):
    """An article or category that cannot be saved; the message is shown to the user."""


def like_pattern(word: str) -> str:
    """A LIKE pattern for ``word`` anywhere, with the wildcards in it escaped."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_key_for(article: KbArticle) -> str:
    """The normalised titles and bodies of both languages."""
    return normalize(" ".join(getattr(article, name) or "" for name in FIELDS))


def _apply(article: KbArticle, values: dict) -> None:
    for name in FIELDS:
        if name in values:
            setattr(article, name, (values[name] or "").strip())
    if "public" in values:
        article.public = bool(values["public"])
    if "category_id" in values:
        article.category_id = values["category_id"] or None
    if not (article.title_fa or article.title_en):
        raise KbError(str(_l("An article needs a title in Persian or English.")))
    if not (article.body_fa or article.body_en):
        raise KbError(str(_l("An article needs a text in Persian or English.")))
    article.search_key = search_key_for(article)


def create_article(*, by=None, **values) -> KbArticle:
    """A new article from ``title_fa``, ``title_en``, ``body_fa``, ``body_en``, ``public``,
    ``category_id``."""
    article = KbArticle(author_id=getattr(by, "id", by), public=False)
    _apply(article, values)
    db.session.add(article)
    db.session.flush()
    return article


def update_article(article: KbArticle, **values) -> KbArticle:
    """Change an article; the search key follows its text."""
    _apply(article, values)
    db.session.flush()
    return article


def search_statement(query: str = "", *, public_only: bool = True, category_id=None):
    """The select() of articles matching every word of ``query`` (all when it is empty)."""
    stmt = select(KbArticle)
    if public_only:
        stmt = stmt.where(KbArticle.public.is_(True))
    if category_id:
        stmt = stmt.where(KbArticle.category_id == category_id)
    for word in normalize(query or "").split():
        stmt = stmt.where(KbArticle.search_key.like(like_pattern(word), escape="\\"))
    return stmt


def _rank(articles: list[KbArticle], words: list[str], limit: int) -> list[KbArticle]:
    """Articles whose title holds more of ``words`` first (stable: then most viewed)."""
    def hits(article: KbArticle) -> int:
        key = normalize(f"{article.title_fa} {article.title_en}")
        return sum(1 for w in words if w in key)

    return sorted(articles, key=hits, reverse=True)[:limit]


def search_articles(query: str, public_only: bool = True, limit: int = 10) -> list[KbArticle]:
    """Articles matching every word of ``query``; title matches first, then most viewed.

    With ``public_only`` (the portal) internal articles never come back. An empty query
    answers nothing.
    """
    words = normalize(query or "").split()
    if not words:
        return []
    stmt = (search_statement(query, public_only=public_only)
            .order_by(KbArticle.views.desc(), KbArticle.id.desc()).limit(limit * 4))
    return _rank(list(db.session.execute(stmt).unique().scalars()), words, limit)


def suggest_for(text: str, limit: int = 5) -> list[KbArticle]:
    """Public articles sharing the longer words of ``text`` (while a customer writes a ticket)."""
    words = list(dict.fromkeys(w for w in normalize(text or "").split() if len(w) >= 3))[:12]
    if not words:
        return []
    matches = [KbArticle.search_key.like(like_pattern(w), escape="\\") for w in words]
    stmt = (select(KbArticle).where(KbArticle.public.is_(True), or_(*matches))
            .order_by(KbArticle.views.desc(), KbArticle.id.desc()).limit(200))
    found = list(db.session.execute(stmt).unique().scalars())
    found.sort(key=lambda a: sum(1 for w in words if w in a.search_key), reverse=True)
    return found[:limit]


def count_view(article: KbArticle) -> None:
    """Count one reading of the article."""
    article.views = (article.views or 0) + 1


def title(article: KbArticle, locale: str = "fa") -> str:
    """The title in ``locale``, else the other language's."""
    if locale.startswith("en"):
        return article.title_en or article.title_fa
    return article.title_fa or article.title_en


def body(article: KbArticle, locale: str = "fa") -> str:
    """The text in ``locale``, else the other language's."""
    if locale.startswith("en"):
        return article.body_en or article.body_fa
    return article.body_fa or article.body_en


def categories() -> list[KbCategory]:
    """Every category, in their order."""
    return list(db.session.execute(
        select(KbCategory).order_by(KbCategory.position, KbCategory.name_fa)).scalars())


def save_category(category: KbCategory | None, *, name_fa: str, name_en: str = "",
                  position: int = 0) -> KbCategory:
    """Create or rename a category."""
    name_fa, name_en = (name_fa or "").strip(), (name_en or "").strip()
    if not name_fa:
        raise KbError(str(_l("A category needs a Persian name.")))
    if category is None:
        category = KbCategory()
        db.session.add(category)
    category.name_fa, category.name_en, category.position = name_fa, name_en, position or 0
    db.session.flush()
    return category


def category_name(category: KbCategory | None, locale: str = "fa") -> str:
    """The category's name in ``locale``."""
    if category is None:
        return ""
    if locale.startswith("en"):
        return category.name_en or category.name_fa
    return category.name_fa
