"""gunicorn settings for `make serve`: several workers sharing one SQLite file."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("THREADS", "4"))
# No preload: each worker builds the app (and opens SQLite) after the fork, never before it.
preload_app = False
timeout = 120  # a PDF report with a cold chart exporter takes a few seconds
graceful_timeout = 30
accesslog = "-"
# Keep invitation tokens and query strings out of the access log.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
logger_class = "survey.serving.TokenScrubbingLogger"

# Production mode: the app refuses to start without FLASK_SECRET_KEY and sends Secure cookies.
raw_env = [f"FLASK_PRODUCTION={os.environ.get('FLASK_PRODUCTION', '1')}"]
