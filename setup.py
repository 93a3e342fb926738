"""The one compiled part of mpi-dbm: the multilayer family's SGD step (mpi_dbm/models/
multilayer_step.py). Optional: without a C compiler the package installs and uses the numpy
reference of the same step (same bits, slower). Everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "mpi_dbm.models._multilayer_step",
            ["mpi_dbm/models/_multilayer_step.c"],
            # no fused multiply-add, no reordered sums: the kernel's bits are those of its numpy
            # reference (checked at run time: multilayer_step.kernel_agrees)
            extra_compile_args=["-O3", "-ffp-contract=off", "-fno-fast-math"],
            optional=True,
        )
    ]
)
