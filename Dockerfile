# faqbot: one image for the web replicas, the one-off set-up and the nightly rebuild.
#   docker build -t faqbot .
# CPU-only PyTorch is installed first, from the PyTorch CPU index, so nothing later pulls a CUDA build.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    OMP_NUM_THREADS=1 \
    FAQBOT_HOME=/srv/faqbot \
    FAQBOT_BIN=faqbot

RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && rm -rf build

COPY scripts ./scripts
# The knowledge base and the index live under FAQBOT_HOME. A new named volume mounted there starts
# as a copy of what the image holds, so the sample knowledge base seeds an empty `kb` volume.
RUN useradd --system --uid 10001 --home-dir /srv/faqbot --no-create-home faqbot \
    && mkdir -p /srv/faqbot/index /srv/faqbot/var
COPY kb_articles /srv/faqbot/kb_articles
RUN chown -R faqbot:faqbot /srv/faqbot

USER faqbot
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"
CMD ["faqbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
