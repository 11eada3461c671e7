"""What the load benches share: the questions citizens ask, the open-loop schedule that
sends them, and how latencies are summed up.

Open loop: each message is sent at its scheduled moment, none waits for another, so a
slow system faces the offered rate anyway and its backlog shows in the reply times."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# What citizens ask: procedures, office hours, the online portal, greetings and thanks;
# full diacritics, none, and teencode. None of them starts a form or asks for an officer,
# so every event gets at least one reply and the next message is understood on its own.
MESSAGES = [
    "xin chào ạ",
    "alo ad ơi",
    "làm giấy khai sinh cho con cần mang những gì?",
    "lam khai sinh cho be o dau",
    "thủ tục đăng ký kết hôn thế nào ạ",
    "dang ky ket hon can giay to gi",
    "chuyển hộ khẩu về nhà chồng thì làm sao?",
    "dang ky tam tru cho nguoi thue tro",
    "làm sao kích hoạt tài khoản định danh điện tử mức 2?",
    "quen mat khau vneid lay lai the nao",
    "mất căn cước thì cấp lại ở đâu, hết bao nhiêu tiền?",
    "chung thuc ban sao giay to o xa dc ko",
    "xin lý lịch tư pháp mất mấy ngày?",
    "lam so do lan dau can nhung gi",
    "thẻ bhyt hết hạn gia hạn online đc ko ad",
    "bộ phận một cửa làm việc mấy giờ?",
    "gio lam viec cua ubnd xa",
    "hướng dẫn nộp hồ sơ trên cổng dịch vụ công",
    "doi bang lai xe het han lam o dau",
    "xác nhận thông tin cư trú xin ở đâu?",
    "cảm ơn ad nhiều",
    "cam on nhe",
]


@dataclass
class Window:
    """One step of a load: a rate held for some seconds by fresh users, and how many
    answers came back meanwhile, whichever step asked."""

    rate: float
    seconds: float
    users: int
    started: float = 0.0  # time.time()
    ended: float = 0.0
    sent_rate: float = 0.0
    answered: int = 0

    @property
    def duration(self) -> float:
        return self.ended - self.started

    @property
    def answered_rate(self) -> float:
        return self.answered / self.duration if self.duration > 0 else 0.0


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (share 0.5 is the median); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 10:
        return f"{value:.1f} ms"
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:,.1f} s"


async def open_loop(
    rate: float,
    seconds: float,
    users: int,
    send: Callable[[int, str], Awaitable[None]],
) -> tuple[list[asyncio.Task], float]:
    """Start `send(user, text)` `rate` times a second for `seconds`, each at its moment;
    user n % users sends message n, so each user's messages are spread evenly. Returns the
    sends (still running) and the rate they were issued at: below `rate` when this process
    could not keep up."""
    total = round(rate * seconds)
    start = time.perf_counter()
    tasks = []
    for n in range(total):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        user, turn = n % users, n // users
        tasks.append(asyncio.create_task(send(user, MESSAGES[(user * 7 + turn) % len(MESSAGES)])))
    return tasks, total / (time.perf_counter() - start + 1 / rate)
