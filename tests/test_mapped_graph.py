"""The mapped graph file HCLG.csr (csrc/fst/mapped_graph.h): written at build time and on first
load, mapped instead of parsing HCLG.fst, checked as strictly as the OpenFst reader, rebuilt
when stale, and shared by worker processes that unpickle a Graph."""

import json
import multiprocessing
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import pywfst
from helpers import simulated_utterances, write_fst
from pywfst import _core

HEADER = 192
# Header fields (csrc/fst/mapped_graph.cc, struct Header): byte offset and struct format.
FIELDS = {"magic": (0, "8s"), "version": (8, "<I"), "byte_order": (12, "<I"),
          "header_bytes": (16, "<I"), "arc_bytes": (20, "<I"), "start": (28, "<i"),
          "num_states": (32, "<q"), "num_arcs": (40, "<q"), "num_nonterminal_arcs": (48, "<q"),
          "source_size": (56, "<q"), "source_mtime_ns": (64, "<q"), "file_size": (72, "<q"),
          "checksum": (80, "<Q"), "arcs_offset": (88 + 32, "<q"), "flags": (184, "<I"),
          "reserved": (188, "<I")}
SECTIONS = ("finals", "ranges", "arcs", "nonterminal_arcs", "nonterminal_sources",
            "epsilon_order")


