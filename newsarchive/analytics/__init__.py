"""The archive as people read it: SQL views over the Iceberg tables (:mod:`.views`), query
output (:mod:`.output`) and the health report (:mod:`.report`)."""
