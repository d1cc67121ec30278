"""Reading a district's ledgers: the data contract (``schema``), files of every export kind
(``readers``, ``csvcheck``), cells into typed values (``coerce``) and one checked
:class:`~integrity.load.dataset.Dataset` with every problem named by file, row and column
(``dataset``, ``tables``)."""
