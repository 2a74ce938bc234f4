"""Shared settings of tileattn's CPU tests: fixed seeds, few torch threads (CI shares its cores)."""

import torch

torch.set_num_threads(1)
