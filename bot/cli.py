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
    except SettingsError as exc:
        print(f"citizenbot: configuration error: {exc}", file=sys.stderr)
        return 2
    return 1


def run(settings: Settings) -> int:
    from aiohttp import web

    from bot.app import build_app
    from bot.brain import Brain
    from bot.training import ModelMissing

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


if __name__ == "__main__":
    sys.exit(main())
