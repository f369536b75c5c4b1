"""Hypothesis state machine over the points ledger.

Random sequences of earn (random return window and expiry), redeem, adjust (±), days
passing, the release and expiry jobs, refunds (``reverse_earning`` of an earlier reference)
and returned redemptions, against a plain-Python model of the lots. After every step:
balance = sum of available entries, pending = sum of pending entries, both ≥ 0, every lot
agrees with the model, a redemption took only from available unexpired lots, soonest expiry
first (its LotUse rows equal the model's takes), and ``InsufficientPoints`` came exactly when
the model said the member could not afford it.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from core.extensions import db
from tests.conftest import PG_URL
from tests.modules.loyalty.club_helpers import make_member, member

START = date(2026, 3, 1)


@dataclass
class ModelLot:
    id: int
    reference: str
    points: int
    remaining: int
    status: str
    available_on: date
    expires_on: date | None


def _spend_key(lot: ModelLot):
    return (lot.expires_on is None, lot.expires_on or date.max, lot.id)


def run_machine(app, clock):
    from modules.loyalty import ledger
    from modules.loyalty.models.ledger import Entry, Lot, LotUse

    class Ledger(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            clock["day"] = START
            self.member_id = make_member(app)
            self.lots: dict[int, ModelLot] = {}
            self.balance = self.pending = 0
            self.expired: dict[str, int] = {}
            self.reversed: dict[str, int] = {}
            self.redemptions: list[tuple[int, list[tuple[int, int]]]] = []
            self.returned: set[int] = set()
            self.n = 0

        def next_key(self):
            self.k = getattr(self, "k", 0) + 1
            return self.k

        @property
        def day(self) -> date:
            return clock["day"]

        # --- the model ----------------------------------------------------------------
        def settle(self, day=None):
            day = day or self.day
            for lot in sorted(self.lots.values(), key=lambda lot: lot.id):
                if lot.status == "pending" and lot.available_on <= day:
                    lot.status = "available" if lot.remaining else "used"
                    self.pending -= lot.remaining
                    self.balance += lot.remaining
            for lot in sorted(self.lots.values(), key=lambda lot: lot.id):
                if (lot.status == "available" and lot.expires_on is not None
                        and lot.expires_on < day):
                    self.balance -= lot.remaining
                    self.expired[lot.reference] = (self.expired.get(lot.reference, 0)
                                                   + lot.remaining)
                    lot.remaining, lot.status = 0, "expired"

        def spendable(self):
            return sorted((lot for lot in self.lots.values()
                           if lot.status == "available" and lot.remaining > 0), key=_spend_key)

        def take(self, points, lots, empty="used"):
            takes = []
            for lot in lots:
                if points <= 0:
                    break
                part = min(lot.remaining, points)
                if part <= 0:
                    continue
                lot.remaining -= part
                points -= part
                if lot.remaining == 0:
                    lot.status = empty
                takes.append((lot.id, part))
            return takes

        def add_lot(self, entry, reference, points, available_on, expires_on):
            lot = db.session.execute(select(Lot).where(Lot.entry_id == entry.id)).scalar_one()
            self.lots[lot.id] = ModelLot(lot.id, reference, points, points,
                                         "pending" if available_on > self.day else "available",
                                         available_on, expires_on)
            if available_on > self.day:
                self.pending += points
            else:
                self.balance += points

        def uses_of(self, entry_id):
            return [(u.lot_id, u.points) for u in db.session.execute(
                select(LotUse).where(LotUse.entry_id == entry_id).order_by(LotUse.id)).scalars()]

        # --- the steps ------------------------------------------------------------------
        @rule(points=st.integers(1, 500), wait=st.integers(0, 20),
              life=st.one_of(st.none(), st.integers(0, 90)))
        def earn(self, points, wait, life):
            self.n += 1
            reference = f"inv-{self.n}"
            available_on = self.day + timedelta(days=wait)
            expires_on = None if life is None else available_on + timedelta(days=life)
            if life is None:
                from core.database import set_setting

                set_setting("loyalty.expiry_months", 0)  # never expires
            entry = ledger.earn(member(self.member_id), points, reason="purchase",
                                reference=reference, key=f"earn:{self.member_id}:{reference}",
                                pending_days=wait, expires_on=expires_on)
            if life is None:
                from core.database import set_setting

                set_setting("loyalty.expiry_months", 12)
            db.session.commit()
            self.settle()
            self.add_lot(entry, reference, points, available_on, expires_on)

        @rule(points=st.integers(1, 800))
        def redeem(self, points):
            self.settle()
            if self.balance < points:
                with pytest.raises(ledger.InsufficientPoints) as refused:
                    ledger.redeem(member(self.member_id), points, reason="reward")
                assert (refused.value.wanted, refused.value.available) == (points,
                                                                           self.balance)
                db.session.commit()  # what settling wrote stays (the API commits it too)
                return
            entry = ledger.redeem(member(self.member_id), points, reason="reward")
            db.session.commit()
            wanted = self.take(points, self.spendable())
            self.balance -= points
            used = self.uses_of(entry.id)
            assert used == wanted, "lots are spent soonest expiry first, then oldest"
            for lot_id, _part in used:
                lot = self.lots[lot_id]
                assert lot.available_on <= self.day, "a redemption took pending points"
                assert lot.expires_on is None or lot.expires_on >= self.day, \
                    "a redemption took expired points"
            self.redemptions.append((entry.id, used))

        @rule(points=st.integers(-300, 300).filter(bool))
        def adjust(self, points):
            self.settle()
            if points < 0 and self.balance < -points:
                with pytest.raises(ledger.InsufficientPoints):
                    ledger.adjust(member(self.member_id), points, reason="correction")
                db.session.commit()
                return
            entry = ledger.adjust(member(self.member_id), points, reason="correction",
                                  reference=f"adj-{self.n}")
            db.session.commit()
            if points > 0:
                expires = ledger.add_jalali_months(self.day, 12)
                self.add_lot(entry, f"adj-{self.n}", points, self.day, expires)
            else:
                wanted = self.take(-points, self.spendable())
                self.balance += points
                assert self.uses_of(entry.id) == wanted
                self.redemptions.append((entry.id, wanted))

        @rule(days=st.integers(1, 45))
        def pass_days(self, days):
            clock["day"] = self.day + timedelta(days=days)

        @rule()
        def expire_job(self):
            due = any(lot.status == "available" and lot.expires_on is not None
                      and lot.expires_on < self.day for lot in self.lots.values())
            ledger.expire_due(self.day)  # (earlier examples' members are in the database too)
            assert ledger.expire_due(self.day) == 0  # run twice, it expires once
            if due:
                self.settle()  # the job settles the member: due releases happen too

        @rule()
        def release_job(self):
            due = any(lot.status == "pending" and lot.available_on <= self.day
                      for lot in self.lots.values())
            ledger.release_due(self.day)
            if due:
                self.settle()

        @precondition(lambda self: self.n > 0)
        @rule(data=st.data(), share=st.integers(1, 600))
        def refund(self, data, share):
            reference = f"inv-{data.draw(st.integers(1, self.n))}"
            self.settle()
            earned = sum(lot.points for lot in self.lots.values()
                         if lot.reference == reference)
            left = min(share, max(earned - self.expired.get(reference, 0)
                                  - self.reversed.get(reference, 0), 0))
            ledger.reverse_earning(member(self.member_id), reference, share, reason="refund",
                                   key=f"refund:{self.member_id}:{self.next_key()}")
            db.session.commit()
            own = sorted((lot for lot in self.lots.values() if lot.reference == reference
                          and lot.status in ("pending", "available") and lot.remaining > 0),
                         key=lambda lot: -lot.id)
            taken = 0
            for bucket in ("pending", "available"):
                lots = [lot for lot in own if lot.status == bucket]
                amount = min(left - taken, sum(lot.remaining for lot in lots))
                if amount <= 0:
                    continue
                self.take(amount, lots, empty="reversed")
                if bucket == "pending":
                    self.pending -= amount
                else:
                    self.balance -= amount
                taken += amount
            if left - taken > 0:
                amount = min(left - taken, self.balance)
                if amount > 0:
                    self.take(amount, self.spendable())
                    self.balance -= amount
                    taken += amount
            self.reversed[reference] = self.reversed.get(reference, 0) + taken

        @precondition(lambda self: self.redemptions)
        @rule(data=st.data())
        def give_back(self, data):
            entry_id, uses = data.draw(st.sampled_from(self.redemptions))
            back = 0
            if entry_id not in self.returned:  # (a repeat answers before settling)
                self.settle()
                for lot_id, part in uses:
                    lot = self.lots[lot_id]
                    if lot.expires_on is not None and lot.expires_on < self.day:
                        continue
                    lot.remaining += part
                    lot.status = "available"
                    back += part
            if entry_id not in self.returned and back == 0:
                with pytest.raises(ledger.LedgerError):
                    ledger.return_redemption(db.session.get(Entry, entry_id), reason="cancel")
                db.session.commit()
                return
            returned = ledger.return_redemption(db.session.get(Entry, entry_id),
                                                reason="cancelled")
            db.session.commit()
            if entry_id not in self.returned:
                assert returned.points == back
                self.balance += back
                self.returned.add(entry_id)

        # --- after every step ---------------------------------------------------------
        @invariant()
        def ledger_agrees(self):
            m = member(self.member_id)
            assert ledger.problems(m) == []
            assert (m.balance, m.pending) == (self.balance, self.pending)
            assert m.balance >= 0 and m.pending >= 0
            stored = {lot.id: (lot.remaining, lot.status) for lot in db.session.execute(
                select(Lot).where(Lot.member_id == self.member_id)).scalars()}
            model = {lot.id: (lot.remaining, lot.status) for lot in self.lots.values()}
            assert stored == model

    run_state_machine_as_test(Ledger, settings=settings(
        max_examples=15 if PG_URL else 30, stateful_step_count=25, deadline=None,
        suppress_health_check=list(HealthCheck)))


def test_ledger_state_machine(app, monkeypatch):
    from modules.loyalty import ledger

    clock = {"day": START}
    monkeypatch.setattr(ledger, "today", lambda: clock["day"])
    with app.test_request_context():
        run_machine(app, clock)
