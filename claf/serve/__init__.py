"""Serving: ONNX export (+ int8), inference backends, the latency benchmark and the HTTP server.

python -m claf export <run_dir> --format onnx [--quantize int8]
python -m claf bench latency <run_dir | bert-base>
python -m claf serve <run_dir> --backend onnx-int8 --port 8766
"""
