"""Development tools beside the product (never shipped in its image): the local Airflow stack, the demo
and a throwaway PostgreSQL. The SaaS stand-in is the sibling package :mod:`sandbox`."""
