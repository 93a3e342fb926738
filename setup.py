"""The compiled parts of mpi-dbm, both optional (without a C compiler the package installs and uses
numpy code with the same bits, slower); everything else is in pyproject.toml:

- the multilayer family's SGD step (mpi_dbm/models/multilayer_step.py);
- standard normals with numpy's bits, faster (mpi_dbm/normals.py). It links numpy's `npyrandom`
  library (numpy/random/lib, shipped with numpy for extensions), so it is built only where numpy is
  importable at build time (pyproject.toml's build requirements, or --no-build-isolation).
"""

from pathlib import Path

from setuptools import Extension, setup

# no fused multiply-add, no reordered sums: the compiled code's bits are those of its numpy
# reference (checked at run time: multilayer_step.kernel_agrees, normals.compiled_agrees)
STRICT = ["-O3", "-ffp-contract=off", "-fno-fast-math"]


def normals_extension() -> list[Extension]:
    try:
        import numpy as np
    except ImportError:
        return []
    lib = Path(np.get_include()).parent.parent / "random" / "lib"
    if not any(lib.glob("*npyrandom*")):
        return []
    return [
        Extension(
            "mpi_dbm._ziggurat",
            ["mpi_dbm/_ziggurat.c"],
            include_dirs=[np.get_include()],
            library_dirs=[str(lib)],
            libraries=["npyrandom", "m"],
            extra_compile_args=STRICT,
            optional=True,
        )
    ]


setup(
    ext_modules=[
        Extension(
            "mpi_dbm.models._multilayer_step",
            ["mpi_dbm/models/_multilayer_step.c"],
            extra_compile_args=STRICT,
            optional=True,
        ),
        *normals_extension(),
    ]
)
