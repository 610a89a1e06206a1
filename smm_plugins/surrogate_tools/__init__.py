"""General surrogate tools for anyone's merge logs: build an SMM-Bench surrogate from a table of
configurations and accuracies, and validate a surrogate against a truth benchmark.

* :mod:`~smm_plugins.surrogate_tools.build` - a table -> a surrogate directory in the official format
  (``smm-bench build-surrogate``), running :mod:`~smm_plugins.surrogate_tools.table` (read, check, split),
  :mod:`~smm_plugins.surrogate_tools.fit` (Optuna tuning, CV training) and
  :mod:`~smm_plugins.surrogate_tools.artefacts` (files written) with the settings of
  :mod:`~smm_plugins.surrogate_tools.config`;
* :mod:`~smm_plugins.surrogate_tools.validate` - fidelity of a surrogate against a truth: optimiser runs on
  both (:mod:`~smm_plugins.surrogate_tools.runs`), measured by :mod:`~smm_plugins.surrogate_tools.metrics`
  (``smm-bench validate``);
* :mod:`~smm_plugins.surrogate_tools.plots` - the figures of both (matplotlib, skipped without it);
* :mod:`~smm_plugins.surrogate_tools.reference_rows` - truth-labelled rows at and around the reference
  configurations;
* :mod:`~smm_plugins.surrogate_tools.cli` - the two ``smm-bench`` sub-commands.

The merge lab (:mod:`smm_plugins.lab`) is one user of these tools; nothing here is specific to it.
"""
