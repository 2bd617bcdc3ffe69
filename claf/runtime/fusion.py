"""Fused-node counts of an optimized transformer graph, and the check that fusion happened.

ONNX Runtime's transformer optimizer rewrites each encoder layer's attention sub-graph into one
``Attention`` (or ``MultiHeadAttention``) node, its LayerNorms into ``(Skip|Embed)LayerNormalization``
and its GELU into ``(Bias|Fast)Gelu``. When a pattern is not recognised the graph still runs, only
slower; this check turns that silent slowdown into an error that names the counts.
"""

from collections import Counter

from claf.errors import UserError

ATTENTION = ("Attention", "MultiHeadAttention", "QAttention")
LAYER_NORM = (
    "LayerNormalization",
    "SkipLayerNormalization",
    "EmbedLayerNormalization",
    "SkipSimplifiedLayerNormalization",
    "SimplifiedLayerNormalization",
)
GELU = ("Gelu", "FastGelu", "BiasGelu", "GemmFastGelu", "QuickGelu")


class FusionError(UserError):
    """The optimized graph lacks the fused nodes one encoder of this depth should have."""


def fused_counts(graph_or_model) -> dict:
    """{"attention": n, "layer_norm": n, "gelu": n} over the nodes of an ONNX model or graph."""
    graph = getattr(graph_or_model, "graph", graph_or_model)
    ops = Counter(node.op_type for node in graph.node)
    return {
        "attention": sum(ops[o] for o in ATTENTION),
        "layer_norm": sum(ops[o] for o in LAYER_NORM),
        "gelu": sum(ops[o] for o in GELU),
    }


def check_fusion(graph_or_model, num_layers: int, where: str = "model") -> dict:
    """Each layer needs one fused attention, one fused GELU and two fused LayerNorms; fail otherwise."""
    counts = fused_counts(graph_or_model)
    expected = {"attention": num_layers, "layer_norm": 2 * num_layers, "gelu": num_layers}
    short = {k: (counts[k], v) for k, v in expected.items() if counts[k] < v}
    if short:
        found = ", ".join(f"{k} {got}/{want}" for k, (got, want) in short.items())
        raise FusionError(
            f"{where}: ONNX Runtime did not fuse the encoder ({found} fused nodes for "
            f"{num_layers} layers); export with the TorchScript exporter and eager attention"
        )
    return counts
