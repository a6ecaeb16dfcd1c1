"""Train Tracker for the simulated 'L': arrival predictions learned from observed arrivals.

Pure modules: :mod:`.routes` (the public line map), :mod:`.estimator` (learning and
predicting), :mod:`.baseline` (the CTA's last-five-trains method), :mod:`.scoring`
(accuracy figures). Kafka IO lives in :mod:`.job` only.
"""
