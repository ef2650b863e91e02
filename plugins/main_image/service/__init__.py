"""The image service (contract §7): partners upload images through signed links, admins manage
the catalog, and every change reaches the pipeline as an ``images`` feed record.

    settings   configuration from MAIN_IMAGE_* environment variables (typed, validated)
    auth       bearer tokens (constant-time) and HMAC-signed upload-link tokens
    db         SQLAlchemy models, engine, sessions, image id allocation
    migrations Alembic environment and revisions (shipped inside the package)
    blobs      content-addressed blob stores: a local folder or a GCS bucket
    imaging    what Pillow reads from the bytes (format, size, EXIF, GPS, perceptual hash)
    streaming  multipart uploads streamed to temporary files, hashed on the way
    catalog    the image catalog's operations (create, update, delete, list)
    outbox     feed records written with each change, drained into the landing zone
    stats      the summary tables behind GET /v1/stats
    routers/   one router per audience: public (CDN), partners (links), admin
    app        the FastAPI application factory; server: ``main-image serve``

Nothing here is imported by the pipeline; ``main-image serve`` imports it lazily.
"""