def checksum(data: bytes) -> int:
    """Reference implementation of the file's checksum (mapped_graph.cc, class Checksum): the sum
    of a bijective mix of each 8-byte word after the header xor its index times a constant."""
    payload = data[HEADER:]
    words = np.frombuffer(payload + b"\0" * (-len(payload) % 8), dtype="<u8")
    x = words ^ (np.arange(len(words), dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(31)
    x = x * np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(29)
    return int(x.sum(dtype=np.uint64))


def sealed(data: bytes) -> bytes:
    """``data`` with the checksum its header should record, so that the structural checks,
    not the checksum, decide about a change."""
    out = bytearray(data)
    struct.pack_into("<Q", out, FIELDS["checksum"][0], checksum(bytes(out)))
    return bytes(out)


def patched(data: bytes, field: str, value, seal: bool = True) -> bytes:
    offset, fmt = FIELDS[field]
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return sealed(bytes(out)) if seal else bytes(out)


def section(data: bytes, index: int):
    return struct.unpack_from("<qq", data, 88 + 16 * index)


def stamp(path):
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


@pytest.fixture(scope="module")
def graph(spelled_graph, tmp_path_factory):
    """A private copy of the session's spelling graph (tests here rewrite its files)."""
    target = tmp_path_factory.mktemp("mapped") / "g"
    shutil.copytree(spelled_graph.path, target)
    return pywfst.Graph.load(target)


@pytest.fixture(scope="module")
def utterances(char_setup):
    return simulated_utterances(char_setup, 8, seed=5, peak=4.0, noise=1.5)


def same_graph(a, b) -> None:
    assert (a.num_states, a.start, a.num_emitting_arcs, a.num_epsilon_arcs,
            a.num_nonterminal_arcs, a.max_input_label, a.max_output_label,
            a.negative_epsilon_cycle) == \
        (b.num_states, b.start, b.num_emitting_arcs, b.num_epsilon_arcs, b.num_nonterminal_arcs,
         b.max_input_label, b.max_output_label, b.negative_epsilon_cycle)
    for s in range(a.num_states):
        assert a.arcs(s) == b.arcs(s) and a.final(s) == b.final(s)
    assert a.output_labels().tolist() == b.output_labels().tolist()


def test_build_writes_the_mapped_file_and_load_maps_it(graph):
    assert graph.mapped_path.is_file()
    data = graph.mapped_path.read_bytes()
    assert data[:8] == b"pywfstG\n"
    assert struct.unpack_from("<qq", data, 56) == stamp(graph.fst_path)
    assert sealed(data) == data  # the reference checksum agrees with the writer's
    assert graph.native.mapped
    same_graph(graph.native, _core.CsrGraph.load(graph.fst_path))
    info = json.loads((graph.path / "graph.json").read_text())
    assert [s["stage"] for s in info["build"]["stages"]][-1] == "write HCLG.fst, HCLG.csr"


def test_mapped_and_parsed_graphs_decode_alike(graph, utterances):
    mapped = pywfst.Decoder(graph)
    parsed_graph = pywfst.Graph.load(graph.path)
    parsed_graph._native = _core.CsrGraph.load(graph.fst_path)  # what Graph.load did before
    parsed = pywfst.Decoder(parsed_graph, nbest=3)
    mapped_nbest = pywfst.Decoder(graph, nbest=3)
    assert mapped.graph.native.mapped and not parsed.graph.native.mapped
    for emissions in utterances:
        a, b = mapped_nbest.decode(emissions), parsed.decode(emissions)
        assert [h.words for h in a.nbest] == [h.words for h in b.nbest] and a.nbest
        assert [h.cost for h in a.nbest] == [h.cost for h in b.nbest]
        assert a.alignment == b.alignment and a.word_frames == b.word_frames
        assert mapped.decode(emissions).words == b.words
    batch = mapped.decode_batch(utterances)
    assert [r.words for r in batch] == [parsed.decode(e).words for e in utterances]


def test_nonterminal_arcs_round_trip(tmp_path):
    base = 2**28  # class-slot labels (fst/nonterminal.h): kind 1 (enter), contexts 0..2
    arcs = [(0, 1, 0, 0.5, 1), (0, 0, 0, 0.25, 2), (0, base + 2**16 + 2, 7, 1.0, 2),
            (0, base + 2**16, 0, 1.0, 1), (1, 2, 3, -0.5, 2), (1, base + 2**16 + 1, 0, 0.0, 0),
            (2, 0, 4, 2.0, 0)]
    write_fst(tmp_path / "G.fst", arcs, finals=[2], num_states=3)
    parsed = _core.CsrGraph.load(tmp_path / "G.fst")
    parsed.write_mapped(tmp_path / "G.csr", stamp(tmp_path / "G.fst"))
    mapped = _core.CsrGraph.map(tmp_path / "G.csr", stamp(tmp_path / "G.fst"))
    assert mapped.num_nonterminal_arcs == 3
    same_graph(mapped, parsed)
    assert _core.CsrGraph.map(tmp_path / "G.csr").mapped  # no source given: not checked


def resident_pages(path: Path) -> int:
    """How many of the file's pages the page cache holds (mincore over a fresh mapping)."""
    import ctypes
    import mmap

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    with open(path, "rb") as handle:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, handle.fileno(), 0)
    assert address not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
    try:
        flags = ctypes.create_string_buffer(pages)
        assert libc.mincore(address, size, flags) == 0, os.strerror(ctypes.get_errno())
    finally:
        libc.munmap(address, size)
    return sum(byte & 1 for byte in flags.raw)


def test_a_written_file_leaves_the_page_cache(graph, tmp_path):
    """The pages a graph file was written through are small: left in the page cache, they would
    be what every mapping of the file gets. write_mapped writes them back and drops them, so that
    the first mapping reads the file in huge pages where the kernel has them."""
    probe = tmp_path / "probe"
    with open(probe, "wb") as handle:
        handle.write(os.urandom(1 << 16))
        handle.flush()
        os.fsync(handle.fileno())
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    if resident_pages(probe):
        pytest.skip("this file system keeps a file's pages cached (tmpfs?)")
    native = _core.CsrGraph.map(graph.mapped_path)
    native.write_mapped(tmp_path / "G.csr", (0, 0))
    assert (tmp_path / "G.csr").stat().st_size > 1 << 16
    assert resident_pages(tmp_path / "G.csr") == 0
    same_graph(_core.CsrGraph.map(tmp_path / "G.csr"), native)


@pytest.mark.parametrize("back_cost, cycle", [(None, ""), (0.5, ""), (-0.5, "negative cost")])
def test_epsilon_cycles_in_a_mapped_graph(tmp_path, back_cost, cycle):
    """Without an epsilon cycle the file stores an order of the states that proves it (and
    mapping checks it); with one, mapping searches it for a negative cycle as parsing does."""
    arcs = [(0, 1, 1, 0.0, 1), (1, 0, 0, -0.25, 2), (2, 2, 2, 0.0, 3)]
    if back_cost is not None:
        arcs.append((2, 0, 0, back_cost, 1))
    write_fst(tmp_path / "G.fst", arcs, finals=[3], num_states=4)
    parsed = _core.CsrGraph.load(tmp_path / "G.fst")
    parsed.write_mapped(tmp_path / "G.csr", (0, 0))
    flags = struct.unpack_from("<I", (tmp_path / "G.csr").read_bytes(), FIELDS["flags"][0])[0]
    assert flags == (back_cost is None)
    mapped = _core.CsrGraph.map(tmp_path / "G.csr")
    if cycle:  # named after the file the decoder read
        assert mapped.negative_epsilon_cycle.startswith(f"{tmp_path / 'G.csr'}: the epsilon arcs")
        assert cycle in mapped.negative_epsilon_cycle
    else:
        assert mapped.negative_epsilon_cycle == ""
        same_graph(mapped, parsed)


def test_the_graph_outlives_the_file_and_python(graph, utterances):
    path = graph.path.parent / "lifetime.csr"
    shutil.copy(graph.mapped_path, path)
    native = _core.CsrGraph.map(path)
    search = _core.BeamSearch(native, _core.DecoderOptions())
    expected = search.decode(utterances[0]).hypotheses[0].words
    del native
    path.unlink()  # the mapping holds the file's pages; the search holds the mapping
    assert search.decode(utterances[0]).hypotheses[0].words == expected


def test_a_stale_file_is_rebuilt(graph, tmp_path):
    directory = tmp_path / "g"
    shutil.copytree(graph.path, directory)
    csr = directory / "HCLG.csr"
    before = csr.read_bytes()
    with pytest.raises(_core.StaleGraphError, match="HCLG.csr: made from another version"):
        _core.CsrGraph.map(csr, (1, 2))
    # HCLG.fst touched (same content): stale, written again with the new mtime.
    os.utime(directory / "HCLG.fst", ns=(10**18, 10**18))
    loaded = pywfst.Graph.load(directory)
    assert loaded.native.mapped and csr.read_bytes() != before
    assert struct.unpack_from("<q", csr.read_bytes(), 64)[0] == 10**18
    # HCLG.fst replaced by another graph: the new one is decoded, never the old mapped file.
    other = tmp_path / "other.fst"
    write_fst(other, [(0, 2, 1, 0.0, 1), (1, 0, 2, 0.0, 0)], finals=[1], num_states=2)
    shutil.copy(other, directory / "HCLG.fst")
    replaced = pywfst.Graph.load(directory)
    assert replaced.native.mapped and replaced.native.num_states == 2
    # Another format version: stale as well.
    csr.write_bytes(patched(before, "version", 99))
    with pytest.raises(_core.StaleGraphError, match="format version 99"):
        _core.CsrGraph.map(csr)
    assert pywfst.Graph.load(directory).native.num_states == 2


def test_a_corrupt_file_is_reported_and_rebuilt(graph, tmp_path):
    directory = tmp_path / "g"
    shutil.copytree(graph.path, directory)
    csr = directory / "HCLG.csr"
    good = csr.read_bytes()
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x40
    csr.write_bytes(bytes(flipped))
    with pytest.warns(UserWarning, match=r"HCLG\.csr: corrupt mapped graph file: its checksum"):
        native = pywfst.Graph.load(directory).native
    assert native.mapped and csr.read_bytes() == good


def test_an_unwritable_place_falls_back_to_parsing(graph, tmp_path):
    directory = tmp_path / "g"
    shutil.copytree(graph.path, directory)
    (directory / "HCLG.csr").unlink()
    (directory / "HCLG.csr").mkdir()  # cannot be mapped, nor replaced by a file
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        native = pywfst.Graph.load(directory).native
    assert not native.mapped
    same_graph(native, graph.native)
    assert not [p for p in directory.iterdir() if ".tmp-" in p.name]  # no temporary left


def test_a_foreign_graph_gets_its_mapped_file_on_first_load(tmp_path):
    directory = tmp_path / "foreign"
    directory.mkdir()
    write_fst(directory / "HCLG.fst", [(0, 1, 1, 0.5, 1), (1, 0, 0, 0.0, 0)], finals=[1],
              num_states=2)
    (directory / "words.txt").write_text("<eps> 0\nhello 1\n")
    first = pywfst.Graph.load(directory)
    assert not (directory / "HCLG.csr").exists()  # loading is lazy
    assert first.native.mapped and (directory / "HCLG.csr").is_file()
    decoded = pywfst.Decoder(first).decode(np.log(np.array([[0.1, 0.9]] * 3, np.float32)))
    assert decoded.words == ["hello"] * 3  # one frame each


# --- corrupt and truncated files, each mapped in a child process, so that a crash fails a case
# rather than the test session ----------------------------------------------------------------

CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    from pywfst import _core
    out = []
    for path in sys.argv[1:]:
        try:
            g = _core.CsrGraph.map(path)
        except _core.StaleGraphError as e:
            out.append(["stale", str(e)])
            continue
        except ValueError as e:
            out.append(["error", str(e)])
            continue
        # Loaded: every arc readable, and a search over it ends.
        for s in range(g.num_states):
            g.arcs(s)
        if not g.negative_epsilon_cycle:
            scores = np.zeros((4, max(g.max_input_label, 1)), np.float32)
            _core.BeamSearch(g, _core.DecoderOptions()).decode(scores)
        out.append(["ok", ""])
    print(json.dumps(out))
""")


def map_in_child(paths):
    result = subprocess.run([sys.executable, "-c", CHILD, *map(str, paths)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def write_cases(directory, cases):
    directory.mkdir(exist_ok=True)
    paths = []
    for name, data in cases.items():
        paths.append(directory / f"{name}.csr")
        paths[-1].write_bytes(data)
    return paths


@pytest.fixture(scope="module")
def good(graph):
    return graph.mapped_path.read_bytes()


def test_truncated_files_are_errors(good, tmp_path):
    size = len(good)
    offsets = sorted({0, 1, 7, 8, 100, HEADER - 1, HEADER, HEADER + 1, size - 1, size - 4,
                      *range(HEADER, size, max(1, size // 60))}
                     | {section(good, i)[0] + d for i in range(5) for d in (-1, 0, 1)})
    cases = {f"truncated_{n}": good[:n] for n in offsets if n < size}
    cases["one_byte_more"] = good + b"\0"
    outcomes = map_in_child(write_cases(tmp_path / "cases", cases))
    for name, (kind, message) in zip(cases, outcomes):
        assert kind == "error" and f"{name}.csr" in message, (name, kind, message)


def test_changed_bytes_fail_the_checksum(good, tmp_path):
    rng = np.random.default_rng(0)
    cases = {}
    for i, offset in enumerate(rng.integers(HEADER, len(good), 40)):
        data = bytearray(good)
        data[offset] ^= int(rng.integers(1, 256))
        cases[f"flip_{i}_at_{offset}"] = bytes(data)
    outcomes = map_in_child(write_cases(tmp_path / "cases", cases))
    for name, (kind, message) in zip(cases, outcomes):
        assert kind == "error" and "checksum does not match" in message, (name, message)


def test_header_fields_are_checked(good, tmp_path):
    states = struct.unpack_from("<q", good, 32)[0]
    cases = {
        "magic": patched(good, "magic", b"pywfstX\n"),
        "empty": b"",
        "short": good[:5],
        "byte_order": patched(good, "byte_order", 0x04030201),
        "byte_order_garbage": patched(good, "byte_order", 7),
        "header_bytes": patched(good, "header_bytes", 200),
        "arc_bytes": patched(good, "arc_bytes", 12),
        "start_beyond": patched(good, "start", states),
        "start_negative": patched(good, "start", -1),
        "states_zero": patched(good, "num_states", 0),
        "states_huge": patched(good, "num_states", 2**40),
        "states_one_more": patched(good, "num_states", states + 1),
        "arcs_negative": patched(good, "num_arcs", -1),
        "arcs_huge": patched(good, "num_arcs", 2**60),
        "nonterminal_huge": patched(good, "num_nonterminal_arcs", 2**59),
        "file_size": patched(good, "file_size", len(good) + 64),
        "section_moved": patched(good, "arcs_offset", section(good, 2)[0] + 64),
        "reserved": patched(good, "reserved", 1),
        "flags": patched(good, "flags", 3),
        "no_epsilon_order": patched(good, "flags", 0),
        "checksum": patched(good, "checksum", 12345, seal=False),
        "version": patched(good, "version", 2),
    }
    expected = {
        "magic": "not a pywfst mapped graph file", "empty": "not a pywfst mapped graph file",
        "short": "not a pywfst mapped graph file", "byte_order": "other byte order",
        "byte_order_garbage": "byte-order mark", "header_bytes": "element sizes",
        "arc_bytes": "element sizes", "start_beyond": "start state",
        "start_negative": "start state", "states_zero": "impossible counts",
        "states_huge": "impossible counts", "states_one_more": "section",
        "arcs_negative": "impossible counts", "arcs_huge": "impossible counts",
        "nonterminal_huge": "impossible counts", "file_size": "truncated",
        "section_moved": "section arcs", "reserved": "reserved bytes", "flags": "flags 3",
        "no_epsilon_order": "section epsilon order",
        "checksum": "checksum does not match", "version": "format version 2",
    }
    outcomes = dict(zip(cases, map_in_child(write_cases(tmp_path / "cases", cases))))
    for name, (kind, message) in outcomes.items():
        assert kind == ("stale" if name in ("byte_order", "version") else "error"), (name, message)
        assert expected[name] in message and f"{name}.csr" in message, (name, message)


def test_array_contents_are_checked(good, tmp_path):
    """Changes the checksum cannot see (a file sealed again): the structural checks name them."""
    states = struct.unpack_from("<q", good, 32)[0]
    finals, ranges, arcs = (section(good, i)[0] for i in range(3))
    num_arcs = section(good, 2)[1] // 16
    first_state = next(s for s in range(states)  # the first with an emitting arc
                       if np.subtract(*struct.unpack_from("<qq", good, ranges + 16 * s)) < 0)
    arc0 = arcs + 16 * struct.unpack_from("<q", good, ranges + 16 * first_state)[0]
    order = section(good, 5)[0]
    assert struct.unpack_from("<I", good, FIELDS["flags"][0])[0] == 1  # no epsilon cycle
    epsilon_state = next(s for s in range(states)  # the first with an epsilon arc
                         if struct.unpack_from("<q", good, ranges + 16 * s + 8)[0]
                         < struct.unpack_from("<q", good, ranges + 16 * (s + 1))[0])

    def at(offset, fmt, value):
        data = bytearray(good)
        struct.pack_into(fmt, data, offset, value)
        return sealed(bytes(data))

    last_range = ranges + 16 * states
    padded = next(i for i in range(1, len(SECTIONS))  # a section with padding before it
                  if section(good, i)[0] > sum(section(good, i - 1)))
    cases = {
        "final_nan": (at(finals, "<f", float("nan")), "final weight nan"),
        "final_minus_inf": (at(finals, "<f", float("-inf")), "final weight -inf"),
        "range_first": (at(ranges, "<q", 1), "arc ranges do not cover"),
        "range_last": (at(last_range, "<q", num_arcs - 1), "arc ranges do not cover"),
        "range_epsilon_before_begin": (at(ranges + 16 * first_state + 8, "<q", -1),
                                       "out of order"),
        "range_beyond_arcs": (at(ranges + 16 * (first_state + 1), "<q", num_arcs + 5),
                              "out of order"),
        "nextstate_beyond": (at(arc0 + 12, "<i", states), f"goes to state {states}"),
        "nextstate_negative": (at(arc0 + 12, "<i", -1), "goes to state -1"),
        "ilabel_negative": (at(arc0, "<i", -3), "negative label"),
        "olabel_negative": (at(arc0 + 4, "<i", -3), "negative label"),
        "emitting_ilabel_zero": (at(arc0, "<i", 0), "input label 0"),
        "emitting_nonterminal": (at(arc0, "<i", 2**28 + 5), "input label"),
        "weight_nan": (at(arc0 + 8, "<f", float("nan")), "weight nan"),
        "weight_minus_inf": (at(arc0 + 8, "<f", float("-inf")), "weight -inf"),
        "padding": (at(section(good, padded)[0] - 1, "<B", 1), "of the padding before section"),
        "epsilon_order": (at(order + 4 * epsilon_state, "<i", 2**31 - 1),
                          f"epsilon order does not order epsilon arc 0 of state {epsilon_state}"),
    }
    outcomes = map_in_child(write_cases(tmp_path / "cases", {k: v[0] for k, v in cases.items()}))
    for (name, (_, expected)), (kind, message) in zip(cases.items(), outcomes):
        assert kind == "error" and expected in message and f"{name}.csr" in message, \
            (name, kind, message)


def test_random_changes_sealed_again_never_crash(good, tmp_path):
    """Random bytes anywhere, the checksum made to match: a named error, or a graph that loads
    and decodes (a weight that stays a number, a label that stays in range)."""
    rng = np.random.default_rng(1)
    cases = {}
    for i in range(120):
        data = bytearray(good)
        where = HEADER if i < 30 else len(good)  # a quarter in the header, the rest anywhere
        for offset in rng.integers(0, where, int(rng.integers(1, 4))):
            if not 80 <= offset < 88:  # not the checksum itself
                data[offset] = int(rng.integers(0, 256))
        cases[f"random_{i}"] = sealed(bytes(data))
    outcomes = map_in_child(write_cases(tmp_path / "cases", cases))
    kinds = {kind for kind, _ in outcomes}
    assert kinds <= {"ok", "error", "stale"} and "error" in kinds
    for name, (kind, message) in zip(cases, outcomes):
        assert kind == "ok" or f"{name}.csr" in message, (name, message)


def test_fuzz_seeds_are_of_the_current_format():
    """The mapped_graph fuzz harness starts from these: files of an older layout would stop at
    the header and leave the rest unexplored (fuzz/make_seeds.py writes them again)."""
    seeds = sorted((Path(__file__).parent.parent / "fuzz" / "corpus" / "mapped_graph").iterdir())
    assert seeds
    for seed in seeds:
        assert _core.CsrGraph.map(seed).num_states > 0


def test_map_refuses_what_is_not_a_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        _core.CsrGraph.map(tmp_path / "absent.csr")
    with pytest.raises(OSError, match="a directory"):
        _core.CsrGraph.map(tmp_path)
    os.mkfifo(tmp_path / "fifo.csr")
    with pytest.raises(OSError, match="not a regular file"):
        _core.CsrGraph.map(tmp_path / "fifo.csr")  # never waits for a writer
    with pytest.raises(OSError, match="cannot write mapped graph file"):
        _core.CsrGraph.load(_fst(tmp_path)).write_mapped(tmp_path / "no" / "dir.csr", (0, 0))


def _fst(tmp_path):
    write_fst(tmp_path / "small.fst", [(0, 1, 1, 0.0, 0)], finals=[0], num_states=1)
    return tmp_path / "small.fst"


# --- workers: Graph pickles by path; each worker maps the same file ----------------------------

def _worker_decode(graph, emissions):
    decoder = pywfst.Decoder(graph)
    return graph.native.mapped, os.getpid(), [decoder.decode(e).words for e in emissions]


def test_graph_pickles_to_spawned_workers(graph, utterances):
    expected = [pywfst.Decoder(graph).decode(e).words for e in utterances]
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.starmap(_worker_decode, [(graph, utterances)] * 2)
    assert len({pid for _, pid, _ in results}) == 2
    for mapped, _, words in results:
        assert mapped and words == expected
