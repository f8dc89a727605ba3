"""Workers on other machines: Airflow 3's Edge executor with kit-issued worker tokens.

- ``claims`` (pure): what a worker token says, and whether it may make a given Edge API call.
- ``keys``: the stack's signing key, its public JWKS file, issuing and revoking tokens.
- ``verify``: the api-server's ``[edge] jwt_verifier`` (revocation list, name binding).
- ``edge_config`` (pure): the ``AIRFLOW__*`` settings of the stack and of a joining worker.
- ``edge_main``: ``airflow edge worker`` that sends the handed-out token (``kit worker join``).
"""
