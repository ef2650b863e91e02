"""Synthetic landing-zone data for the main-image pipeline (docs/contract.md, feeds).

``generate(GenerateConfig(hotels=...), out_dir)`` (the CLI: ``main-image generate``) writes one
folder per delivery::

    OUT/delivery-01/<feed>/part-00000.jsonl   (feed: images, image_tags, obiq_scores,
    OUT/delivery-02/...                         main_images, admin_overrides, user_events)

How the data is shaped
----------------------
* Hotels are ``1..hotels``. Images per hotel are long-tailed (floored lognormal, capped at
  20,000; ~5 % of hotels have none).
* An image is identified by (hotel, ordinal); its ``image_id`` is a scrambled, collision-free
  function of that pair (see ``image_ids``), always in ``[1000, 1000 + 2**40)``.
* Delivery 1 holds every hotel's initial images, the tags of ~35 % of them (the rest arrive
  late), quality scores and the frontend's current ``main_images``.
* Each follow-up delivery *touches* ``change_fraction`` of the hotels: new images,
  re-delivered images (deactivations, reactivations, new URLs, identical re-sends), the
  late tags of earlier images, second tag records (``v5-0-0``), new scores (``v2``) and
  admin overrides. One *anchor* hotel per follow-up always gets a deactivation, late tags
  and an override, so delivery 2 always demonstrates all three.
* ``user_events`` arrive in every delivery for all hotels that have images.
* Malformed lines are *extra* lines: a defective copy of a valid record, written right after
  it (a string id, a 20-char hash, a URL without scheme, truncated JSON, ...). Every record
  the generator means to deliver is therefore also present once as a valid line.

Files: a feed's file is cut into ``part-00000.jsonl``, ``part-00001.jsonl``, ... once it
holds ~``MAX_LINES_PER_PART`` lines (cuts fall between blocks of hotels); a feed with
nothing to deliver has no folder. Read every ``*.jsonl`` of a feed folder in name order.

Speed: every attribute is drawn with numpy for a block of hotels at once, lines are built
as byte matrices (see ``lines.Lines``) and written by a background thread. Randomness is seeded
per block of ``HOTELS_PER_BLOCK`` hotels, so the output depends only on the config.

Modules: ``config`` (knobs and configuration), ``lines`` (byte matrices), ``images`` (image
state of a block), ``feeds`` (the lines of each feed), ``deliveries`` (what each delivery
holds), ``malformed`` (defective lines), ``writer`` (part files), ``run`` (the entry point).
"""

from main_image.dev.generate.config import FEEDS, GenerateConfig, GenerateResult, image_ids
from main_image.dev.generate.run import generate

__all__ = ["FEEDS", "GenerateConfig", "GenerateResult", "generate", "image_ids"]
