"""Command-line flags from a Config dataclass: one field, one flag, the field's comment as its help.

    @dataclass
    class Config:
        lr: float = 1e-4        # AdamW learning rate
    cfg = parse(Config, sys.argv[1:], "what this command does")

gives `--lr 2e-4`, `--lr=2e-4`, `--help` (every flag with its default), booleans as a bare `--flag`, `--flag true`
or `--no-flag`, and errors that name the flag and what it expects. `choices` restricts a field to a set of values.
The help text is read from the comment after each field in the dataclass's source, so the dataclass stays the one
place where a setting is defined and explained.
"""
import argparse
import dataclasses
import inspect
import re
import sys
import typing

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def field_comments(cls) -> dict:
    """{field name: the comment after it on its line} from the dataclass's source (empty if unavailable)."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    out = {}
    for m in re.finditer(r"^\s+(\w+)\s*:[^=\n]*=.*?#\s?(.*)$", source, flags=re.M):
        out[m.group(1)] = m.group(2).strip()
    return out


def _bool(flag: str):
    def parse(text: str) -> bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise argparse.ArgumentTypeError(f"{flag} expects true or false, got {text!r}")
    return parse


def _typed(flag: str, kind):
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} expects {'an' if kind is int else 'a'} "
                                             f"{kind.__name__}, got {text!r}") from None
    return parse


def parser(cls, description: str = "", choices: dict | None = None) -> argparse.ArgumentParser:
    """An ArgumentParser with one flag per field of the dataclass `cls`."""
    ap = argparse.ArgumentParser(description=description, allow_abbrev=False)
    comments, choices = field_comments(cls), choices or {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        flag, kind = f"--{f.name}", hints[f.name]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        help_text = f"{comments.get(f.name, '')} (default: {default!r})".strip().replace("%", "%%")
        if kind is bool:
            # --flag (true), --flag false, --no-flag: all three read naturally in a command line
            ap.add_argument(flag, nargs="?", const=True, default=default, type=_bool(flag), help=help_text,
                            metavar="true|false")
            ap.add_argument(f"--no-{f.name}", dest=f.name, action="store_false", help=argparse.SUPPRESS)
        else:
            ap.add_argument(flag, type=_typed(flag, kind), default=default, help=help_text,
                            choices=choices.get(f.name), metavar=kind.__name__.upper() if f.name not in choices
                            else "{" + ",".join(map(str, choices[f.name])) + "}")
    return ap


def parse(cls, argv: list[str] | None = None, description: str = "", choices: dict | None = None):
    """Parse argv (default sys.argv[1:]) into an instance of the dataclass `cls`; bad input exits with a message."""
    args = parser(cls, description, choices).parse_args(sys.argv[1:] if argv is None else argv)
    return cls(**vars(args))
