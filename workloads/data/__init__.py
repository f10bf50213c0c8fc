"""Data shipped with cpnsim.workloads: adoption calibration points (``adoption_points.toml``)."""
