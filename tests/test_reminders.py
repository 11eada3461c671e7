"""Reminders through the chat, over real loopback HTTP: parsed, said back in words,
confirmed, fired once, listed and cancelled; the birth-registration deadline; dossier
result dates."""

from __future__ import annotations

import datetime as dt

from actions.reminder_requests import past_the_deadline
from bot.local_time import TIMEZONE
from bot.scheduler import citizen_reminders, jobs, schedule_appointment_reminder
from bot.storage import reminder_records as reminder_store
from bot.storage import users
from tests.conftest import Service, button_titles, project_library, texts
from tests.test_scheduler import MONDAY, FakeClock, scheduler_of


def in_days(days: int) -> dt.date:
    return dt.datetime.now(TIMEZONE).date() + dt.timedelta(days=days)


async def turn(service: Service, user: str, text: str) -> list[dict]:
    """Say one thing; the bot's replies to it."""
    before = len(await service.messages(user))
    await service.say(user, text)
    await service.settle()
    return (await service.messages(user))[before:]


async def scheduled(service: Service, user: str) -> list[dict]:
    return await service.database.run(reminder_store.scheduled_for_user, user)


# --- understanding the citizen ---------------------------------------------------------


def test_the_date_time_and_subject_are_read_from_the_message() -> None:
    text = "nhắc tôi thứ 6 đi nhận kết quả lúc 8h"
    at = citizen_reminders.reminder_time(text, MONDAY, dt.time(8))
    assert at == dt.datetime(2026, 11, 27, 8, 0, tzinfo=TIMEZONE)
    assert citizen_reminders.reminder_subject(text) == "đi nhận kết quả"
    assert citizen_reminders.reminder_subject("mai 8h sáng nhắc tôi đi nộp hồ sơ") == "đi nộp hồ sơ"
    assert citizen_reminders.reminder_subject("ad ơi nhắc e trưa mai đi nhận trợ cấp nha") == (
        "đi nhận trợ cấp"
    )
    assert citizen_reminders.reminder_subject("đặt lịch nhắc 8h30 sáng 15/12 giúp e") is None


def test_a_day_without_an_hour_means_the_configured_reminder_time() -> None:
    at = citizen_reminders.reminder_time(
        "nhắc tôi ngày 5/12 gia hạn thẻ bảo hiểm y tế", MONDAY, dt.time(8)
    )
    assert at == dt.datetime(2026, 12, 5, 8, 0, tzinfo=TIMEZONE)


def test_an_hour_alone_keeps_the_day_already_said_unless_that_hour_is_past() -> None:
    friday = dt.date(2026, 11, 27)
    at = citizen_reminders.reminder_time("8h sáng", MONDAY, dt.time(8), day=friday)
    assert at == dt.datetime(2026, 11, 27, 8, 0, tzinfo=TIMEZONE)
    earlier = MONDAY.date()  # that day's 6 o'clock has passed: the next 6 o'clock
    at = citizen_reminders.reminder_time("6h", MONDAY.replace(hour=9), dt.time(8), day=earlier)
    assert at == dt.datetime.combine(earlier + dt.timedelta(days=1), dt.time(6), TIMEZONE)
    at = citizen_reminders.reminder_time("thứ 4 lúc 8h", MONDAY, dt.time(8), day=friday)
    assert at is not None and at.date() != friday  # a day said again replaces it


def test_the_time_is_said_back_in_plain_words() -> None:
    library = project_library()
    friday = dt.datetime(2026, 11, 27, 8, 0, tzinfo=TIMEZONE)
    assert citizen_reminders.when_words(friday, library) == "8 giờ sáng thứ Sáu, ngày 27/11/2026"
    assert citizen_reminders.when_words(friday.replace(hour=14, minute=30), library) == (
        "2 giờ 30 chiều thứ Sáu, ngày 27/11/2026"
    )


def test_a_birth_date_without_its_year_is_in_the_past() -> None:
    assert citizen_reminders.birth_date("bé sinh ngày 20/11", MONDAY) == dt.date(2026, 11, 20)
    assert citizen_reminders.birth_date("bé sinh ngày 25/11", MONDAY) == dt.date(2025, 11, 25)
    assert citizen_reminders.birth_date("20/11/2026", MONDAY) == dt.date(2026, 11, 20)
    assert citizen_reminders.birth_deadline(dt.date(2026, 11, 20)) == dt.date(2027, 1, 19)


