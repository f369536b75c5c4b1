"""Callbacks other parts of the club hang on enrolment (tiers, referral bonus...)."""

from collections.abc import Callable

ON_ENROL: list[Callable] = []


def member_enrolled(member) -> None:
    for callback in ON_ENROL:
        callback(member)
