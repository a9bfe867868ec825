"""The native OpenFst binary reader (csrc/fst/fst_reader.cc) and CsrGraph, checked against OpenFst.

Every FST here is written by OpenFst itself (pywrapfst from the pynini wheel, or kaldifst), then
loaded by pywfst._core.CsrGraph and compared state by state with what pywrapfst reads back.
"""

import ctypes
import gc
import glob
import math
import os
import pathlib
import random
import struct

import numpy as np
import pytest

fst = pytest.importorskip("pywrapfst")
from pywfst._core import CsrGraph  # noqa: E402

INF = float("inf")


# ----------------------------------------------------------------------------- helpers


def _weight(value):
    return fst.Weight("tropical", value)


def random_fst(seed, max_states=40, max_arcs_per_state=6):
    """A random transducer with epsilons, self-loops, several finals and negative weights."""
    rng = random.Random(seed)
    f = fst.VectorFst()
    n = rng.randint(1, max_states)
    for _ in range(n):
        f.add_state()
    f.set_start(rng.randrange(n))
    for s in range(n):
        for _ in range(rng.randint(0, max_arcs_per_state)):
            ilabel = 0 if rng.random() < 0.3 else rng.randint(1, 60)
            olabel = 0 if rng.random() < 0.5 else rng.randint(1, 5000)
            weight = rng.choice([0.0, rng.uniform(-3.0, 20.0), rng.uniform(0.0, 1e-3)])
            nextstate = s if rng.random() < 0.2 else rng.randrange(n)
            f.add_arc(s, fst.Arc(ilabel, olabel, _weight(weight), nextstate))
        if rng.random() < 0.3:
            f.set_final(s, _weight(rng.uniform(-1.0, 5.0)))
    f.set_final(rng.randrange(n), _weight(0.0))
    return f


def symbol_table(name, size, seed=0):
    rng = random.Random(seed)
    st = fst.SymbolTable(name)
    st.add_symbol("<eps>", 0)
    for i in range(1, size):
        st.add_symbol("sym%d_%s" % (i, "x" * rng.randint(0, 9)), i + rng.randint(0, 3) * 1000)
    return st


def f32(weight):
    """A pywrapfst weight as the exact float32 value in the file.

    float(Weight) goes through OpenFst's 9-significant-digit text form, which identifies a float32
    uniquely but is not that float32's exact float64 value: round it back to float32.
    """
    return float(np.float32(float(weight)))


def openfst_view(path):
    """(num_states, start, finals, sorted arcs per state) as OpenFst reads the file."""
    f = fst.Fst.read(str(path))
    finals, arcs = [], []
    for s in f.states():
        finals.append(f32(f.final(s)))
        arcs.append(
            sorted(
                (a.ilabel, a.olabel, f32(a.weight), a.nextstate) for a in f.arcs(s)
            )
        )
    return len(finals), f.start(), finals, arcs


def check_same_as_openfst(path):
    """Loads `path` with CsrGraph and asserts it equals OpenFst's reading of the same file."""
    g = CsrGraph.load(str(path))
    n, start, finals, arcs = openfst_view(path)
    assert g.num_states == n
    assert g.start == start
    num_emitting = num_epsilon = 0
    max_in = max_out = 0
    for s in range(n):
        # Both sides hold the file's float32 values: exact equality.
        assert g.final(s) == finals[s], "final weight of state %d" % s
        got = g.arcs(s)
        emitting = [a for a in got if a[0] > 0]
        epsilon = [a for a in got if a[0] == 0]
        # Emitting arcs come first, then epsilon arcs.
        assert got == emitting + epsilon, "state %d: emitting arcs must precede epsilons" % s
        assert sorted(got) == arcs[s], "arcs of state %d" % s
        num_emitting += len(emitting)
        num_epsilon += len(epsilon)
        for il, ol, _, _ in got:
            max_in, max_out = max(max_in, il), max(max_out, ol)
    assert g.num_emitting_arcs == num_emitting
    assert g.num_epsilon_arcs == num_epsilon
    assert g.num_arcs == num_emitting + num_epsilon
    assert g.max_input_label == max_in
    assert g.max_output_label == max_out
    assert g.memory_bytes >= 16 * (num_emitting + num_epsilon) + 4 * n
    return g