def test_a_birth_date_told_relative_to_today_counts_back() -> None:
    today = MONDAY.date()
    for text, days in (
        ("cháu sinh hôm qua", 1),
        ("be sinh hom kia", 2),
        ("sinh được 3 ngày trước", 3),
        ("cách đây 12 hôm", 12),
        ("Cach day  40 ngay", 40),
    ):
        assert citizen_reminders.birth_date(text, MONDAY) == today - dt.timedelta(days=days), text
    assert citizen_reminders.birth_date("sinh hôm nay", MONDAY) == today
    assert citizen_reminders.birth_date("hôm quan trọng", MONDAY) is None


def test_a_birth_date_is_read_only_where_the_citizen_says_it_is_one() -> None:
    said = citizen_reminders.stated_birth_date(
        "bé sinh ngày 20/11 thì làm khai sinh thế nào", MONDAY
    )
    assert said == dt.date(2026, 11, 20)
    yesterday = MONDAY.date() - dt.timedelta(days=1)
    assert citizen_reminders.stated_birth_date("con tôi mới đẻ hôm qua", MONDAY) == yesterday
    for text in (
        "xin thêm bản sao giấy khai sinh thì mất bao nhiêu tiền một bản?",
        "làm khai sinh ngày 20/11 được không",
        "giấy chứng sinh ghi ngày 20/11",
    ):
        assert citizen_reminders.stated_birth_date(text, MONDAY) is None, text


# --- personal reminders ----------------------------------------------------------------


async def test_a_reminder_is_said_back_and_set_only_after_yes(service: Service) -> None:
    day = in_days(3)
    [ask] = await turn(service, "u-rem", f"nhắc tôi ngày {day:%d/%m/%Y} đi nhận kết quả lúc 8h")
    assert "8 giờ sáng" in ask["text"] and f"ngày {day:%d/%m/%Y}" in ask["text"]
    assert '"đi nhận kết quả"' in ask["text"]
    assert button_titles(ask) == ["Đúng", "Không"]
    assert await scheduled(service, "u-rem") == []
    [done] = await turn(service, "u-rem", "đúng")
    assert "đã đặt lời nhắc" in done["text"]
    [row] = await scheduled(service, "u-rem")
    at = dt.datetime.combine(day, dt.time(8), TIMEZONE)
    assert dt.datetime.fromisoformat(row["remind_at"]) == at
    job = scheduler_of(service)._aps.get_job(f"reminder:{row['id']}")  # type: ignore[union-attr]
    assert job.next_run_time == at


async def test_a_reminder_fires_once_at_its_time(service: Service) -> None:
    day = in_days(2)
    await turn(service, "u-fire", f"nhắc tôi ngày {day:%d/%m/%Y} đi nộp hồ sơ lúc 9h30")
    await turn(service, "u-fire", "ok")
    [row] = await scheduled(service, "u-fire")
    scheduler = scheduler_of(service)
    scheduler.clock = FakeClock(dt.datetime.fromisoformat(row["remind_at"]))
    await jobs.fire_reminder(scheduler, row["id"])
    await jobs.fire_reminder(scheduler, row["id"])  # a second firing finds it sent
    fired = [m for m in await service.messages("u-fire") if m["text"].startswith("Nhắc anh/chị")]
    assert texts(fired) == [
        f"Nhắc anh/chị: đi nộp hồ sơ (9 giờ 30 sáng {_weekday(day)}, ngày {day:%d/%m/%Y})."
    ]
    assert (await service.database.run(reminder_store.get, row["id"]))["status"] == "sent"


async def test_a_reminder_without_a_time_asks_for_one(service: Service) -> None:
    [ask] = await turn(service, "u-ask", "nhắc tôi đi nộp hồ sơ")
    assert "ngày giờ nào" in ask["text"]
    day = in_days(4)
    [confirm] = await turn(service, "u-ask", f"{day:%d/%m} lúc 14h")
    assert '"đi nộp hồ sơ"' in confirm["text"] and "2 giờ chiều" in confirm["text"]
    await turn(service, "u-ask", "vâng")
    [row] = await scheduled(service, "u-ask")
    assert row["subject"] == "đi nộp hồ sơ"


