"""The scripts under scripts/ are plain PyTorch programs run as subprocesses, not test modules."""

collect_ignore = ["scripts"]
