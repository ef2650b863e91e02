"""Tests of the image service (plugins/main_image/service/). A package, so that its
conftest and helpers never shadow tests/conftest.py (both would be the module `conftest`)."""