def write_variants(f, tmp_path, stem):
    """Writes `f` as vector and const FST; returns the paths."""
    vec = tmp_path / (stem + ".vector.fst")
    const = tmp_path / (stem + ".const.fst")
    f.write(str(vec))
    c = fst.convert(f, "const")
    assert c.fst_type() == "const"
    c.write(str(const))
    return [vec, const]


def _libfst_align_flag():
    """OpenFst's global --fst_align flag inside pynini's bundled libfst, or None."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(fst.__file__)))
    for lib in glob.glob(os.path.join(here, "pynini.libs", "libfst-*.so*")) + glob.glob(
        os.path.join(os.path.dirname(fst.__file__), "..", "pynini.libs", "libfst-*.so*")
    ):
        try:
            return ctypes.c_bool.in_dll(ctypes.CDLL(lib), "FST_FLAGS_fst_align")
        except (OSError, ValueError):
            continue
    return None


@pytest.fixture
def aligned_writes():
    """Makes OpenFst write aligned const FSTs (version 1, flag IS_ALIGNED) while active."""
    flag = _libfst_align_flag()
    if flag is None:
        pytest.skip("cannot reach OpenFst's fst_align flag in this pynini build")
    old = flag.value
    flag.value = True
    try:
        yield
    finally:
        flag.value = old


def header_info(path):
    """fst type, version and flags of an OpenFst file (parsed here, independently of the reader)."""
    data = pathlib.Path(path).read_bytes()
    pos = 4
    strings = []
    for _ in range(2):
        (length,) = struct.unpack_from("<i", data, pos)
        strings.append(data[pos + 4 : pos + 4 + length].decode())
        pos += 4 + length
    version, flags = struct.unpack_from("<ii", data, pos)
    return strings[0], strings[1], version, flags


def tiny_fst():
    """One state, start and final, one emitting self-loop: the vector file is 94 bytes."""
    f = fst.VectorFst()
    s = f.add_state()
    f.set_start(s)
    f.set_final(s, _weight(0.5))
    f.add_arc(s, fst.Arc(3, 7, _weight(1.25), s))
    return f


# ----------------------------------------------------------------------------- agreement


@pytest.mark.parametrize("seed", range(12))
def test_random_fst_vector_and_const(tmp_path, seed):
    f = random_fst(seed)
    for path in write_variants(f, tmp_path, "r%d" % seed):
        check_same_as_openfst(path)


@pytest.mark.parametrize("seed", range(6))
def test_output_labels(tmp_path, seed):
    """The distinct output labels > 0, ascending: counted in a bitmap where the labels are few
    next to the arcs (many states here), sorted where they are sparse (few states)."""
    f = random_fst(seed, max_states=400 if seed % 2 else 8)
    if seed == 4:
        f.add_arc(0, fst.Arc(1, 2**31 - 1, _weight(0.0), 0))
    path = tmp_path / "r.fst"
    f.write(str(path))
    expected = sorted({a.olabel for s in f.states() for a in f.arcs(s)} - {0})
    assert CsrGraph.load(path).output_labels().tolist() == expected


@pytest.mark.parametrize("seed", range(4))
def test_random_fst_with_symbol_tables(tmp_path, seed):
    f = random_fst(100 + seed)
    which = seed % 3  # 0: input only, 1: output only, 2: both
    if which in (0, 2):
        f.set_input_symbols(symbol_table("in", 70, seed))
    if which in (1, 2):
        f.set_output_symbols(symbol_table("out-%d" % seed, 300, seed + 1))
    for path in write_variants(f, tmp_path, "sym%d" % seed):
        _, _, _, flags = header_info(path)
        assert flags & 3 == {0: 1, 1: 2, 2: 3}[which], "test setup: symbol-table flags"
        check_same_as_openfst(path)


@pytest.mark.parametrize("seed", range(3))
def test_aligned_const_fst(tmp_path, seed, aligned_writes):
    f = random_fst(200 + seed)
    if seed == 1:
        f.set_input_symbols(symbol_table("in", 13, seed))
    if seed == 2:
        f.set_output_symbols(symbol_table("o", 5, seed))
    paths = write_variants(f, tmp_path, "al%d" % seed)
    fst_type, _, version, flags = header_info(paths[1])
    assert (fst_type, version, flags & 4) == ("const", 1, 4), "test setup: OpenFst wrote aligned"
    for path in paths:  # the vector file carries the flag but no padding
        check_same_as_openfst(path)


def test_large_fst_crosses_read_buffers(tmp_path):
    # About 2.4 MB of arcs: more than the reader's 1 MiB buffer, many boundaries mid-record.
    rng = random.Random(7)
    f = fst.VectorFst()
    n = 30000
    for _ in range(n):
        f.add_state()
    f.set_start(0)
    for s in range(n):
        for _ in range(rng.randint(0, 10)):
            il = rng.choice([0, rng.randint(1, 500)])
            f.add_arc(s, fst.Arc(il, rng.randint(0, 9), _weight(rng.random()), rng.randrange(n)))
    f.set_final(n - 1, _weight(0.0))
    for path in write_variants(f, tmp_path, "big"):
        assert path.stat().st_size > (1 << 21)
        check_same_as_openfst(path)


def test_arc_order_and_values_exact(tmp_path):
    f = fst.VectorFst()
    a, b, c = f.add_state(), f.add_state(), f.add_state()
    f.set_start(b)
    arcs = [
        (0, 5, 0.5, c),
        (7, 0, -1.25, a),
        (0, 0, 0.0, b),
        (3, 9, 1e-7, b),
        (1, 2, INF, c),  # an arc of infinite cost is kept as it is
    ]
    for il, ol, w, ns in arcs:
        f.add_arc(b, fst.Arc(il, ol, _weight(w), ns))
    f.set_final(c, _weight(2.0))
    f.set_final(a, _weight(-0.75))
    for path in write_variants(f, tmp_path, "order"):
        g = CsrGraph.load(path)
        w7 = float(np.float32(1e-7))
        # Emitting arcs in file order, then epsilon arcs in file order.
        assert g.arcs(b) == [(7, 0, -1.25, a), (3, 9, w7, b), (1, 2, INF, c),
                             (0, 5, 0.5, c), (0, 0, 0.0, b)]
        assert g.arcs(a) == [] and g.arcs(c) == []
        assert (g.final(a), g.final(b), g.final(c)) == (-0.75, INF, 2.0)
        assert (g.start, g.num_states, g.num_emitting_arcs, g.num_epsilon_arcs) == (b, 3, 3, 2)
        assert (g.max_input_label, g.max_output_label) == (7, 9)


def test_kaldifst_written_files(tmp_path):
    kaldifst = pytest.importorskip("kaldifst")
    f = kaldifst.StdVectorFst()
    for _ in range(4):
        f.add_state()
    f.start = 0
    f.add_arc(0, kaldifst.StdArc(1, 11, 0.5, 1))
    f.add_arc(0, kaldifst.StdArc(0, 0, 1.5, 2))
    f.add_arc(1, kaldifst.StdArc(2, 12, -0.25, 1))
    f.add_arc(2, kaldifst.StdArc(3, 0, 2.0, 3))
    f.add_arc(3, kaldifst.StdArc(0, 13, 0.0, 0))
    f.set_final(1, 0.125)
    f.set_final(3, 4.0)
    vec = tmp_path / "k.vector.fst"
    const = tmp_path / "k.const.fst"
    assert f.write(str(vec))
    assert kaldifst.StdConstFst(f).write(str(const))
    assert header_info(const)[0] == "const"
    for path in (vec, const):
        g = check_same_as_openfst(path)
        assert (g.num_states, g.start, g.num_arcs) == (4, 0, 5)
        assert g.arcs(0) == [(1, 11, 0.5, 1), (0, 0, 1.5, 2)]
        assert (g.final(1), g.final(3)) == (0.125, 4.0)


def test_path_like_and_lifetime(tmp_path):
    path = tmp_path / "life.fst"
    random_fst(3).write(str(path))
    expected = openfst_view(path)
    g = CsrGraph.load(path)  # os.PathLike accepted
    path.unlink()
    gc.collect()
    # The graph owns its memory: nothing refers to the deleted file.
    n, start, finals, arcs = expected
    assert (g.num_states, g.start) == (n, start)
    assert [g.final(s) for s in range(n)] == finals
    assert [sorted(g.arcs(s)) for s in range(n)] == arcs
    kept = [g]
    del g
    gc.collect()
    assert kept[0].num_states == n
    assert "CsrGraph" in repr(kept[0])


def test_state_bounds(tmp_path):
    path = tmp_path / "t.fst"
    tiny_fst().write(str(path))
    g = CsrGraph.load(path)
    assert g.final(0) == 0.5
    assert g.arcs(0) == [(3, 7, 1.25, 0)]
    for bad in (1, -1, 2**40):
        with pytest.raises(IndexError):
            g.final(bad)
        with pytest.raises(IndexError):
            g.arcs(bad)


# ----------------------------------------------------------------------------- errors


def _load_error(path, exc=ValueError):
    with pytest.raises(exc) as info:
        CsrGraph.load(str(path))
    message = str(info.value)
    assert str(path) in message, "error must name the file: %r" % message
    return message


def test_missing_file(tmp_path):
    path = tmp_path / "no" / "such.fst"
    with pytest.raises(OSError) as info:
        CsrGraph.load(path)
    assert isinstance(info.value, FileNotFoundError)
    assert str(path) in str(info.value)


def test_non_utf8_path(tmp_path):
    # POSIX paths are bytes: the message must still reach Python (escaped), not fail to decode.
    path = os.path.join(os.fsencode(tmp_path), b"bad\xff.fst")
    with open(path, "wb") as out:
        out.write(b"not an fst at all")
    with pytest.raises(ValueError, match=r"bad\\xff\.fst: not an OpenFst binary file"):
        CsrGraph.load(path)
    good = os.path.join(os.fsencode(tmp_path), b"good\xfe.fst")
    tiny_fst().write(str(tmp_path / "good.fst"))
    os.rename(os.path.join(os.fsencode(tmp_path), b"good.fst"), good)
    assert CsrGraph.load(good).arcs(0) == [(3, 7, 1.25, 0)]


def test_directory(tmp_path):
    message = _load_error(tmp_path, OSError)
    assert "directory" in message


@pytest.mark.parametrize("seed", range(6))
def test_random_bytes(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / ("junk%d.fst" % seed)
    path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randint(0, 3000))))
    assert "not an OpenFst binary file" in _load_error(path)


@pytest.mark.parametrize("seed", range(6))
def test_magic_then_random_bytes(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / ("junk%d.fst" % seed)
    body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 3000)))
    path.write_bytes(struct.pack("<i", 2125659606) + body)
    _load_error(path)


def test_wrong_magic(tmp_path):
    path = tmp_path / "t.fst"
    tiny_fst().write(str(path))
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))
    assert "not an OpenFst binary file" in _load_error(path)
    data[0:4] = struct.pack(">i", 2125659606)  # other byte order
    path.write_bytes(bytes(data))
    assert "byte order" in _load_error(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.fst"
    path.write_bytes(b"")
    assert "not an OpenFst binary file" in _load_error(path)


@pytest.mark.parametrize("kind", ["vector", "const", "vector+syms", "const+syms"])
def test_every_truncation_fails(tmp_path, kind):
    f = random_fst(5, max_states=4, max_arcs_per_state=3)
    if kind.endswith("+syms"):
        f.set_input_symbols(symbol_table("i", 4))
        f.set_output_symbols(symbol_table("o", 3))
    full = tmp_path / "full.fst"
    (fst.convert(f, "const") if kind.startswith("const") else f).write(str(full))
    data = full.read_bytes()
    CsrGraph.load(full)
    cut = tmp_path / "cut.fst"
    for length in range(len(data)):
        cut.write_bytes(data[:length])
        _load_error(cut)


def test_trailing_bytes_rejected(tmp_path):
    for path in write_variants(tiny_fst(), tmp_path, "trail"):
        path.write_bytes(path.read_bytes() + b"\0")
        assert "after the" in _load_error(path)


def test_log_arcs_rejected(tmp_path):
    path = tmp_path / "log.fst"
    log = fst.arcmap(random_fst(1), map_type="to_log")
    assert log.arc_type() == "log"
    log.write(str(path))
    message = _load_error(path)
    assert "'log'" in message and "standard" in message


def test_unsupported_fst_type(tmp_path):
    f = fst.VectorFst()
    a, b = f.add_state(), f.add_state()
    f.set_start(a)
    f.set_final(b)
    f.add_arc(a, fst.Arc(2, 2, _weight(0.0), b))
    path = tmp_path / "compact.fst"
    fst.convert(f, "compact_acceptor").write(str(path))
    assert header_info(path)[0] == "compact_acceptor"
    assert "unsupported FST type 'compact_acceptor'" in _load_error(path)


def test_fst_without_states_rejected(tmp_path):
    f = fst.VectorFst()
    for path in write_variants(f, tmp_path, "nostates"):
        assert "no states" in _load_error(path)


def test_fst_without_start_rejected(tmp_path):
    f = fst.VectorFst()
    f.add_state()
    f.set_final(0)
    path = tmp_path / "nostart.fst"
    f.write(str(path))
    assert "start state" in _load_error(path)


# Byte offsets inside tiny_fst()'s 94-byte vector file: the header's start (int64) at 42 and state
# count at 50; after the 66-byte header, the final weight at 66, the arc count (int64) at 70, and
# the arc's ilabel, olabel, weight, nextstate at 78, 82, 86, 90.
@pytest.mark.parametrize(
    "offset,value,expected",
    [
        (90, struct.pack("<i", 1), "goes to state 1"),
        (90, struct.pack("<i", -1), "goes to state -1"),
        (78, struct.pack("<i", -4), "negative label"),
        (82, struct.pack("<i", -4), "negative label"),
        (86, struct.pack("<f", float("nan")), "weight nan"),
        (86, struct.pack("<f", -INF), "weight -inf"),
        (66, struct.pack("<f", float("nan")), "final weight nan"),
        (70, struct.pack("<q", 2), "arc count 2"),
        (70, struct.pack("<q", -1), "arc count -1"),
        (42, struct.pack("<q", 1), "start state 1"),
        (42, struct.pack("<q", -7), "start state -7"),
        (50, struct.pack("<q", 1 << 40), "impossible number of states"),
        (50, struct.pack("<q", 2), "truncated"),
        (50, struct.pack("<q", 0), "after the last state"),
    ],
)
def test_corrupt_vector_fields(tmp_path, offset, value, expected):
    path = tmp_path / "t.fst"
    tiny_fst().write(str(path))
    data = bytearray(path.read_bytes())
    assert len(data) == 94 and struct.unpack_from("<iiii", data, 78) == (3, 7, 0x3FA00000, 0)
    data[offset : offset + len(value)] = value
    path.write_bytes(bytes(data))
    message = _load_error(path)
    assert expected in message, message


def test_corrupt_const_arc_range(tmp_path):
    path = tmp_path / "c.fst"
    fst.convert(tiny_fst(), "const").write(str(path))
    data = bytearray(path.read_bytes())
    # header (65 bytes: "const" is one byte shorter than "vector"), then the state record.
    assert struct.unpack_from("<fIIII", data, 65) == (0.5, 0, 1, 0, 0)
    data[69:73] = struct.pack("<I", 1)  # pos 1: the state's arc would lie past the array
    path.write_bytes(bytes(data))
    assert "outside the arc array" in _load_error(path)


@pytest.mark.parametrize("kind", ["vector", "const"])
def test_bit_flips_never_crash(tmp_path, kind):
    """Random byte corruption either loads a valid graph or raises ValueError; nothing else."""
    f = random_fst(9, max_states=6)
    f.set_input_symbols(symbol_table("i", 5))
    full = tmp_path / "full.fst"
    (fst.convert(f, "const") if kind == "const" else f).write(str(full))
    data = full.read_bytes()
    rng = random.Random(kind)
    path = tmp_path / "flip.fst"
    loaded = 0
    for _ in range(400):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        path.write_bytes(bytes(mutated))
        try:
            g = CsrGraph.load(path)
        except ValueError as e:
            assert str(path) in str(e)
            continue
        loaded += 1
        assert 0 <= g.start < g.num_states
        for s in range(g.num_states):
            assert not math.isnan(g.final(s)) and g.final(s) != -INF
            for il, ol, w, ns in g.arcs(s):
                assert il >= 0 and ol >= 0 and 0 <= ns < g.num_states
                assert not math.isnan(w) and w != -INF
    assert loaded > 0  # many flips hit weights or labels and still give a valid graph
