"""Scheduled campaigns and reminders (APScheduler, jobs persisted in the service database).

For the dossier side, one function schedules the reminder of a result date:

    await schedule_appointment_reminder(
        database: Database, reminder_jobs: ReminderJobs | None, settings: Settings,
        user_id: str, dossier_code: str, ready_on: datetime.date,
        now: datetime.datetime | None = None,
    ) -> int | None

It reminds `user_id` at `settings.reminder_time` (08:00) the day before `ready_on`; calling it
again with the same date does nothing, with a new date it replaces the reminder. It returns
the reminder id, or None when that moment has passed or the reminder exists already.
`reminder_jobs` is the service's scheduler (`Services.reminder_jobs`; None where none runs:
the scheduler then gives the reminder its job when it starts). It may be called from any
event loop; cancelling the dossier's subscription through the
`unsubscribe` intent cancels the reminder too.
"""

from bot.scheduler.citizen_reminders import schedule_appointment_reminder

__all__ = ["schedule_appointment_reminder"]
