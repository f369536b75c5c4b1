"""Stale segment counts: the worker's periodic job recounts them, the list page only shows
them (it counts a few itself only when jobs run inline, with no worker), and a segment being
counted by someone else is not counted again."""

from datetime import timedelta

from sqlalchemy import update

from core import jobs
from core.database import utcnow
from core.extensions import db
from modules.marketing import segments
from modules.marketing.models.segments import Segment
from tests.modules.marketing.test_segments import data  # noqa: F401 - fixture


def _segments(app, stale_minutes=60):
    """A stale dynamic segment (all 4 reachable customers) and a freshly counted one."""
    with app.app_context():
        old = utcnow() - timedelta(minutes=stale_minutes)
        stale = Segment(name="همه", kind="dynamic", rules=segments.empty_rules(),
                        last_count=99, counted_at=old)
        fresh = Segment(name="تازه", kind="dynamic", rules=segments.empty_rules(),
                        last_count=7, counted_at=utcnow())
        db.session.add_all([stale, fresh])
        db.session.commit()
        return stale.id, fresh.id


def _counts(app, *ids):
    with app.app_context():
        return [db.session.get(Segment, i).last_count for i in ids]


def test_the_periodic_job_recounts_stale_segments_only(app, data):  # noqa: F811
    stale_id, fresh_id = _segments(app)
    assert "marketing.recount_segments" in jobs.periodic_jobs()
    with app.app_context():
        assert jobs.run_periodic("marketing.recount_segments") == 1
    assert _counts(app, stale_id, fresh_id) == [4, 7]
    with app.app_context():  # counted now: nothing left to do
        assert segments.recount_stale_segments() == 0


def test_a_segment_claimed_by_another_counter_is_not_counted_again(app, data):  # noqa: F811
    stale_id, _fresh_id = _segments(app)
    with app.app_context():
        seen = db.session.get(Segment, stale_id)  # this viewer read it stale...
        with db.engine.begin() as other:  # ...and another one claimed it meanwhile
            other.execute(update(Segment.__table__).where(Segment.__table__.c.id == stale_id)
                          .values(counted_at=utcnow()))
        assert segments.recount_stale([seen], limit=5) == 0
    assert _counts(app, stale_id) == [99]  # left to the one who claimed it


def test_the_list_page_counts_only_when_no_worker_does(app, client, make_user, login,
                                                       data, monkeypatch):  # noqa: F811
    stale_id, _fresh_id = _segments(app)
    make_user(seats=["marketing"])
    login()
    monkeypatch.setattr(jobs, "is_inline", lambda app=None: False)  # a worker runs the jobs
    listed = client.get("/marketing/segments")
    assert listed.status_code == 200 and "همه" in listed.data.decode()
    assert _counts(app, stale_id) == [99]  # shown as it was; the worker will recount
    monkeypatch.undo()  # inline jobs (no worker): the page counts a few stale ones itself
    client.get("/marketing/segments")
    assert _counts(app, stale_id) == [4]
