"""``zsl serve``: an exported zsl-onnx model behind HTTP, with a page to try it and classes
added live. :func:`zsl_serve.app.create_app` builds the ASGI app; ``zsl serve`` runs it on
uvicorn, or as Ray Serve replicas (:mod:`zsl_serve.ray_app`)."""
