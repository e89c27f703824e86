"""People's corrections of a run's clusters: names, merges, "not this person", ignored faces.

:mod:`~raypipe.corrections.store` reads and checks ``RUN/corrections.yaml``,
:mod:`~raypipe.corrections.edit` records what ``raypipe correct`` asks,
:mod:`~raypipe.corrections.apply` applies them around any clusterer and
:mod:`~raypipe.corrections.suggest` proposes the nearest named person for the other faces.
"""
