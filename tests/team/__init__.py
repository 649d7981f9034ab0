"""A team's setup: the engine's server on MariaDB, S3 (moto) and four clients with API keys."""
