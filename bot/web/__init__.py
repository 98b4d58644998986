"""The HTTP endpoint (`server`: Starlette app, uvicorn) and what `run` mounts on it and
runs beside it for WeChat and WeCom (`service`)."""
