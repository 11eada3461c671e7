"""`citizenbot`: run the service, train the model, parse messages."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

# Citizens' data stays here: no telemetry or crash reports to Rasa's servers.
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bot import logs  # noqa: E402
from bot.settings import Settings, SettingsError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="citizenbot", description=__doc__)
    parser.add_argument("--project", type=Path, default=Path("."), help="project root (config.yml)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the service (sandbox when no Zalo credentials)")
    actions_cmd = commands.add_parser(
        "actions",
        help="serve actions/ to a Rasa run separately (instead of `rasa run actions`): "
        "one database connection and content load for all actions",
    )
    actions_cmd.add_argument("--host", default=None, help="default: CITIZENBOT_HOST")
    actions_cmd.add_argument("--port", type=int, default=5055, help="default: 5055, as rasa_sdk")
    train = commands.add_parser("train", help="train the Rasa model into models/")
    train.add_argument("--if-changed", action="store_true", help="skip when data is unchanged")
    parse = commands.add_parser("parse", help="one message per stdin line → one JSON line each")
    parse.add_argument("--model-dir", type=Path, default=None)
    evaluate = commands.add_parser("nlu-eval", help="evaluate on the test sets, write a report")
    evaluate.add_argument(
        "--test-set",
        type=Path,
        action="append",
        help="a test set (repeatable); default: tests/nlu/holdout.yml and tests/nlu/real.yml",
    )
    evaluate.add_argument(
        "--config",
        type=Path,
        action="append",
        help="pipelines to train and compare (repeatable; the first is the one in use). "
        "Without it, the current model is evaluated.",
    )
    evaluate.add_argument(
        "--answers",
        type=Path,
        default=Path("tests/answers.yml"),
        help="questions with the facts their first reply must state (through the service)",
    )
    evaluate.add_argument("--report", type=Path, default=Path("docs/nlu-report.md"))
    content_cmd = commands.add_parser("content", help="officers' content in content/")
    content_cmd.add_subparsers(dest="content_command", required=True).add_parser(
        "check", help="validate every content file; problems with file and line"
    )
    dossier_cmd = commands.add_parser("dossier", help="dossiers from the one-stop system")
    import_cmd = dossier_cmd.add_subparsers(dest="dossier_command", required=True).add_parser(
        "import", help="import status updates from a CSV file (a report per row)"
    )
    import_cmd.add_argument("file", type=Path)
    import_cmd.add_argument("--commune", default="", help="the dossiers of this commune")
    officer_cmd = commands.add_parser("officer", help="officers' dashboard accounts")
    add_officer = officer_cmd.add_subparsers(dest="officer_command", required=True).add_parser(
        "add", help="create an account (the first one: --role admin); asks for the password"
    )
    add_officer.add_argument("username")
    add_officer.add_argument(
        "--role",
        action="append",
        required=True,
        help="admin, content_editor, dossier_operator, feedback_handler or province (repeatable)",
    )
    add_officer.add_argument("--name", default="", help="the officer's full name")
    add_officer.add_argument(
        "--commune",
        default="",
        help="an officer of this commune only (signs in as COMMUNE/USERNAME); "
        "without it, of the default commune (--role province: sees every commune)",
    )
    add_officer.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (scripts)"
    )
    commune_cmd = commands.add_parser("commune", help="communes served besides the default")
    commune_sub = commune_cmd.add_subparsers(dest="commune_command", required=True)
    add_commune = commune_sub.add_parser(
        "add",
        help="add a commune (served at /webhook/zalo/SLUG from its first event, no restart); "
        "without --app-id it talks to the embedded sandbox",
    )
    add_commune.add_argument("slug", help="lower-case letters, digits and dashes: phuong-ba-dinh")
    add_commune.add_argument("--app-id", default="", help="its Zalo app id")
    add_commune.add_argument(
        "--secrets-stdin",
        action="store_true",
        help="with --app-id: read the app secret, the OA secret key and the refresh token, "
        "one a line, from stdin (never on the command line)",
    )
    commune_sub.add_parser("list", help="the communes added, and where their data lives")
    campaign_cmd = commands.add_parser("campaign", help="campaigns in content/campaigns/")
    campaign_sub = campaign_cmd.add_subparsers(dest="campaign_command", required=True)
    campaign_sub.add_parser("list", help="every campaign, its schedule and last run")
    preview = campaign_sub.add_parser(
        "preview", help="the message, the next 5 runs, the audience and who would be skipped"
    )
    preview.add_argument("id")
    report = campaign_sub.add_parser("report", help="delivery report of a campaign's runs")
    report.add_argument("id")
    report.add_argument("--run", type=int, help="only this run")
    for command in campaign_sub.choices.values():
        command.add_argument("--commune", default="", help="this commune's campaigns")
    backup_cmd = commands.add_parser(
        "backup", help="copy the databases (service and conversations) while the service runs"
    )
    backup_cmd.add_argument("--to", type=Path, default=Path("var/backups"))
    purge_cmd = commands.add_parser(
        "purge", help="purge message logs past CITIZENBOT_MESSAGE_RETENTION_DAYS (daily at 03:00)"
    )
    purge_cmd.add_argument("--dry-run", action="store_true", help="only count what would go")
    user_cmd = commands.add_parser("user", help="a citizen's personal data (by Zalo user id)")
    user_sub = user_cmd.add_subparsers(dest="user_command", required=True)
    export_cmd = user_sub.add_parser("export", help="everything stored about a user, as JSON")
    export_cmd.add_argument("user_id")
    export_cmd.add_argument("--to", type=Path, help="write to this file (default: stdout)")
    forget_cmd = user_sub.add_parser(
        "forget", help="delete or anonymise everything about a user (asks first)"
    )
    forget_cmd.add_argument("user_id")
    forget_cmd.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    for command in (export_cmd, forget_cmd):
        command.add_argument("--commune", default="", help="a citizen of this commune's OA")
    migrate_cmd = commands.add_parser(
        "migrate",
        help="copy a commune's SQLite data (tables, conversations, scheduled jobs) into PostgreSQL",
        description="Example: citizenbot migrate --to postgresql://citizenbot@db/citizenbot"
        " [--commune phuong-ba-dinh], once per commune (stop the service first for a copy with"
        " nothing missing; then start it with CITIZENBOT_DATABASE_URL set to the same URL).",
    )
    migrate_cmd.add_argument("--to", required=True, metavar="POSTGRESQL_URL")
    migrate_cmd.add_argument(
        "--commune", default="", help="an added commune (default: the default commune)"
    )
    args = parser.parse_args(argv)
    # The service and the action server log JSON lines (CITIZENBOT_LOG_FORMAT=text for plain
    # lines); the other commands, text.
    serving = args.command in ("run", "actions")
    json_lines = serving and os.environ.get("CITIZENBOT_LOG_FORMAT") != "text"
    logs.configure(json_lines=json_lines)
    try:
        settings = Settings.from_env()
        if args.command == "run":
            return run(settings)
        if args.command == "actions":
            return serve_actions(settings, args.host or settings.host, args.port)
        if args.command == "train":
            return train_model(args.project, settings.model_dir, args.if_changed)
        if args.command == "parse":
            return asyncio.run(parse_lines(args.model_dir or settings.model_dir))
        if args.command == "nlu-eval":
            return nlu_eval(args, settings)
        if args.command == "backup":
            return backup_databases(settings, args.to)
        if args.command == "purge":
            return asyncio.run(purge(settings, args.dry_run))
        if args.command == "user":
            return asyncio.run(user_data(args, settings))
        if args.command == "dossier":
            return dossier_import(args.file, settings, args.commune)
        if args.command == "officer":
            return asyncio.run(officer_add(args, settings))
        if args.command == "campaign":
            return asyncio.run(campaign(args, settings))
        if args.command == "commune":
            return asyncio.run(commune(args, settings))
        if args.command == "migrate":
            return migrate(settings, args.to, args.commune)
        if args.command == "content":
            return content_check(settings.content_dir, args.project / "domain.yml")
    except SettingsError as exc:
        print(f"citizenbot: configuration error: {exc}", file=sys.stderr)
        return 2
    return 1


async def commune(args: argparse.Namespace, settings: Settings) -> int:
    """`citizenbot commune add phuong-ba-dinh` (sandbox), or with its OA:
    `printf '%s\\n' "$APP_SECRET" "$OA_SECRET_KEY" "$REFRESH_TOKEN" |
    citizenbot commune add phuong-ba-dinh --app-id 1234 --secrets-stdin`."""
    from bot.communes import commune_config
    from bot.communes.commune_config import Commune, CommuneError
    from bot.communes.commune_setup import add_commune

    if args.commune_command == "list":
        for slug in commune_config.added(settings):
            where = commune_config.data_dir(settings, slug)
            print(f"{slug}\t{where}\t{commune_config.content_dir(settings, slug)}")
        return 0
    try:
        if args.app_id:
            if not args.secrets_stdin:
                raise CommuneError("an OA's secrets come from stdin: add --secrets-stdin")
            secrets = [sys.stdin.readline().strip() for _ in range(3)]
            if not all(secrets):
                raise CommuneError("stdin must give the app secret, OA secret key, refresh token")
            new = Commune(args.slug, False, args.app_id, *secrets)
        else:
            new = Commune.in_sandbox(args.slug)
        written = await add_commune(settings, new)
    except CommuneError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"citizenbot: wrote {path}")
    print(
        f"citizenbot: commune {args.slug} added; its webhook: "
        f"{settings.base_url}/webhook/zalo/{args.slug} (served from its first event); "
        f"fill in {commune_config.content_dir(settings, args.slug)}/locality.yml",
        flush=True,
    )
    return 0


async def officer_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create a dashboard account in the service's database (the service may be running)."""
    import getpass

    from bot.communes import commune_config
    from bot.storage import Database, audit, officer_accounts

    if args.commune and "province" in args.role:
        print("citizenbot: the province role is for the default commune", file=sys.stderr)
        return 1
    try:
        officer_settings = commune_config.settings_of(settings, args.commune)
    except commune_config.CommuneError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 1
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (at least 10 characters): ")
        if getpass.getpass("Password again: ") != password:
            print("citizenbot: the two passwords differ", file=sys.stderr)
            return 1
    try:
        officer_accounts.check_new(args.username, password, args.role)
    except officer_accounts.OfficerError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 1
    password_hash = await asyncio.get_running_loop().run_in_executor(
        None, officer_accounts.hash_password, password
    )
    database = Database.from_settings(officer_settings)
    await database.open()
    try:
        await database.run(
            officer_accounts.create, args.username, args.name, password_hash, args.role
        )
        await database.run(audit.record, "cli", "officer_added", args.username, ",".join(args.role))
    except officer_accounts.OfficerError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 1
    finally:
        await database.close()
    signs_in_as = f"{args.commune}/{args.username}" if args.commune else args.username
    print(
        f"citizenbot: officer {signs_in_as} added ({', '.join(args.role)}); "
        f"sign in at {settings.base_url}/admin/",
        flush=True,
    )
    return 0


