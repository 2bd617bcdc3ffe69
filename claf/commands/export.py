"""``python -m claf export <run dir or checkpoint> --format onnx [--quantize int8]``.

Writes ``checkpoints/best-onnx/`` beside the checkpoint: the optimized ONNX graph (fused attention,
LayerNorm and GELU, checked against the layer count), its fp32 parity with PyTorch (max |diff| <= 1e-4),
and with ``--quantize int8`` the dynamically quantized model. Prints the checks' report as JSON.
"""

import json

from claf.commands.args import Arg, Flag, Spec, parse
from claf.commands.common import guarded, setup_logging
from claf.extras import require

SPECS = {
    "": Spec(
        "python -m claf export",
        "Export a trained model for serving.",
        (
            Arg("checkpoint", "a run folder (its checkpoints/best is used) or a checkpoint directory"),
            Flag("format", "export format (onnx)", default="onnx", choices=("onnx",)),
            Flag("quantize", "also write an int8 (dynamic quantization) model", choices=("int8",)),
        ),
    )
}


def main(argv: list[str] | None = None) -> int:
    args = parse(SPECS[""], argv)
    setup_logging()

    def run() -> int:
        require("serve", "claf export")
        from claf.experiment import find_checkpoint
        from claf.runtime.onnx_export import export_onnx

        checkpoint = find_checkpoint(args.checkpoint)  # a MissingFileError: one line, exit 1 (guarded)
        report = export_onnx(checkpoint, quantize=args.quantize)
        print(json.dumps(report, indent=2))
        return 0

    return guarded(run)
