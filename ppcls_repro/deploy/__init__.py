"""Deployment: export a trained network as a static graph and run it with Paddle Inference.

- ``spec.py``: ``ExportSpec``, what a model states about how it is exported (its ``export_spec()``).
- ``export.py``: config + weights -> ``paddle.jit`` static model + ``pipeline.json``, checked against dygraph.
- ``predictor.py``: ``paddle.inference`` predictors for CPU (oneDNN, threads) and GPU (TensorRT, fp16).
- ``pipeline.py``: the pre/post-processing registry (``PIPELINES``), image reading, the inference loop.
- ``infer.py``: what ``tools/infer.py`` does (predictor + pipeline over files, benchmark).
- ``tiling.py``: overlapping tiles for fully convolutional nets, so memory stays bounded.
- ``sr.py``: the super-resolution pipeline (pre-upscaled input as SRCNN, or LR input).
- ``classification.py``: image classification (the Eval transform of MNIST/CIFAR/ImageNet, top-k).
- ``retrieval.py``: cross-modal retrieval (DSCMR's two encoders, cosine ranking of a gallery).
- ``hyperspectral.py``: a hyperspectral cube -> PCA -> windows -> HybridSN's classification map.
- ``benchmark.py``: latency timing shared by ``tools/infer.py --benchmark`` and ``tools/benchmark_latency.py``.
- ``latency.py``: the Paddle side of ``tools/benchmark_latency.py`` (the static network alone, its input,
  the runtimes' agreement check, the markdown table); the PyTorch twins are in ``ppcls_repro/latency_twins.py``.
- ``onnx.py``: ONNX export (paddle2onnx) checked in onnxruntime, and onnxruntime CPU sessions.
"""
