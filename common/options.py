"""Config dataclasses as command lines (shared: ``tf1cnn-style``, ``tf1cnn-kernels`` and
``tf1cnn-cluster`` all build their options here).

A config field carries its own help text, so each text is written once, beside its default::

    @dataclasses.dataclass(frozen=True)
    class Config:
        image: str | None = option(None, "photo; if omitted, the bundled one", metavar="PATH")
        stride: int = option(3, "step of the window", type=whole_number)

``add_fields`` turns every field into one ``--kebab-case`` option: a bool becomes a flag, a
tuple takes one or more values, ``X | None`` takes an X, and the metadata keys ``choices``,
``metavar`` and ``type`` (the parser of one value) pass through to argparse. ``UsageParser``
reports a bad option as a ``UsageError``; ``ConfigParser`` is one whose options are a config's
fields. ``guarded`` runs a command so that any ``UsageError`` ends as one ``error:`` line on
stderr and exit status ``exits.USAGE`` (an ``OutputError``: ``exits.WRITE_FAILED``). A whole
``main`` is then::

    parser = ConfigParser(Config, prog="tool", description="...")
    return guarded(lambda: run(parser.parse_config(argv)))
``changes`` words the difference between two runs' settings, for the run folders.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from collections.abc import Callable

from . import exits
from .errors import OutputError, UsageError


def option(default, help: str, **metadata) -> dataclasses.Field:
    """A dataclass field with ``default`` whose command-line option says ``help``. Metadata
    keys other than ``choices``, ``metavar`` and ``type`` are the config's own (bounds, say)
    and pass to no parser."""
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show defaults, except the None or () of options whose help says what omitting them does,
    and the False of flags (options that take no value: ``nargs`` 0).

    It overrides the hook in which its base class adds the defaults: should argparse rename that
    hook, --help still works and merely shows these defaults as well."""

    def _get_help_string(self, action):
        if action.default in (None, ()) or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)


class UsageParser(argparse.ArgumentParser):
    """Report a bad option as a UsageError, so it gets the same one-line message and exit 2
    as every other bad input, instead of argparse's usage block."""

    def error(self, message):
        raise UsageError(message)


class ConfigParser(UsageParser):
    """A UsageParser with one option per field of ``config_class``, showing the defaults.

    ``presets`` maps a flag's name to (what it is for, {field: value}): ``--NAME`` gives those
    fields those values unless the command line gives them too. Its help lists them as
    options, so a preset is only a shorthand for options a user could type."""

    def __init__(self, config_class: type, presets: dict[str, tuple[str, dict]] | None = None,
                 **parser_options):
        super().__init__(**{"formatter_class": DefaultsFormatter, "allow_abbrev": False,
                            **parser_options})
        self.config_class = config_class
        add_fields(self, config_class)
        self.presets = presets or {}
        for name, (purpose, values) in self.presets.items():
            self.add_argument(f"--{name}", action="store_true",
                              help=f"{purpose}: the same as {as_options(values)}; an option "
                                   f"given beside it overrides its part")

    def parse_config(self, argv=None):
        """The config that the command line ``argv`` (default: sys.argv[1:]) describes."""
        fields = dataclasses.fields(self.config_class)
        # An attribute already in the namespace is not given its default by argparse, so the
        # fields still _UNSET afterwards are those the command line left out.
        args = self.parse_args(argv, argparse.Namespace(**{f.name: _UNSET for f in fields}))
        chosen = {}
        for name, (_, values) in self.presets.items():
            if getattr(args, name):
                chosen.update(values)
        for f in fields:
            if getattr(args, f.name) is _UNSET:
                setattr(args, f.name, chosen.get(f.name, f.default))
        return config_from(args, self.config_class)


_UNSET = object()


def as_options(values: dict) -> str:
    """``{"scales": 2, "optimizer": "lbfgs"}`` as ``--scales 2 --optimizer lbfgs``."""
    words = []
    for name, value in values.items():
        if isinstance(value, bool):  # a flag: given when True (False is its default)
            words += [f"--{name.replace('_', '-')}"] if value else []
        else:
            words += [f"--{name.replace('_', '-')}",
                      *map(str, value if isinstance(value, tuple) else (value,))]
    return " ".join(words)


def add_fields(parser: argparse.ArgumentParser, config_class: type) -> None:
    """Add one option per field of the dataclass ``config_class``, from its field metadata."""
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        hint, meta = hints[field.name], field.metadata
        option_name = "--" + field.name.replace("_", "-")
        if hint is bool:
            parser.add_argument(option_name, action="store_true", help=meta["help"])
            continue
        args = typing.get_args(hint)
        if typing.get_origin(hint) is tuple:
            parser.add_argument(option_name, nargs="+", type=meta.get("type", args[0]),
                                default=field.default, metavar=meta.get("metavar"),
                                help=meta["help"])
            continue
        kind = next((a for a in args if a is not type(None)), hint)  # X | None takes an X
        parser.add_argument(option_name, type=meta.get("type", kind), default=field.default,
                            choices=meta.get("choices"), metavar=meta.get("metavar"),
                            help=meta["help"])


def help_of(config_class: type, name: str) -> str:
    """The help text of one field, for an option that another command shares."""
    return next(f.metadata["help"] for f in dataclasses.fields(config_class) if f.name == name)


def config_from(args: argparse.Namespace, config_class: type):
    """The ``config_class`` instance the parsed ``args`` describe; other attributes are ignored
    and lists become tuples."""
    values = vars(args)
    return config_class(**{f.name: tuple(values[f.name]) if isinstance(values[f.name], list)
                           else values[f.name] for f in dataclasses.fields(config_class)})


def guarded(command: Callable[[], int]) -> int:
    """Run ``command`` and return its status; a UsageError prints one ``error:`` line on stderr
    and returns ``exits.USAGE``, an OutputError likewise with ``exits.WRITE_FAILED``. Anything
    else is a bug and keeps its traceback."""
    try:
        return command()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exits.USAGE
    except OutputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exits.WRITE_FAILED


def changes(saved: dict, wanted: dict) -> str:
    """The keys whose values differ, sorted, as ``"key old -> new, ..."`` (reprs of the values;
    a key missing on one side shows as None)."""
    return ", ".join(f"{key} {saved.get(key)!r} -> {wanted.get(key)!r}"
                     for key in sorted(set(saved) | set(wanted))
                     if saved.get(key) != wanted.get(key))
