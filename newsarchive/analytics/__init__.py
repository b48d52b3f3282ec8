"""The archive as people read it: SQL views over every table (:mod:`.views`), the run
manifests as rows (:mod:`.runs`), query output (:mod:`.output`) and the health report
(:mod:`.report`)."""
