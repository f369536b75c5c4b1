"""Knowledge base: normalised search over both languages; internal articles stay internal."""

import pytest

from core.extensions import db
from modules.service import kb


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _article(**values):
    values.setdefault("body_fa", "متن")
    return kb.create_article(**values)


def test_arabic_letters_and_zwnj_variants_find_the_same_article(app):
    with app.test_request_context():
        article = _article(title_fa="راهنمای گارانتی کیف\u200cپول",
                           body_fa="مدارک لازم برای یک ادعا", public=True)
        _article(title_fa="ارسال کالا", body_fa="زمان تحویل", public=True)
        db.session.commit()
        for query in ("گارانتي", "كيف پول", "کیف‌پول", "کیفپول", "مدارك", "يك ادعا"):
            found = kb.search_articles(query, public_only=True)
            assert [a.id for a in found] == [article.id], query
        assert kb.search_articles("  ", public_only=True) == []
        assert kb.search_articles("گارانتی تحویل") == []  # every word must match


def test_english_text_is_searchable_and_titles_rank_first(app):
    with app.test_request_context():
        in_body = _article(title_fa="نصب", body_en="After the Warranty ends, repairs are paid.",
                           public=True)
        in_title = _article(title_en="Warranty claims", body_en="How to claim.", public=True)
        db.session.commit()
        found = kb.search_articles("WARRANTY", public_only=True)
        assert [a.id for a in found] == [in_title.id, in_body.id]
        assert [a.id for a in kb.search_articles("warranty", limit=1)] == [in_title.id]


def test_internal_articles_never_come_back_in_public_search(app):
    with app.test_request_context():
        internal = _article(title_fa="تخفیف ویژه همکاران", body_fa="فقط داخلی", public=False)
        public = _article(title_fa="تخفیف دانشجویی", body_fa="برای همه", public=True)
        db.session.commit()
        assert [a.id for a in kb.search_articles("تخفیف", public_only=True)] == [public.id]
        assert {a.id for a in kb.search_articles("تخفیف", public_only=False)} == {
            internal.id, public.id}
        assert [a.id for a in kb.suggest_for("سوال درباره تخفیف")] == [public.id]
        kb.update_article(internal, public=True)
        db.session.commit()
        assert len(kb.search_articles("تخفیف", public_only=True)) == 2


def test_an_article_needs_a_title_and_a_text_and_its_key_follows_edits(app):
    with app.test_request_context():
        with pytest.raises(kb.KbError):
            kb.create_article(title_fa=" ", body_fa="متن")
        with pytest.raises(kb.KbError):
            kb.create_article(title_fa="عنوان", body_fa=" ")
        article = _article(title_fa="عنوان قدیمی", public=True)
        db.session.commit()
        kb.update_article(article, title_fa="عنوان جدید")
        db.session.commit()
        assert kb.search_articles("قدیمی") == []
        assert [a.id for a in kb.search_articles("جدید")] == [article.id]
        assert "100%_" not in kb.like_pattern("100%_")
