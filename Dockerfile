FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e .
ENV ENVIRONMENT=production
EXPOSE 8000
CMD ["sh", "-c", "internmatch migrate && internmatch serve --host 0.0.0.0 --port 8000 --workers 2 --no-migrate"]
