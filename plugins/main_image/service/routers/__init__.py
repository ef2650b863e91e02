"""One router per audience: ``public`` (what the CDN fronts), ``partners`` (upload links),
``admin`` (links, catalog, stats). The frontend's and the admin's main-image routes of contract §7's
second table get routers of their own beside these."""
