"""Sign-in, roles, scope, personal-data masking and the audit trail of riskgraph.

See ``docs/security.md``. Modules: :mod:`security.roles` (roles as data), :mod:`security.users`
(local accounts), :mod:`security.auth` (Streamlit sign-in), :mod:`security.scope` (the scope of a
user and checks on rows, nodes and explanations), :mod:`security.masking` (personal data) and
:mod:`security.audit` (append-only audit events).
"""
