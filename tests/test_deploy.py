"""deploy/: the files parse and name files that exist (they cannot be built here)."""

from __future__ import annotations

import re

import yaml

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def test_dockerfile_copies_files_that_exist():
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.splitlines()[0].startswith("#") and re.search(r"^FROM apache/airflow:", text, re.M)
    copies = re.findall(r"^COPY(?: --\S+)* (.+) \S+$", text, re.M)
    assert copies
    for sources in copies:
        for src in sources.split():
            assert (ROOT / src).exists(), src


def test_compose_parses_and_wires_airflow_to_the_bucket():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "minio", "airflow-init", "airflow-apiserver", "airflow-scheduler"} <= set(services)
    env = services["airflow-scheduler"]["environment"]
    assert env["NEWSARCHIVE_UPLOAD_URI"].startswith("s3://")
    assert "postgresql" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert "pools set newsarchive" in " ".join(services["airflow-init"]["command"])
    build = services["airflow-scheduler"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()


def test_deploy_readme_covers_scale():
    text = (DEPLOY / "README.md").read_text()
    for words in ("CeleryExecutor", "KubernetesExecutor", "Helm", "staging", "index", "size", "pool"):
        assert words in text
