"""What the rules share, computed once per scan: the screening tables (people, kin links,
kinship, role holders: ``tables``, ``roles``), the decisions and who took part (``decisions``),
organisation relations (``org_relations``), the catalogue (``catalogue``), one award as the
pre-award check sends it (``award``), the evidence steps (``evidence``) and what a batch rule
reads (``context``)."""
