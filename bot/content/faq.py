"""FAQs officers write in guides: training examples for the guide's intent, and matching a
citizen's question to the closest FAQ once the model has recognised the procedure.

FAQ phrasings train the guide's own intent (never an intent of their own), so the intent
catalogue stays the contract: "khai sinh có cần giấy kết hôn" is still
proc_birth_registration, and the guide action then answers the matching FAQ.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from bot.content.content_model import Faq, Guide, Library
from bot.content.passages import QUESTION_WORDS
from bot.nlu.aspects import asked_aspect, is_yes_no
from bot.nlu.text import expand, fold, spelled_words

# Share of the question's words (and word pairs) a FAQ must cover to be the answer.
MATCH_THRESHOLD = 0.5
# Or less, down to this floor, when it leads every other FAQ of the guide by more than
# CLEAR_LEAD to 1 and asks the same aspect (or none): a citizen's story around the question
# lowers the share ("vo chong chua lam giay ket hon thi khai sinh cho con co bi lam kho
# khong": 0.40 against 0.26). Of the 6,405 real questions in data/real_questions/, 7 more
# get an FAQ's answer, each the right one; a lead of exactly 1.5 ("tạm trú bao lâu thì có
# kết quả" 0.46 against 0.31 on "ở trọ bao lâu thì phải đăng ký") was a wrong one.
CLEAR_LEAD_FLOOR = 0.4
CLEAR_LEAD = 1.5
# Or from this floor, when it leads by more than WIDE_LEAD to 1: "bà nội em mất năm 2000 mà
# chưa khai tử, giờ làm được không ạ" holds 0.32 of the late registration's FAQ, 0.16 of the
# next (of the pool's 3,933 questions, 14 first answers change, 12 for the better).
WIDE_LEAD_FLOOR = 0.3
WIDE_LEAD = 2.0
# A short message ("quên mật khẩu rồi" after the VNeID guide; at most this many words besides
# those that only ask) shares few words with any phrasing, so it is matched by the share of
# its own words an FAQ holds, at least this much.
SHORT_MESSAGE_WORDS = 5
SHORT_COVERED = 0.7
# A long message (more words than this) holding this share of an FAQ phrasing's words and
# pairs, with a clear lead over the guide's other FAQs, asks that FAQ (of the pool's 3,933
# questions, 55 first answers change, about 45 for the better and 4 for the worse).
LONG_MESSAGE_WORDS = 12
LONG_HELD = 0.8
# Words of a request that only names the procedure: "làm lý lịch tư pháp", "thủ tục đăng ký
# kết hôn" ask for the guide, not for one FAQ ("Không." to "Làm ở xã được không?").
REQUEST_WORDS = frozenset({"lam", "thu", "tuc", "huong", "dan", "giay", "xin", "muon", "can"})
# The words that ask how much, how long or where: they name no FAQ's topic.
ASPECT_WORDS = frozenset({"dau", "bao", "nhieu", "lau", "tien", "may", "ngay"})


def _features(text: str) -> set[str]:
    tokens = [fold(part) for word, _, _ in spelled_words(text) for part in expand(word)]
    return set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)}


def best_faq(guide: Guide, text: str) -> Faq | None:
    """The FAQ whose question or example phrasings best cover `text`, if any covers enough."""
    asked = _features(text)
    if not asked or _names_only(guide, text):
        return None
    aspect = _specific_aspect(text)
    scored = _ranked(guide, lambda phrasing: _overlap(asked, phrasing))
    for rank, (score, faq) in enumerate(scored):
        if aspect and _specific_aspect(faq.question) not in (None, aspect):
            continue  # "kết hôn mất bao lâu" is not "kết hôn mất bao nhiêu tiền"
        if aspect and is_yes_no(faq.question) and not is_yes_no(text):
            continue  # "đổi bằng lái ở đâu" is not answered "Không." ("…ở xã được không?")
        if score >= MATCH_THRESHOLD:
            return faq
        if rank == 0 and _clear_lead(scored, aspect):
            return faq
        break
    return _covering_short(guide, text, asked, aspect) or _held_in_long(guide, text, asked, aspect)


def _ranked(
    guide: Guide, score: Callable[[str], float], aspect: str | None = None
) -> list[tuple[float, Faq]]:
    """The guide's FAQs, each scored by its best phrasing, best first (the first written wins
    a tie); with `aspect`, only the FAQs that ask it or no specific aspect."""
    return sorted(
        (
            (max(score(phrasing) for phrasing in (faq.question, *faq.examples)), faq)
            for faq in guide.faqs
            if not aspect or _specific_aspect(faq.question) in (None, aspect)
        ),
        key=lambda pair: -pair[0],
    )


def _leader(ranked: list[tuple[float, Faq]], floor: float, lead: float) -> Faq | None:
    """The best FAQ, if it scores at least `floor` and more than `lead` times the next."""
    if not ranked or ranked[0][0] < floor:
        return None
    runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
    return ranked[0][1] if ranked[0][0] > lead * runner_up else None


def _named(guide: Guide) -> set[str]:
    """The words and pairs that only name the guide: its title and its button's."""
    return _features(guide.title) | _features(guide.button_title)


