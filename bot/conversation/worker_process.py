"""One worker process of `citizenbot run` with CITIZENBOT_WORKERS > 1
(bot/conversation/worker_pool.py).

It loads its own model and handles the citizens of one shard (bot/storage/inbox.py,
`shard_of`), in every commune (bot/conversation/worker_communes.py): it claims their events
from a commune's inbox when the web server's process names the commune on their socket pair
(CHANNEL_FD), and replies through the commune's Zalo client and outbox, as the in-process
design does; it sends a byte back once it is ready. Campaigns, reminders and dossier
notifications stay in the web server's process. SIGTERM: finish what was claimed (up to the
grace period) and exit 0. The socket pair closing means the web server's process is gone:
exit at once, as a kill would, so that the next server's workers alone hold the shard's
claims.

    python -m bot.conversation.worker_process SHARD COUNT CHANNEL_FD GRACE_SECONDS
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys

# Citizens' data stays here: no telemetry or crash reports to Rasa's servers.
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bot import logs  # noqa: E402
from bot.brain.agent import Brain  # noqa: E402
from bot.brain.training import ModelMissing  # noqa: E402
from bot.conversation.processing_loop import ProcessingLoop  # noqa: E402
from bot.conversation.worker import Shard  # noqa: E402
from bot.conversation.worker_communes import WorkerCommunes  # noqa: E402
from bot.conversation.worker_pool import commune_woken  # noqa: E402
from bot.settings import Settings  # noqa: E402

log = logging.getLogger("bot.conversation.worker_process")  # not "__main__"
PARENT_GONE_EXIT = 3


async def serve(shard: Shard, channel: int, grace_seconds: float) -> None:
    """Handle the shard's events until SIGTERM (graceful) or the web server's end (abrupt)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    settings = Settings.from_env()
    brain = await Brain.load(
        settings.model_dir, settings.tracker_database, redis_url=settings.redis_url
    )
    processing = ProcessingLoop()
    processing.start()
    communes = WorkerCommunes(settings, processing, brain, shard)

    def woken() -> None:
        """Wake-ups, each naming a commune, read to the end: the end of the pair means the
        web server is gone."""
        named: set[str] = set()
        try:
            while message := os.read(channel, 256):
                named.add(commune_woken(message))
        except BlockingIOError:  # all read: the web server is there
            if communes.started:  # before the start, its full read of every inbox follows
                for slug in named:
                    communes.wake(slug)
            return
        log.error("worker %d: the web server's process is gone; stopping", shard.index)
        os._exit(PARENT_GONE_EXIT)

    os.set_blocking(channel, False)
    woken()  # a web server gone while the model loaded: exit before taking over any claim
    await communes.start()
    loop.add_reader(channel, woken)
    os.write(channel, b"R")
    log.info("worker %d of %d ready (pid %d)", shard.index, shard.count, os.getpid())
    await stop.wait()
    loop.remove_reader(channel)
    await communes.stop(grace_seconds)
    await processing.stop()
    await brain.close()
    log.info("worker %d stopped", shard.index)


WORKER_NICENESS = 5


def main(argv: list[str]) -> int:
    shard, count, channel, grace_seconds = argv
    # Ctrl-C reaches the whole process group: the web server's process stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Acknowledging an event is cheap and Zalo waits for it; answering can wait a little:
    # on a busy machine the web server's process gets the CPU first.
    os.nice(WORKER_NICENESS)
    logs.configure(json_lines=os.environ.get("CITIZENBOT_LOG_FORMAT") != "text")
    try:
        # Its claims are named after the web server's process: a restarted worker takes over
        # its predecessor's at once (bot/storage/inbox.py).
        instance = f"{socket.gethostname()}:{os.getppid()}"
        asyncio.run(
            serve(Shard(int(shard), int(count), instance), int(channel), float(grace_seconds))
        )
    except ModelMissing as exc:
        log.error("worker %s cannot start: %s", shard, exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
