"""Object storage: S3-compatible upload, verification and reading (boto3, pyarrow)."""
