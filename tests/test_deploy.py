"""deploy/: the files parse and name files that exist (they cannot be built here), and the
compose file gives its services one shared catalog."""

from __future__ import annotations

import json
import re

import yaml

from tests.helpers import ROOT

DEPLOY = ROOT / "deploy"


def test_dockerfile_copies_files_that_exist():
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.splitlines()[0].startswith("#") and re.search(r"^FROM apache/airflow:", text, re.M)
    copies = re.findall(r"^COPY(?: --\S+)* (.+) \S+$", text, re.M)
    assert copies
    for sources in copies:
        for src in sources.split():
            assert (ROOT / src).exists(), src


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())


def test_compose_shares_a_sql_catalog_on_its_postgres_and_a_plain_warc_bucket():
    services = compose()["services"]
    assert {"postgres", "minio", "airflow-init", "airflow-apiserver", "airflow-scheduler"} <= set(services)
    env = services["airflow-scheduler"]["environment"]
    assert "NEWSARCHIVE_UPLOAD_URI" not in env
    assert "postgresql" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    conn = json.loads(env["AIRFLOW_CONN_ICEBERG_DEFAULT"])
    props = conn["extra"]
    assert props["type"] == "sql" and props["uri"].startswith("postgresql+psycopg2://")
    assert "@postgres/iceberg" in props["uri"] and props["s3.endpoint"] == "http://minio:9000"
    table_bucket = props["warehouse"].removeprefix("s3://").split("/")[0]
    warc_bucket = env["NEWSARCHIVE_WARC_URI"].removeprefix("s3://").split("/")[0]
    assert warc_bucket != table_bucket  # WARC files never go into the table bucket
    mc = services["minio-init"]["entrypoint"]
    assert f"local/{table_bucket}" in mc and f"local/{warc_bucket}" in mc
    assert env["NEWSARCHIVE_REPORT_URI"].startswith(f"s3://{warc_bucket}/")
    # the catalog's database is created on Postgres' first start
    mounts = services["postgres"]["volumes"]
    (init,) = [m for m in mounts if m.endswith("/docker-entrypoint-initdb.d:ro")]
    sql = (DEPLOY / init.split(":")[0]).resolve()
    assert any("CREATE DATABASE iceberg" in p.read_text() for p in sql.glob("*.sql"))
    # every Airflow service has the same configuration (one catalog for all)
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        assert services[name]["environment"] == env, name
    assert "pools set" not in " ".join(services["airflow-init"]["command"])  # no pool to create
    build = services["airflow-scheduler"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()


def test_the_locked_dependencies_bring_the_catalogs_postgres_driver():
    lock = (ROOT / "uv.lock").read_text()
    assert 'name = "psycopg2-binary"' in lock


def test_deploy_readme_covers_scale():
    text = (DEPLOY / "README.md").read_text()
    for words in ("CeleryExecutor", "KubernetesExecutor", "Helm", "staging", "catalog", "size", "pool"):
        assert words in text
    assert "UPLOAD_URI" not in text and "pull" not in text
