"""Password rules of 等保2.0 三级 (身份鉴别: 口令具有复杂度要求): at least three of the four character classes,
and a length whose refusal speaks Chinese.

Common passwords and likeness to the user's own name and details are Django's validators, translated by
Django (settings.AUTH_PASSWORD_VALIDATORS); this module adds the class rule and the Chinese length message.
"""

import string

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError


class LengthValidator(MinimumLengthValidator):
    """Django's minimum length (8 by default), with the refusal in Chinese: Django 5.2's zh-hans catalogue
    translates the help text but not this message."""

    def get_error_message(self) -> str:
        return f"密码太短，至少要{self.min_length}个字符。"


CLASSES = (
    ("小写字母", lambda c: c in string.ascii_lowercase),
    ("大写字母", lambda c: c in string.ascii_uppercase),
    ("数字", lambda c: c in string.digits),
    # Anything printable that is not a letter or digit counts as a symbol (!, @, space, ，…).
    ("符号", lambda c: not c.isalnum() and c.isprintable()),
)


def classes_used(password: str) -> list[str]:
    """The names of the character classes `password` draws on, in the order of CLASSES."""
    return [name for name, test in CLASSES if any(test(c) for c in password)]


class CharacterClassesValidator:
    """At least `min_classes` of lower-case letters, upper-case letters, digits and symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        used = classes_used(password)
        if len(used) < self.min_classes:
            missing = [name for name, _ in CLASSES if name not in used]
            raise ValidationError(
                f"密码至少要包含小写字母、大写字母、数字、符号中的{self.min_classes}类，"
                f"现在只有{len(used)}类；可以加上{'或'.join(missing)}。",
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return f"至少包含小写字母、大写字母、数字、符号中的{self.min_classes}类。"
