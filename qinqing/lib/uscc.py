"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

Eighteen characters from a 31-character alphabet (no I, O, Z, S, V); the last one is a
check character computed from the first seventeen with weights 3^(i-1) mod 31.
"""

from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Full-width digits and letters typed on a Chinese input method become their ASCII twins.
_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {
    chr(0xFF21 + i): chr(ord("A") + i) for i in range(26)
} | {chr(0xFF41 + i): chr(ord("A") + i) for i in range(26)}


class InvalidCreditCode(ValueError):
    """The code is not a GB 32100-2015 code; the message says why, in Chinese."""


@dataclass(frozen=True)
class CheckResult:
    code: str
    expected_check: str


def normalize(raw: str) -> str:
    """Strip spaces, fold full-width characters and lower case: what staff paste from many sources."""
    text = "".join(_FULLWIDTH.get(ch, ch) for ch in (raw or "")).strip().upper()
    return text.replace(" ", "").replace("\u3000", "")


def check_character(first17: str) -> str:
    total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """Return the normalised code or raise InvalidCreditCode with a message naming the fault."""
    code = normalize(raw)
    if not code:
        raise InvalidCreditCode("请填写统一社会信用代码。")
    if len(code) != 18:
        raise InvalidCreditCode(f"统一社会信用代码应为18位，当前为{len(code)}位。")
    for position, ch in enumerate(code[:17], start=1):
        if ch not in VALUES:
            raise InvalidCreditCode(
                f"统一社会信用代码第{position}位“{ch}”不是合法字符（不使用I、O、Z、S、V）。"
            )
    if not code[2:8].isdigit():
        raise InvalidCreditCode("统一社会信用代码第3至8位应为登记管理机关行政区划码（数字）。")
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(
            f"统一社会信用代码校验位错误：第18位应为“{expected}”，实为“{code[17]}”，请核对。"
        )
    return code


def is_valid(raw: str) -> bool:
    try:
        validate(raw)
    except InvalidCreditCode:
        return False
    return True


def make_code(first17: str) -> str:
    """Complete seventeen characters with their check character (used by the demo and benchmarks)."""
    return first17 + check_character(first17)
