"""Per-dataset defaults of Disentangled-VAE, keyed by ``ModelSpec.dataset_key``.

Values are the paper's (Li et al., AAAI 2021): alpha from its Fig. 3, samples per class from
its implementation details. Datasets the paper did not use get the ``DEFAULT_*`` values.
"""

from __future__ import annotations

from zsl_dvae.published import ALPHA_PEAK

#: Weight of the dispersing branch's KL term relative to the distilling branch's (Fig. 3).
ALPHA: dict[str, float] = {k: float(v) for k, v in ALPHA_PEAK.items()}
#: CUB's value, the middle of the paper's 8..18: used for any other dataset.
DEFAULT_ALPHA = 10.0

#: Latents per seen class and per unseen class for the final classifier.
SAMPLES: dict[str, tuple[int, int]] = {
    "cub": (200, 400),
    "awa1": (200, 460),
    "awa2": (200, 480),
    "sun": (200, 410),
}
#: CADA-VAE's counts, which the paper's CUB row keeps: used for any other dataset.
DEFAULT_SAMPLES = (200, 400)
