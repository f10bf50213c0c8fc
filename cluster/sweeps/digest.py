"""Scenario ids for many scenarios over one network, without re-serialising the network each time.

:meth:`sim.scenario.LoadedScenario.digest` hashes the JSON text
``{"network":<network>,"scenario":<config>}`` (keys sorted, no spaces).  A national
network is about 160 KB of that text, so hashing it twice per scenario (once for the
seed, once for the id) was most of a sweep's expansion.  :class:`Digester` produces the
same bytes from pieces: the JSON text of each part of the network (each site, region,
link and scalar field) is cached for the objects of the sweep's base network, and the
hash state after the leading run of cached pieces is kept, so a scenario pays only for
the pieces it changed (a ``sites.<id>.gpus`` axis: one site) and what follows them.
The hex digest is identical to ``LoadedScenario.digest`` (tests compare the two).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from sim.scenario import LoadedScenario
from topology.model import Network

__all__ = ["Digester"]


def _text(value: Any) -> str:
    """JSON text as LoadedScenario.digest writes it (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _dump(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


class Digester:
    """``LoadedScenario.digest`` for many scenarios whose networks share objects with ``networks``.

    Parameters
    ----------
    networks : Network
        Networks whose pieces (field values, and each element of a tuple field) are cached
        by identity: the sweep's loaded network and its base scenario's resolved one.
    """

    def __init__(self, *networks: Network) -> None:
        # id -> (object kept alive, its JSON text as bytes): the pieces of the given networks
        self._texts: dict[int, tuple[object, bytes]] = {}
        # A trie of sha256 states over leading runs of cached pieces: [state after them, children by piece id]
        self._root: list[Any] = [hashlib.sha256(b'{"network":{'), {}]  # children keyed as _chunks keys
        for network in networks:
            for name, pieces, is_tuple in self._fields(network):
                for piece in pieces:
                    if id(piece) not in self._texts:
                        self._texts[id(piece)] = (piece, _text(_dump(piece)).encode())
                if is_tuple:  # the whole tuple too: a network copied with one field changed shares the others
                    value = getattr(network, name)
                    self._texts[id(value)] = (value, b"[" + b",".join(self._texts[id(p)][1] for p in pieces) + b"]")

    @staticmethod
    def _fields(network: Network) -> list[tuple[str, list[object], bool]]:
        """Each field's name, pieces (a tuple's elements, else the value) and whether a tuple, in JSON order."""
        out = []
        for name in sorted(type(network).model_fields):
            value = getattr(network, name)
            out.append((name, list(value) if isinstance(value, tuple) else [value], isinstance(value, tuple)))
        return out

    def _chunks(self, network: Network) -> Iterator[tuple[int | bytes | None, bytes]]:
        """The network's JSON text in chunks: (key, bytes).

        The key is the piece's id for a cached piece, the text itself for fixed text (field
        names, brackets, commas: networks of other shapes must not share a trie node), and
        None for a piece not cached.
        """
        for i, (name, pieces, is_tuple) in enumerate(self._fields(network)):
            value = getattr(network, name)
            whole = self._texts.get(id(value)) if is_tuple else None
            if whole is not None and whole[0] is value:  # the very tuple of a cached network: one chunk
                head = (("," if i else "") + json.dumps(name) + ":").encode()
                yield head, head
                yield id(value), whole[1]
                continue
            head = (("," if i else "") + json.dumps(name) + ":" + ("[" if is_tuple else "")).encode()
            yield head, head
            for j, piece in enumerate(pieces):
                if j:
                    yield b",", b","
                hit = self._texts.get(id(piece))
                if hit is not None and hit[0] is piece:
                    yield id(piece), hit[1]
                else:
                    yield None, _text(_dump(piece)).encode()
            if is_tuple:
                yield b"]", b"]"
        yield b'},"scenario":', b'},"scenario":'

    def network_state(self, network: Network) -> Any:
        """The sha256 state after ``{"network":<network>,"scenario":`` (copy it before updating).

        Walks the trie of memoised states along the leading run of cached pieces (extending
        it with pieces of the cached networks), then hashes the rest.
        """
        node = self._root
        state = None  # None: still on the trie
        for piece_id, data in self._chunks(network):
            if state is not None:
                state.update(data)
                continue
            child = node[1].get(piece_id) if piece_id is not None else None
            if child is None:
                state = node[0].copy()
                state.update(data)
                if piece_id is not None:  # a cached piece: the trie grows by it, and the walk stays on it
                    child = node[1][piece_id] = [state, {}]
                    state = None
            if child is not None:
                node = child
        return node[0].copy() if state is None else state

    @staticmethod
    def config_text(loaded: LoadedScenario, exclude: frozenset[str] = frozenset()) -> str:
        """The ``scenario`` part of the digest's text, less ``exclude`` (:meth:`LoadedScenario.digest_config`)."""
        return _text(loaded.digest_config(exclude))

    def digest(self, loaded: LoadedScenario, exclude: frozenset[str] = frozenset(), state: Any = None) -> str:
        """``loaded.digest(exclude)``; pass ``state`` (:meth:`network_state`) to reuse the network's hash."""
        h = (state if state is not None else self.network_state(loaded.network)).copy()  # state stays reusable
        h.update((self.config_text(loaded, exclude) + "}").encode())
        return str(h.hexdigest())
