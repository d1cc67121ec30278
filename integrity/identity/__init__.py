"""Who is who: ID numbers (``ids``), Chinese names (``names``), identity keys across the tables
(``keys``), the pairs worth comparing (``blocking``), the resolver's scores (``resolve``) and
the priors it starts from (``priors``)."""
