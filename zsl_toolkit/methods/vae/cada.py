"""CADA-VAE: "Generalized Zero- and Few-Shot Learning via Aligned Variational Autoencoders",
Schonfeld, Ebrahimi, Sinha, Darrell and Akata, CVPR 2019.

One VAE per modality (visual features, class attributes) is trained so that each
reconstructs its own input and, from the other modality's latent, the other input
(cross-alignment), while the two posteriors of a sample are pulled together by a
2-Wasserstein distance (distribution alignment). A linear softmax classifier is then trained
on latents: noisy encodings of real seen-class features and of unseen-class attribute
vectors. At test time a feature is encoded to its mean and classified over all classes.

This follows the authors' code (``edgarschnfld/CADA-VAE-PyTorch``) rather than the paper's
prose where they differ: summed L1 losses, their sampling rule (see ``faithful_sampling``),
their warm-up schedules with 0-based epochs, amsgrad Adam, the per-class tiling of seen
features for the classifier, and the classifier's Xavier initialisation. One deliberate
deviation: their loader fits a separate min-max scaler on each test split; here the scaler is
fitted on ``trainval`` only and applied unchanged to test features.

:class:`CADAVAE` is also the public base of methods that extend the cross-aligned VAEs (the
Disentangled-VAE plugin): they override the hooks :meth:`CADAVAE.build_model`,
:meth:`CADAVAE.vae_loss`, :meth:`CADAVAE.latent_samplers`, :meth:`CADAVAE.scorer`,
:meth:`CADAVAE.resolve` and :meth:`CADAVAE.warmups`, and inherit everything else, so a fix
here reaches them too.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.methods.base import FitContext, Method, ModelSpec, Stage
from zsl_toolkit.methods.constraints import Boolean, Interval, Options
from zsl_toolkit.methods.vae.blocks import (
    Decoder,
    Encoder,
    kl_gaussian,
    reparameterize,
    wasserstein_diag,
)
from zsl_toolkit.methods.vae.classifier import (
    DRAWS,
    LatentClassifier,
    Sampler,
    classifier_stage,
    default_classifier_epochs,
    gzsl_latent_set,
)
from zsl_toolkit.methods.vae.warmup import Warmup

__all__ = ["CADAVAE", "CrossAlignedVAEModel", "LatentScorer", "scaled"]


def scaled(hidden: int, scale: float) -> int:
    """A hidden size times ``scale``, rounded, at least 1 (``hidden_scale`` shrinks the
    networks for tests and quick experiments)."""
    return max(1, int(round(hidden * scale)))


class CrossAlignedVAEModel(nn.Module):
    """The four networks of the cross-aligned VAEs and the latent classifier.

    Each encoder's heads have ``branches * latent`` outputs (CADA-VAE: one branch; a method
    with several latent branches reads them as consecutive blocks); decoders read ``latent``
    units. Modules are created in the authors' order (visual encoder, attribute encoder,
    visual decoder, attribute decoder, classifier), so with one branch the parameters and the
    random numbers drawn to initialise them are CADA-VAE's; a subclass creates its own
    modules after these.
    """

    def __init__(
        self,
        feature_dim: int,
        embedding_dim: int,
        n_classes: int,
        latent: int,
        hidden: tuple[int, int, int, int],
        branches: int = 1,
    ) -> None:
        super().__init__()
        venc, vdec, aenc, adec = hidden
        self.latent = latent
        self.branches = branches
        self.visual_encoder = Encoder(feature_dim, venc, branches * latent)
        self.attribute_encoder = Encoder(embedding_dim, aenc, branches * latent)
        self.visual_decoder = Decoder(latent, vdec, feature_dim)
        self.attribute_decoder = Decoder(latent, adec, embedding_dim)
        self.classifier = LatentClassifier(latent, n_classes)

    def vae_modules(self) -> list[nn.Module]:
        """Everything the first stage trains (the final classifier is trained later)."""
        return [
            self.visual_encoder,
            self.attribute_encoder,
            self.visual_decoder,
            self.attribute_decoder,
        ]


class LatentScorer(nn.Module):
    """Preprocessed features -> visual encoder mean -> classifier log-probabilities [B, C].

    Only the mean head is evaluated (no sampling), so scores are deterministic and each row's
    score depends on that row alone. :meth:`select` picks the classifier's input from the mean
    (all of it here; a part of it for a method with latent branches).
    """

    def __init__(self, encoder: Encoder, classifier: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.classifier = classifier

    def select(self, mu: torch.Tensor) -> torch.Tensor:
        return mu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu = self.encoder.mu(F.relu(self.encoder.hidden(x)))
        return self.classifier(self.select(mu))


class CADAVAE(Method):
    """Cross- and distribution-aligned VAEs (Schonfeld et al., CVPR 2019).

    Defaults are the authors' (``single_experiment.py``): latent 64; hidden sizes 1560/1660
    (visual encoder/decoder) and 1450/665 (attribute encoder/decoder); Adam lr 1.5e-4,
    betas (0.9, 0.999), amsgrad; batch 50; 100 epochs; warm-ups (0-based epochs) of the KL
    weight 0 -> 0.25 over 0..93, cross-reconstruction 0 -> 2.37 over 21..75 and distance
    0 -> 8.13 over 6..22; 200 latents per seen and 400 per unseen class for a classifier
    trained with Adam lr 1e-3, beta1 0.5, batch 32, for ``classifier_epochs`` epochs (None:
    the authors' per-dataset GZSL choice for CUB/SUN/AWA1/AWA2, else as many epochs as give
    the number of updates of their CUB setting,
    ``zsl_toolkit.methods.vae.REFERENCE_CLASSIFIER_STEPS``).

    ``faithful_sampling=True`` (default) samples as the authors' code does, with
    ``sigma = exp(logvar)`` and one noise value per sample shared by all latent dimensions;
    ``False`` uses the textbook ``exp(logvar / 2)`` with independent noise. The default
    reproduces their results, the textbook rule does not
    (``benchmarks/results/cada_vae_sampling.md``; see
    :func:`zsl_toolkit.methods.vae.reparameterize`). The KL and distance
    terms use ``sigma = exp(logvar / 2)`` under both rules, as the authors' code does.
    ``seen_draw`` picks how seen features are chosen for the classifier ("tile": the authors'
    deterministic repetition; "random": with replacement). ``hidden_scale`` multiplies every
    hidden size (tests and quick experiments).

    Short runs: when a run sets the VAE epochs (``--epochs``) away from :attr:`EPOCHS`, every
    warm-up's start and end epoch is scaled by ``epochs / EPOCHS`` (``scale_schedules``,
    default on), so the weights reach the same values at the same fraction of training: a
    short run is the same method, compressed, not one whose KL and cross-reconstruction
    weights never warm up. The factor is recorded as ``schedule_scale`` in ``resolved_params``;
    runs at the default epochs are unaffected.

    Class editing (``zsl add-class`` / ``remove-class``): the VAEs stay as trained; the
    final classifier is trained again, exactly as training's classifier stage does (same
    latents per class, epochs resolved for the new class set, same batch and optimizer), on
    latents of the run's stored seen features and of every unseen class's attribute vector
    (an added class's from its description), starting from the random state and initial
    weights the stage had in training, so an edit that ends at the original class set gives
    back the original classifier bit for bit. Classes are the rows of ``classifier`` and of
    any other :class:`LatentClassifier` of the model over the seen classes (a subclass's
    auxiliary classifiers), which keep their trained rows for the kept seen classes.

    Parameters
    ----------
    latent_size : int
        Dimensions of each VAE's latent space (64).
    visual_encoder_hidden : int
        Hidden units of the visual encoder (1560).
    visual_decoder_hidden : int
        Hidden units of the visual decoder (1660).
    attribute_encoder_hidden : int
        Hidden units of the attribute encoder (1450).
    attribute_decoder_hidden : int
        Hidden units of the attribute decoder (665).
    hidden_scale : float
        Factor on every hidden size, rounded, at least 1 unit (tests and quick experiments).
    lr : float
        Adam learning rate of the VAE stage.
    adam_beta1, adam_beta2 : float
        Adam's betas in the VAE stage.
    amsgrad : bool
        Use Adam's amsgrad variant in the VAE stage (the authors' choice).
    kl_factor : float
        Final weight of the KL term.
    kl_start, kl_end : int
        Epochs (0-based) over which the KL weight warms up from 0 to kl_factor.
    cross_factor : float
        Final weight of the cross-reconstruction loss.
    cross_start, cross_end : int
        Epochs over which the cross-reconstruction weight warms up from 0 to cross_factor.
    distance_factor : float
        Final weight of the distribution-alignment (2-Wasserstein) distance.
    distance_start, distance_end : int
        Epochs over which the distance weight warms up from 0 to distance_factor.
    scale_schedules : bool
        Scale every warm-up's epochs by the run's VAE epochs over the default epochs, so a
        short run warms up in the same fraction of training.
    faithful_sampling : bool
        Sample latents as the authors' code does (sigma = exp(logvar), one noise value per
        sample); false: the textbook exp(logvar / 2) with independent noise per dimension.
    seen_samples : int or None
        Latents per seen class in the final classifier's training set; None: the dataset's
        value, else 200.
    unseen_samples : int or None
        Latents per unseen class (from its attribute vector); None: the dataset's value,
        else 400.
    seen_draw : {"tile", "random"}
        How seen features are picked for the classifier's latents: the authors' deterministic
        repetition, or drawn with replacement.
    classifier_epochs : int or None
        Epochs of the final classifier; None: the authors' per-dataset value (CUB 23, SUN 21,
        AWA1 33, AWA2 29), else as many epochs as give the updates of their CUB setting.
    classifier_lr : float
        Adam learning rate of the final classifier.
    classifier_beta1 : float
        Adam's beta1 for the final classifier.
    classifier_batch_size : int
        Batch size of the final classifier.
    preprocess : {"none", "minmax", "l2"}
        Feature preprocessing fitted on trainval (min-max scaling, as the authors' loader).
    """

    class_edit = "refit"
    class_refit_stage = 1
    refit_stage_params: ClassVar[tuple[str, ...]] = (
        "seen_samples",
        "unseen_samples",
        "seen_draw",
        "classifier_epochs",
        "classifier_lr",
    )

    #: The authors' VAE epochs and batch size: run-level settings, so they are the primary
    #: stage's defaults that ``--epochs`` / ``--batch-size`` override, not parameters.
    EPOCHS: ClassVar[int] = 100
    BATCH_SIZE: ClassVar[int] = 50
    #: Latents per (seen, unseen) class for the final classifier by dataset key, used when
    #: ``seen_samples`` / ``unseen_samples`` are None; else :attr:`DEFAULT_SAMPLES`.
    SAMPLES: ClassVar[dict[str, tuple[int, int]]] = {}
    DEFAULT_SAMPLES: ClassVar[tuple[int, int]] = (200, 400)

    citation = (
        "Schonfeld, E., Ebrahimi, S., Sinha, S., Darrell, T. and Akata, Z. Generalized zero- "
        "and few-shot learning via aligned variational autoencoders. CVPR 2019."
    )
    #: The paper's Table 2 (the same values in Li et al., AAAI 2021, Table 2).
    published = {
        "cub": {"U": 51.6, "S": 53.5, "H": 52.4},
        "sun": {"U": 47.2, "S": 35.7, "H": 40.6},
        "awa1": {"U": 57.3, "S": 72.8, "H": 64.1},
        "awa2": {"U": 55.8, "S": 75.0, "H": 63.9},
    }
    #: ``--select auto``: latents per unseen class in the final classifier's training set,
    #: which sets the seen/unseen balance of its predictions.
    select_candidates: ClassVar[dict[str, tuple[Any, ...]]] = {"unseen_samples": (400, 200, 800)}
    param_constraints = {
        **{
            name: Interval(int, 1)
            for name in (
                "latent_size",
                "visual_encoder_hidden",
                "visual_decoder_hidden",
                "attribute_encoder_hidden",
                "attribute_decoder_hidden",
                "classifier_batch_size",
            )
        },
        **{
            name: Interval(float, 0, strict=True)
            for name in ("hidden_scale", "lr", "classifier_lr")
        },
        **{name: Interval(float, 0, 1, strict=False) for name in ("adam_beta1", "adam_beta2")},
        "classifier_beta1": Interval(float, 0, 1),
        **{name: Interval(float, 0) for name in ("kl_factor", "cross_factor", "distance_factor")},
        **{
            name: Interval(int, 0)
            for name in (
                "kl_start",
                "kl_end",
                "cross_start",
                "cross_end",
                "distance_start",
                "distance_end",
            )
        },
        "seen_samples": Interval(int, 0, optional=True),
        "unseen_samples": Interval(int, 0, optional=True),
        "classifier_epochs": Interval(int, 0, optional=True),
        "seen_draw": Options(*DRAWS),
        "amsgrad": Boolean(),
        "faithful_sampling": Boolean(),
        "scale_schedules": Boolean(),
    }
    quick_params: ClassVar[dict[str, Any]] = {
        "latent_size": 4,
        "visual_encoder_hidden": 16,
        "visual_decoder_hidden": 16,
        "attribute_encoder_hidden": 8,
        "attribute_decoder_hidden": 8,
        "seen_samples": 10,
        "unseen_samples": 20,
        "classifier_epochs": 2,
    }

    def __init__(
        self,
        *,
        latent_size: int = 64,
        visual_encoder_hidden: int = 1560,
        visual_decoder_hidden: int = 1660,
        attribute_encoder_hidden: int = 1450,
        attribute_decoder_hidden: int = 665,
        hidden_scale: float = 1.0,
        lr: float = 1.5e-4,
        adam_beta1: float = 0.9,
        adam_beta2: float = 0.999,
        amsgrad: bool = True,
        kl_factor: float = 0.25,
        kl_start: int = 0,
        kl_end: int = 93,
        cross_factor: float = 2.37,
        cross_start: int = 21,
        cross_end: int = 75,
        distance_factor: float = 8.13,
        distance_start: int = 6,
        distance_end: int = 22,
        scale_schedules: bool = True,
        faithful_sampling: bool = True,
        seen_samples: int | None = 200,
        unseen_samples: int | None = 400,
        seen_draw: str = "tile",
        classifier_epochs: int | None = None,
        classifier_lr: float = 1e-3,
        classifier_beta1: float = 0.5,
        classifier_batch_size: int = 32,
        preprocess: str = "minmax",
    ) -> None:
        self.latent_size = latent_size
        self.visual_encoder_hidden = visual_encoder_hidden
        self.visual_decoder_hidden = visual_decoder_hidden
        self.attribute_encoder_hidden = attribute_encoder_hidden
        self.attribute_decoder_hidden = attribute_decoder_hidden
        self.hidden_scale = hidden_scale
        self.lr = lr
        self.adam_beta1 = adam_beta1
        self.adam_beta2 = adam_beta2
        self.amsgrad = amsgrad
        self.kl_factor = kl_factor
        self.kl_start = kl_start
        self.kl_end = kl_end
        self.cross_factor = cross_factor
        self.cross_start = cross_start
        self.cross_end = cross_end
        self.distance_factor = distance_factor
        self.distance_start = distance_start
        self.distance_end = distance_end
        self.scale_schedules = scale_schedules
        self.faithful_sampling = faithful_sampling
        self.seen_samples = seen_samples
        self.unseen_samples = unseen_samples
        self.seen_draw = seen_draw
        self.classifier_epochs = classifier_epochs
        self.classifier_lr = classifier_lr
        self.classifier_beta1 = classifier_beta1
        self.classifier_batch_size = classifier_batch_size
        self.preprocess = preprocess

    # ------------------------------------------------------------------ parameters
    def validate(self) -> None:
        super().validate()
        if self.seen_samples == 0 and self.unseen_samples == 0:
            raise ConfigError("parameters seen_samples and unseen_samples cannot both be 0")

    def resolve(self, spec: ModelSpec, epochs: int | None = None) -> dict[str, Any]:
        """Latents per class (:attr:`SAMPLES`), the classifier's epochs (the authors' GZSL
        value for CUB/SUN/AWA1/AWA2, else about
        :data:`~zsl_toolkit.methods.vae.REFERENCE_CLASSIFIER_STEPS` updates) and the warm-up
        scale of a run whose VAE epochs differ from :attr:`EPOCHS`."""
        seen, unseen = self.SAMPLES.get(spec.dataset_key, self.DEFAULT_SAMPLES)
        seen = int(self.seen_samples if self.seen_samples is not None else seen)
        unseen = int(self.unseen_samples if self.unseen_samples is not None else unseen)
        if self.classifier_epochs is not None:
            classifier_epochs = int(self.classifier_epochs)
        else:
            rows = len(spec.seen_classes) * seen + len(spec.unseen_classes) * unseen
            classifier_epochs = default_classifier_epochs(
                spec.dataset, rows, self.classifier_batch_size
            )
        scale = 1.0
        if self.scale_schedules and epochs is not None and epochs != self.EPOCHS:
            scale = epochs / self.EPOCHS
        return {
            "seen_samples": seen,
            "unseen_samples": unseen,
            "classifier_epochs": classifier_epochs,
            "schedule_scale": scale,
        }

    def schedule(self, start: int, end: int, factor: float) -> Warmup:
        """A warm-up of this run: ``start``/``end`` scaled by ``schedule_scale``."""
        scale = getattr(self, "resolved_", {}).get("schedule_scale", 1.0)
        if scale == 1.0:
            return Warmup(start, end, factor)
        return Warmup(start * scale, end * scale, factor)

    def warmups(self) -> dict[str, Warmup]:
        """The per-epoch loss-weight schedules, from this instance's parameters."""
        return {
            "kl": self.schedule(self.kl_start, self.kl_end, self.kl_factor),
            "cross": self.schedule(self.cross_start, self.cross_end, self.cross_factor),
            "distance": self.schedule(self.distance_start, self.distance_end, self.distance_factor),
        }

    # ------------------------------------------------------------------ networks
    def hidden_sizes(self) -> tuple[int, int, int, int]:
        s = float(self.hidden_scale)
        return (
            scaled(self.visual_encoder_hidden, s),
            scaled(self.visual_decoder_hidden, s),
            scaled(self.attribute_encoder_hidden, s),
            scaled(self.attribute_decoder_hidden, s),
        )

    def build(self, spec: ModelSpec) -> nn.Module:
        return self.build_model(spec, self.hidden_sizes())

    def build_model(self, spec: ModelSpec, hidden: tuple[int, int, int, int]) -> nn.Module:
        """The networks (hook: a subclass returns a :class:`CrossAlignedVAEModel` of its own)."""
        return CrossAlignedVAEModel(
            spec.feature_dim, spec.embedding_dim, spec.n_classes, self.latent_size, hidden
        )

    def scorer(self) -> nn.Module:
        return LatentScorer(self.model_.visual_encoder, self.model_.classifier)

    def class_indexed(self) -> dict[str, str]:
        out = {}
        n_seen = len(self.spec_.seen_classes)
        for name, module in self.model_.named_modules():
            if not isinstance(module, LatentClassifier):
                continue
            if name == "classifier":
                kind = "all"
            elif module.fc.out_features == n_seen:
                kind = "seen"
            else:
                continue
            out.update({f"model.{name}.fc.weight": kind, f"model.{name}.fc.bias": kind})
        return out

    # ------------------------------------------------------------------ training
    def stage(self, index: int, ctx: FitContext) -> Stage | None:
        if index == 0:
            return self.vae_stage(ctx)
        if index == 1:
            return self.classifier_stage(ctx)
        return None

    def vae_loss(
        self, x: torch.Tensor, s: torch.Tensor, y: torch.Tensor, epoch: int
    ) -> dict[str, torch.Tensor]:
        """All loss terms of one batch: features ``x`` [B, d1], their classes' attribute
        vectors ``s`` [B, d2] and global class ids ``y`` [B], with the warm-up weights of
        (0-based) ``epoch``.

        Each decoder runs once on both latents stacked ([2B, latent]), and each decoder's L1
        error is taken against its target broadcast over the two halves in one pass: the
        same sums as four separate :func:`~zsl_toolkit.methods.vae.l1_sum` calls, with half
        the matmul calls and no slice gradients to scatter back.
        """
        m = self.model_
        mu_v, lv_v = m.visual_encoder(x)
        mu_s, lv_s = m.attribute_encoder(s)
        z = torch.cat(
            [
                reparameterize(mu_v, lv_v, self.faithful_sampling),
                reparameterize(mu_s, lv_s, self.faithful_sampling),
            ]
        )
        reconstruction, cross = self.reconstruction_errors(x, s, z)
        kl = kl_gaussian(mu_v, lv_v) + kl_gaussian(mu_s, lv_s)
        distance = wasserstein_diag(mu_v, lv_v, mu_s, lv_s)
        w = {name: schedule(epoch) for name, schedule in self.warmups().items()}
        loss = reconstruction + w["kl"] * kl + w["cross"] * cross
        if w["distance"] > 0:  # as the authors: skip, so a zero distance cannot give 0 * inf
            loss = loss + w["distance"] * distance
        return {
            "loss": loss,
            "reconstruction": reconstruction.detach(),
            "cross_reconstruction": cross.detach(),
            "kl": kl.detach(),
            "distance": distance.detach(),
        }

    def reconstruction_errors(
        self, x: torch.Tensor, s: torch.Tensor, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed L1 errors (reconstruction, cross-reconstruction) of both decoders on the
        stacked latents ``z`` [2B, latent] (rows ``:B`` encode ``x``, rows ``B:`` encode ``s``)."""
        m = self.model_
        b = x.shape[0]
        # [2, B, d]: index 0 decodes the visual latent, index 1 the attribute latent.
        err_x = (m.visual_decoder(z).view(2, b, -1) - x).abs().sum(dim=(1, 2))
        err_s = (m.attribute_decoder(z).view(2, b, -1) - s).abs().sum(dim=(1, 2))
        return err_x[0] + err_s[1], err_x[1] + err_s[0]

    def vae_optimizer(self, params: Any) -> torch.optim.Optimizer:
        """Adam (amsgrad by default); the fused kernel when this torch has it for the
        device, as it makes one pass over the ~7.6M parameters instead of several."""
        kwargs: dict[str, Any] = dict(
            lr=self.lr, betas=(self.adam_beta1, self.adam_beta2), amsgrad=self.amsgrad
        )
        params = list(params)
        try:
            return torch.optim.Adam(params, fused=True, **kwargs)
        except (RuntimeError, TypeError, ValueError):  # older torch or unsupported device
            return torch.optim.Adam(params, **kwargs)

    def vae_stage(self, ctx: FitContext) -> Stage:
        m = self.model_
        embeddings = ctx.class_embeddings.float()

        def loss(batch: tuple[torch.Tensor, ...], epoch: int) -> dict[str, torch.Tensor]:
            x, y = batch
            return self.vae_loss(x, embeddings[y], y, epoch)

        modules = m.vae_modules()
        return Stage(
            name="vae",
            epochs=self.EPOCHS,
            batch_size=self.BATCH_SIZE,
            tensors=(ctx.features, ctx.labels),
            parameters=[p for mod in modules for p in mod.parameters()],
            optimizer=self.vae_optimizer,
            loss=loss,
            primary=True,
            drop_last=True,  # the authors always train on full batches of 50
            train_modules=modules,
        )

    def latent_samplers(self) -> tuple[Sampler | None, Sampler | None]:
        """How the final classifier's seen and unseen latents are drawn from encoder statistics
        (hook; ``None``: CADA-VAE's rule, :func:`~zsl_toolkit.methods.vae.gaussian_sampler`)."""
        return None, None

    def classifier_latents(self, ctx: FitContext) -> tuple[torch.Tensor, torch.Tensor]:
        """The final classifier's training set: CADA-VAE's per-class latents of real seen
        features and of unseen attribute vectors, drawn by :meth:`latent_samplers`."""
        m = self.model_
        seen_sample, unseen_sample = self.latent_samplers()
        return gzsl_latent_set(
            m.visual_encoder,
            m.attribute_encoder,
            ctx.features,
            ctx.labels,
            ctx.class_embeddings.float(),
            ctx.seen,
            ctx.unseen,
            self.resolved_["seen_samples"],
            self.resolved_["unseen_samples"],
            faithful=self.faithful_sampling,
            draw=self.seen_draw,
            seen_sample=seen_sample,
            unseen_sample=unseen_sample,
        )

    def classifier_stage(self, ctx: FitContext) -> Stage:
        latents, labels = self.classifier_latents(ctx)
        return classifier_stage(
            self.model_.classifier,
            latents,
            labels,
            self.resolved_["classifier_epochs"],
            lr=self.classifier_lr,
            betas=(self.classifier_beta1, 0.999),
            batch_size=self.classifier_batch_size,
        )
