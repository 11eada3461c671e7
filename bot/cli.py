"""`citizenbot`: run the service, train the model, parse messages."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
    train = commands.add_parser("train", help="train the Rasa model into models/")
    train.add_argument("--if-changed", action="store_true", help="skip when data is unchanged")
    parse = commands.add_parser("parse", help="one message per stdin line → one JSON line each")
    parse.add_argument("--model-dir", type=Path, default=None)
    evaluate = commands.add_parser("nlu-eval", help="evaluate on the held-out set, write a report")
    evaluate.add_argument("--holdout", type=Path, default=Path("tests/nlu/holdout.yml"))
    evaluate.add_argument(
        "--config",
        type=Path,
        action="append",
        help="pipelines to train and compare (repeatable; the first is the one in use). "
        "Without it, the current model is evaluated.",
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
    args = parser.parse_args(argv)
    logs.configure()
    try:
        settings = Settings.from_env()
        if args.command == "run":
            return run(settings)
        if args.command == "train":
            return train_model(args.project, settings.model_dir, args.if_changed)
        if args.command == "parse":
            return asyncio.run(parse_lines(args.model_dir or settings.model_dir))
        if args.command == "nlu-eval":
            return nlu_eval(args, settings)
        if args.command == "dossier":
            return dossier_import(args.file, settings)
        if args.command == "content":
            return content_check(settings.content_dir, args.project / "domain.yml")
    except SettingsError as exc:
        print(f"citizenbot: configuration error: {exc}", file=sys.stderr)
        return 2
    return 1


def run(settings: Settings) -> int:
    from aiohttp import web

    from bot.app import build_app
    from bot.brain import Brain
    from bot.content import ContentError
    from bot.content.loader import load_library
    from bot.training import ModelMissing

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
        brain = await Brain.load(settings.model_dir, settings.tracker_path)
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
    if settings.sandbox:
        print(f"citizenbot: open the sandbox chat at {settings.base_url}/sandbox/", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None, loop=loop)
    return 0


def train_model(project: Path, model_dir: Path, if_changed: bool) -> int:
    from bot.training import train

    path = train(project, model_dir, if_changed=if_changed)
    print(f"citizenbot: model ready: {path}", flush=True)
    return 0


async def parse_lines(model_dir: Path) -> int:
    from bot.brain import Brain
    from bot.training import ModelMissing

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


def dossier_import(path: Path, settings: Settings) -> int:
    from bot.dossiers.ingest import import_csv
    from bot.storage.secret import load_or_create

    if not path.exists():
        print(f"citizenbot: {path} does not exist", file=sys.stderr)
        return 2
    results = import_csv(path, settings.database_path, load_or_create(settings.data_dir))
    rejected = [r for r in results if not r.accepted]
    for row in rejected:
        print(f"{path}:{row.line}: rejected {row.code or '(no code)'}: {row.reason}")
    print(f"citizenbot: {len(results) - len(rejected)} rows accepted, {len(rejected)} rejected "
          "(rejected rows changed nothing)")
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
    """Train each pipeline (or use the current model) and evaluate it on the held-out set."""
    import time

    from bot.brain import Brain
    from bot.nlu_eval import load_holdout, markdown, predict, score
    from bot.training import train

    examples = load_holdout(args.holdout)

    def progress(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            print(f"  parsed {done}/{total}", file=sys.stderr, flush=True)

    async def evaluate(model_dir: Path, name: str) -> object:
        brain = await Brain.load(model_dir, with_actions=False)
        try:
            await brain.parse("xin chào")  # the first parse builds lazy parts of the graph
            return score(name, await predict(brain.parse, examples, progress))
        finally:
            await brain.close()

    results = []
    if not args.config:
        train(args.project, settings.model_dir, if_changed=True)
        print(f"evaluating the current model on {len(examples)} messages", file=sys.stderr)
        results.append(asyncio.run(evaluate(settings.model_dir, "config.yml (current model)")))
    for config in args.config or []:
        model_dir = settings.data_dir / "nlu-eval" / config.stem
        print(f"training {config} (progress below)", file=sys.stderr, flush=True)
        started = time.perf_counter()
        train(args.project, model_dir, config=config)
        seconds = time.perf_counter() - started
        print(f"evaluating {config} on {len(examples)} messages", file=sys.stderr, flush=True)
        metrics = asyncio.run(evaluate(model_dir, str(config)))
        metrics.training_seconds = seconds
        results.append(metrics)
    command = "citizenbot nlu-eval " + " ".join(f"--config {c}" for c in args.config or [])
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(markdown(results, args.holdout, command.strip()), encoding="utf-8")
    for m in results:
        print(
            f"{m.name}: accuracy {m.accuracy:.3f}, no diacritics "
            f"{m.accuracy_by_style['none']:.3f}, OOS recall {m.out_of_scope_recall:.3f}, "
            f"in-domain fallback {m.in_domain_fallback_rate:.3f}",
            flush=True,
        )
    print(f"citizenbot: report written to {args.report}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
