-- The Iceberg SQL catalog's database (pyiceberg creates its tables there on first use).
CREATE DATABASE iceberg OWNER airflow;
