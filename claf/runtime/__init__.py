"""Inference runtimes below the predictor: ONNX export with its fusion and parity checks, and the
backends (torch, torch-bf16, onnx, onnx-int8) a ``Predictor`` runs on. The server, latency benchmark
and load test that use them live in ``claf.serve``."""
