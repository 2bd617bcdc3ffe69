"""Counter-based random numbers: a pure function of (seed, epoch, index, position, stream).

Masks must not depend on batch composition, worker count or how far a run got before a
resume, so nothing here keeps state: every draw hashes its coordinates with SplitMix64.
Everything is vectorised over numpy uint64 arrays (multiplication wraps modulo 2**64).
"""

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(x):
    """SplitMix64 finaliser on a uint64 array (a bijection with good avalanche)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def combine(key, value):
    """A new key from a key and another coordinate (arrays broadcast)."""
    with np.errstate(over="ignore"):
        return mix64(np.asarray(key, dtype=np.uint64) + np.asarray(value, dtype=np.uint64) * _GOLDEN + _GOLDEN)


def instance_keys(seed, epoch, indices, salt=0):
    """One key per instance: (seed, epoch, salt) and each instance's index."""
    base = combine(combine(combine(np.uint64(seed), epoch), salt), 0)
    return combine(base, np.asarray(indices, dtype=np.uint64))


def uniform(keys, positions, stream):
    """Floats in [0, 1) for each (key, position) pair on a named integer stream."""
    h = combine(combine(keys, positions), stream)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def to_unit(h):
    """Floats in [0, 1) from the high 53 bits of hashes."""
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def low_unit(h):
    """Floats in [0, 1) from the low 32 bits of hashes (independent of ``to_unit``'s bits)."""
    return (h & np.uint64(0xFFFFFFFF)).astype(np.float64) * (1.0 / (1 << 32))


def integers(keys, positions, stream, high):
    """Integers in [0, high) (high < 2**32) for each (key, position) pair."""
    h = combine(combine(keys, positions), stream)
    return ((h >> np.uint64(32)) * np.uint64(high) >> np.uint64(32)).astype(np.int64)
