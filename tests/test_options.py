"""The decoder's options come from one list (csrc/decoder/decoder_options.h): the native struct,
its check, the Python binding, Decoder's signature and docstring and the CLI flags agree with it."""

import inspect
import math
import re

import pytest
from click.testing import CliRunner

import pywfst
from pywfst import _core, options
from pywfst.cli import cli

SPECS = _core.DecoderOptions.specs()


@pytest.fixture(scope="module")
def graph(spelled_graph):
    return spelled_graph


def test_specs_match_the_native_defaults():
    native = _core.DecoderOptions()
    assert [spec["name"] for spec in SPECS] == list(options.SPECS)
    for spec in SPECS:
        assert getattr(native, spec["name"]) == pytest.approx(spec["default"]), spec["name"]
        assert spec["type"] in ("bool", "int", "float") and spec["doc"]
    native.check()  # the defaults are valid


def test_decoder_signature_and_doc_come_from_the_specs():
    parameters = inspect.signature(pywfst.Decoder).parameters
    for spec in SPECS:
        parameter = parameters[spec["name"]]
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert parameter.default == spec["default"]
        assert f"{spec['name']}: " in pywfst.Decoder.__doc__
    assert "OPTIONS_DOC" not in pywfst.Decoder.__doc__


def test_decoder_takes_every_option(graph):
    values = {"beam": 9.5, "max_active": 321, "min_active": 3, "beam_delta": 0.25,
              "acoustic_scale": 0.75, "nbest": 2, "lattice_beam": 4.5, "boost_nodes_per_state": 2}
    assert set(values) <= set(options.SPECS)
    given = {name: values.get(name, options.default(name)) for name in options.SPECS}
    decoder = pywfst.Decoder(graph, **given)
    assert options.as_dict(decoder.options) == pytest.approx(given)
    with pytest.raises(TypeError, match="unknown option 'bem'.*beam"):
        pywfst.Decoder(graph, bem=3.0)


@pytest.mark.parametrize("spec", SPECS, ids=[spec["name"] for spec in SPECS])
def test_each_range_is_enforced_at_its_bounds(spec):
    def check(value):
        native = _core.DecoderOptions()
        native.min_active, native.max_active = 0, 2**31 - 1  # each other's bounds: widest
        setattr(native, spec["name"], value)
        native.check()

    low, high = spec["low"], spec["high"]
    if spec["type"] == "bool":  # True and False; Decoder's keywords take nothing else
        check(True)
        check(False)
        with pytest.raises(TypeError, match=f"{spec['name']}: expected True or False"):
            options.make_options({spec["name"]: 1})
        return
    if spec["type"] == "int":
        check(int(low))
        check(int(high))
        with pytest.raises(ValueError, match=f"^{spec['name']}: must be {re.escape(spec['expected'])}"):
            check(int(low) - 1)
        if high < 2**31 - 1:
            with pytest.raises(ValueError, match=f"^{spec['name']}: must be"):
                check(int(high) + 1)
        return
    unbounded_below = low <= -1e308
    check(0.0 if unbounded_below else low + 1.0 if spec["low_excluded"] else low)
    bad = [float("nan"), -math.inf if unbounded_below else low - 1.0]
    if spec["low_excluded"]:
        bad.append(low)
    if high == math.inf:
        check(math.inf)
    else:
        bad.append(math.inf)
    for value in bad:
        with pytest.raises(ValueError, match=f"^{spec['name']}: must be {re.escape(spec['expected'])}"):
            check(value)


def test_cli_flags_come_from_the_specs():
    text = CliRunner().invoke(cli, ["decode", "--help"], terminal_width=200).output
    for spec in SPECS:
        flag = "--" + spec["name"].replace("_", "-")
        shown = spec["name"] != "boost_nodes_per_state"  # decode has no phrase boosting
        assert (flag in text) == shown, flag
    result = CliRunner().invoke(cli, ["decode", "--graph", ".", "--beam-delta", "-1", "x.npy"])
    assert result.exit_code == 2 and "beam_delta: must be a finite number >= 0" in result.output


def test_cli_flags_are_checked_alone_then_together(graph, tmp_path):
    """Each flag against its own range as it is read; min_active <= max_active once both are."""
    import numpy as np

    np.save(tmp_path / "u.npy", np.log(np.full((5, 29), 1 / 29, dtype=np.float32)))
    run = lambda *flags: CliRunner().invoke(cli, ["decode", "--graph", str(graph.path), *flags,
                                                  str(tmp_path / "u.npy")])
    assert run("--min-active", "8000", "--max-active", "9000").exit_code == 0
    assert run("--max-active", "9000", "--min-active", "8000").exit_code == 0
    too_many = run("--min-active", "9500", "--max-active", "9000")
    assert too_many.exit_code == 1 and "min_active: must be at most max_active=9000" in \
        too_many.output