async def test_an_hour_said_at_the_confirmation_keeps_the_day(service: Service) -> None:
    day = in_days(4)
    [ask] = await turn(service, "u-hour", f"nhắc tôi ngày {day:%d/%m/%Y} đi đổi căn cước")
    assert f"ngày {day:%d/%m/%Y}" in ask["text"]
    [again] = await turn(service, "u-hour", "9h30 sáng")  # the hour, not a new day
    assert "9 giờ 30 sáng" in again["text"] and f"ngày {day:%d/%m/%Y}" in again["text"]
    await turn(service, "u-hour", "đúng")
    [row] = await scheduled(service, "u-hour")
    at = dt.datetime.combine(day, dt.time(9, 30), TIMEZONE)
    assert dt.datetime.fromisoformat(row["remind_at"]) == at


async def test_a_time_already_past_is_refused_and_asked_again(service: Service) -> None:
    past = in_days(-2)
    replies = await turn(service, "u-past", f"nhắc tôi ngày {past:%d/%m/%Y} lúc 8h đi họp")
    assert "đã qua" in replies[0]["text"] and "ngày giờ nào" in replies[1]["text"]
    assert await scheduled(service, "u-past") == []


async def test_no_or_stop_at_the_confirmation_sets_nothing(service: Service) -> None:
    for user, answer in (("u-no", "không"), ("u-stop", "dừng")):
        await turn(service, user, f"nhắc tôi ngày {in_days(5):%d/%m/%Y} lúc 8h đi họp")
        [reply] = await turn(service, user, answer)
        assert "không đặt lời nhắc" in reply["text"]
        assert await scheduled(service, user) == []


async def test_reminders_are_listed_and_cancelled_one_by_one(service: Service) -> None:
    for days, what in ((3, "đi nhận kết quả"), (6, "đi nộp tiền")):
        await turn(service, "u-list", f"nhắc tôi ngày {in_days(days):%d/%m/%Y} lúc 8h {what}")
        await turn(service, "u-list", "đúng")
    [listing] = await turn(service, "u-list", "xem lời nhắc của tôi")
    assert "1. 8 giờ sáng" in listing["text"] and "đi nộp tiền" in listing["text"]
    assert button_titles(listing) == ["Hủy lời nhắc 1", "Hủy lời nhắc 2", "Hủy tất cả"]
    first, second = await scheduled(service, "u-list")
    [done] = await turn(service, "u-list", f'/unsubscribe{{"reminder_id": "{first["id"]}"}}')
    assert "đã hủy 1 lời nhắc" in done["text"]
    assert [r["id"] for r in await scheduled(service, "u-list")] == [second["id"]]
    assert scheduler_of(service)._aps.get_job(f"reminder:{first['id']}") is None  # type: ignore[union-attr]


async def test_cancelling_by_day_cancels_that_days_reminder(service: Service) -> None:
    day = in_days(3)
    await turn(service, "u-day", f"nhắc tôi ngày {day:%d/%m/%Y} lúc 8h đi họp")
    await turn(service, "u-day", "đúng")
    [done] = await turn(service, "u-day", f"hủy lời nhắc ngày {day:%d/%m}")
    assert "đã hủy 1 lời nhắc" in done["text"]
    assert await scheduled(service, "u-day") == []


async def test_asking_for_the_list_inside_the_reminder_form_lists_and_keeps_the_form(
    service: Service,
) -> None:
    await turn(service, "u-list-form", "nhắc tôi đi nộp hồ sơ")
    replies = texts(await turn(service, "u-list-form", "tôi muốn xem lời nhắc đã đặt"))
    assert "chưa có lời nhắc nào" in replies[0]
    assert not any("không đặt lời nhắc" in text for text in replies)
    [confirm] = await turn(service, "u-list-form", f"{in_days(4):%d/%m} lúc 14h")
    assert '"đi nộp hồ sơ"' in confirm["text"] and "2 giờ chiều" in confirm["text"]


async def test_stopping_all_messages_inside_the_reminder_form_ends_the_form(
    service: Service,
) -> None:
    await turn(service, "u-stop-form", "nhắc tôi đi nộp hồ sơ")
    said = " ".join(texts(await turn(service, "u-stop-form", "hủy nhận tin")))
    assert "không đặt lời nhắc" in said and "không gửi tin thông báo" in said
    after = texts(await turn(service, "u-stop-form", f"{in_days(4):%d/%m} lúc 14h"))
    assert not any("Tôi sẽ nhắc" in text for text in after)
    assert await scheduled(service, "u-stop-form") == []


