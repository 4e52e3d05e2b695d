"""Celery tasks of the voting app: take ids, idempotent, side effects after commit only."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from identity.errors import Conflict
from voting.models import Ballot, BallotKind, Election, Status


def send_tracker_email(ballot_id: int) -> int:
    """The voter's receipt: the tracker to look up on the bulletin board (never the choice,
    which the server does not know). Delivered from the outbox (voting.outbox)."""
    ballot = (
        Ballot.objects.select_related("election", "roll_entry__user")
        .filter(pk=ballot_id, kind=BallotKind.CAST)
        .first()
    )
    if ballot is None:
        return 0
    user = ballot.roll_entry.user
    if user.erased_at is not None:
        return 0  # the account was deleted: no address to write to
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your ballot in “%(title)s” was received") % {"title": ballot.election.title}
        body = "\n\n".join(
            [
                _("Your encrypted ballot was received at %(time)s.")
                % {"time": timezone.localtime(ballot.cast_at).strftime("%Y-%m-%d %H:%M:%S")},
                _("Ballot tracker: %(tracker)s") % {"tracker": ballot.tracker},
                _(
                    "You can find this tracker on the election's public bulletin board at any "
                    "time. If you vote again, only your last ballot counts."
                ),
                _("If you did not vote, contact the election office of your municipality at once."),
            ]
        )
    send_mail(subject, body + "\n", None, [user.email])
    return 1


@shared_task(ignore_result=True)
def close_due_elections() -> int:
    from voting.services import elections_close_due

    return elections_close_due()


@shared_task(ignore_result=True)
def compute_tally(election_id: int) -> bool:
    from voting.services import tally_compute

    election = Election.objects.select_related("municipality").filter(pk=election_id).first()
    if election is None or election.status != Status.CLOSED:
        return False
    try:
        tally_compute(actor=None, municipality=election.municipality, election_id=election_id)
    except Conflict:
        return False
    return True


@shared_task(ignore_result=True)
def publish_results(election_id: int) -> bool:
    from voting.services import election_publish

    election = Election.objects.select_related("municipality").filter(pk=election_id).first()
    if election is None or election.status != Status.TALLIED:
        return False
    try:
        election_publish(actor=None, municipality=election.municipality, election_id=election_id)
    except Conflict:
        return False
    return True
