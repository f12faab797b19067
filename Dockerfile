# The app and the RQ worker share this image; the worker is the same image with another command:
#   docker run ... IMAGE                      → Streamlit on :8501
#   docker run ... IMAGE python -m core worker → the RQ worker
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY app.py ./
COPY .streamlit/config.toml ./.streamlit/config.toml
COPY core ./core
COPY pages ./pages
COPY ui ./ui

RUN useradd --create-home --uid 10001 app && mkdir -p /data && chown app /data
USER 10001
ENV MAPPING_FILE=/data/mappings.yaml

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
