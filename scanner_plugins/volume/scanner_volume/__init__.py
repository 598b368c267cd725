"""scanner-volume: unusual volume as a scanner plugin."""

from scanner_volume.scanner import VolumeScanner

__all__ = ["VolumeScanner"]
__version__ = "0.1.0"
