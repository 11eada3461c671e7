"""An FAQ an officer adds to content/ is answered after `citizenbot train` (no nlu/ edits)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rasa.core.channels.channel import CollectingOutputChannel

from bot.brain.agent import Brain
from bot.services import Services
from tests.conftest import PROJECT, run_cli

NEW_FAQ = """
  - id: dat-dai-cot-moc-thu-nghiem
    question: "Trâu giẫm đổ cột mốc ranh giới thửa đất thì báo cho ai?"
    examples:
      - "trâu nhà tôi giẫm đổ cột mốc ranh giới đất thì báo ai"
      - "cot moc ranh gioi dat bi trau giam do thi bao ai"
      - "cột mốc ranh giới thửa đất bị đổ thì báo cho ai ạ"
    answer: "CÂU TRẢ LỜI THỬ NGHIỆM VỀ CỘT MỐC."
"""


@pytest.mark.slow
async def test_a_new_faq_is_answered_after_citizenbot_train(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("config.yml", "domain.yml"):
        shutil.copy(PROJECT / name, project / name)
    for folder in ("nlu", "stories", "content"):
        shutil.copytree(PROJECT / folder, project / folder)
    guide = project / "content" / "guides" / "dat-dai.yml"
    # added to the land guide's FAQs, first of them
    guide.write_text(guide.read_text().replace("\nfaqs:\n", f"\nfaqs:{NEW_FAQ}", 1))
    assert "dat-dai-cot-moc-thu-nghiem" in guide.read_text()

    await run_cli(
        "--project",
        str(project),
        "train",
        env={
            "CITIZENBOT_MODEL_DIR": str(project / "models"),
            "CITIZENBOT_CONTENT_DIR": str(project / "content"),
        },
    )

    brain = await Brain.load(project / "models", tmp_path / "tracker.db")
    monkeypatch.setenv("CITIZENBOT_CONTENT_DIR", str(project / "content"))
    monkeypatch.setenv("CITIZENBOT_DATA_DIR", str(tmp_path / "var"))
    services = await Services.from_environment()
    brain.use(services)
    try:
        output = CollectingOutputChannel()
        await brain.handle(
            "u-new-faq", "trau nha toi giam do cot moc ranh gioi dat thi bao ai", output
        )
        assert "CÂU TRẢ LỜI THỬ NGHIỆM VỀ CỘT MỐC." in output.messages[0]["text"]
    finally:
        await services.database.close()
        await brain.close()
