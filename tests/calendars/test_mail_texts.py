"""The words of reservation mail, without a database: every sentence is translated, and
the HTML part escapes what people typed."""

from __future__ import annotations

from datetime import date

import pytest

from mrs.calendars.mail_texts import Happening, Meeting, Telling, compose

MEETING = Meeting(
    title="Budget <b>", place="Kaede, 3F", day=date(2030, 1, 8), start_minute=600, end_minute=660
)


def _telling(locale: str, *, as_owner: bool, by_admin: bool) -> Telling:
    return Telling(
        locale=locale,
        reader_name="Taro Tanaka",
        as_owner=as_owner,
        actor_name="Hana Mori",
        by_admin=by_admin,
        reason="Fire & drill",
        occurrence=date(2030, 1, 15),
        cancelled_count=2,
        cancelled_from=date(2030, 1, 22),
    )


@pytest.mark.parametrize("happening", list(Happening))
@pytest.mark.parametrize(("as_owner", "by_admin"), [(True, False), (True, True), (False, False)])
def test_every_sentence_of_a_mail_is_translated(
    happening: Happening, as_owner: bool, by_admin: bool
) -> None:
    english = compose(happening, MEETING, _telling("en", as_owner=as_owner, by_admin=by_admin))
    japanese = compose(happening, MEETING, _telling("ja", as_owner=as_owner, by_admin=by_admin))
    assert japanese.subject != english.subject
    sentences = {line for line in english.text.splitlines() if line and line != "— MRS"}
    assert sentences.isdisjoint(japanese.text.splitlines())
    assert "2030年1月8日(火) 10:00–11:00" in japanese.text
    assert "Tue 8 Jan 2030 10:00–11:00" in english.text


def test_the_html_part_escapes_what_people_typed() -> None:
    mail = compose(Happening.CHANGED, MEETING, _telling("en", as_owner=True, by_admin=True))
    assert "Budget &lt;b&gt;" in mail.html
    assert "Fire &amp; drill" in mail.html
    assert "<b>" not in mail.html
    assert mail.html.startswith('<!DOCTYPE html><html lang="en">')
    assert "Budget <b>" in mail.text  # plain text stays as typed
    assert "An administrator (Hana Mori) changed your reservation." in mail.text
    assert "Reason given: Fire & drill" in mail.text
