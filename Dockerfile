# Latent Atlas: the explorer with the default models and MNIST baked in, so a container starts serving
# in seconds. Build: docker build -t latent-atlas .   Run: docker run -p 127.0.0.1:8000:8000 latent-atlas
FROM python:3.11-slim

# PyPI's Linux x86_64 torch carries CUDA (GBs); point this at PyTorch's CPU wheel index for a small image.
ARG TORCH_INDEX_URL=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    LATENT_ATLAS_HOME=/home/atlas/.cache/latent-atlas

RUN useradd --create-home --uid 1000 atlas
WORKDIR /opt/latent-atlas

# torch first, on its own layer: it changes far less often than the code.
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
        pip install --index-url "$TORCH_INDEX_URL" "torch>=2.6" "torchvision>=0.21"; \
    else \
        pip install "torch>=2.6" "torchvision>=0.21"; \
    fi
COPY pyproject.toml README.md ./
COPY model ./model
COPY app ./app
COPY latent_atlas ./latent_atlas
COPY templates ./templates
COPY static ./static
# Editable: the pages are read from templates/ and static/ beside the packages.
RUN pip install -e .

USER atlas
# Bake in MNIST (verified by md5) and the default zoo at build time: the container starts instantly.
RUN latent-atlas data && latent-atlas train --zoo

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4); sys.exit(0 if r.status == 200 else 1)"]
# 0.0.0.0 inside the container only: publish the port on the host's loopback (see README).
ENTRYPOINT ["latent-atlas"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