def _names_only(guide: Guide, text: str) -> bool:
    said = {token for token in _features(text) if " " not in token}
    return said <= _named(guide) | REQUEST_WORDS | QUESTION_WORDS  # "cho hỏi làm giấy khai sinh"


def _covering_short(guide: Guide, text: str, asked: set[str], aspect: str | None) -> Faq | None:
    """The one FAQ a short message's words are mostly in, if any; its words that only ask
    ("làm sao", "có không") are not counted: "làm sao lấy lại mật khẩu" is all about the
    password."""
    asked = {feature for feature in asked if not set(feature.split()) <= QUESTION_WORDS}
    if not asked or sum(" " not in feature for feature in asked) > SHORT_MESSAGE_WORDS:
        return None
    # and it must name something besides the guide and the aspect: "làm khai sinh ở đâu"
    # asks the guide's office, not the FAQ on a lost birth certificate that says "xin ở đâu"
    words = {feature for feature in asked if " " not in feature}
    if words <= _named(guide) | ASPECT_WORDS:
        return None
    covered = _ranked(guide, lambda phrasing: len(asked & _features(phrasing)) / len(asked), aspect)
    return _leader(covered, SHORT_COVERED, 1.0)  # two FAQs holding it alike: neither is asked


def _held_in_long(guide: Guide, text: str, asked: set[str], aspect: str | None) -> Faq | None:
    """The one FAQ a long message holds nearly a whole phrasing of: the story around the
    question dilutes any overlap ("Dạ em chào anh chị, em ở quê lên thành phố làm thuê…, nếu
    không có hợp đồng thuê trọ thì có đăng ký được không ạ?" holds the whole example "nếu
    không có hợp đồng thuê trọ thì có đăng ký tạm trú được không", and got `who`)."""
    if len(text.split()) <= LONG_MESSAGE_WORDS:
        return None
    named = _named(guide) | QUESTION_WORDS
    return _leader(_ranked(guide, lambda p: _held(asked, p, named), aspect), LONG_HELD, CLEAR_LEAD)


def _held(asked: set[str], phrasing: str, named: set[str]) -> float:
    """The share of a phrasing's words and pairs the message holds, if it holds every word
    of the phrasing's own topic (not the guide's name, not a word that only asks): "muốn mua
    tiếp bảo hiểm y tế thì phải làm sao" holds most of "Mất thẻ bảo hiểm y tế thì làm sao?",
    but not "mất"."""
    phrased = _features(phrasing)
    topic = {feature for feature in phrased if " " not in feature} - named
    return len(asked & phrased) / len(phrased) if topic and topic <= asked else 0.0


def _clear_lead(scored: list[tuple[float, Faq]], aspect: str | None) -> bool:
    """The best FAQ leads every other one of the guide clearly, and asks the same aspect or
    none of its own: "Mất giấy khai sinh… thì làm sao?" answers "…xin lại ở đâu", "Bằng lái
    xe máy có phải đổi không?" answers "…có thời hạn ko" (of the pool's 3,933 questions, 13
    first answers change, about 9 for the better). Not for a fee: an FAQ asking no amount
    states none ("người khuyết tật có được miễn phí làm căn cước không" is not the home
    visit for the disabled)."""
    leader = _leader(scored, CLEAR_LEAD_FLOOR, CLEAR_LEAD) or _leader(
        scored, WIDE_LEAD_FLOOR, WIDE_LEAD
    )
    if leader is None:
        return False
    asks = _specific_aspect(leader.question)
    return asks == aspect or (asks is None and aspect != "fees")


def _overlap(asked: set[str], phrasing: str) -> float:
    known = _features(phrasing)
    return len(asked & known) / len(asked | known)


def _specific_aspect(text: str) -> str | None:
    """The aspect asked, but "who" (the catch-all of yes/no questions)."""
    aspect = asked_aspect(text)
    return None if aspect == "who" else aspect


def training_yaml(library: Library) -> str:
    """Rasa NLU training data: every FAQ question and phrasing as an example of its guide."""
    blocks = []
    for guide in sorted(library.guides.values(), key=lambda g: g.intent):
        phrasings = sorted(
            {p.strip() for faq in guide.faqs for p in (faq.question, *faq.examples) if p.strip()}
        )
        if phrasings:
            blocks.append(
                {"intent": guide.intent, "examples": "".join(f"- {p}\n" for p in phrasings)}
            )
    header = "# Generated by `citizenbot train` from the FAQs in content/guides. Do not edit.\n"
    body = yaml.dump(
        {"version": "3.1", "nlu": blocks},
        Dumper=_BlockDumper,
        allow_unicode=True,
        sort_keys=False,
        width=1000,
    )
    return header + body


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings as `|` blocks, the way Rasa's own files look."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)
