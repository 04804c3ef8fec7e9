"""The engagement-pyramid survey app: create_app builds and configures Flask."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from . import config

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    """Create the Flask app: configuration, database, instrument, blueprints, commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(config.ROOT / "templates"),
        static_folder=str(config.ROOT / "static"),
    )
    app.config.from_mapping(config.DEFAULTS)
    app.config["DATABASE"] = os.path.join(app.instance_path, "survey.sqlite")
    if test_config is None:
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)
    # The instance folder holds the database, its journal and the secret key: owner only.
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(app.instance_path, 0o700)
    from . import links

    app.config["BASE_URL"] = links.check_base_url(app.config.get("BASE_URL"))
    if int(app.config.get("PROXY_COUNT") or 0) > 0:
        # Behind a reverse proxy every request comes from the proxy: trust its X-Forwarded-For
        # (and only from that many hops), so throttling sees the real client.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    config.check_production(app.config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.instance_secret_key(app.instance_path)

    from . import charts, db, i18n, questionnaire, security

    bundle = charts.ensure_plotly_bundle(app.static_folder)
    app.extensions["plotly_style_guards"] = charts.plotly_style_guards(bundle.read_text(encoding="utf-8"))

    # A broken questions.yaml must stop start-up with a message naming the entry.
    app.extensions["instrument"] = questionnaire.load_instrument(app.config["QUESTIONS"])
    from .signing import SessionInterface

    app.session_interface = SessionInterface()
    csrf.init_app(app)
    db.init_app(app)
    i18n.init_app(app)
    security.init_app(app)

    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .cli import bp as cli_bp
    from .respond import bp as respond_bp

    app.register_blueprint(respond_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(cli_bp)
    # The API authenticates with bearer tokens, not cookies, so CSRF does not apply.
    csrf.exempt(api_bp)
    from .respond.first_visit import FirstVisits

    # Outermost: an open link's first visit is answered from the last one Flask answered.
    app.wsgi_app = FirstVisits(app, app.wsgi_app)

    from . import audit, errors, logs, retention

    errors.init_app(app)
    audit.init_app(app)
    logs.init_app(app)
    retention.init_app(app)
    return app
