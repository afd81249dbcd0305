"""The tier models: features, labels, the fitted classifiers, calibration and evaluation."""
