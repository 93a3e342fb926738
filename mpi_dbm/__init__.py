"""mpi-dbm: SGD weight-matrix spectra as Dyson Brownian motion.

Train stacks of small models over a grid of (learning rate α, batch size |B|,
replica) under MPI, record the spectra of their weight matrices in one parallel
HDF5 file, and analyse them with random matrix theory.
"""

__version__ = "0.1.0"
