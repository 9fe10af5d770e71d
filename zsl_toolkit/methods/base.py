"""Method plugin interface.

A method supplies networks and per-batch losses; it never owns loops, devices, epochs or file
I/O (the :class:`~zsl_toolkit.training.Trainer` does). Hyperparameters are keyword-only
``__init__`` arguments stored unchanged, so :meth:`Method.get_params` can be read off the
signature (scikit-learn's contract); learned state lives in attributes ending in ``_``.

Training is a sequence of :class:`Stage` objects (e.g. CADA-VAE: the VAE, then the latent
classifier). :meth:`Method.stage` builds stage ``i`` lazily, after stage ``i - 1`` finished,
because later stages usually train on what earlier ones produced.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from zsl_toolkit.data.container import ZSLData
from zsl_toolkit.data.preprocessing import PREPROCESSING, FeatureScaler
from zsl_toolkit.errors import ConfigError
from zsl_toolkit.methods.constraints import Constraint, Options, check_constraints
from zsl_toolkit.params import unknown_parameters


def dataset_key(dataset: str) -> str:
    """See :attr:`ModelSpec.dataset_key`."""
    return Path(dataset).name.lower() if dataset else ""


@dataclass(frozen=True)
class ModelSpec:
    """Everything a method needs to rebuild its networks without the training data."""

    feature_dim: int
    embedding_dim: int
    n_classes: int
    seen_classes: tuple[int, ...]
    unseen_classes: tuple[int, ...]
    class_names: tuple[str, ...]
    dataset: str = ""

    @classmethod
    def from_data(cls, data: ZSLData) -> ModelSpec:
        return cls(
            feature_dim=data.feature_dim,
            embedding_dim=data.embedding_dim,
            n_classes=data.n_classes,
            seen_classes=tuple(int(c) for c in data.seen_classes),
            unseen_classes=tuple(int(c) for c in data.unseen_classes),
            class_names=tuple(data.class_names),
            dataset=data.name,
        )

    @property
    def dataset_key(self) -> str:
        """The key of dataset-dependent tables: the lower-case dataset name, or the folder name
        of a path (``~/xlsa17/CUB`` -> ``cub``). Every per-dataset default is looked up by it."""
        return dataset_key(self.dataset)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSpec:
        return cls(
            feature_dim=int(d["feature_dim"]),
            embedding_dim=int(d["embedding_dim"]),
            n_classes=int(d["n_classes"]),
            seen_classes=tuple(int(c) for c in d["seen_classes"]),
            unseen_classes=tuple(int(c) for c in d["unseen_classes"]),
            class_names=tuple(str(n) for n in d["class_names"]),
            dataset=str(d.get("dataset", "")),
        )


@dataclass
class FitContext:
    """Training data on the training device, already preprocessed by the method's scaler.

    ``features``/``labels`` are the ``trainval`` rows; labels are global class ids (index
    into ``class_embeddings``). Everything stays on ``device`` for the whole run.
    """

    spec: ModelSpec
    features: torch.Tensor
    labels: torch.Tensor
    class_embeddings: torch.Tensor
    seen: torch.Tensor
    unseen: torch.Tensor
    device: torch.device


LossFn = Callable[[tuple[torch.Tensor, ...], int], dict[str, torch.Tensor]]


@dataclass
class Update:
    """One of several optimizers that take turns within a stage (a GAN's critic and generator).

    At every step of an epoch the trainer runs a stage's updates in order, each ``repeat``
    times in a row, and each time on a minibatch of its own: ``loss(batch, epoch)`` returns
    named terms including ``"loss"``, whose gradient is taken with respect to ``parameters``
    only (other networks in the graph receive none) and applied by the optimizer that
    ``optimizer(parameters)`` built. Each repeat walks its own permutation of the rows, so over
    an epoch every repeat of every update sees each training row once.
    """

    name: str
    parameters: Sequence[nn.Parameter]
    optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]
    loss: LossFn
    repeat: int = 1


@dataclass
class Stage:
    """One phase of training.

    Either ``closed_form`` is set (called once, returns numbers to log) or the trainer runs
    ``epochs`` epochs of shuffled minibatches over ``tensors`` (all indexed along dim 0).
    With one optimizer, it calls ``loss(batch, epoch)``, which returns named terms including
    the total ``"loss"``, and steps the optimizer built by ``optimizer(parameters)``. A stage
    that alternates optimizers lists them in ``updates`` instead (and leaves ``loss``,
    ``optimizer`` and ``parameters`` unset); its logged terms are named ``<update>.<term>``.
    The trainer config's ``epochs`` and ``batch_size`` override those of the ``primary``
    stage only.
    """

    name: str
    epochs: int = 0
    batch_size: int = 64
    tensors: tuple[torch.Tensor, ...] = ()
    parameters: Sequence[nn.Parameter] = ()
    optimizer: Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] | None = None
    loss: LossFn | None = None
    primary: bool = False
    drop_last: bool = False
    closed_form: Callable[[], dict[str, float]] | None = None
    train_modules: Sequence[nn.Module] = field(default_factory=list)
    updates: Sequence[Update] = ()


class InferenceModule(nn.Module):
    """Raw visual features [B, d1] -> class scores [B, C]: scaler + the method's scorer.

    ``seen_offset`` [C] (optional) is subtracted from the scores: calibrated stacking (Chao et
    al., ECCV 2016) puts ``gamma`` on the seen classes and 0 elsewhere. It lives in the module,
    so evaluation and an exported graph apply the same calibration.
    """

    def __init__(
        self, scaler: FeatureScaler, scorer: nn.Module, seen_offset: torch.Tensor | None = None
    ) -> None:
        super().__init__()
        self.scaler = scaler
        self.scorer = scorer
        self.calibrated = seen_offset is not None
        if seen_offset is not None:
            self.register_buffer("seen_offset", seen_offset)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        scores = self.scorer(self.scaler(features))
        if self.calibrated:
            scores = scores - self.seen_offset
        return scores


#: Settings of a run, not of a method: passing one as a parameter gets a pointer to its option.
def seen_positions(labels: torch.Tensor, seen: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Global class ids -> positions in ``seen`` (computed once per fit, on the device)."""
    lookup = torch.full((n_classes,), -1, dtype=torch.long, device=seen.device)
    lookup[seen] = torch.arange(seen.numel(), device=seen.device)
    return lookup[labels]


class Method(ABC):
    """Base class of every GZSL method (built-in or plugin).

    Subclasses define ``__init__(self, *, param=default, ...)`` storing each argument under
    its own name, set ``citation``, and implement :meth:`build`, :meth:`stage` and
    :meth:`scorer`. ``preprocess`` ("none", "minmax", "l2") must be one of the parameters.

    A subclass that extends another method adds only its own parameters: its ``__init__``
    lists them and ends in ``**base``, which it passes to ``super().__init__``; the
    parameters are then the union along the class hierarchy (a name redeclared by the
    subclass takes its new default).

    Contract for what ``build``/``stage`` may use: ``self.spec_`` (the :class:`ModelSpec`),
    ``self.resolved_`` (what :meth:`resolve` returned for it) and ``self.model_`` (the module
    :meth:`build` returned; the trainer moves it to the device, checkpoints and saves it).
    """

    citation: ClassVar[str] = ""
    #: Published GZSL results of the method's paper, so reports can place them beside measured
    #: ones: dataset name (a registered name such as "cub") -> {"U": .., "S": .., "H": ..}, in
    #: percent, as printed in the paper. Empty when the paper reports none.
    published: ClassVar[dict[str, dict[str, float]]] = {}
    #: What each parameter may hold, checked by :meth:`validate` (merged along the class
    #: hierarchy; a subclass entry replaces its parent's).
    param_constraints: ClassVar[dict[str, Constraint]] = {
        "preprocess": Options(*PREPROCESSING),
    }
    #: Values ``zsl train --select auto`` tries on the dataset's validation protocol: parameter
    #: name -> candidate values, the grid being their product (keep it small: every point is a
    #: full training run). Each value must pass :attr:`param_constraints` and each axis must
    #: include the parameter's default (the conformance kit checks both), so a selection can
    #: always keep the plain run's setting. A subclass's declaration replaces its parent's.
    #: Empty: nothing worth choosing per dataset.
    select_candidates: ClassVar[dict[str, tuple[Any, ...]]] = {}
    #: Parameters added after trials were recorded, with the value that reproduces the
    #: behaviour from before they existed: a sweep leaves such a parameter out of a trial's
    #: resolved config (its identity) while it holds that value, so finished trials keep their
    #: ids and resume instead of training again.
    identity_defaults: ClassVar[dict[str, Any]] = {}
    #: Parameter values that make training small enough for tests and quick checks (the
    #: conformance kit and the test suites use them); not a recommended setting.
    quick_params: ClassVar[dict[str, Any]] = {}
    #: Optional capability: editing the class set of a trained model without retraining
    #: (:mod:`zsl_toolkit.editing`). ``None``: not supported; ``"append"``: the scorer reads
    #: class embeddings, so a new class is its embedding and nothing retrains
    #: (:meth:`set_class_embeddings`); ``"refit"``: stage :attr:`class_refit_stage` (the final
    #: classifier) is re-run for the new class set from the random state it started from in
    #: training. Either way :meth:`class_indexed` names the tensors shaped by the class set.
    class_edit: ClassVar[str | None] = None
    #: Why the class set cannot be edited (shown when ``class_edit`` is None).
    class_edit_refusal: ClassVar[str] = "it does not declare the class-editing capability"
    #: The stage re-run by a ``"refit"`` edit.
    class_refit_stage: ClassVar[int | None] = None
    #: Parameters that act on stage :attr:`class_refit_stage` alone, so that re-running that
    #: stage with another value equals training with it
    #: (:func:`zsl_toolkit.editing.edit.refit_with` accepts only these).
    refit_stage_params: ClassVar[tuple[str, ...]] = ()
    #: Parameters whose default (None) follows another parameter's value: name -> the one it
    #: follows, so that a refit given that one re-derives it rather than keeping the run's.
    derived_params: ClassVar[dict[str, str]] = {}

    @classmethod
    def published_for(cls, params: dict[str, Any]) -> dict[str, dict[str, float]]:
        """The published results that apply to a configuration (``params``: the values set
        away from the defaults). A method whose paper also reports ablations overrides this
        to return the row ``params`` select (e.g. a switched-off loss term), or ``{}`` when the
        paper reports nothing for them; by default :attr:`published`."""
        return cls.published

    # ------------------------------------------------------------------ parameters
    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Parameter name -> default, read from ``__init__``'s signature (and, through
        ``**base``, from the parents' signatures)."""
        out: dict[str, Any] = {}
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            sig = inspect.signature(init)
            extends = False
            for p in sig.parameters.values():
                if p.name == "self":
                    continue
                if p.kind is inspect.Parameter.VAR_KEYWORD:
                    extends = True
                    continue
                if p.kind is not inspect.Parameter.KEYWORD_ONLY:
                    raise TypeError(
                        f"{klass.__name__}.__init__ parameter '{p.name}' must be keyword-only"
                    )
                out.setdefault(p.name, p.default)
            if not extends:
                break
        return out

    @classmethod
    def param_types(cls) -> dict[str, Any]:
        """Parameter name -> its ``__init__`` annotation (``inspect.Parameter.empty`` when it
        has none), along the same class hierarchy as :meth:`param_defaults`. Values given as
        text (``--param``) are converted by it, so ``lam: float = 1`` accepts ``lam=0.5``;
        string annotations (``from __future__ import annotations``) are evaluated here."""
        import typing

        out: dict[str, Any] = {}
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            try:
                hints = typing.get_type_hints(init)
            except Exception:  # a name only imported for type checkers: fall back to defaults
                hints = {}
            extends = False
            for p in inspect.signature(init).parameters.values():
                if p.kind is inspect.Parameter.VAR_KEYWORD:
                    extends = True
                elif p.name != "self":
                    out.setdefault(p.name, hints.get(p.name, inspect.Parameter.empty))
            if not extends:
                break
        return out

    @classmethod
    def constraints(cls) -> dict[str, Constraint]:
        """:attr:`param_constraints` merged along the class hierarchy."""
        merged: dict[str, Constraint] = {}
        for klass in reversed(cls.__mro__):
            merged.update(klass.__dict__.get("param_constraints", {}))
        return merged

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.param_defaults()}

    @classmethod
    def create(cls, params: dict[str, Any]) -> Method:
        """Instantiate with ``params``, rejecting unknown names with a list of valid ones and
        invalid values with a one-line :class:`ConfigError` (a ``ValueError`` or ``TypeError``
        raised by a plugin's own checks is reported the same way)."""
        valid = cls.param_defaults()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ConfigError(unknown_parameters(cls.__name__, unknown, valid))
        try:
            instance = cls(**params)
            instance.validate()
        except ConfigError:
            raise
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"method {cls.__name__}: invalid parameters: {exc}") from None
        return instance

    def validate(self) -> None:
        """Reject invalid parameter values before any work starts.

        Declare what each parameter may hold in :attr:`param_constraints` (checked here);
        override (and call super) only for rules that relate several parameters. A
        ``ValueError`` or ``TypeError`` raised here or in ``__init__`` is turned by
        :meth:`create` into a one-line :class:`ConfigError`, so ``zsl train`` and ``zsl sweep``
        print it as one ``error:`` line."""
        check_constraints(self.get_params(), self.constraints())

    def resolve(self, spec: ModelSpec, epochs: int | None = None) -> dict[str, Any]:
        """Values of dataset-dependent parameters (those given as ``None``) for ``spec``, and
        of anything else the run's settings decide (``epochs``: the primary stage's epochs
        when the run overrides them, else ``None``). Called once per fit by :meth:`setup`;
        the result is kept in ``self.resolved_`` and recorded in ``run.json`` as
        ``resolved_params``. Look tables up by ``spec.dataset_key``."""
        return {}

    def effective_params(self) -> dict[str, Any]:
        """Parameters with the resolved values in place (valid after :meth:`setup`)."""
        return {**self.get_params(), **getattr(self, "resolved_", {})}

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def restore(
        cls, params: dict[str, Any], spec: Mapping[str, Any], epochs: int | None = None
    ) -> Method:
        """An untrained instance shaped like a recorded run's model (``params`` as given,
        ``spec`` as :meth:`ModelSpec.to_dict` wrote it), ready for its saved weights: the
        run reader rebuilds methods through this, without importing method code itself."""
        method = cls.create(params)
        method.setup(ModelSpec.from_dict(dict(spec)), epochs=epochs)
        return method

    def setup(self, spec: ModelSpec, epochs: int | None = None) -> None:
        """Resolve dataset-dependent values and create the scaler and networks for ``spec``
        (also used when reloading a run; ``epochs`` as in :meth:`resolve`)."""
        self.spec_ = spec
        self.resolved_ = self.resolve(spec, epochs)
        self.scaler_ = FeatureScaler(getattr(self, "preprocess", "none"), spec.feature_dim)
        self.model_ = self.build(spec)

    def modules(self) -> nn.ModuleDict:
        """All learned state, for saving, loading and moving between devices."""
        return nn.ModuleDict({"scaler": self.scaler_, "model": self.model_})

    def to(self, device: torch.device) -> Method:
        self.modules().to(device)
        return self

    def context(self, data: ZSLData, device: torch.device) -> FitContext:
        """Fit the scaler on ``trainval`` and put the training data on ``device``."""
        idx = data.splits["trainval"]
        x = torch.from_numpy(data.features[idx]).to(device)
        self.scaler_.fit(x)
        return FitContext(
            spec=self.spec_,
            features=self.scaler_(x).contiguous(),
            labels=torch.from_numpy(data.labels[idx]).to(device),
            class_embeddings=torch.from_numpy(data.class_embeddings).to(device),
            seen=torch.tensor(self.spec_.seen_classes, dtype=torch.long, device=device),
            unseen=torch.tensor(self.spec_.unseen_classes, dtype=torch.long, device=device),
            device=device,
        )

    def inference_module(self) -> InferenceModule:
        """Raw features -> scores over all classes; what evaluation and export use. With
        ``calibration_gamma_`` set (a calibrated run), ``gamma`` is subtracted from the scores
        of the seen classes."""
        gamma = getattr(self, "calibration_gamma_", None)
        offset = None
        if gamma is not None:
            device = next(iter(self.modules().buffers())).device
            offset = torch.zeros(self.spec_.n_classes, device=device)
            offset[list(self.spec_.seen_classes)] = float(gamma)
        return InferenceModule(self.scaler_, self.scorer(), offset)

    # ------------------------------------------------------------------ class editing
    def class_indexed(self) -> dict[str, str]:
        """Keys of :meth:`modules`' state whose dim 0 runs over classes: ``"all"`` (every
        class, in ``spec_`` order) or ``"seen"`` (the seen classes, in ``spec_.seen_classes``
        order). A class edit keeps the rows of kept classes and creates those of new ones;
        every other tensor is copied unchanged. Required with :attr:`class_edit`."""
        return {}

    def set_class_embeddings(self, embeddings: torch.Tensor) -> None:
        """Install the class embeddings [C, d2] of an edited class set (``"append"`` edits)."""
        raise NotImplementedError(f"{type(self).__name__} does not append class embeddings")

    @torch.no_grad()
    def predict_scores(
        self, features: np.ndarray | torch.Tensor, batch_size: int = 4096
    ) -> np.ndarray:
        """Scores [N, C] for raw features, computed in eval mode in batches."""
        module = self.inference_module().eval()
        device = next(iter(self.modules().buffers())).device
        x = torch.as_tensor(features, dtype=torch.float32)
        out = [module(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
        return torch.cat(out).numpy() if out else np.zeros((0, self.spec_.n_classes), np.float32)

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def build(self, spec: ModelSpec) -> nn.Module:
        """Return a module holding every network and buffer the method learns."""

    @abstractmethod
    def stage(self, index: int, ctx: FitContext) -> Stage | None:
        """Return training stage ``index`` (0-based), or ``None`` after the last one."""

    @abstractmethod
    def scorer(self) -> nn.Module:
        """Module mapping preprocessed features [B, d1] to scores over all C classes."""
