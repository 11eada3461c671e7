"""Per-address limits on the dossier API and the dashboard, over loopback: 429 with
Retry-After and a clear body; failed tokens and sign-ins are limited harder."""

from __future__ import annotations

from bot.web.app import REQUEST_LIMITS
from tests.conftest import Service
from tests.dashboard import OfficerClient, add_officer
from tests.engines import moves_the_limits_clock
from tests.test_dossiers_flow import RECEIVED, TOKEN

CODE = "000.00.24.H26-251120-0077"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def start(start_service, **overrides) -> tuple[Service, Clock]:
    service = await start_service(api_token=TOKEN, **overrides)
    clock = Clock()
    service.app[REQUEST_LIMITS].set_clock(clock)
    return service, clock


async def put(service: Service, token: str = TOKEN, forwarded_for: str | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    async with service.http.put(
        f"{service.url}/api/dossiers/{CODE}", json=RECEIVED, headers=headers
    ) as resp:
        return resp.status, resp.headers.get("Retry-After"), await resp.json()


async def test_wrong_bearer_tokens_lock_the_address_out_even_for_the_right_one(
    start_service,
) -> None:
    service, _ = await start(start_service, auth_failure_limit=(3, 600.0))
    for _ in range(3):
        assert (await put(service, token="guess"))[0] == 401
    status, retry_after, body = await put(service)  # the right token, too late
    assert status == 429
    assert int(retry_after) == body["retry_after"] == 200  # one failure back: 600 s / 3
    assert "wrong bearer token" in body["error"]


@moves_the_limits_clock
async def test_the_right_token_works_again_after_the_window(start_service) -> None:
    service, clock = await start(start_service, auth_failure_limit=(3, 600.0))
    for _ in range(4):
        await put(service, token="guess")
    clock.now += 600
    assert (await put(service))[0] == 201


@moves_the_limits_clock
async def test_dossier_api_requests_beyond_the_cap_get_429_with_retry_after(
    start_service,
) -> None:
    service, clock = await start(start_service, api_request_limit=(5, 60.0))
    statuses = [(await put(service))[0] for _ in range(5)]
    assert statuses == [201, 200, 200, 200, 200]
    status, retry_after, body = await put(service)
    assert (status, retry_after, body["retry_after"]) == (429, "12", 12)
    assert body["error"].startswith("too many requests")
    clock.now += 12
    assert (await put(service))[0] == 200


async def test_dashboard_requests_beyond_the_cap_get_a_429_page(start_service) -> None:
    service, _ = await start(start_service, admin_request_limit=(5, 60.0))
    for _ in range(5):
        async with service.http.get(f"{service.url}/admin/login") as resp:
            assert resp.status == 200
    async with service.http.get(f"{service.url}/admin/login") as resp:
        page = await resp.text()
        assert resp.status == 429 and resp.headers["Retry-After"] == "12"
        assert resp.content_type == "text/html"
    assert "quá nhiều yêu cầu" in page and "12 giây" in page
    async with service.http.get(f"{service.url}/healthz") as resp:
        assert resp.status == 200  # other paths are not limited


@moves_the_limits_clock
async def test_failed_sign_ins_from_one_address_are_limited_across_accounts(
    start_service,
) -> None:
    service, clock = await start(start_service, auth_failure_limit=(3, 600.0))
    await add_officer(service, "canbo", "admin")
    officer = OfficerClient(service)
    for name in ("an", "binh", "cuong"):  # a different name each time: no account lockout
        status, _ = await officer.login(name, "doan-mo")
        assert status == 401
    status, page = await officer.login("canbo")  # the right password, too late
    assert status == 429 and "đăng nhập sai quá nhiều lần" in page
    clock.now += 600
    status, _ = await officer.login("canbo")
    await officer.close()
    assert status == 200  # signed in: redirected to the dashboard


async def test_forwarded_for_names_the_client_only_behind_a_trusted_proxy(
    start_service,
) -> None:
    service, _ = await start(
        start_service, auth_failure_limit=(2, 600.0), trusted_proxies=("127.0.0.1",)
    )
    for _ in range(2):
        assert (await put(service, "guess", forwarded_for="203.0.113.5"))[0] == 401
    assert (await put(service, forwarded_for="203.0.113.5"))[0] == 429
    # Another client behind the same proxy is not locked out by the first one's guesses.
    assert (await put(service, forwarded_for="198.51.100.7"))[0] == 201
    # A client cannot choose its address by prepending to the header: the proxy's own
    # entry (the last one) is what counts.
    assert (await put(service, forwarded_for="198.51.100.7, 203.0.113.5"))[0] == 429


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(start_service) -> None:
    service, _ = await start(start_service, auth_failure_limit=(2, 600.0))
    for n in range(2):
        assert (await put(service, "guess", forwarded_for=f"203.0.113.{n}"))[0] == 401
    assert (await put(service, forwarded_for="198.51.100.7"))[0] == 429
