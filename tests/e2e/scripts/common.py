"""Shared by the end-to-end scripts: start from saved weights, record per-step losses (plain PyTorch code)."""

import argparse
import json
import os

import numpy as np
import torch


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--init", required=True, help="npz of the initial state_dict: loaded if present, else written")
    parser.add_argument("--out", required=True, help="where to write the per-step losses (JSON)")
    parser.add_argument("--steps", type=int, default=8)
    return parser.parse_args()


def start_from(model, path):
    """Load the initial weights from ``path`` if it exists, else save this model's weights there."""
    if os.path.exists(path):
        with np.load(path) as saved:
            model.load_state_dict({k: torch.from_numpy(saved[k]) for k in saved.files})
    else:
        np.savez(path, **{k: v.detach().cpu().numpy() for k, v in model.state_dict().items()})


def finish(path, losses):
    with open(path, "w") as f:
        json.dump([float(v) for v in losses], f)
