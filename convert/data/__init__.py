"""Data sources: FER-2013 and its FER+ relabelling, calibration faces, default locations."""
