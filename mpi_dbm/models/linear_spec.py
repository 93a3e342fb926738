"""The linear family's configuration: `LinearSpec` (teacher species, size estimates) and `parse`
of `[model] kind = "linear"`. The model and its options are described in models/linear.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tables import MAX_DIMENSION, MAX_SCALE, Table

LAYERS = ("W1", "W2")


@dataclass(frozen=True)
class LinearSpec:
    kind: str
    n_in: int
    n_hidden: int
    n_out: int
    train: tuple[str, ...]
    teacher_singular_values: tuple[tuple[float, int], ...]
    label_noise: float
    gradient_noise: float
    gradient_noise_kind: str | None
    data: str
    data_per_batch: int | None
    order: str | None
    init: str
    init_std: float | None

    @property
    def rank(self) -> int:
        return sum(m for _, m in self.teacher_singular_values)

    def singular_values(self) -> np.ndarray:
        """The r nonzero teacher singular values, species in the given order."""
        return np.concatenate([np.full(m, v) for v, m in self.teacher_singular_values])

    # -- size estimates (cost.py; no model is built) --------------------------------
    def flops_per_step(self, batch_size: int) -> float:
        """Flops of one replica update (the minibatch moments and the two gradients)."""
        n_in, h, n_out = self.n_in, self.n_hidden, self.n_out
        return float(
            batch_size * (n_in**2 + n_in * n_out + n_in + n_out) + 3 * n_out * h * n_in + n_out * n_in**2
        )

    def values_per_measurement(self) -> int:
        """Numbers recorded per replica and measurement: three spectra, loss and imbalance."""
        n_in, h, n_out = self.n_in, self.n_hidden, self.n_out
        return min(n_in, h) + min(n_out, h) + min(n_in, n_out) + 2

    def memory_terms(self, batch_size: int, replicas: int) -> list[tuple[str, str, int]]:
        """Upper bounds of the bytes a stack of `replicas` allocates, as (config key = value, what,
        bytes): weights, gradients and Gram/SVD scratch (≤ 8 × the sum of the layer and map sizes
        per replica); the per-step minibatch draws (online, 4 × |B|(N_in + N_out)); the shared
        finite data set (x, y and, order = "fixed", its minibatch moments) with each replica's
        epoch order (shuffled); the frozen noise (quenched, with its draw's temporaries, 3×)."""
        n_in, h, n_out, b = self.n_in, self.n_hidden, self.n_out, batch_size
        dims = {"n_in": n_in, "n_hidden": h, "n_out": n_out}
        big = max(dims, key=lambda key: dims[key])
        sizes = h * n_in + n_out * h + n_in * n_out + n_in * n_in + n_out * n_out + h * h
        terms = [(f"[model] {big} = {dims[big]}", "weights and scratch matrices", 8 * replicas * 8 * sizes)]
        terms.append((f"[sweep] batch size {b}", "minibatches", 8 * replicas * 4 * b * (n_in + n_out)))
        if self.data == "finite":
            k = self.data_per_batch or 0
            d = k * b
            data = f"[model] data_per_batch = {k}"
            shared = 2 * d * (n_in + n_out) + (2 * k * n_in * (n_in + n_out) if self.order == "fixed" else 0)
            terms.append((data, f"the shared data set of batch size {b}", 8 * shared))
            if self.order == "shuffled":
                terms.append((data, "the replicas' epoch orders", 8 * 2 * replicas * d))
            if self.gradient_noise_kind == "quenched":
                layers = {"W1": h * n_in, "W2": n_out * h}
                frozen = sum(layers[name] for name in self.train)
                terms.append((data, "the frozen noise of every replica", 8 * 3 * replicas * k * frozen))
        return terms

    def to_tables(self) -> dict[str, dict[str, object]]:
        model: dict[str, object] = {
            "kind": self.kind,
            "n_in": self.n_in,
            "n_hidden": self.n_hidden,
            "n_out": self.n_out,
            "train": list(self.train),
            "teacher_singular_values": [[v, m] for v, m in self.teacher_singular_values],
            "label_noise": self.label_noise,
            "gradient_noise": self.gradient_noise,
            "gradient_noise_kind": self.gradient_noise_kind,
            "data": self.data,
            "data_per_batch": self.data_per_batch,
            "order": self.order,
            "init": self.init,
            "init_std": self.init_std,
        }
        return {"model": {k: v for k, v in model.items() if v is not None}}


def _species(model: Table, n_in: int, n_out: int) -> tuple[tuple[float, int], ...]:
    key = "teacher_singular_values"
    raw = model.raw(key, [[1.0, min(n_in, n_out)]])
    if not isinstance(raw, list) or not raw:
        raise model.error(
            key, "must be a non-empty list of [value, multiplicity] pairs, e.g. [[1.0, 6], [2.0, 4]]"
        )
    out = []
    for i, p in enumerate(raw):
        if not (isinstance(p, list) and len(p) == 2):
            raise model.error(f"{key}[{i}]", f"must be a pair [value, multiplicity], got {p!r}")
        value = model._check_number(
            f"{key}[{i}][0] (singular value)", p[0], positive=True, magnitude=MAX_SCALE
        )
        mult = model._check_int(f"{key}[{i}][1] (multiplicity)", p[1], 1)
        out.append((value, mult))
    values = [v for v, _ in out]
    model.check(key, len(set(values)) == len(values), "a singular value appears in two species; merge them")
    r = sum(m for _, m in out)
    model.check(
        key,
        r <= min(n_in, n_out),
        f"multiplicities add up to {r}, more than min(n_in, n_out) = {min(n_in, n_out)} singular values",
    )
    return tuple(out)


def parse(model: Table, target: Table) -> LinearSpec:
    """Read and validate `[model] kind = "linear"` (it takes no [target] keys)."""
    n_in = model.integer("n_in", 10, minimum=1, maximum=MAX_DIMENSION)
    n_hidden = model.integer("n_hidden", 10, minimum=1, maximum=MAX_DIMENSION)
    n_out = model.integer("n_out", 10, minimum=1, maximum=MAX_DIMENSION)
    train_raw = model.raw("train", list(LAYERS))
    if not isinstance(train_raw, list) or not train_raw:
        raise model.error("train", 'must be a non-empty list of layer names, e.g. ["W1", "W2"] or ["W1"]')
    for i, name in enumerate(train_raw):
        if name not in LAYERS:
            raise model.error(f"train[{i}]", f'{name!r} is not a layer: use "W1" and/or "W2"')
    model.check("train", len(set(train_raw)) == len(train_raw), "a layer is listed twice")
    train = tuple(name for name in LAYERS if name in train_raw)
    species = _species(model, n_in, n_out)
    label_noise = model.number("label_noise", 1.0, nonnegative=True, magnitude=MAX_SCALE)
    gradient_noise = model.number("gradient_noise", 0.0, nonnegative=True, magnitude=MAX_SCALE)
    data = model.string("data", "online", choices=("online", "finite"))
    data_per_batch = order = None
    if data == "finite":
        data_per_batch = model.integer("data_per_batch", 500, minimum=1)
        order = model.string("order", "shuffled", choices=("shuffled", "fixed"))
    else:
        for key in ("data_per_batch", "order"):
            if model.has(key):
                raise model.error(key, 'only used with data = "finite"; remove it')
    kind = None
    if gradient_noise > 0:
        kind = model.string("gradient_noise_kind", "annealed", choices=("annealed", "quenched"))
        if kind == "quenched" and order != "fixed":
            raise model.error(
                "gradient_noise_kind",
                '"quenched" freezes one noise matrix per data point, which needs data = "finite" '
                'with order = "fixed"; use "annealed" or change data/order',
            )
    elif model.has("gradient_noise_kind"):
        raise model.error("gradient_noise_kind", "only used with gradient_noise > 0; remove it")
    init = model.string("init", "small", choices=("small", "balanced_minimum"))
    init_std = None
    if init == "small":
        init_std = model.number("init_std", 0.01, nonnegative=True, magnitude=MAX_SCALE)
    elif model.has("init_std"):
        raise model.error("init_std", 'only used with init = "small"; remove it')
    r = sum(m for _, m in species)
    if n_hidden < r and (init == "balanced_minimum" or len(train) < 2):
        why = 'init = "balanced_minimum"' if init == "balanced_minimum" else "a frozen layer"
        raise model.error(
            "n_hidden",
            f"{why} needs n_hidden >= the teacher rank {r} (got {n_hidden}); raise n_hidden",
        )
    target.not_taken(
        '[model] kind = "linear" takes no [target] table (its teacher is [model] teacher_singular_values)'
    )
    return LinearSpec(
        kind="linear",
        n_in=n_in,
        n_hidden=n_hidden,
        n_out=n_out,
        train=train,
        teacher_singular_values=species,
        label_noise=label_noise,
        gradient_noise=gradient_noise,
        gradient_noise_kind=kind,
        data=data,
        data_per_batch=data_per_batch,
        order=order,
        init=init,
        init_std=init_std,
    )