async def test_a_new_reminder_inside_the_form_replaces_the_one_being_set(
    service: Service,
) -> None:
    await turn(service, "u-new-form", "nhắc tôi đi nộp hồ sơ")
    [confirm] = await turn(service, "u-new-form", "nhắc tôi thứ 6 đi nhận kết quả lúc 8h")
    assert '"đi nhận kết quả"' in confirm["text"] and "8 giờ sáng thứ Sáu" in confirm["text"]


# --- the birth-registration deadline ---------------------------------------------------


async def test_a_question_about_copies_gets_no_invented_birth_date(service: Service) -> None:
    question = "xin thêm bản sao giấy khai sinh thì mất bao nhiêu tiền một bản?"
    replies = texts(await turn(service, "u-copies", question))
    assert replies and not any("Bé sinh ngày" in text for text in replies)


async def test_a_birth_date_said_with_the_question_goes_to_the_deadline_reminders(
    service: Service,
) -> None:
    born = in_days(-10)
    question = f"bé nhà tôi sinh ngày {born:%d/%m/%Y}, làm khai sinh thế nào"
    replies = await turn(service, "u-born-said", question)
    assert f"Bé sinh ngày {born:%d/%m/%Y}" in replies[-1]["text"]


async def test_a_lost_birth_certificate_is_not_offered_the_newborns_deadline(
    service: Service,
) -> None:
    replies = await turn(service, "u-lost-paper", "lam lai giay khai sinh bi mat thi sao")
    assert "8.000 đồng" in replies[0]["text"]
    assert not any("Nhắc hạn khai sinh" in button_titles(reply) for reply in replies)
    # nor a child's name changed
    replies = await turn(service, "u-new-name", "toi muon doi ten cho con thi lam the nao")
    assert "Điều 28" in replies[0]["text"]
    assert not any("Nhắc hạn khai sinh" in button_titles(reply) for reply in replies)


async def test_a_child_past_the_60_days_is_not_offered_the_newborns_deadline(
    service: Service,
) -> None:
    # "Mình có thể nhắc bạn trước hạn…" to a baby of two months: the deadline is over
    question = "ad ơi cho e hỏi con e 2 tháng tuổi rồi chưa làm khai sinh thì có bị phạt không"
    replies = await turn(service, "u-two-months", question)
    assert "60 ngày" in replies[0]["text"]
    assert not any("Nhắc hạn khai sinh" in button_titles(reply) for reply in replies)


def test_a_childs_age_told_is_compared_with_the_60_days() -> None:
    assert past_the_deadline("be duoc 70 ngay")
    assert past_the_deadline("con 6 tuoi chua co khai sinh")
    assert not past_the_deadline("be sinh duoc 10 ngay")
    assert not past_the_deadline("be 3 tuan tuoi")
    assert not past_the_deadline("khai sinh trong 60 ngay phai khong")  # the rule, not an age


async def test_the_birth_guide_offers_reminders_before_the_60_day_deadline(
    service: Service,
) -> None:
    replies = await turn(service, "u-born", "/proc_birth_registration")
    offer = replies[-1]
    assert "60 ngày" in offer["text"] and button_titles(offer) == ["Nhắc hạn khai sinh"]
    [ask] = await turn(service, "u-born", '/set_reminder{"reminder_kind": "birth_deadline"}')
    assert "Bé sinh ngày nào" in ask["text"]
    born = in_days(-10)
    deadline = born + dt.timedelta(days=60)
    [confirm] = await turn(service, "u-born", f"{born:%d/%m/%Y}")
    assert f"{deadline:%d/%m/%Y}" in confirm["text"]
    assert f"{deadline - dt.timedelta(days=7):%d/%m/%Y}" in confirm["text"]
    [saved] = await turn(service, "u-born", "đồng ý")
    assert "đã đặt 2 lời nhắc" in saved["text"]
    rows = await scheduled(service, "u-born")
    assert [r["kind"] for r in rows] == ["birth_deadline", "birth_deadline"]
    assert [dt.datetime.fromisoformat(r["remind_at"]).date() for r in rows] == [
        deadline - dt.timedelta(days=7),
        deadline - dt.timedelta(days=1),
    ]


async def test_the_birth_form_takes_a_birth_told_as_yesterday(service: Service) -> None:
    await turn(service, "u-born-yesterday", '/set_reminder{"reminder_kind": "birth_deadline"}')
    [confirm] = await turn(service, "u-born-yesterday", "chau sinh hom qua")
    deadline = in_days(-1) + dt.timedelta(days=60)
    assert f"{deadline:%d/%m/%Y}" in confirm["text"]


