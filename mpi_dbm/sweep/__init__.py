"""The sweep: grid of tasks, their scheduling over MPI ranks, and the driver."""
