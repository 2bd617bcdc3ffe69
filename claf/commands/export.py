"""``python -m claf export <run dir or checkpoint> --format onnx [--quantize int8]``.

Writes ``checkpoints/best-onnx/`` beside the checkpoint: the optimized ONNX graph (fused attention,
LayerNorm and GELU, checked against the layer count), its fp32 parity with PyTorch (max |diff| <= 1e-4),
and with ``--quantize int8`` the dynamically quantized model. Prints the checks' report as JSON.
"""

import argparse
import json

from claf.commands.common import guarded, setup_logging
from claf.extras import require


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claf export", description="Export a trained model for serving.")
    parser.add_argument("checkpoint", help="a run folder (its checkpoints/best is used) or a checkpoint directory")
    parser.add_argument("--format", default="onnx", choices=["onnx"], help="export format (onnx)")
    parser.add_argument("--quantize", choices=["int8"], help="also write an int8 (dynamic quantization) model")
    args = parser.parse_args(argv)
    setup_logging()

    def run() -> int:
        require("serve", "claf export")
        from claf.experiment import find_checkpoint
        from claf.runtime.export import export_onnx

        checkpoint = find_checkpoint(args.checkpoint)  # a MissingFileError: one line, exit 1 (guarded)
        report = export_onnx(checkpoint, quantize=args.quantize)
        print(json.dumps(report, indent=2))
        return 0

    return guarded(run)
