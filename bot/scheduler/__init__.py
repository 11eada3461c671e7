"""Scheduled campaigns and reminders (APScheduler, jobs persisted in the service database).

For the dossier side, one function schedules the reminder of a result date:

    await schedule_appointment_reminder(
        database: Database, settings: Settings, user_id: str, dossier_code: str,
        ready_on: datetime.date, now: datetime.datetime | None = None,
    ) -> int | None

It reminds `user_id` at `settings.reminder_time` (08:00) the day before `ready_on`; calling it
again with the same date does nothing, with a new date it replaces the reminder. It returns
the reminder id, or None when that moment has passed or the reminder exists already. It may
be called from any event loop; cancelling the dossier's subscription through the
`unsubscribe` intent cancels the reminder too.
"""

from bot.scheduler.reminders import schedule_appointment_reminder

__all__ = ["schedule_appointment_reminder"]
