"""f-VAEGAN-D2: "f-VAEGAN-D2: A Feature Generating Framework for Any-Shot Learning", Xian,
Sharma, Schiele and Akata, CVPR 2019 (inductive setting).

A conditional VAE and a conditional WGAN-GP share one generator: the encoder ``E(x, a)``
maps a real feature and its class attributes to a latent, the generator ``G(z, a)`` (the
VAE's decoder) reconstructs the feature from it, and a critic ``D(x, a)`` scores real
against generated features. The VAE term keeps generated features close to real ones, the
adversarial term sharpens them. As in f-CLSWGAN, features generated for the unseen classes
from their attributes then stand in for their missing images: a softmax over all classes is
trained on real seen plus generated unseen features.

Training stages: (0) "vaegan", the primary stage, in which the critic takes ``critic_iters``
steps per encoder + generator step (two optimizers alternating, see
:class:`~zsl_toolkit.methods.base.Update`); (1) "classifier", the final softmax, trained on the
real seen features and ``n_synthetic`` generated features per unseen class (``z ~ N(0, I)``),
drawn when the stage starts.

The transductive discriminator D2 (which sees unlabelled test features) is not implemented:
the toolkit's training protocol gives a method the ``trainval`` rows only, and feeding it
test features would need a protocol that states which unlabelled rows a method may see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from zsl_toolkit.errors import ConfigError
from zsl_toolkit.methods.base import FitContext, Method, ModelSpec, Stage, Update
from zsl_toolkit.methods.constraints import Boolean, Interval, Options
from zsl_toolkit.methods.f_clswgan import gradient_penalty, softmax_classifier
from zsl_toolkit.methods.vaegan.defaults import OTHER, PUBLISHED, VAEGANDefaults
from zsl_toolkit.methods.vaegan.networks import (
    ConditionalCritic,
    FeedbackGenerator,
    FeedbackModule,
    SemanticDecoder,
    VAEGANEncoder,
    init_gan_linear,
    reparameterize_standard,
    vae_loss,
)

__all__ = ["FVAEGAN", "VAEGANNetworks"]

#: The authors' gradient-penalty controller: after each round of critic steps the penalty
#: weight grows by this factor when the mean penalty exceeded ``GP_HIGH`` and shrinks by it
#: when the mean penalty stayed below ``GP_LOW``.
GP_FACTOR, GP_HIGH, GP_LOW = 1.1, 1.05, 1.001

Batch = tuple[torch.Tensor, ...]


class VAEGANNetworks(nn.Module):
    """Every network a VAE-GAN method learns. ``classifier`` reads ``classifier_dim``
    features; with ``semantic`` (TF-VAEGAN) the semantic decoder and the feedback module are
    created too. ``gp_lambda`` is the current gradient-penalty weight (a buffer, so that a
    checkpoint resumes the authors' adaptive weight where it was)."""

    def __init__(
        self,
        spec: ModelSpec,
        hidden: int,
        latent: int,
        gp_weight: float,
        semantic: bool = False,
        transform: bool = False,
    ) -> None:
        super().__init__()
        d1, d2 = spec.feature_dim, spec.embedding_dim
        self.encoder = VAEGANEncoder(d1, d2, hidden, latent)
        self.generator = FeedbackGenerator(latent, d2, hidden, d1)
        self.critic = ConditionalCritic(d1, d2, hidden)
        if semantic:
            self.decoder = SemanticDecoder(d1, hidden, d2)
            self.feedback = FeedbackModule(hidden)
        classifier_dim = d1 + d2 + hidden if transform else d1
        self.classifier = softmax_classifier(classifier_dim, spec.n_classes)
        self.classifier.apply(init_gan_linear)
        self.register_buffer("gp_lambda", torch.tensor(float(gp_weight)))


class FVAEGAN(Method):
    """Conditional VAE + WGAN-GP feature generator (Xian et al., CVPR 2019), inductive.

    Losses and networks as in the TF-VAEGAN authors' code of this baseline: the encoder takes
    [x, a] through ``hidden`` = 4096 units and a layer of twice the latent size; the latent
    has the attribute dimension (``latent_dim`` None); the generator [z, a] -> ``hidden`` ->
    sigmoid features; the critic is f-CLSWGAN's (one hidden layer of ``hidden`` units). The
    encoder + generator minimise ``BCE(G(z, a), x) + KL`` (summed over dimensions, averaged
    over the batch, z drawn with the textbook rule) ``- gan_weight * mean D(fake, a)``; the
    critic minimises ``gan_weight * (mean D(fake) - mean D(real) + lambda * GP)`` with
    f-CLSWGAN's gradient penalty. With ``encoded_noise`` the fake features of both players
    come from the encoder's latent of the real batch (the reconstructions), otherwise from
    ``z ~ N(0, I)``. ``lambda`` starts at ``gp_weight`` (10) and, with ``adaptive_gp``
    (the authors' code), is multiplied by 1.1 after a round of critic steps whose mean
    penalty exceeded 1.05 and divided by 1.1 when it stayed below 1.001.

    Parameters
    ----------
    hidden : int
        Hidden units of encoder, generator and critic (authors: 4096).
    latent_dim : int or None
        Latent size; None: the attribute dimension, as in the authors' scripts.
    gan_weight : float or None
        Weight of the WGAN terms for critic and generator (``gammaD`` = ``gammaG``); None:
        the dataset's value (10; SUN 1).
    gp_weight : float
        Initial gradient-penalty weight lambda.
    adaptive_gp : bool
        Adapt lambda as the authors' code does (above); False keeps it at ``gp_weight``.
    critic_iters : int
        Critic steps per encoder + generator step.
    lr : float or None
        Adam learning rate of encoder, generator and critic; None: the dataset's value
        (CUB/FLO 1e-4, AWA 1e-5, SUN 1e-3).
    beta1 : float
        Adam's beta1 of generator, critic and final classifier (the encoder keeps 0.9).
    encoded_noise : bool or None
        Fake features from the encoder's latent of real features (True) or from N(0, I);
        None: the dataset's value (True; FLO False).
    n_synthetic : int or None
        Generated features per unseen class for the final classifier; None: the dataset's
        value (CUB 300, AWA 1800, SUN 400, FLO 1200).
    classifier_epochs : int
        Epochs of the final classifier (authors: 25).
    classifier_lr : float or None
        Adam learning rate of the final classifier; None: the dataset's value (1e-3; SUN
        5e-4).
    classifier_batch_size : int or None
        Final classifier batch; None: ``n_synthetic`` rows, as in the authors' code.
    preprocess : str
        "minmax" (the authors' scaling to [0, 1], fitted on ``trainval``) or "l2"; the
        binary cross-entropy needs features in [0, 1], so "none" is refused.

    Notes
    -----
    Dataset-dependent values (``None``) come from :data:`~zsl_toolkit.methods.vaegan.defaults.
    PUBLISHED` (the authors' scripts), other datasets take CUB's row
    (:data:`~zsl_toolkit.methods.vaegan.defaults.OTHER`, not tuned). The epochs of the
    "vaegan" stage (a run setting, ``--epochs``) are the scripts' ``--nepoch`` (CUB 300, AWA
    120, SUN 400, FLO 500); one epoch is one pass of generator steps over the ``trainval``
    rows, batch 64 (each critic repeat makes its own pass).

    Departures from the authors' code: the final classifier trains a fixed number of epochs
    (theirs kept the epoch with the best test H, a choice made on test data); batches are
    passes over shuffled rows, and the generator's batch is drawn apart from the critic's
    (theirs sampled each batch independently and reused the last critic batch); attribute
    vectors are L2-normalised here as their loader does (a no-op on xlsa17's ``att``).

    Class editing (``zsl add-class`` / ``remove-class``) refits stage 1 as f-CLSWGAN does:
    the VAE-GAN stays as trained, the final classifier is trained again from the random state
    and weights it started from, on the stored real seen features and ``n_synthetic``
    features generated per unseen class, an added class's from its description.

    Published GZSL results (Xian et al. 2019, inductive f-VAEGAN-D2, ResNet-101 features,
    xlsa17 proposed splits, U/S/H): CUB 48.4/60.1/53.6, AWA2 57.6/70.6/63.5,
    SUN 45.1/38.0/41.3.
    """

    class_edit = "refit"
    class_refit_stage = 1
    refit_stage_params: ClassVar[tuple[str, ...]] = (
        "n_synthetic",
        "classifier_epochs",
        "classifier_lr",
        "classifier_batch_size",
    )
    derived_params: ClassVar[dict[str, str]] = {"classifier_batch_size": "n_synthetic"}

    citation = (
        "Xian, Y., Sharma, S., Schiele, B. and Akata, Z. f-VAEGAN-D2: A Feature Generating "
        "Framework for Any-Shot Learning. CVPR 2019."
    )
    #: The paper's inductive GZSL results (Table 2, f-VAEGAN-D2 row, softmax on ResNet-101).
    published = {
        "cub": {"U": 48.4, "S": 60.1, "H": 53.6},
        "awa2": {"U": 57.6, "S": 70.6, "H": 63.5},
        "sun": {"U": 45.1, "S": 38.0, "H": 41.3},
    }

    #: Batch of the primary stage (the authors' ``--batch_size``; ``--batch-size`` overrides).
    BATCH_SIZE: ClassVar[int] = 64
    #: The per-dataset values this method reads from a :class:`VAEGANDefaults` row.
    DATASET_FIELDS: ClassVar[tuple[str, ...]] = (
        "epochs",
        "lr",
        "gan_weight",
        "encoded_noise",
        "n_synthetic",
        "classifier_lr",
    )

    param_constraints = {
        "hidden": Interval(int, 1),
        "critic_iters": Interval(int, 1),
        "classifier_epochs": Interval(int, 0),
        **{
            name: Interval(int, 1, optional=True)
            for name in ("latent_dim", "n_synthetic", "classifier_batch_size")
        },
        "lr": Interval(float, 0, strict=True, optional=True),
        "classifier_lr": Interval(float, 0, strict=True, optional=True),
        "gan_weight": Interval(float, 0, optional=True),
        "gp_weight": Interval(float, 0),
        "beta1": Interval(float, 0),
        "adaptive_gp": Boolean(),
        "encoded_noise": Boolean(optional=True),
        "preprocess": Options("minmax", "l2"),
    }
    quick_params: ClassVar[dict[str, Any]] = {
        "hidden": 32,
        "classifier_epochs": 2,
        "n_synthetic": 10,
    }

    def __init__(
        self,
        *,
        hidden: int = 4096,
        latent_dim: int | None = None,
        gan_weight: float | None = None,
        gp_weight: float = 10.0,
        adaptive_gp: bool = True,
        critic_iters: int = 5,
        lr: float | None = None,
        beta1: float = 0.5,
        encoded_noise: bool | None = None,
        n_synthetic: int | None = None,
        classifier_epochs: int = 25,
        classifier_lr: float | None = None,
        classifier_batch_size: int | None = None,
        preprocess: str = "minmax",
    ) -> None:
        self.hidden = hidden
        self.latent_dim = latent_dim
        self.gan_weight = gan_weight
        self.gp_weight = gp_weight
        self.adaptive_gp = adaptive_gp
        self.critic_iters = critic_iters
        self.lr = lr
        self.beta1 = beta1
        self.encoded_noise = encoded_noise
        self.n_synthetic = n_synthetic
        self.classifier_epochs = classifier_epochs
        self.classifier_lr = classifier_lr
        self.classifier_batch_size = classifier_batch_size
        self.preprocess = preprocess

    # ------------------------------------------------------------------ parameters
    def validate(self) -> None:
        super().validate()
        if self.beta1 >= 1:
            raise ConfigError(f"parameter beta1 must be below 1 (Adam's beta1), got {self.beta1!r}")

    def resolve(self, spec: ModelSpec, epochs: int | None = None) -> dict[str, Any]:
        """The dataset's row of the authors' scripts (else CUB's) for every parameter given
        as None; ``epochs`` (the "vaegan" stage's, a run setting) from the same row unless
        the run sets them."""
        row = asdict(PUBLISHED.get(spec.dataset_key, OTHER))
        out = {}
        for name in self.DATASET_FIELDS:
            given = getattr(self, name, None)
            out[name] = row[name] if given is None else given
        out["epochs"] = self.stage_epochs(PUBLISHED.get(spec.dataset_key, OTHER))
        if epochs is not None:
            out["epochs"] = int(epochs)
        out["latent_dim"] = self.latent_dim or spec.embedding_dim
        out["classifier_batch_size"] = self.classifier_batch_size or out["n_synthetic"]
        return out

    def stage_epochs(self, row: VAEGANDefaults) -> int:
        """Epochs of the "vaegan" stage for a dataset row (one pass each)."""
        return row.epochs

    # ------------------------------------------------------------------ Method API
    def build(self, spec: ModelSpec) -> nn.Module:
        return VAEGANNetworks(spec, self.hidden, self.resolved_["latent_dim"], self.gp_weight)

    def scorer(self) -> nn.Module:
        return self.model_.classifier

    def class_indexed(self) -> dict[str, str]:
        return {"model.classifier.0.weight": "all", "model.classifier.0.bias": "all"}

    def stage(self, index: int, ctx: FitContext) -> Stage | None:
        builders = (self._vaegan_stage, self._classifier_stage)
        return builders[index](ctx) if index < len(builders) else None

    # ------------------------------------------------------------------ hooks for extensions
    def generate_from(self, z: torch.Tensor, a: torch.Tensor, epoch: int) -> torch.Tensor:
        """Features the generator makes from latents ``z`` and attributes ``a`` while
        training in ``epoch`` (TF-VAEGAN adds its feedback here)."""
        return self.model_.generator(z, a)

    def synthesize(self, z: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """Features generated for the final classifier (TF-VAEGAN adds its feedback)."""
        return self.model_.generator(z, a)

    def critic_terms(self, x: torch.Tensor, a: torch.Tensor) -> dict[str, torch.Tensor]:
        """Extra loss terms of the critic's update on real ``x`` (none here)."""
        return {}

    def generator_terms(self, fake: torch.Tensor, a: torch.Tensor) -> dict[str, torch.Tensor]:
        """Extra loss terms of the generator's update on its ``fake`` features (none here)."""
        return {}

    def critic_groups(self) -> list[dict[str, Any]]:
        """Adam parameter groups of the critic's update."""
        return [self._group(self.model_.critic, self.resolved_["lr"], self.beta1)]

    def generator_groups(self) -> list[dict[str, Any]]:
        """Adam parameter groups of the encoder + generator update (the authors' encoder
        optimizer keeps Adam's default beta1 0.9)."""
        lr = self.resolved_["lr"]
        return [
            self._group(self.model_.encoder, lr, 0.9),
            self._group(self.model_.generator, lr, self.beta1),
        ]

    def classifier_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the final classifier reads for (preprocessed) features ``x``."""
        return x

    # ------------------------------------------------------------------ stages
    @staticmethod
    def _group(module: nn.Module, lr: float, beta1: float) -> dict[str, Any]:
        return {"params": list(module.parameters()), "lr": lr, "betas": (beta1, 0.999)}

    @staticmethod
    def _adam(groups: list[dict[str, Any]]) -> Callable[[Iterable[Any]], torch.optim.Optimizer]:
        return lambda params: torch.optim.Adam(groups)

    @staticmethod
    def _params(groups: list[dict[str, Any]]) -> list[nn.Parameter]:
        return [p for g in groups for p in g["params"]]

    def _vaegan_stage(self, ctx: FitContext) -> Stage:
        E, D = self.model_.encoder, self.model_.critic
        emb = F.normalize(ctx.class_embeddings, dim=1)
        gamma = self.resolved_["gan_weight"]
        encoded = self.resolved_["encoded_noise"]
        latent = self.resolved_["latent_dim"]
        lam = self.model_.gp_lambda
        gp_round: list[torch.Tensor] = []

        def latents(x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
            if encoded:
                return reparameterize_standard(*E(x, a))
            return torch.randn(x.shape[0], latent, device=x.device)

        def critic_loss(batch: Batch, epoch: int) -> dict[str, torch.Tensor]:
            x, y = batch
            a = emb[y]
            with torch.no_grad():
                fake = self.generate_from(latents(x, a), a, epoch)
            wasserstein = D(x, a).mean() - D(fake, a).mean()
            gp = gradient_penalty(D, x, fake, a)
            gp_round.append(gp.detach())
            terms = {
                "wasserstein": wasserstein.detach(),
                "gp": gp.detach(),
                "gp_lambda": lam.detach().clone(),
            }
            loss = gamma * (-wasserstein + lam * gp)
            for name, term in self.critic_terms(x, a).items():
                loss = loss + term
                terms[name] = term.detach()
            return {"loss": loss, **terms}

        def generator_loss(batch: Batch, epoch: int) -> dict[str, torch.Tensor]:
            if self.adaptive_gp and gp_round:
                mean = torch.stack(gp_round).mean()
                up = torch.tensor(GP_FACTOR, device=lam.device)
                factor = torch.where(mean > GP_HIGH, up, torch.where(mean < GP_LOW, 1 / up, 1.0))
                lam.mul_(factor)
            gp_round.clear()
            x, y = batch
            a = emb[y]
            mu, logvar = E(x, a)
            recon = self.generate_from(reparameterize_standard(mu, logvar), a, epoch)
            vae = vae_loss(recon, x, mu, logvar)
            if encoded:
                fake = recon
            else:
                fake = self.generate_from(torch.randn_like(mu), a, epoch)
            adversarial = -D(fake, a).mean()
            loss = vae + gamma * adversarial
            terms = {"vae": vae.detach(), "adversarial": adversarial.detach()}
            for name, term in self.generator_terms(fake, a).items():
                loss = loss + term
                terms[name] = term.detach()
            return {"loss": loss, **terms}

        critic_groups, generator_groups = self.critic_groups(), self.generator_groups()
        return Stage(
            name="vaegan",
            epochs=self.resolved_["epochs"],
            batch_size=self.BATCH_SIZE,
            tensors=(ctx.features, ctx.labels),
            updates=[
                Update(
                    "critic",
                    self._params(critic_groups),
                    self._adam(critic_groups),
                    critic_loss,
                    self.critic_iters,
                ),
                Update(
                    "generator",
                    self._params(generator_groups),
                    self._adam(generator_groups),
                    generator_loss,
                ),
            ],
            primary=True,
            drop_last=True,
        )

    def _classifier_stage(self, ctx: FitContext) -> Stage:
        net = self.model_.classifier
        fake_x, fake_y = self.generate(
            ctx.unseen, self.resolved_["n_synthetic"], ctx.class_embeddings
        )
        with torch.no_grad():
            inputs = self.classifier_input(torch.cat([ctx.features, fake_x]))
        lr = self.resolved_["classifier_lr"]

        def loss(batch: Batch, epoch: int) -> dict[str, torch.Tensor]:
            x, y = batch
            return {"loss": F.nll_loss(net(x), y)}

        return Stage(
            name="classifier",
            epochs=self.classifier_epochs,
            batch_size=self.resolved_["classifier_batch_size"],
            tensors=(inputs, torch.cat([ctx.labels, fake_y])),
            parameters=list(net.parameters()),
            optimizer=lambda p: torch.optim.Adam(p, lr=lr, betas=(self.beta1, 0.999)),
            loss=loss,
        )

    @torch.no_grad()
    def generate(
        self,
        classes: torch.Tensor,
        per_class: int,
        class_embeddings: torch.Tensor,
        chunk: int = 4096,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``per_class`` generated (preprocessed-space) features for each of ``classes``,
        from ``z ~ N(0, I)``."""
        labels = classes.repeat_interleave(per_class)
        z = torch.randn(len(labels), self.resolved_["latent_dim"], device=classes.device)
        a = F.normalize(class_embeddings, dim=1)[labels]
        parts = [
            self.synthesize(z[i : i + chunk], a[i : i + chunk])
            for i in range(0, len(labels), chunk)
        ]
        if not parts:
            return class_embeddings.new_zeros(0, self.spec_.feature_dim), labels
        return torch.cat(parts), labels