async def test_a_birth_date_past_the_deadline_gets_the_late_registration_advice(
    service: Service,
) -> None:
    await turn(service, "u-late-born", '/set_reminder{"reminder_kind": "birth_deadline"}')
    [late] = await turn(service, "u-late-born", f"bé sinh ngày {in_days(-70):%d/%m/%Y}")
    assert "đã qua" in late["text"] and "đăng ký quá hạn" in late["text"]
    assert await scheduled(service, "u-late-born") == []


# --- dossier result dates ---------------------------------------------------------------


async def test_an_appointment_reminder_comes_the_day_before_the_result_date(
    service: Service,
) -> None:
    await service.database.run(users.interacted, "u-appt")
    database, settings, scheduler = service.database, service.settings, scheduler_of(service)
    ready = in_days(5)
    reminder_id = await schedule_appointment_reminder(
        database, scheduler, settings, "u-appt", "G22.39-250715-0001", ready
    )
    assert reminder_id is not None
    again = await schedule_appointment_reminder(
        database, scheduler, settings, "u-appt", "G22.39-250715-0001", ready
    )
    assert again is None
    row = await database.run(reminder_store.get, reminder_id)
    at = dt.datetime.combine(ready - dt.timedelta(days=1), dt.time(8), TIMEZONE)
    assert dt.datetime.fromisoformat(row["remind_at"]) == at
    scheduler.clock = FakeClock(at)
    await jobs.fire_reminder(scheduler, reminder_id)
    [fired] = await service.messages("u-appt")
    assert "G22.39-250715-0001" in fired["text"] and f"{ready:%d/%m/%Y}" in fired["text"]


async def test_a_new_result_date_replaces_the_appointment_reminder(service: Service) -> None:
    database, settings, scheduler = service.database, service.settings, scheduler_of(service)
    code = "G22.39-250715-0002"
    first = await schedule_appointment_reminder(
        database, scheduler, settings, "u-move", code, in_days(5)
    )
    second = await schedule_appointment_reminder(
        database, scheduler, settings, "u-move", code, in_days(8)
    )
    [row] = await scheduled(service, "u-move")
    assert row["id"] == second != first
    back = await schedule_appointment_reminder(
        database, scheduler, settings, "u-move", code, in_days(5)
    )
    assert back is not None  # the first date is free again


async def test_unsubscribing_a_dossier_cancels_its_appointment_reminder(service: Service) -> None:
    code = "G22.39-250718-0004"
    await schedule_appointment_reminder(
        service.database,
        scheduler_of(service),
        service.settings,
        "u-unsub-dossier",
        code,
        in_days(6),
    )
    [reply] = await turn(service, "u-unsub-dossier", f"hủy theo dõi hồ sơ {code}")
    assert code in reply["text"]
    assert await scheduled(service, "u-unsub-dossier") == []


def _weekday(day: dt.date) -> str:
    return project_library().ui["reminders"]["weekdays"][day.weekday()]


async def test_đúng_typed_without_diacritics_confirms(service: Service) -> None:
    # "dung" answering "… Đúng không ạ?" got no reply at all and set nothing
    await turn(service, "u-dung", f"nhắc tôi ngày {in_days(5):%d/%m/%Y} lúc 8h đi nộp hồ sơ")
    # what is not understood there gets the question again, not silence
    [again] = await turn(service, "u-dung", "xzq vbn")
    assert "Đúng không ạ?" in again["text"]
    [saved] = await turn(service, "u-dung", "dung")
    assert "đã đặt lời nhắc" in saved["text"]
    [row] = await scheduled(service, "u-dung")
    assert row["subject"] == "đi nộp hồ sơ"


async def test_a_birth_date_told_gets_the_deadline_and_the_offer_typed_works(
    service: Service,
) -> None:
    # "con toi sinh ngay 1/12" got "Muốn đặt lời nhắc, anh/chị nhắn ví dụ…"
    born = in_days(-6)
    replies = await turn(service, "u-born", f"con toi sinh ngay {born:%d/%m}")
    deadline = born + dt.timedelta(days=60)
    assert any(f"{deadline:%d/%m/%Y}" in r.get("text", "") for r in replies)
    # the offer's button typed out starts the birth-deadline reminders too
    replies = await turn(service, "u-typed", "nhắc hạn khai sinh")
    assert "Bé sinh ngày nào" in replies[-1]["text"]
