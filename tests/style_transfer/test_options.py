"""Options from field metadata, the guarded command body and the settings diff."""
from __future__ import annotations

import dataclasses
from typing import Optional

import pytest

from tf1cnn.common import exits, options
from tf1cnn.common.errors import UsageError
from tf1cnn.common.options import option


@dataclasses.dataclass(frozen=True)
class Example:
    name: Optional[str] = option(None, "a name", metavar="PATH")
    size: int = option(3, "a size", type=lambda text: int(text) * 2)
    mode: str = option("a", "a mode", choices=("a", "b"), type=str.lower)
    sizes: tuple[float, ...] = option((1.0,), "some sizes")
    loud: bool = option(False, "a flag")


def parse(argv):
    parser = options.ConfigParser(Example)
    return parser.parse_config(argv), parser


def test_every_kind_of_field_becomes_its_option():
    assert parse([])[0] == Example()
    config, parser = parse(["--name", "x", "--size", "4", "--mode", "B", "--sizes", "2", "3",
                            "--loud"])
    assert config == Example(name="x", size=8, mode="b", sizes=(2.0, 3.0), loud=True)
    text = " ".join(parser.format_help().split())
    assert "--name PATH a name --size SIZE a size (default: 3)" in text
    assert "--mode {a,b}" in text and "--loud a flag --" not in text


def test_a_preset_sets_its_fields_and_an_option_given_beside_it_wins():
    presets = {"quick": ("be quick", {"size": 5, "mode": "b", "sizes": (4.0, 5.0),
                                      "loud": True})}
    parser = options.ConfigParser(Example, presets=presets)
    assert parser.parse_config([]) == Example()
    assert parser.parse_config(["--quick"]) == Example(size=5, mode="b", sizes=(4.0, 5.0),
                                                       loud=True)
    # Given explicitly, even at its default, an option keeps its value.
    assert parser.parse_config(["--quick", "--mode", "a", "--size", "1"]) == Example(
        size=2, mode="a", sizes=(4.0, 5.0), loud=True)
    text = " ".join(parser.format_help().split())
    assert ("--quick be quick: the same as --size 5 --mode b --sizes 4.0 5.0 --loud; an option "
            "given beside it overrides its part") in text


@pytest.mark.parametrize("argv, message", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--mode", "c"], "argument --mode: invalid choice: 'c'"),
    (["--sizes"], "argument --sizes: expected at least one argument"),
])
def test_bad_options_raise_usage_error(argv, message):
    with pytest.raises(UsageError, match=message):
        parse(argv)


def test_guarded_turns_usage_error_into_one_line_and_exit_2(capsys):
    def fails():
        raise UsageError("no such image")

    assert options.guarded(fails) == exits.USAGE
    assert capsys.readouterr().err == "error: no such image\n"
    assert options.guarded(lambda: 0) == 0
    with pytest.raises(ValueError):
        options.guarded(lambda: int("bug"))


def test_changes_names_each_differing_key_in_order():
    assert options.changes({"b": 1, "a": "x", "same": 0}, {"a": "y", "b": 1, "c": [1], "same": 0}) \
        == "a 'x' -> 'y', c None -> [1]"
    assert options.changes({"a": 1}, {"a": 1}) == ""


def test_help_shows_the_defaults_but_a_flags_and_an_omitted_options():
    parser = options.UsageParser(formatter_class=options.DefaultsFormatter)
    parser.add_argument("--on", action="store_true", help="switch on")
    parser.add_argument("--off", action="store_false", help="switch off")
    parser.add_argument("--count", type=int, default=0, help="how many")
    parser.add_argument("--path", help="where; if omitted, here")
    text = " ".join(parser.format_help().split())
    assert "--on switch on --off switch off --count COUNT how many (default: 0) " in text
    assert text.endswith("--path PATH where; if omitted, here")
