"""ppcls_repro: faithful PaddlePaddle reproductions of classic deep-learning papers."""
import os
import warnings

# Paddle's bundled MKL picks a slow GEMM path on AMD CPUs unless told otherwise; measured here:
# 64 -> 170 GFLOP/s. It must be set before Paddle loads, so it lives in the package import.
os.environ.setdefault("MKL_DEBUG_CPU_TYPE", "5")
# Paddle warns about a missing ccache on every import; it concerns C++ extension builds only.
warnings.filterwarnings("ignore", message="No ccache found")

__version__ = "0.1.0"
