"""Lead services: de-duplication, scoring with caps, assignment, conversion, CSV import."""

import pytest

from core.extensions import db
from modules.marketing import leads
from modules.marketing.models.leads import AssignmentRule, Lead, ScoringRule


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _user(app, make_user, email="rep@example.ir"):
    from core.auth.models import User

    return db.session.get(User, make_user(email, role="agent", seats=["marketing"]))


def test_same_mobile_in_persian_digits_updates_the_same_lead(app):
    with app.test_request_context():
        first, created = leads.create_or_update_lead(
            {"name": "Ali Rahimi", "mobile": "0912 345 6789"}, "form",
            {"utm_source": "google"})
        again, created_again = leads.create_or_update_lead(
            {"mobile": "۰۹۱۲-۳۴۵-۶۷۸۹", "email": "Ali@Example.IR", "company": "Alfa"}, "form",
            {"utm_source": "instagram"})
        db.session.commit()
        assert (created, created_again) == (True, False)
        assert again.id == first.id
        lead = db.session.get(Lead, first.id)
        assert (lead.mobile, lead.email, lead.name, lead.company) == (
            "+989123456789", "ali@example.ir", "Ali Rahimi", "Alfa")
        assert lead.utm_source == "google"  # first touch is kept
        assert "09123456789" in lead.search_key
        assert db.session.query(Lead).count() == 1
        with pytest.raises(leads.LeadError) as bad:
            leads.create_or_update_lead({"mobile": "12345"}, "form")
        assert "mobile" in bad.value.errors


def test_profile_and_behaviour_scoring_with_a_cap(app):
    with app.test_request_context():
        db.session.add_all([
            ScoringRule(name="Tehran", kind="profile", field="city", op="eq", value="تهران",
                        points=10),
            ScoringRule(name="Has company", kind="profile", field="company", op="set",
                        points=5),
            ScoringRule(name="Opens", kind="behaviour", event="open", points=3, max_times=2),
            ScoringRule(name="Off", kind="behaviour", event="open", points=100, active=False),
        ])
        db.session.flush()
        lead, _ = leads.create_or_update_lead({"name": "Sara", "email": "s@x.ir",
                                               "city": "تهران"}, "manual")
        assert lead.score == 10
        for _i in range(4):
            leads.record_activity(lead, "open", {"campaign": 1})
        assert lead.score == 10 + 3 * 2  # the cap: twice only
        assert [a.points for a in lead.activities if a.kind == "open"] == [3, 3, 0, 0]
        lead.company = "Beta"
        assert leads.rescore(lead) == 10 + 5 + 6


def test_assignment_takes_the_first_matching_rule_by_position(app, make_user):
    rep_id, boss_id = (make_user(e, role="agent", seats=["marketing"])
                       for e in ("rep@example.ir", "boss@example.ir"))
    with app.test_request_context():
        from core.auth.models import User

        rep, boss = db.session.get(User, rep_id), db.session.get(User, boss_id)
        db.session.add_all([
            AssignmentRule(name="Everyone else", field="", user_id=boss.id, position=9),
            AssignmentRule(name="Shiraz", field="city", value="شیراز", user_id=rep.id,
                           position=1),
            AssignmentRule(name="Off", field="", user_id=rep.id, position=0, active=False),
        ])
        db.session.flush()
        shiraz, _ = leads.create_or_update_lead({"email": "a@x.ir", "city": "شيراز"}, "form")
        other, _ = leads.create_or_update_lead({"email": "b@x.ir", "city": "Tabriz"}, "form")
        assert (shiraz.owner_id, other.owner_id) == (rep.id, boss.id)
        assert any(a.kind == "assigned" for a in shiraz.activities)
        db.session.execute(db.delete(AssignmentRule))
        nobody, _ = leads.create_or_update_lead({"email": "c@x.ir"}, "form")
        assert nobody.owner_id is None


def test_conversion_creates_a_customer_with_consent_and_keeps_history(app, make_user):
    from core.customers.models import Customer

    with app.test_request_context():
        rep = _user(app, make_user)
        lead, _ = leads.create_or_update_lead(
            {"name": "Reza Karimi", "mobile": "09121112233", "email": "reza@x.ir",
             "city": "Tehran", "consent_sms": True}, "form")
        leads.record_activity(lead, "visit")
        customer = leads.convert(lead, by=rep)
        db.session.commit()
        assert (customer.display_name, customer.consent_sms, customer.consent_email) == (
            "Reza Karimi", True, False)
        assert {c.value for c in customer.contacts} == {"+989121112233", "reza@x.ir"}
        assert (lead.status, lead.customer_id, lead.deal_id) == ("converted", customer.id, None)
        assert [a.kind for a in lead.activities][-2:] == ["visit", "converted"]
        with pytest.raises(leads.LeadError):
            leads.convert(lead, by=rep)
        # A second lead with the same email links to that customer instead of a new one.
        twin = Lead(name="R.K.", email="reza@x.ir", consent_email=True, custom={})
        db.session.add(twin)
        db.session.flush()
        assert leads.convert(twin, by=rep).id == customer.id
        assert customer.consent_email is True
        assert db.session.query(Customer).count() == 1


def test_conversion_opens_a_deal_when_sales_is_active(app, make_user):
    from modules.sales.models.pipeline import Deal
    from modules.sales.pipeline import save_pipeline

    with app.test_request_context():
        rep = _user(app, make_user)
        save_pipeline(None, "Sales", [{"name": "New", "probability": 10}])
        lead, _ = leads.create_or_update_lead({"name": "Nima", "mobile": "09350001122"},
                                              "form", {"utm_campaign": "spring"})
        customer = leads.convert(lead, by=rep, create_deal=True)
        db.session.commit()
        deal = db.session.get(Deal, lead.deal_id)
        assert (deal.customer_id, deal.campaign, deal.source) == (customer.id, "spring", "lead")


def test_csv_import_reports_bad_lines_and_dedups(app):
    text = ("name,mobile,email,city,utm_source\n"
            "Ali,09120000001,,Tehran,fair\n"
            "Bad,12,,x,\n"
            "Ali again,۰۹۱۲۰۰۰۰۰۰۱,ali@x.ir,,\n"
            "Mina,,mina@x.ir,Shiraz,\n")
    with app.test_request_context():
        created, updated, errors = leads.import_leads(text)
        db.session.commit()
        assert (created, updated) == (2, 1)
        assert [line for line, _reason in errors] == [3]
        ali = db.session.execute(db.select(Lead).where(Lead.mobile == "+989120000001")).scalar()
        assert (ali.email, ali.source, ali.utm_source) == ("ali@x.ir", "import", "fair")
        assert leads.import_leads("foo,bar\n1,2\n")[2][0][0] == 1