def run(settings: Settings) -> int:
    from aiohttp import web

    from bot.brain.training import ModelMissing
    from bot.content import ContentError
    from bot.content.loader import load_library
    from bot.scheduler.scheduler_lock import SchedulerLocked
    from bot.web.app import STOP, build_app

    try:
        load_library(settings.content_dir)
    except ContentError as exc:
        print(
            f"citizenbot: cannot start, content is broken: {exc}\n"
            "  run `citizenbot content check` for every problem",
            file=sys.stderr,
        )
        return 2

    async def make_app() -> web.Application:
        if settings.workers > 1:
            return build_app(settings, None)  # each worker process loads the model
        from bot.brain.agent import Brain  # Rasa and TensorFlow: only where events are handled

        brain = await Brain.load(
            settings.model_dir, settings.tracker_database, redis_url=settings.redis_url
        )
        app = build_app(settings, brain)
        app.on_cleanup.append(lambda _: brain.close())
        return app

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        app = loop.run_until_complete(make_app())
    except ModelMissing as exc:
        print(f"citizenbot: cannot start: {exc}", file=sys.stderr)
        return 2
    mode = "the local Zalo sandbox" if settings.sandbox else "the real Zalo OA API"
    print(f"citizenbot: serving on {settings.base_url} (talking to {mode})", flush=True)
    if settings.workers > 1:
        print(f"citizenbot: {settings.workers} worker processes load the model", flush=True)
    if settings.sandbox:
        print(f"citizenbot: open the sandbox chat at {settings.base_url}/sandbox/", flush=True)

    def begin_graceful_stop() -> None:
        async def stop() -> None:
            await app[STOP](app)
            loop.call_soon(raise_graceful_exit)

        loop.create_task(stop())

    def raise_graceful_exit() -> None:
        raise web.GracefulExit()  # a SystemExit: leaves run_app, which then cleans up

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, begin_graceful_stop)
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            print=None,
            loop=loop,
            handle_signals=False,
        )
    except SchedulerLocked as exc:
        print(f"citizenbot: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def serve_actions(settings: Settings, host: str, port: int) -> int:
    """Serve the actions/ package to a Rasa run separately, all actions sharing one set of
    services; Rasa's endpoints.yml: `action_endpoint: {url: "http://HOST:PORT/webhook"}`.

        citizenbot actions --port 5055
    """
    from aiohttp import web

    from bot.brain.action_server import build_action_server
    from bot.services import Services

    async def make_app() -> web.Application:
        services = await Services.for_action_server(settings)
        app = build_action_server(services)
        app.on_cleanup.append(lambda _: services.database.close())
        return app

    print(f"citizenbot: serving actions on http://{host}:{port}/webhook", flush=True)
    web.run_app(make_app(), host=host, port=port, print=None)
    return 0


async def campaign(args: argparse.Namespace, settings: Settings) -> int:
    """`campaign list|preview|report`: read-only, safe while the service runs."""
    from bot.communes import commune_config
    from bot.scheduler import campaign_overview
    from bot.storage import Database

    try:
        settings = commune_config.settings_of(settings, args.commune)
    except commune_config.CommuneError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 1
    overlay = commune_config.content_dir(settings, args.commune) if args.commune else None
    database = Database.from_settings(settings)
    await database.open()
    try:
        if args.campaign_command == "list":
            text, ok = await campaign_overview.campaign_list(settings, database, overlay)
            print(text)
            return 0 if ok else 1
        if args.campaign_command == "preview":
            print(await campaign_overview.campaign_preview(settings, database, args.id, overlay))
        else:
            print(await campaign_overview.campaign_report(settings, database, args.id, args.run))
    except campaign_overview.UnknownCampaign as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 1
    finally:
        await database.close()
    return 0


def train_model(project: Path, model_dir: Path, if_changed: bool) -> int:
    from bot.brain.training import train

    path = train(project, model_dir, if_changed=if_changed)
    print(f"citizenbot: model ready: {path}", flush=True)
    return 0


async def parse_lines(model_dir: Path) -> int:
    from bot.brain.agent import Brain
    from bot.brain.training import ModelMissing

    try:
        brain = await Brain.load(model_dir, with_actions=False)
    except ModelMissing as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 2
    for line in sys.stdin:
        text = line.rstrip("\n")
        if text.strip():
            print(json.dumps(await brain.parse(text), ensure_ascii=False), flush=True)
    await brain.close()
    return 0


def backup_databases(settings: Settings, destination: Path) -> int:
    import datetime as dt

    from bot.communes import commune_config
    from bot.storage.backup import backup, expire

    if settings.database_url:  # the tables and Rasa's conversations: docs/deploy.md
        print("citizenbot: everything is on PostgreSQL: back it up with pg_dump", file=sys.stderr)
        return 1
    # Each commune's database into its own folder (their files share a name).
    folders = {destination: (settings.database_path, settings.tracker_path)}
    for slug in commune_config.added(settings):
        commune_database = commune_config.settings_of(settings, slug).database_path
        folders[destination / "communes" / slug] = (commune_database,)
    keep = settings.message_retention_days
    now = dt.datetime.now(dt.timezone.utc)
    for folder, sources in folders.items():
        for source in sources:
            if source.exists():
                print(f"citizenbot: {source} → {backup(source, folder)}", flush=True)
            else:
                print(f"citizenbot: {source} does not exist yet; nothing to back up", flush=True)
        for old in expire(folder, {source.stem for source in sources}, keep, now):
            print(f"citizenbot: deleted {old} (older than the {keep}-day retention)", flush=True)
    return 0


async def purge(settings: Settings, dry_run: bool) -> int:
    """Purge message logs past the retention period, the default commune's and then each
    added commune's (safe while the service runs)."""
    import datetime as dt

    from bot import privacy
    from bot.communes import commune_config
    from bot.storage import Database, retention

    now = dt.datetime.now(dt.timezone.utc)  # one cutoff for every commune
    kept_from = privacy.cutoff_day(now, settings.message_retention_days)
    print(
        f"citizenbot: message logs are kept {settings.message_retention_days} days, "
        f"from {kept_from.isoformat()}; "
        + ("older ones would go (dry run, nothing changed):" if dry_run else "older ones:")
    )
    for commune in ["", *commune_config.added(settings)]:
        database = Database.from_settings(commune_config.settings_of(settings, commune))
        await database.open()
        try:
            result = await privacy.purge_message_logs(
                database,
                settings.tracker_database,  # shared: the commune's conversations only
                settings.message_retention_days,
                now,
                dry_run,
                commune,
            )
        finally:
            await database.close()
        print(f"commune {commune}:" if commune else "default commune:")
        for table, count in result.changed.items():
            print(f"  {table}: {count} {retention.EFFECTS.get(table, 'rows')}")
    return 0


async def user_data(args: argparse.Namespace, settings: Settings) -> int:
    """`user export ID` / `user forget ID`: a citizen's request about their personal data."""
    from bot import privacy
    from bot.communes import commune_config
    from bot.communes.conversation_ids import conversation_id
    from bot.storage import Database
    from bot.storage.personal_data import ANONYMISED

    try:
        commune_settings = commune_config.settings_of(settings, args.commune)
    except commune_config.CommuneError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 1
    # Rasa's tracker store is shared: a commune's conversations are prefixed.
    conversation = conversation_id(args.commune, args.user_id)
    database = Database.from_settings(commune_settings)
    await database.open()
    try:
        if args.user_command == "export":
            data = await privacy.export_user(
                database, settings.tracker_database, args.user_id, conversation
            )
            text = json.dumps(data, ensure_ascii=False, indent=2)
            if args.to is None:
                print(text)
            else:
                fd = os.open(args.to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                rows = sum(len(rows) for rows in data["tables"].values())
                print(f"citizenbot: {rows} rows about the user written to {args.to}")
            return 0
        found = await privacy.forget_user(
            database, settings.tracker_database, args.user_id, "cli", True, conversation
        )
        if not args.yes:
            stored = ", ".join(f"{table} {n}" for table, n in found.items() if n)
            print(f"citizenbot: stored about {args.user_id}: {stored or 'nothing'}", flush=True)
            question = "Delete or anonymise all of it? This cannot be undone. [yes/no] "
            answer = await asyncio.get_running_loop().run_in_executor(None, input, question)
            if answer.strip().lower() not in ("yes", "y"):
                print("citizenbot: nothing changed")
                return 1
        changed = await privacy.forget_user(
            database, settings.tracker_database, args.user_id, "cli", conversation=conversation
        )
    except EOFError:
        print("\ncitizenbot: no answer; nothing changed (use --yes in scripts)", file=sys.stderr)
        return 1
    finally:
        await database.close()
    for table, count in changed.items():
        how = "anonymised" if table in ANONYMISED else "deleted"
        print(f"  {table}: {count} {how}")
    print("citizenbot: done; the audit log records it without naming the user")
    return 0


def migrate(settings: Settings, url: str, commune: str) -> int:
    """A commune's SQLite data into PostgreSQL: its tables into its schema (the database's
    own for the default commune), its conversations and scheduled jobs with them."""
    from bot.communes import commune_config
    from bot.communes.conversation_ids import senders_of
    from bot.postgres_migration import MigrationError, copy_to_postgres

    if not url.startswith("postgresql://"):
        print("citizenbot: --to must be a postgresql:// URL", file=sys.stderr)
        return 2
    try:
        commune_settings = commune_config.settings_of(settings, commune)
        copied = copy_to_postgres(
            commune_settings.database_path,
            settings.tracker_path,  # the deployment's: the communes share it
            url,
            commune_config.schema_of(commune) if commune else None,
            senders_of(commune),
            lambda table, rows: print(f"  {table}: {rows} rows", flush=True),
        )
    except (commune_config.CommuneError, MigrationError) as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 1
    print(
        f"citizenbot: {sum(copied.values())} rows copied from {commune_settings.data_dir};"
        " start the service with CITIZENBOT_DATABASE_URL set to the new database"
    )
    return 0


def dossier_import(path: Path, settings: Settings, commune: str = "") -> int:
    from bot.communes import commune_config
    from bot.dossiers.ingest import import_csv
    from bot.storage.secret import load_or_create

    if not path.exists():
        print(f"citizenbot: {path} does not exist", file=sys.stderr)
        return 2
    try:
        settings = commune_config.settings_of(settings, commune)
    except commune_config.CommuneError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 1
    results = import_csv(path, settings, load_or_create(settings.data_dir))
    rejected = [r for r in results if not r.accepted]
    for row in rejected:
        print(f"{path}:{row.line}: rejected {row.code or '(no code)'}: {row.reason}")
    print(
        f"citizenbot: {len(results) - len(rejected)} rows accepted, {len(rejected)} rejected "
        "(rejected rows changed nothing)"
    )
    print("citizenbot: a running service sends the notifications within a few seconds")
    return 1 if rejected else 0


def content_check(content_dir: Path, domain_path: Path) -> int:
    from bot.content.checks import check_content

    problems = check_content(content_dir, domain_path)
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    print(f"citizenbot: content check: {errors} errors, {warnings} warnings in {content_dir}/")
    return 1 if errors else 0


def nlu_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Train each pipeline (or use the current model) and evaluate it on every test set."""
    import tempfile
    import time

    from bot.brain.agent import Brain
    from bot.brain.answer_evaluation import first_replies, load_cases
    from bot.brain.answer_evaluation import markdown as answer_section
    from bot.brain.answer_evaluation import rate as answer_rate
    from bot.brain.nlu_evaluation import load_holdout, markdown, predict, score
    from bot.brain.training import train

    paths = args.test_set or [Path("tests/nlu/holdout.yml"), Path("tests/nlu/real.yml")]
    sets = [(path, load_holdout(path)) for path in paths]

    def progress(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            print(f"  parsed {done}/{total}", file=sys.stderr, flush=True)

    async def evaluate(model_dir: Path, name: str, answers: bool) -> tuple[list, list]:
        with tempfile.TemporaryDirectory(prefix="nlu-eval-") as scratch:
            brain = await Brain.load(model_dir, Path(scratch) / "tracker.db")
            try:
                await brain.parse("xin chào")  # the first parse builds lazy parts of the graph
                results = []
                for path, examples in sets:
                    print(f"evaluating {name} on {path} ({len(examples)})", file=sys.stderr)
                    results.append(score(name, await predict(brain.parse, examples, progress)))
                replies = []
                if answers and args.answers.exists():
                    cases = load_cases(args.answers)
                    print(f"asking {len(cases)} questions of {args.answers}", file=sys.stderr)
                    replies = await first_replies(brain, settings.content_dir, cases)
                return results, replies
            finally:
                await brain.close()

    runs = []  # per pipeline, one Metrics per test set
    answered: list = []  # the first pipeline's replies to tests/answers.yml
    if not args.config:
        train(args.project, settings.model_dir, if_changed=True)
        metrics, answered = asyncio.run(
            evaluate(settings.model_dir, "config.yml (current model)", True)
        )
        runs.append(metrics)
    for config in args.config or []:
        model_dir = settings.data_dir / "nlu-eval" / config.stem
        print(f"training {config} (progress below)", file=sys.stderr, flush=True)
        started = time.perf_counter()
        train(args.project, model_dir, config=config)
        seconds = time.perf_counter() - started
        metrics, replies = asyncio.run(evaluate(model_dir, str(config), not runs))
        answered = answered or replies
        for m in metrics:
            m.training_seconds = seconds
        runs.append(metrics)
    by_set = [(path, [run[n] for run in runs]) for n, (path, _) in enumerate(sets)]
    command = "citizenbot nlu-eval " + " ".join(
        [f"--test-set {p}" for p in args.test_set or []]
        + [f"--config {c}" for c in args.config or []]
    )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    report = markdown(by_set, command.strip())
    if answered:
        report += "\n".join(answer_section(args.answers, answered))
        print(f"{args.answers}: first reply states the asked fact for {answer_rate(answered):.3f}")
    args.report.write_text(report, encoding="utf-8")
    for path, results in by_set:
        for m in results:
            print(
                f"{path} · {m.name}: accuracy {m.accuracy:.3f}, right/asked/wrong "
                f"{m.answered_right:.3f}/{m.asked_back:.3f}/{m.answered_wrong:.3f}, OOS recall "
                f"{m.out_of_scope_recall:.3f}, in-domain fallback {m.in_domain_fallback_rate:.3f}",
                flush=True,
            )
    print(f"citizenbot: report written to {args.report}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
