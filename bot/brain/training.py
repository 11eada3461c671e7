"""Model lifecycle: which files train the model, their fingerprint, training, and finding
the model to load. Training is CPU-heavy and only ever runs in the CLI process, never on
the event loop of a live server.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

MODEL_PREFIX = "citizenbot-"
# Code that shapes the features: Rasa's cache does not notice when it changes.
NLU_CODE = Path(__file__).parent.parent / "nlu"


class ModelMissing(RuntimeError):
    """No usable trained model; the message says what to run."""


def training_files(project: Path) -> list[Path]:
    """config.yml, domain.yml and every YAML file under nlu/ and stories/, sorted."""
    files = [project / "config.yml", project / "domain.yml"]
    for folder in ("nlu", "stories"):
        files.extend(sorted((project / folder).rglob("*.yml")))
    return files


def faq_training_text(project: Path) -> str:
    """NLU examples generated from the FAQs in content/ (officers never edit nlu/)."""
    from bot.content.faq import training_yaml
    from bot.content.loader import load_library

    return training_yaml(load_library(project / "content"))


def fingerprint(project: Path) -> str:
    digest = hashlib.sha256()
    digest.update(faq_training_text(project).encode())
    sources = [(path, project) for path in training_files(project)]
    sources += [(path, NLU_CODE) for path in sorted(NLU_CODE.rglob("*.py"))]
    for path, root in sources:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path_for(project: Path, model_dir: Path) -> Path:
    return model_dir / f"{MODEL_PREFIX}{fingerprint(project)}.tar.gz"


def current_model(model_dir: Path) -> Path:
    """The newest trained model in `model_dir`."""
    models = sorted(model_dir.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise ModelMissing(
            f"no trained model in {model_dir}/: run `citizenbot train` (or `make run`) first"
        )
    return models[-1]


def train(
    project: Path, model_dir: Path, if_changed: bool = False, config: Path | None = None
) -> Path:
    """Train into models/citizenbot-<fingerprint>.tar.gz; skip when that file exists.

    `config` replaces config.yml (to compare pipelines); such models go to `model_dir`
    under the config's name.
    """
    target = model_path_for(project, model_dir)
    if config is not None:
        target = model_dir / f"{MODEL_PREFIX}{config.stem}.tar.gz"
    if if_changed and target.exists():
        log.info("training data unchanged; using %s", target)
        target.touch()  # the newest model is the one loaded
        return target
    # The training cache would reuse features computed by an older version of our
    # components; the fingerprint covers that code, so the cache is not needed.
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"
    from rasa.model_training import train as rasa_train

    files = training_files(project)
    with tempfile.TemporaryDirectory() as generated:
        faq_file = Path(generated) / "faq_examples.yml"
        faq_file.write_text(faq_training_text(project), encoding="utf-8")
        log.info("training on %d files and the content FAQs into %s", len(files), target)
        result = rasa_train(
            domain=str(project / "domain.yml"),
            config=str(config or project / "config.yml"),
            training_files=[str(p) for p in files[2:]] + [str(faq_file)],
            output=str(model_dir),
            fixed_model_name=target.name.removesuffix(".tar.gz"),
            force_training=True,
        )
    if result.code != 0 or not result.model:
        raise RuntimeError(f"training failed (code {result.code})")
    return Path(result.model)
